"""One card table: seats, spectators, and the round-after-round state machine.

The table drives the engine's :class:`~blackjack.round.Round` and moves the
chips through :class:`~blackjack.server.storage.IStorage`.  It knows players
only as :class:`~blackjack.server.core.player.Player` values and speaks to
them with events from the catalogue (:mod:`blackjack.server.core.events`);
how an event becomes bytes is a front end's business.

The table's own phases (:class:`TablePhase`), changed only by
:meth:`Table._enter`, which refuses any step not drawn here::

    IDLE --someone sits / bets--> BETTING --every connected seat bet, or time up-->
    PLAYING (insurance, turns, dealer) --settled--> BETTING (someone seated)
                                                 \\-> IDLE (nobody seated)
    BETTING --time up, no bets--> IDLE --> BETTING again (someone connected is seated)
    any --stop()--> CLOSED
    IDLE, BETTING (no bet placed), or the round over --close()--> CLOSED

``stop()`` is the server's shutdown: hands in play stand at once.  ``close()``
is an admin's: nobody new may sit or watch, a round in play (or a window
with bets in it) plays out as usual, and then, instead of the next betting
window, everyone is stood up (``left``, reason ``closed``) and the table closes.

Seats are for playing: a connected player who lets ``timers.missed_rounds``
betting windows in a row close without a bet is stood up (no chip moves:
they had no bet), and while anyone connected is seated the windows keep
coming, so seven silent players cannot hold a table for ever.

Money: a bet, double, split or insurance is escrowed with ``storage.stake``
*before* the engine is told, and a round is paid with one ``storage.settle``.
A round's money is one value, :class:`~blackjack.server.core.escrow.RoundMoney`,
made when its betting window opens.

Shoes are provably fair (:mod:`blackjack.fair`, kept by a
:class:`~blackjack.server.core.shoes.ShoeRotation`): the next shoe's
commitment is announced before it is shuffled, the shuffle takes every
seated player's seed, and the shoe is retired, its seed revealed, once the
round in which its cut card came out is settled (or the table closes).
Every round is stored in full: its cards in shoe order, every decision with
when and by whom (the player, the timer, the absent-player rule) it was
made, and for the player's own decisions what basic strategy said
(:mod:`~blackjack.server.core.coach`).  A bet withdrawn in the betting window
(the player leaves) is returned in that settlement, or by ``storage.refund``
if the round never deals.

Every change that awaits the database runs in one per-table
:class:`~blackjack.server.core.serial.SerialQueue`, so two commands (or a
command and a timer) never interleave between an escrow and the engine call.
(Not a ``DeferredLock``: see :mod:`blackjack.server.core.serial` for why.)
The one exception is a bet in the betting window: no engine call follows it
until the window closes, so the queue does not wait for its escrow to
commit.  The seat is marked as staking, the stake goes to the database, and
the bet is recorded by a second queued step once it is committed; the window
does not close (by time or because everyone bet) while a stake is on its
way.  So the bets at one table share database commits instead of waiting
for each other's.  Timers are injected (:class:`~twisted.internet.interfaces.IReactorTime`).

In a room of several nodes a table runs on one node under a lease: its
:attr:`Table.fence` goes with every stake and settlement, so a node whose
lease has moved on cannot move chips here.  :meth:`Table.pause` stops it
opening rounds (to hand it to another node between rounds) and
:meth:`Table.release` lets go of it without a word or a chip moved;
:attr:`Table.on_seats_changed` tells the node when to record the seats.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.actions import Action
from blackjack.replay import Decision, RoundRecord, drawn_cards
from blackjack.round import SEATS, Phase, Round
from blackjack.round import Event as RoundEvent
from blackjack.rules import Rules
from blackjack.server.core import coach, events
from blackjack.server.core.coach import Advice
from blackjack.server.core.escrow import RoundMoney
from blackjack.server.core.events import Event
from blackjack.server.core.hands import summaries
from blackjack.server.core.player import Player
from blackjack.server.core.round_events import from_engine
from blackjack.server.core.serial import SerialQueue
from blackjack.server import logevents
from blackjack.server.meter import NULL_METER, Meter
from blackjack.server.core.shoes import ShoeRotation
from blackjack.server.text import clean_chat
from blackjack.server.errors import FencedError, InsufficientFundsError, TableError
from blackjack.server.storage import IStorage
from blackjack.server.storage.room import Fence
from blackjack.shoe import Shoe

__all__ = ["TablePhase", "Timers", "TableError", "Table"]

_log = Logger()


class TablePhase(enum.Enum):
    """Where a table stands between and during rounds."""

    IDLE = "idle"
    """Nobody is betting; the next seated player's bet opens a window."""
    BETTING = "betting"
    """A betting window is open."""
    PLAYING = "playing"
    """A round is dealt and being played (insurance, turns, dealer)."""
    CLOSED = "closed"
    """The server is stopping, or an admin closed the table; no new rounds."""


_STEPS = frozenset({
    (TablePhase.IDLE, TablePhase.BETTING),
    (TablePhase.BETTING, TablePhase.PLAYING),
    (TablePhase.BETTING, TablePhase.IDLE),
    (TablePhase.PLAYING, TablePhase.BETTING),
    (TablePhase.PLAYING, TablePhase.IDLE),
    *((phase, TablePhase.CLOSED) for phase in TablePhase),
})
"""Every change of phase a table may make (the diagram in the module docstring)."""


@dataclass(frozen=True)
class Timers:
    """How long a table waits for people: in seconds, and in betting windows."""

    bet: float = 20.0
    """The betting window."""
    turn: float = 30.0
    """Each decision on a hand; then the hand stands."""
    insurance: float = 15.0
    """The insurance offer; then undecided seats decline."""
    grace: float = 60.0
    """How long a disconnected player's seat is held."""
    missed_rounds: int = 3
    """Betting windows in a row a seated player may let close without a bet
    before being stood up (0: never)."""
    idle: float = 1800.0
    """Seconds a seated player or a watcher may stay silent before being stood
    up and disconnected (0: never).  The connection enforces it, since only
    it sees what a player types."""

    def __post_init__(self) -> None:
        # As Limits does: a Timers built in code is held to the option rules.
        for name in ("bet", "turn", "insurance", "grace"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds, "
                                 f"got {getattr(self, name)!r}")
        if self.missed_rounds < 0 or self.idle < 0:
            raise ValueError(f"missed_rounds and idle must be 0 (off) or more, got "
                             f"{self.missed_rounds!r} and {self.idle!r}")


