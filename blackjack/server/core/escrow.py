"""The money of one round at a table, as one value: who staked what, and what goes back.

A table opens a :class:`RoundMoney` with each betting window and drops it
when the round is settled or refunded, so nothing of one round's money can
leak into the next.  It holds no chips itself (storage does); it is the
table's record of which stakes are on their way to the database, which are
placed, and which must be returned with the round because their seat left.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from blackjack.round import RoundOutcome
from blackjack.server.core.player import Player

__all__ = ["RoundMoney"]


@dataclass(eq=False)
class RoundMoney:
    """The bets and stakes of one round, from its betting window to its settlement."""

    round_id: str
    bets: dict[int, int] = field(default_factory=dict)
    """Seat to the bet placed (escrowed) for it."""
    stakers: dict[int, Player] = field(default_factory=dict)
    """Seat to the player whose bet it is."""
    staking: dict[int, Player] = field(default_factory=dict)
    """Seats whose bet is on its way to the database, and who placed it."""
    returned: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    """Account to chips staked this round that go back with it (the seat left)."""
    close_when_staked: bool = False
    """The betting window closed while stakes were on their way: deal once they are in."""
    _stakes: int = 0

    def key(self, seat: int, what: str) -> str:
        """A new, unique name for a stake of this round (``seat3:bet:1``)."""
        self._stakes += 1
        return f"seat{seat}:{what}:{self._stakes}"

    def place(self, seat: int, player: Player, amount: int) -> None:
        """A bet's stake has committed: it counts for the seat."""
        self.bets[seat] = amount
        self.stakers[seat] = player

    def give_back(self, player: Player, amount: int) -> None:
        """Chips this round holds for ``player`` go back when it closes."""
        self.returned[player.account_id] += amount

    def withdraw(self, seat: int) -> int | None:
        """Take a seat's bet back (its player left in the window); the amount, if any."""
        amount = self.bets.pop(seat, None)
        player = self.stakers.pop(seat, None)
        if amount is not None and player is not None:
            self.give_back(player, amount)
        return amount

    def payouts(self, outcome: RoundOutcome) -> dict[int, int]:
        """What each account gets back when the round settles, stakes included."""
        payouts: dict[int, int] = defaultdict(int, self.returned)
        for seat, player in self.stakers.items():
            payouts[player.account_id] += outcome.payout(seat)
        return dict(payouts)

    def owners(self) -> dict[int, Player]:
        """Account to player, for everyone with a bet placed this round."""
        return {p.account_id: p for p in self.stakers.values()}