def _passive(rnd: Round) -> Action:
    """What a timer or an absent player does: decline insurance, or stand."""
    return Action.NO_INSURANCE if rnd.phase is Phase.INSURANCE else Action.STAND


class Table:
    """A blackjack table of up to seven seats plus spectators."""

    def __init__(self, name: str, rules: Rules, storage: IStorage, clock: IReactorTime,
                 timers: Timers = Timers(), shoe: Shoe | None = None,
                 round_ids: Callable[[], str] | None = None,
                 shoe_ids: Callable[[], str] | None = None, meter: Meter = NULL_METER
                 ) -> None:
        self.name = name
        self.meter = meter
        self.rules = rules
        self.timers = timers
        self._phase = TablePhase.IDLE
        self._storage = storage
        self._clock = clock
        self._shoe = shoe
        self.shoes = ShoeRotation(name, rules, shoe_ids)
        """The provably fair shoes: the one dealing and the next, committed."""
        self._fair: dict[str, Any] | None = None
        """The fair shoe the round in play is dealt from: id, commitment, first card."""
        self._decisions: list[dict[str, Any]] = []
        """The round's decisions so far, as stored with it."""
        self._dealt_at = 0.0
        self._round_ids = round_ids or (lambda: f"{name}-{uuid.uuid4().hex}")
        self._queue = SerialQueue()
        self._seats: dict[int, Player] = {}
        self._spectators: set[Player] = set()
        self._leaving: set[int] = set()
        self._grace: dict[Player, IDelayedCall] = {}
        self._timer: IDelayedCall | None = None
        self._timer_token = 0
        self._placing = 0
        self._idle_waiters: list[Deferred[None]] = []
        self._round: Round | None = None
        self._money: RoundMoney | None = None
        self._sent = 0
        self._missed: dict[Player, int] = {}
        """Betting windows in a row each seated player has let close without a bet."""
        self._seated_at: dict[Player, float] = {}
        """When each seated player sat down."""
        self.fence: Fence | None = None
        """The lease this node runs the table under, in a room of nodes (``None``
        alone): named by every stake and settlement, so they fail once it moves."""
        self.on_seats_changed: Callable[[], None] | None = None
        """Called when a seat is taken or given up (a room records the seats)."""
        self._pausing = False
        self._pause_waiters: list[Deferred[None]] = []
        self._closing = False
        """An admin closes the table: no new players, no round after this one."""
        self._closed_waiters: list[Deferred[None]] = []

    # -- queries -------------------------------------------------------------

    @property
    def phase(self) -> TablePhase:
        """Where the table stands (changed only by :meth:`_enter`)."""
        return self._phase

    @property
    def closing(self) -> bool:
        """Whether the table is closing or closed: nobody new may sit down or watch."""
        return self._closing or self._phase is TablePhase.CLOSED

    @property
    def seats(self) -> dict[int, Player]:
        """Seat number to player, for every taken seat."""
        return dict(self._seats)

    @property
    def spectators(self) -> frozenset[Player]:
        """Everyone watching."""
        return frozenset(self._spectators)

    @property
    def shoe(self) -> Shoe | None:
        """The shoe the next round deals from: the dealing fair shoe (``None``
        before the first deal), or the shoe a test put here instead."""
        return self._shoe if self._shoe is not None else self.shoes.dealing

    @shoe.setter
    def shoe(self, shoe: Shoe) -> None:
        # A test's stacked shoe: dealt from as it is, no fairness announced.
        self._shoe = shoe

    @property
    def round(self) -> Round | None:
        """The round being played, if any."""
        return self._round

    @property
    def round_id(self) -> str | None:
        """The id of the round being bet on or played."""
        return self._money.round_id if self._money is not None else None

    @property
    def held_seats(self) -> dict[int, Player]:
        """Seat number to player, for the seats whose players still hold them
        (not those left mid-round, which free when the round settles)."""
        return {s: p for s, p in self._seats.items() if s not in self._leaving}

    def describe(self) -> dict[str, Any]:
        """The table as the lobby lists it (a ``table_summary``)."""
        return {"name": self.name, "rules": self.rules.describe(),
                "min": self.rules.min_bet, "max": self.rules.max_bet,
                "seats": {str(s): p.name for s, p in sorted(self._seats.items())},
                "taken": len(self._seats), "of": len(SEATS),
                "spectators": len(self._spectators), "phase": self._phase.value}

    def snapshot(self) -> Event:
        """What someone arriving at the table sees: seats, bets and the round."""
        bets = self._money.bets if self._money is not None else {}
        fair = self._shoe is None
        return events.TABLE_SNAPSHOT(
            **self.describe(), bets={str(s): n for s, n in sorted(bets.items())},
            round=None if self._round is None else self._round.view().to_dict(),
            shoe=self.shoes.dealing_commitment() if fair else None,
            next=self.shoes.next_commitment() if fair else None)

    def hint(self, player: Player) -> Advice:
        """Basic strategy's play for the decision the player faces, with each choice's value."""
        rnd = self._round
        seat = player.seat
        found = None
        if rnd is not None and seat is not None and player.table is self \
                and seat in rnd.bets and self._phase is TablePhase.PLAYING:
            found = coach.advice(self.rules, rnd, seat)
        if found is None:
            raise TableError("a hint needs your turn; wait for your move", code="no_hint")
        return found

    def next_shoe(self, player: Player) -> dict[str, Any] | None:
        """The commitment of the shoe a seated player's seed goes into next."""
        if player.table is not self or player.seat is None or self._shoe is not None:
            return None
        return self.shoes.next_commitment()

    @inlineCallbacks
    def idle(self) -> Any:
        """Fire once every command and timer already queued has finished, bets included."""
        yield self._queue.run(lambda: None)
        while self._placing:
            waiter: Deferred[None] = Deferred()
            self._idle_waiters.append(waiter)
            yield waiter
            yield self._queue.run(lambda: None)

    # -- sitting, watching, leaving -------------------------------------------

    def sit(self, player: Player, seat: int | None = None) -> int:
        """Seat a player (the lowest free seat unless one is asked for)."""
        if self.closing:
            raise TableError(f"table {self.name} is closed", code="table_closed")
        if player.table is not None and player.table is not self:
            raise TableError(f"you are at table {player.table.name}; type leave first",
                             code="at_another_table")
        if player.seat is not None:
            raise TableError(f"you already sit in seat {player.seat}", code="already_seated")
        free = [s for s in SEATS if s not in self._seats]
        if seat is None:
            if not free:
                raise TableError(f"table {self.name} is full; try watch {self.name}",
                                 code="table_full")
            seat = free[0]
        elif seat not in SEATS:
            raise TableError(f"no seat {seat}: seats are 1 to {len(SEATS)}",
                             code="no_such_seat")
        elif seat in self._seats:
            raise TableError(f"seat {seat} is taken; free seats: "
                             + (", ".join(map(str, free)) or "none"), code="seat_taken")
        self._spectators.discard(player)
        self._seats[seat] = player
        self._seated_at[player] = self._clock.seconds()
        player.table, player.seat = self, seat
        self._seats_changed()
        self._broadcast(events.JOINED(table=self.name, seat=seat, player=player.name))
        player.send(self.snapshot())
        if self._phase is TablePhase.IDLE:
            self._open_betting()
        elif self._phase is TablePhase.BETTING:
            player.send(self._betting_event())
        return seat

    def watch(self, player: Player) -> None:
        """Let a player spectate."""
        if self.closing:
            raise TableError(f"table {self.name} is closed", code="table_closed")
        if player.table is not None:
            raise TableError(f"you are at table {player.table.name}; type leave first",
                             code="at_another_table")
        self._spectators.add(player)
        player.table = self
        player.send(events.WATCHING(table=self.name, player=player.name))
        player.send(self.snapshot())

    def leave(self, player: Player, why: str = "left") -> Deferred[None]:
        """Stand up or stop watching.  A hand in play stands and settles as usual.

        ``why`` goes out in the ``left`` event: ``"left"`` when the player
        asked, ``"idle"`` when their connection's idle timer stood them up.
        """
        return self._queue.run(self._leave, player, why)

    def player_disconnected(self, player: Player) -> None:
        """A player's connection dropped: hold the seat for the grace period."""
        if player in self._spectators:
            self._spectators.discard(player)
            player.table = None
            return
        if player.seat is None or self._seats.get(player.seat) is not player:
            return
        self._broadcast(events.AWAY(table=self.name, seat=player.seat, player=player.name,
                                    grace=round(self.timers.grace)))
        self._grace[player] = self._clock.callLater(self.timers.grace, self._grace_over, player)
        if self._phase is TablePhase.BETTING:
            self._queue.run(self._maybe_close_betting).addErrback(self._log_failure)

    def player_reconnected(self, player: Player) -> None:
        """A player logged back in: cancel the grace timer and show the table.

        What they missed follows the snapshot: an open betting window, or the
        decision they are asked for.
        """
        call = self._grace.pop(player, None)
        if call is not None and call.active():
            call.cancel()
        if player.seat is not None:
            self._broadcast(events.BACK(table=self.name, seat=player.seat, player=player.name))
        player.send(self.snapshot())
        if self._phase is TablePhase.BETTING and player.seat is not None:
            player.send(self._betting_event())
        if self._round is not None and self._round.phase is not Phase.FINISHED:
            self._prompt_current(only=player)
        elif self._phase is TablePhase.IDLE and player.seat is not None \
                and self.timers.missed_rounds:
            # Back at a table that went quiet while they were away: the
            # windows (and the count of missed ones) start again.
            self._open_betting()

    def _grace_over(self, player: Player) -> None:
        self._grace.pop(player, None)
        if not player.connected:
            self._queue.run(self._grace_leave, player).addErrback(self._log_failure)

    def _grace_leave(self, player: Player) -> Deferred[None] | None:
        # Checked again in the queue: the player may have come back (or
        # dropped again, with a fresh grace period) while the queue was busy.
        if player.connected or player in self._grace:
            return None
        return self._leave(player, "timed out")

    def _leave(self, player: Player, why: str) -> Deferred[None] | None:
        if player in self._spectators:
            self._spectators.discard(player)
            player.table = None
            player.send(events.LEFT(table=self.name, seat=None, player=player.name,
                                    reason=why))
            return None
        seat = player.seat
        if player.table is not self or seat is None or self._seats.get(seat) is not player:
            raise TableError("you are not at this table", code="not_at_table")
        call = self._grace.pop(player, None)
        if call is not None and call.active():
            call.cancel()
        if self._round is not None and seat in self._round.bets \
                and self._round.phase is not Phase.FINISHED:
            # The hand plays on (standing) and settles; the seat frees afterwards.
            self._broadcast(events.LEFT(table=self.name, seat=seat, player=player.name,
                                        reason=why))
            self._forget(player)
            self._leaving.add(seat)
            player.table, player.seat = None, None
            self._seats_changed()
            return self._auto_play()
        self._free_seat(player, seat, why)
        if self._phase is TablePhase.BETTING:
            return self._maybe_close_betting()
        return None

    def _forget(self, player: Player) -> None:
        self._missed.pop(player, None)
        self._seated_at.pop(player, None)

    def _free_seat(self, player: Player, seat: int, why: str) -> None:
        """Stand a player with no hand in play up; a bet placed in this window goes back."""
        self._broadcast(events.LEFT(table=self.name, seat=seat, player=player.name,
                                    reason=why))
        del self._seats[seat]
        self._forget(player)
        player.table, player.seat = None, None
        self._seats_changed()
        if self._money is not None and self._money.withdraw(seat) is not None:
            player.send(events.INFO(message="your bet is returned"))

    def say(self, player: Player, text: str) -> None:
        """Pass a line of chat to everyone at the table, cleaned by :func:`clean_chat`."""
        if player.table is not self:
            raise TableError("join or watch a table to talk there", code="not_at_table")
        text = clean_chat(text)
        if not text:
            raise TableError("nothing to say: that chat line has no visible text",
                             code="bad_request")
        self._broadcast(events.SAY(table=self.name, player=player.name, text=text))

    # -- betting ----------------------------------------------------------------

    def bet(self, player: Player, amount: int) -> Deferred[None]:
        """Escrow and place a bet for the player's seat; fires once it is placed."""
        placed: Deferred[None] = Deferred()
        self._placing += 1
        placed.addBoth(self._placed)
        self._queue.run(self._bet, player, amount, placed).addErrback(placed.errback)
        return placed

    def _placed(self, result: Any) -> Any:
        self._placing -= 1
        if not self._placing:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.callback(None)
        return result

    def _betting_event(self) -> Event:
        assert self._money is not None
        return events.BETTING(table=self.name, round=self._money.round_id,
                              seconds=self._seconds_left(self.timers.bet),
                              min=self.rules.min_bet, max=self.rules.max_bet)

    def _open_betting(self) -> None:
        if self._pausing:
            self._paused()  # no new round: the table is being handed over
            return
        self._enter(TablePhase.BETTING)
        self._round, self._sent = None, 0
        self._money = RoundMoney(self._round_ids())
        self._start_timer(self.timers.bet, self._betting_over)
        self._broadcast(self._betting_event())

    def _bet(self, player: Player, amount: int, placed: Deferred[None]) -> None:
        seat = player.seat
        if seat is None or player.table is not self:
            raise TableError(f"sit down first: join {self.name}", code="not_seated")
        if self._pausing and self._phase is not TablePhase.BETTING:
            raise TableError(f"table {self.name} is moving to another server; bet again "
                             "in a moment", code="table_moving")
        if self._phase is TablePhase.IDLE:
            self._open_betting()
        if self._phase is not TablePhase.BETTING:
            raise TableError("a round is in play; bet when the next betting window opens",
                             code="betting_closed")
        money = self._money
        assert money is not None
        if seat in money.bets:
            raise TableError(f"you have already bet {money.bets[seat]} this round",
                             code="already_bet")
        if seat in money.staking:
            raise TableError("one moment: the last bet on this seat is still being placed",
                             code="bet_pending")
        if not self.rules.min_bet <= amount <= self.rules.max_bet:
            raise TableError(f"bet {self.rules.min_bet} to {self.rules.max_bet} "
                             f"at this table, not {amount}", code="bet_out_of_range")
        money.staking[seat] = player
        # Not waited for here: the queue moves on while the stake commits.
        self._stake(player, seat, "bet", amount).addBoth(
            lambda result: self._queue.run(self._staked, money, player, seat, amount, result)
        ).chainDeferred(placed)

    def _staked(self, money: RoundMoney, player: Player, seat: int, amount: int,
                result: int | Failure) -> Any:
        """Record a bet whose stake has committed (or failed), back in the queue."""
        if money is not self._money:
            # The table stopped (a server shutdown) while the stake committed;
            # the round's refund, issued after the stake, returned the chips.
            if isinstance(result, Failure):
                return result
            player.send(events.INFO(message="bets on this round are returned"))
            return None
        money.staking.pop(seat, None)
        if isinstance(result, Failure):
            # Refused (not enough chips) or failed: no chip moved.  The window
            # may be due to close; the queue waits for that, then the refusal
            # goes to the player.
            after = self._after_staking()
            if after is None:
                return result
            return after.addErrback(self._log_failure).addCallback(lambda _: result)
        if player.table is self and player.seat == seat:
            money.place(seat, player, amount)
            self._missed.pop(player, None)
            self._broadcast(events.BET(table=self.name, seat=seat, player=player.name,
                                       amount=amount))
            player.send(events.BALANCE(balance=result))
        else:
            # The player left while the stake committed: it is returned with
            # the round, like a bet withdrawn in the window.
            money.give_back(player, amount)
            player.send(events.INFO(message="your bet is returned"))
        return self._after_staking()

    def _after_staking(self) -> Deferred[None] | None:
        """Once no stake is on its way, close the window if it is due."""
        money = self._money
        if money is None or money.staking:
            return None
        if money.close_when_staked:
            money.close_when_staked = False
            return self._close_betting()
        return self._maybe_close_betting()

    def _stake(self, player: Player, seat: int, what: str, amount: int) -> Deferred[int]:
        money = self._money
        assert money is not None
        d = self._storage.stake(player.account_id, money.round_id, money.key(seat, what),
                                amount, fence=self.fence)

        def _explain(failure: Failure) -> NoReturn:
            failure.trap(InsufficientFundsError)
            error = failure.value
            raise TableError(f"not enough chips to {what}: you have {error.balance}, "
                             f"it takes {error.need}", code="insufficient_funds")
        return d.addErrback(_explain)

    def _maybe_close_betting(self) -> Deferred[None] | None:
        """Deal early once every connected seated player has bet."""
        if self._phase is not TablePhase.BETTING or self._money is None \
                or not self._money.bets:
            return None
        bets = self._money.bets
        if all(s in bets for s, p in self._seats.items() if p.connected):
            return self._close_betting()
        return None

    def _betting_over(self, token: int) -> None:
        if token == self._timer_token:
            self._queue.run(self._close_betting, token).addErrback(self._log_failure)

    def _close_betting(self, token: int | None = None) -> Deferred[None] | None:
        """Deal the window's bets; ``token`` is the timer's, if the timer closes it."""
        money = self._money
        if self._phase is not TablePhase.BETTING or money is None:
            return None
        if token is not None and token != self._timer_token:
            # The timer fired while a bet held the queue, and that bet dealt the
            # round (and perhaps settled it and opened the next window).
            return None
        self._cancel_timer()
        if money.staking:
            # Bets are on their way to the database: close once they are in.
            money.close_when_staked = True
            return None
        self._count_missed()
        if not money.bets:
            self._money = None
            self._enter(TablePhase.IDLE)
            if self._pausing:
                if money.returned:
                    return self._storage.refund(money.round_id).addCallback(
                        lambda _: self._paused())
                self._paused()
                return None
            if self._closing:
                self._finish_close()
            elif self.timers.missed_rounds and any(p.connected for p in self._seats.values()):
                # Seated players who do not bet must see windows pass, or
                # they could hold their seats for ever.
                self._open_betting()
            else:
                self._broadcast(events.INFO(message="no bets; the next bet opens a new round"))
            if money.returned:
                return self._storage.refund(money.round_id).addCallback(lambda _: None)
            return None
        if self._shoe is None and self.shoes.due:
            return self._start_shoe().addCallback(lambda _: self._deal(money))
        return self._deal(money)

    def _deal(self, money: RoundMoney) -> Deferred[None] | None:
        """Deal the round of the closed window from the shoe in play."""
        shoe = self._shoe
        if shoe is not None:
            # A test's shoe: shuffled the old way, nothing to prove.
            if shoe.needs_shuffle:
                shoe.shuffle()
                self._broadcast(events.SHUFFLE(table=self.name, decks=self.rules.decks,
                                               shoe=None, commitment=None, client_seed=None,
                                               seeds=[]))
            self._fair = None
        else:
            shoe = self.shoes.dealing
            assert shoe is not None, "a shoe is started before the deal"
            self._fair = {"shoe": self.shoes.dealing_id, "commitment": shoe.commitment,
                          "first": shoe.position}
            self.shoes.rounds += 1
        self._decisions = []
        self._dealt_at = self._clock.seconds()
        self._round = Round(self.rules, shoe, money.bets)
        self._enter(TablePhase.PLAYING)
        self._round.deal()
        return self._after_change()

    def _start_shoe(self) -> Deferred[None]:
        """Shuffle the committed shoe with the seated players' seeds; commit the next.

        The shoe (its seed sealed) is stored before a card leaves it, so a
        crash cannot lose the seed of a shoe that dealt.
        """
        seeds = [(p.name, p.seed) for _, p in sorted(self._seats.items())]
        shoe = self.shoes.start(seeds)
        shoe_id = self.shoes.dealing_id
        assert shoe_id is not None and shoe.client_seed is not None
        listed = [{"player": name, "seed": seed} for name, seed in seeds]
        self._broadcast(events.SHUFFLE(table=self.name, decks=self.rules.decks, shoe=shoe_id,
                                       commitment=shoe.commitment,
                                       client_seed=shoe.client_seed, seeds=listed))
        self._broadcast(events.SHOE(table=self.name, next=self.shoes.next_commitment()))
        public = {**self.shoes.commitment(shoe_id, shoe), "client_seed": shoe.client_seed,
                  "seeds": listed}
        return self._storage.open_shoe(shoe_id, self.name, public,
                                       self.shoes.sealed_seed()).addErrback(
            lambda failure: _log.failure("storing shoe {shoe} failed; its hands cannot be "
                                         "verified from the database", failure, shoe=shoe_id))

    def _retire_shoe(self, reason: str) -> Deferred[None] | None:
        """Retire the dealing fair shoe, if one deals, and reveal its seed to the table."""
        if self.shoes.dealing is None:
            return None
        rounds = self.shoes.rounds
        shoe_id, shoe = self.shoes.retire()
        assert shoe.client_seed is not None
        self._broadcast(events.SHOE_RETIRED(
            table=self.name, shoe=shoe_id, reason=reason, commitment=shoe.commitment,
            server_seed=shoe.reveal(), client_seed=shoe.client_seed, rounds=rounds,
            cards=shoe.position))
        return self._storage.retire_shoe(shoe_id, reason).addErrback(
            lambda failure: _log.failure("recording shoe {shoe} as retired failed",
                                         failure, shoe=shoe_id))

    def _count_missed(self) -> None:
        """The window is closing: count it against the seated who did not bet.

        It counts for connected players seated for at least half of it (one
        who sat down as it closed has not had a chance; a dropped player's
        seat is the grace timer's business).  At ``missed_rounds`` in a row
        the player is stood up, told why one window before and when it
        happens.  A bet resets the count.
        """
        limit, money = self.timers.missed_rounds, self._money
        if not limit or money is None:
            return
        sat_by = self._clock.seconds() - self.timers.bet / 2
        for seat, player in sorted(self._seats.items()):
            if seat in money.bets or not player.connected \
                    or self._seated_at.get(player, sat_by) > sat_by:
                continue
            missed = self._missed.get(player, 0) + 1
            if missed < limit:
                self._missed[player] = missed
                if missed == limit - 1:
                    player.send(events.INFO(
                        message=f"you have not bet for {missed} betting window"
                                f"{'s' if missed > 1 else ''}; if the next one closes "
                                "without your bet you are stood up to free the seat"))
                continue
            self._free_seat(player, seat, "missed rounds")
            player.send(events.INFO(
                message=f"you did not bet for {limit} betting windows in a row, so you "
                        f"are stood up from table {self.name}; your chips are "
                        f"untouched. Type 'join {self.name}' to sit down again."))

    # -- play -------------------------------------------------------------------

    def act(self, player: Player, action: Action) -> Deferred[None]:
        """Escrow what the action costs, then make it for the player's seat."""
        return self._queue.run(self._act, player, action)

    def act_now(self, player: Player, action: Action) -> Deferred[None] | None:
        """:meth:`act`'s fast twin: ``None`` (or the error, raised) when the decision
        was made at once with nothing ahead of it in the table's queue (a hit, a
        stand), else :meth:`act`'s Deferred (the twin of
        :meth:`SerialQueue.run <blackjack.server.core.serial.SerialQueue.run>`)."""
        result: Deferred[None] | None = self._queue.call(self._act, player, action)
        return result

    def _act(self, player: Player, action: Action) -> Deferred[None] | None:
        seat = player.seat
        rnd = self._round
        if seat is None or player.table is not self:
            raise TableError(f"sit down first: join {self.name}", code="not_seated")
        if rnd is None or self._phase is not TablePhase.PLAYING:
            raise TableError(f"cannot {action.phrase}: no cards are dealt; bet first",
                             code="no_round")
        if seat not in rnd.bets:
            raise TableError(f"cannot {action.phrase}: you have no hand this round",
                             code="no_hand")
        turn = rnd.turn
        if rnd.phase is Phase.PLAYING and turn is not None and turn.seat != seat:
            raise TableError(f"not your turn: seat {turn.seat} "
                             f"({self._seats[turn.seat].name}) is playing",
                             code="not_your_turn")
        reason = rnd.why_illegal(action, seat)
        if reason is not None:
            raise TableError(reason, code="illegal_action")
        cost = rnd.cost(action, seat)
        if cost:
            # The stake commits before the engine acts; the queue waits for both.
            what = action.value if turn is None else f"hand{turn.hand}:{action.value}"
            return self._stake(player, seat, what, cost).addCallback(
                self._paid, player, rnd, seat, action)
        # Nothing to escrow (a hit, a stand): a plain call, no Deferred.
        return self._acted(player, rnd, seat, action)

    def _paid(self, balance: int, player: Player, rnd: Round, seat: int,
              action: Action) -> Deferred[None] | None:
        player.send(events.BALANCE(balance=balance))
        if self._round is not rnd:
            # Released while the stake committed: another node runs the
            # table now, and its takeover returns this round's stakes.
            raise TableError(f"table {self.name} moved to another server; this "
                             "round is void and its stakes are returned",
                             code="table_moving")
        return self._acted(player, rnd, seat, action)

    def _acted(self, player: Player, rnd: Round, seat: int,
               action: Action) -> Deferred[None] | None:
        """Make a decision whose stake (if any) is in escrow; send what follows."""
        advice = coach.advice(self.rules, rnd, seat)
        decision = self._decide(seat, action, "player", advice)
        if advice is not None and action is not advice.best and player.trainer:
            player.send(events.TRAINER(
                seat=seat, hand=decision["hand"], action=action.value,
                best=advice.best.value, cost=decision["cost"], values=advice.rounded(),
                model=advice.model))
        return self._after_change()

    def _decide(self, seat: int, action: Action, by: str,
                advice: Advice | None = None) -> dict[str, Any]:
        """Make a decision for ``seat`` and log it: when, by whom, and what it cost."""
        rnd = self._round
        assert rnd is not None
        turn = rnd.turn
        hand = turn.hand if rnd.phase is Phase.PLAYING and turn is not None else 0
        stake = rnd.stake(seat, hand) if rnd.phase is Phase.PLAYING else rnd.bets[seat]
        rnd.act(action, seat=seat)
        entry = Decision(seat, hand, action, self._clock.seconds(), by).to_dict()
        if advice is not None:
            entry.update(best=advice.best.value, values=advice.rounded(),
                         cost=round(advice.cost(action) * stake, 4), stake=stake)
        self._decisions.append(entry)
        return entry

    def _after_change(self) -> Deferred[None] | None:
        """Send new engine events, then settle, play for absentees, or start a timer."""
        rnd = self._round
        if rnd is None:
            return None  # released meanwhile: another node runs the table

        for event in rnd.events[self._sent:]:
            self._broadcast(self._from_engine(event))
        self._sent = len(rnd.events)
        if rnd.phase is Phase.FINISHED:
            self._cancel_timer()
            return self._settle()
        if self._auto_seat() is not None:
            return self._auto_play()
        if rnd.phase is Phase.INSURANCE:
            if self._timer is None:
                # The offer opens: ask each seat once (not again as others answer).
                self._start_timer(self.timers.insurance, self._time_up)
                self._prompt_current()
        else:
            self._start_timer(self.timers.turn, self._time_up)
            self._prompt_current()
        return None

    def _auto_seat(self) -> int | None:
        """A seat that must decide now and nobody will: it stands (or declines)."""
        rnd = self._round
        assert rnd is not None

        def absent(seat: int) -> bool:
            return seat in self._leaving or self._phase is TablePhase.CLOSED
        if rnd.phase is Phase.INSURANCE:
            return next((s for s in rnd.insurance_pending if absent(s)), None)
        turn = rnd.turn
        if turn is not None and absent(turn.seat):
            return turn.seat
        return None

    def _auto_play(self) -> Deferred[None] | None:
        """Stand (or decline insurance) for seats whose players have left."""
        rnd = self._round
        if rnd is None or rnd.phase is Phase.FINISHED:
            return None
        seat = self._auto_seat()
        if seat is None:
            return None
        self._decide(seat, _passive(rnd), "shutdown" if self._phase is TablePhase.CLOSED
                     else "absent")
        return self._after_change()

    def _prompt_current(self, only: Player | None = None) -> None:
        """Ask whoever must decide now (or just ``only``) for their decision.

        The prompt carries a view of the round, which is safe to show anyone;
        the rest of the table learnt whose turn it is from the ``turn`` or
        ``insurance`` event.
        """
        rnd = self._round
        assert rnd is not None
        seconds = self._seconds_left(0)
        if rnd.phase is Phase.INSURANCE:
            asked: dict[Player, list[int]] = {}
            for seat in rnd.insurance_pending:
                player = self._seats.get(seat)
                if player is not None and (only is None or player is only):
                    asked.setdefault(player, []).append(seat)
            if not asked:
                return
            view = rnd.view_data()
            for player, seats in asked.items():
                # Every answer these seats may give (even money only for a
                # natural, insurance only on a bet of 2 or more), as the engine says.
                offered = {name for seat in seats for name in rnd.legal_names(seat)}
                player.send(events.DECIDE(
                    seats=seats, players=[player.name],
                    legal=[a.value for a in Action if a.value in offered],
                    seconds=seconds, view=view))
            return
        turn = rnd.turn
        assert turn is not None
        player = self._seats.get(turn.seat)
        if player is None or (only is not None and player is not only):
            return
        view = rnd.view_data()
        player.send(events.PROMPT(seat=turn.seat, hand=turn.hand, player=player.name,
                                  seconds=seconds, legal=view["legal"], view=view))

    def _time_up(self, token: int) -> None:
        if token == self._timer_token:
            self._timer = None
            self._queue.run(self._time_out, token).addErrback(self._log_failure)

    def _time_out(self, token: int) -> Deferred[None] | None:
        rnd = self._round
        if rnd is None or rnd.phase is Phase.FINISHED or token != self._timer_token:
            return None
        action = _passive(rnd)
        if rnd.phase is Phase.INSURANCE:
            for seat in rnd.insurance_pending:
                self._broadcast(events.TIMEOUT(seat=seat, hand=None, player=self._name(seat),
                                               action=action.value))
                self._decide(seat, action, "timer")
        else:
            turn = rnd.turn
            assert turn is not None
            self._broadcast(events.TIMEOUT(seat=turn.seat, hand=turn.hand,
                                           player=self._name(turn.seat),
                                           action=action.value))
            self._decide(turn.seat, action, "timer")
        return self._after_change()

    # -- settlement ---------------------------------------------------------------

    @inlineCallbacks
    def _settle(self) -> Any:
        rnd, money = self._round, self._money
        assert rnd is not None and rnd.outcome is not None and money is not None
        outcome = rnd.outcome
        fair = self._fair
        record = RoundRecord(money.round_id, self.rules, rnd.bets, drawn_cards(rnd), (),
                             None if fair is None else fair["first"],
                             outcome.to_dict()).to_dict()
        record.update(
            table=self.name, rules_text=self.rules.describe(), decisions=self._decisions,
            players={str(s): p.name for s, p in sorted(money.stakers.items())},
            shoe=fair, dealt=self._dealt_at, settled=self._clock.seconds())
        try:
            balances = yield self._storage.settle(
                money.round_id, money.payouts(outcome), record,
                shoe=None if fair is None else fair["shoe"],
                summaries=summaries(outcome, self._decisions, money.stakers),
                fence=self.fence)
        except FencedError as error:
            # This node lost the table (it stalled past its lease): the node
            # that took it over has voided the round and refunded its stakes.
            _log.warn("round {round_id} not settled: {error}", round_id=money.round_id,
                      error=error)
            self._broadcast(events.ERROR(
                code="table_moving",
                message=f"table {self.name} moved to another server during this round: "
                        "the round is void and every stake in it is returned"))
        except Exception:
            _log.failure("settling round {round_id} failed", round_id=money.round_id)
            self._broadcast(events.ERROR(
                code="server_error",
                message="the round could not be settled; its stakes stay in escrow "
                        "and are refunded when the server restarts"))
        else:
            self._send_balances(balances, money.owners())
            self._settled(money, outcome, record)
        for seat in sorted(self._leaving):
            self._seats.pop(seat, None)
        self._leaving.clear()
        self._round, self._money = None, None
        dealing = self.shoes.dealing
        if self._phase is TablePhase.CLOSED:
            yield self._retire_shoe("table closed")
            self._paused()
            return
        if self._shoe is None and dealing is not None and dealing.needs_shuffle:
            yield self._retire_shoe("cut card")
        self._enter(TablePhase.IDLE)
        if self._closing:
            yield self._finish_close()
            return
        if any(p.connected for p in self._seats.values()):
            self._open_betting()
        self._paused()

    def _settled(self, money: RoundMoney, outcome: Any, record: dict[str, Any]) -> None:
        """Count and log a round paid: its id and sums, never its cards."""
        result = record["outcome"]
        hands, insurance = result.get("hands", ()), result.get("insurance", ())
        staked = (sum(h["stake"] for h in hands) + sum(i["stake"] for i in insurance)
                  + sum(money.returned.values()))
        self.meter.round_settled(self.name, len(hands))
        logevents.ROUND_SETTLED(_log, table=self.name, round_id=money.round_id,
                                hands=len(hands), players=len(money.owners()),
                                staked=staked, paid=sum(money.payouts(outcome).values()))

    # -- closing (an admin's) ---------------------------------------------------------

    def close(self) -> Deferred[None]:
        """Close once the round in play is over (it plays out as usual); fires when closed."""
        done: Deferred[None] = Deferred()
        if self._phase is TablePhase.CLOSED:
            done.callback(None)
            return done
        self._closed_waiters.append(done)
        if not self._closing:
            self._closing = True
            self._queue.run(self._close_if_quiet).addErrback(self._log_failure)
        return done

    def _close_if_quiet(self) -> Deferred[None] | None:
        """Close now if no round is in play and no bet is placed; else say when."""
        money = self._money
        if self._phase is TablePhase.IDLE or (
                self._phase is TablePhase.BETTING and money is not None
                and not money.bets and not money.staking):
            return self._finish_close()
        if self._phase is not TablePhase.CLOSED:
            self._broadcast(events.INFO(
                message=f"table {self.name} closes once this round is over"))
        return None

    def _finish_close(self) -> Deferred[None] | None:
        """Retire the fair shoe (its seed told to all still here), stand everyone up and
        close; bets withdrawn in an open window go back."""
        money, self._money, self._round = self._money, None, None
        self._shut()
        done = self._retire_shoe("table closed")
        everyone = list(self._recipients())
        for seat, player in sorted(self._seats.items()):
            left = events.LEFT(table=self.name, seat=seat, player=player.name, reason="closed")
            for someone in everyone:
                someone.send(left)
        for player in sorted(self._spectators, key=lambda p: p.name):
            player.send(events.LEFT(table=self.name, seat=None, player=player.name,
                                    reason="closed"))
        for player in [*self._seats.values(), *self._spectators]:
            self._forget(player)
            player.table, player.seat = None, None
        self._seats.clear()
        self._spectators.clear()
        self._leaving.clear()
        self._tell_closed()
        if money is not None and money.returned:
            refunded = self._storage.refund(money.round_id).addCallback(lambda _: None)
            return refunded if done is None else done.addCallback(lambda _: refunded)
        return done

    # -- shutting down ------------------------------------------------------------

    def stop(self) -> Deferred[None]:
        """Close the table: finish the round in play (every hand stands) or refund bets."""
        return self._queue.run(self._stop)

    def _stop(self) -> Deferred[None] | None:
        previous = self._phase
        self._shut()
        self._tell_closed()  # closed for business: an admin's close need wait no more
        money = self._money
        if previous is TablePhase.BETTING and money is not None:
            owners = money.owners()
            self._money = None
            if owners:
                self._broadcast(events.INFO(message="bets on this round are returned"))
            return self._storage.refund(money.round_id).addCallback(
                self._send_balances, owners).addCallback(
                lambda _: self._retire_shoe("table closed"))
        rnd = self._round
        if rnd is not None and rnd.phase is not Phase.FINISHED:
            self._broadcast(events.INFO(
                message="the server is stopping: every hand still in play stands"))
            return self._auto_play()
        return self._retire_shoe("table closed")

    def _shut(self) -> None:
        """Enter CLOSED (if not there yet): no timer runs, no seat is held."""
        if self._phase is not TablePhase.CLOSED:
            self._enter(TablePhase.CLOSED)
        self._cancel_timer()
        for call in self._grace.values():
            if call.active():
                call.cancel()
        self._grace.clear()

    def _tell_closed(self) -> None:
        """Fire whatever waits for :meth:`close` (last: a waiter may look at once)."""
        waiters, self._closed_waiters = self._closed_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    # -- handing the table to another node -----------------------------------------

    def pause(self) -> Deferred[None]:
        """Open no more rounds; fire once the round in play is settled and no chip is
        held (at once if none is).  An open window without bets closes now; one
        with bets is dealt and played as usual.  Bets that would open a window
        are refused meanwhile (``table_moving``)."""
        done: Deferred[None] = Deferred()

        def paused(_: object) -> None:
            if self._is_paused():
                done.callback(None)
            else:
                self._pause_waiters.append(done)
        self._queue.run(self._pause).addCallbacks(paused, done.errback)
        return done

    def _pause(self) -> Deferred[None] | None:
        self._pausing = True
        money = self._money
        if self._phase is TablePhase.BETTING and money is not None \
                and not money.bets and not money.staking:
            return self._close_betting()
        return None

    def _is_paused(self) -> bool:
        return self._phase in (TablePhase.IDLE, TablePhase.CLOSED) and self._money is None

    def _paused(self) -> None:
        """The table may have come to rest: wake :meth:`pause`'s waiters if so."""
        if self._is_paused():
            waiters, self._pause_waiters = self._pause_waiters, []
            for waiter in waiters:
                if not waiter.called:  # not given up on (a drain's timeout cancels)
                    waiter.callback(None)

    def release(self) -> dict[Player, int | None]:
        """Let go of the table: another node runs it now (or will, after :meth:`pause`).

        Every timer stops and every player is forgotten, without a word or a
        chip moved (the node taking over voids a round left in play and holds
        the seats).  Returns who held a seat (their seat number) or watched
        (``None``), for the node to send elsewhere.
        """
        self._shut()
        held: dict[Player, int | None] = {p: s for s, p in self.held_seats.items()}
        held.update((p, None) for p in self._spectators)
        for player in held:
            if player.table is self:
                player.table, player.seat = None, None
        self._seats.clear()
        self._spectators.clear()
        self._leaving.clear()
        self._round, self._money = None, None
        self._paused()
        return held

    # -- plumbing -------------------------------------------------------------------

    def _seats_changed(self) -> None:
        if self.on_seats_changed is not None:
            self.on_seats_changed()

    def _enter(self, phase: TablePhase) -> None:
        """Change phase, along one of the steps the module docstring draws."""
        if (self._phase, phase) not in _STEPS:
            raise RuntimeError(f"table {self.name}: no step from {self._phase.value} "
                               f"to {phase.value}")
        self._phase = phase

    def _from_engine(self, event: RoundEvent) -> Event:
        """An engine event as the catalogue says it is sent, with the players' names."""
        assert self._money is not None
        return from_engine(event, self.name, self._money.round_id, self._name,
                           round(self.timers.turn))

    @staticmethod
    def _send_balances(balances: Any, owners: dict[int, Player]) -> None:
        for account_id, balance in balances.items():
            if account_id in owners:
                owners[account_id].send(events.BALANCE(balance=balance))

    def _seconds_left(self, default: float) -> int:
        """Whole seconds until the running timer fires (``default`` if none runs)."""
        if self._timer is not None and self._timer.active():
            return round(max(0.0, self._timer.getTime() - self._clock.seconds()))
        return round(default)

    def _start_timer(self, seconds: float, callback: Callable[[int], None]) -> None:
        self._cancel_timer()
        self._timer_token += 1
        self._timer = self._clock.callLater(seconds, callback, self._timer_token)

    def _cancel_timer(self) -> None:
        self._timer_token += 1
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _name(self, seat: int | str) -> str:
        seat = int(seat)
        player = self._seats.get(seat)
        if player is None and self._money is not None:
            player = self._money.stakers.get(seat)
        return player.name if player is not None else f"seat {seat}"

    def _recipients(self) -> Iterable[Player]:
        seated = [p for s, p in sorted(self._seats.items()) if s not in self._leaving]
        return seated + sorted(self._spectators, key=lambda p: p.name)

    def _broadcast(self, event: Event) -> None:
        """Send one event (one shared object) to everyone at the table."""
        for player in self._recipients():
            player.send(event)

    def _log_failure(self, failure: Any) -> None:
        if not failure.check(TableError):
            _log.failure("table {name} failed", failure, name=self.name)

    def __repr__(self) -> str:
        return f"<Table {self.name!r} {self._phase.value} seats={sorted(self._seats)}>"
