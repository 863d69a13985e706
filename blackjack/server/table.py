"""One card table: seats, spectators, and the round-after-round state machine.

The table drives the engine's :class:`~blackjack.round.Round` and moves the
chips through :class:`~blackjack.server.storage.IStorage`.  It knows players
only as :class:`~blackjack.server.player.Player` values and speaks to them
with event dicts (``player.send``); rendering is the connection's business.

The table's own phases (:class:`TablePhase`)::

    IDLE --someone sits / bets--> BETTING --every connected seat bet, or time up-->
    PLAYING (insurance, turns, dealer) --settled--> BETTING (someone seated)
                                                 \\-> IDLE (nobody seated)
    BETTING --time up, no bets--> BETTING (someone connected is seated)
                               \\-> IDLE (nobody, or --missed-rounds 0)
    any --stop()--> CLOSED

Seats are for playing: a connected player who lets ``timers.missed_rounds``
betting windows in a row close without a bet is stood up (no chip moves:
they had no bet), and while anyone connected is seated the windows keep
coming, so seven silent players cannot hold a table for ever.

Money: a bet, double, split or insurance is escrowed with ``storage.stake``
*before* the engine is told, and a round is paid with one ``storage.settle``.
A bet withdrawn in the betting window (the player leaves) is returned in
that settlement, or by ``storage.refund`` if the round never deals.

Every change that awaits the database runs in one per-table
:class:`~blackjack.server.serial.SerialQueue`, so two commands (or a command
and a timer) never interleave between an escrow and the engine call.  (Not a
``DeferredLock``: see :mod:`blackjack.server.serial` for why.)  The one
exception is a bet in the betting window: no engine call follows it until
the window closes, so the queue does not wait for its escrow to commit.  The
seat is marked as betting, the stake goes to the database, and the bet is
recorded by a second queued step once it is committed; the window does not
close (by time or because everyone bet) while a stake is on its way.  So the
bets at one table share database commits instead of waiting for each
other's.
Timers are injected (:class:`~twisted.internet.interfaces.IReactorTime`).
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.actions import Action
from blackjack.errors import BlackjackError
from blackjack.round import SEATS, Phase, Round
from blackjack.rules import Rules
from blackjack.server.player import Player
from blackjack.server.render import Broadcast
from blackjack.server.serial import SerialQueue
from blackjack.server.storage import InsufficientFundsError, IStorage
from blackjack.server.text import clean_chat
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
    """The server is stopping; no new rounds."""


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


class TableError(BlackjackError, ValueError):
    """A table command that cannot be done now; the message says why."""


def _passive(rnd: Round) -> Action:
    """What a timer or an absent player does: decline insurance, or stand."""
    return Action.NO_INSURANCE if rnd.phase is Phase.INSURANCE else Action.STAND


class Table:
    """A blackjack table of up to seven seats plus spectators."""

    def __init__(self, name: str, rules: Rules, storage: IStorage, clock: IReactorTime,
                 timers: Timers = Timers(), shoe: Shoe | None = None,
                 round_ids: Callable[[], str] | None = None) -> None:
        self.name = name
        self.rules = rules
        self.timers = timers
        self.phase = TablePhase.IDLE
        self._storage = storage
        self._clock = clock
        self.shoe = shoe if shoe is not None else Shoe(rules.decks, rules.penetration)
        """The shoe; a test may put a StackedShoe here between rounds."""
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
        self._missed: dict[Player, int] = {}
        """Betting windows in a row each seated player has let close without a bet."""
        self._seated_at: dict[Player, float] = {}
        """When each seated player sat down."""
        self._reset_round()

    def _reset_round(self) -> None:
        self._round: Round | None = None
        self._round_id: str | None = None
        self._bets: dict[int, int] = {}
        self._stakers: dict[int, Player] = {}
        self._returned: dict[int, int] = defaultdict(int)
        self._staking: dict[int, Player] = {}
        """Seats whose bet is on its way to the database, and who placed it."""
        self._close_when_staked = False
        self._stake_count = 0
        self._sent = 0

    # -- queries -------------------------------------------------------------

    @property
    def seats(self) -> dict[int, Player]:
        """Seat number to player, for every taken seat."""
        return dict(self._seats)

    @property
    def spectators(self) -> frozenset[Player]:
        """Everyone watching."""
        return frozenset(self._spectators)

    @property
    def round(self) -> Round | None:
        """The round being played, if any."""
        return self._round

    @property
    def round_id(self) -> str | None:
        """The id of the round being bet on or played."""
        return self._round_id

    def describe(self) -> dict[str, Any]:
        """The table as the lobby lists it."""
        return {"name": self.name, "rules": self.rules.describe(),
                "min": self.rules.min_bet, "max": self.rules.max_bet,
                "seats": {str(s): p.name for s, p in sorted(self._seats.items())},
                "taken": len(self._seats), "of": len(SEATS),
                "spectators": len(self._spectators), "phase": self.phase.value}

    def snapshot(self) -> dict[str, Any]:
        """What someone arriving at the table sees: seats, bets and the round."""
        return {"event": "table", **self.describe(),
                "bets": {str(s): n for s, n in sorted(self._bets.items())},
                "round": None if self._round is None else self._round.view().to_dict()}

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
        if self.phase is TablePhase.CLOSED:
            raise TableError(f"table {self.name} is closed")
        if player.table is not None and player.table is not self:
            raise TableError(f"you are at table {player.table.name}; type leave first")
        if player.seat is not None:
            raise TableError(f"you already sit in seat {player.seat}")
        free = [s for s in SEATS if s not in self._seats]
        if seat is None:
            if not free:
                raise TableError(f"table {self.name} is full; try watch {self.name}")
            seat = free[0]
        elif seat not in SEATS:
            raise TableError(f"no seat {seat}: seats are 1 to {len(SEATS)}")
        elif seat in self._seats:
            raise TableError(f"seat {seat} is taken; free seats: "
                             + (", ".join(map(str, free)) or "none"))
        self._spectators.discard(player)
        self._seats[seat] = player
        self._seated_at[player] = self._clock.seconds()
        player.table, player.seat = self, seat
        self._broadcast({"event": "joined", "table": self.name, "seat": seat,
                         "player": player.name})
        player.send(self.snapshot())
        if self.phase is TablePhase.IDLE:
            self._open_betting()
        elif self.phase is TablePhase.BETTING:
            player.send(self._betting_event())
        return seat

    def watch(self, player: Player) -> None:
        """Let a player spectate."""
        if self.phase is TablePhase.CLOSED:
            raise TableError(f"table {self.name} is closed")
        if player.table is not None:
            raise TableError(f"you are at table {player.table.name}; type leave first")
        self._spectators.add(player)
        player.table = self
        player.send({"event": "watching", "table": self.name})
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
        self._broadcast({"event": "info", "message":
                         f"{player.name} disconnected; seat {player.seat} is held for "
                         f"{self.timers.grace:g} seconds"})
        self._grace[player] = self._clock.callLater(self.timers.grace, self._grace_over, player)
        if self.phase is TablePhase.BETTING:
            self._queue.run(self._maybe_close_betting).addErrback(self._log_failure)

    def player_reconnected(self, player: Player) -> None:
        """A player logged back in: cancel the grace timer and show the table."""
        call = self._grace.pop(player, None)
        if call is not None and call.active():
            call.cancel()
        if player.seat is not None:
            self._broadcast({"event": "info", "message": f"{player.name} is back"})
        player.send(self.snapshot())
        if self._round is not None and self._round.phase is not Phase.FINISHED:
            self._prompt_current()
        elif self.phase is TablePhase.IDLE and player.seat is not None \
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
            player.send({"event": "left", "table": self.name, "player": player.name})
            return None
        seat = player.seat
        if player.table is not self or seat is None or self._seats.get(seat) is not player:
            raise TableError("you are not at this table")
        call = self._grace.pop(player, None)
        if call is not None and call.active():
            call.cancel()
        if self._round is not None and seat in self._round.bets \
                and self._round.phase is not Phase.FINISHED:
            # The hand plays on (standing) and settles; the seat frees afterwards.
            self._broadcast(self._left_event(player, seat, why))
            self._forget(player)
            self._leaving.add(seat)
            player.table, player.seat = None, None
            return self._auto_play()
        self._free_seat(player, seat, why)
        if self.phase is TablePhase.BETTING:
            return self._maybe_close_betting()
        return None

    def _left_event(self, player: Player, seat: int, why: str) -> dict[str, Any]:
        return {"event": "left", "table": self.name, "seat": seat, "player": player.name,
                "reason": why}

    def _forget(self, player: Player) -> None:
        self._missed.pop(player, None)
        self._seated_at.pop(player, None)

    def _free_seat(self, player: Player, seat: int, why: str) -> None:
        """Stand a player with no hand in play up; a bet placed in this window goes back."""
        self._broadcast(self._left_event(player, seat, why))
        del self._seats[seat]
        self._forget(player)
        player.table, player.seat = None, None
        if seat in self._bets:
            self._returned[player.account_id] += self._bets.pop(seat)
            self._stakers.pop(seat, None)
            player.send({"event": "info", "message": "your bet is returned"})

    def say(self, player: Player, text: str) -> None:
        """Pass a line of chat to everyone at the table, cleaned by :func:`clean_chat`."""
        if player.table is not self:
            raise TableError("join or watch a table to talk there")
        text = clean_chat(text)
        if not text:
            raise TableError("nothing to say: that chat line has no visible text")
        self._broadcast({"event": "say", "table": self.name, "player": player.name,
                         "text": text})

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

    def _betting_event(self) -> dict[str, Any]:
        remaining = self.timers.bet
        if self._timer is not None and self._timer.active():
            remaining = max(0.0, self._timer.getTime() - self._clock.seconds())
        return {"event": "betting", "table": self.name, "round": self._round_id,
                "seconds": round(remaining), "min": self.rules.min_bet,
                "max": self.rules.max_bet}

    def _open_betting(self) -> None:
        self._reset_round()
        self._round_id = self._round_ids()
        self.phase = TablePhase.BETTING
        self._start_timer(self.timers.bet, self._betting_over)
        self._broadcast(self._betting_event())

    def _bet(self, player: Player, amount: int, placed: Deferred[None]) -> None:
        seat = player.seat
        if seat is None or player.table is not self:
            raise TableError(f"sit down first: join {self.name}")
        if self.phase is TablePhase.IDLE:
            self._open_betting()
        if self.phase is not TablePhase.BETTING:
            raise TableError("a round is in play; bet when the next betting window opens")
        if seat in self._bets:
            raise TableError(f"you have already bet {self._bets[seat]} this round")
        if seat in self._staking:
            raise TableError("one moment: the last bet on this seat is still being placed")
        if not self.rules.min_bet <= amount <= self.rules.max_bet:
            raise TableError(f"bet {self.rules.min_bet} to {self.rules.max_bet} "
                             f"at this table, not {amount}")
        round_id = self._round_id
        assert round_id is not None
        self._staking[seat] = player
        # Not waited for here: the queue moves on while the stake commits.
        self._stake(player, seat, "bet", amount).addBoth(
            lambda result: self._queue.run(self._staked, player, seat, amount, round_id, result)
        ).chainDeferred(placed)

    def _staked(self, player: Player, seat: int, amount: int, round_id: str,
                result: int | Failure) -> Any:
        """Record a bet whose stake has committed (or failed), back in the queue."""
        if round_id != self._round_id:
            # The table stopped (a server shutdown) while the stake committed;
            # the round's refund, issued after the stake, returned the chips.
            if isinstance(result, Failure):
                return result
            player.send({"event": "info", "message": "bets on this round are returned"})
            return None
        self._staking.pop(seat, None)
        if isinstance(result, Failure):
            # Refused (not enough chips) or failed: no chip moved.  The window
            # may be due to close; the queue waits for that, then the refusal
            # goes to the player.
            after = self._after_staking()
            if after is None:
                return result
            return after.addErrback(self._log_failure).addCallback(lambda _: result)
        if player.table is self and player.seat == seat:
            self._bets[seat] = amount
            self._stakers[seat] = player
            self._missed.pop(player, None)
            self._broadcast({"event": "bet", "seat": seat, "player": player.name,
                             "amount": amount})
            player.send({"event": "balance", "balance": result})
        else:
            # The player left while the stake committed: it is returned with
            # the round, like a bet withdrawn in the window.
            self._returned[player.account_id] += amount
            player.send({"event": "info", "message": "your bet is returned"})
        return self._after_staking()

    def _after_staking(self) -> Deferred[None] | None:
        """Once no stake is on its way, close the window if it is due."""
        if self._staking:
            return None
        if self._close_when_staked:
            self._close_when_staked = False
            return self._close_betting()
        return self._maybe_close_betting()

    def _stake(self, player: Player, seat: int, what: str, amount: int) -> Deferred[int]:
        self._stake_count += 1
        key = f"seat{seat}:{what}:{self._stake_count}"
        assert self._round_id is not None
        d = self._storage.stake(player.account_id, self._round_id, key, amount)

        def _explain(failure: Failure) -> NoReturn:
            failure.trap(InsufficientFundsError)
            error = failure.value
            raise TableError(f"not enough chips to {what}: you have {error.balance}, "
                             f"it takes {error.need}")
        return d.addErrback(_explain)

    def _maybe_close_betting(self) -> Deferred[None] | None:
        """Deal early once every connected seated player has bet."""
        if self.phase is not TablePhase.BETTING or not self._bets:
            return None
        waiting = [s for s, p in self._seats.items() if p.connected and s not in self._bets]
        if not waiting:
            return self._close_betting()
        return None

    def _betting_over(self, token: int) -> None:
        if token == self._timer_token:
            self._queue.run(self._close_betting, token).addErrback(self._log_failure)

    def _close_betting(self, token: int | None = None) -> Deferred[None] | None:
        """Deal the window's bets; ``token`` is the timer's, if the timer closes it."""
        if self.phase is not TablePhase.BETTING:
            return None
        if token is not None and token != self._timer_token:
            # The timer fired while a bet held the queue, and that bet dealt the
            # round (and perhaps settled it and opened the next window).
            return None
        self._cancel_timer()
        if self._staking:
            # Bets are on their way to the database: close once they are in.
            self._close_when_staked = True
            return None
        self._count_missed()
        if not self._bets:
            round_id, returned = self._round_id, dict(self._returned)
            self._reset_round()
            self.phase = TablePhase.IDLE
            if self.timers.missed_rounds and any(p.connected for p in self._seats.values()):
                # Seated players who do not bet must see windows pass, or
                # they could hold their seats for ever.
                self._open_betting()
            else:
                self._broadcast({"event": "info", "message":
                                 "no bets; the next bet opens a new round"})
            if returned and round_id is not None:
                return self._storage.refund(round_id).addCallback(lambda _: None)
            return None
        if self.shoe.needs_shuffle:
            self.shoe.shuffle()
            self._broadcast({"event": "info", "message": "the dealer shuffles the shoe"})
        self._round = Round(self.rules, self.shoe, self._bets)
        self.phase = TablePhase.PLAYING
        self._round.deal()
        return self._after_change()

    def _count_missed(self) -> None:
        """The window is closing: count it against the seated who did not bet.

        It counts for connected players seated for at least half of it (one
        who sat down as it closed has not had a chance; a dropped player's
        seat is the grace timer's business).  At ``missed_rounds`` in a row
        the player is stood up, told why one window before and when it
        happens.  A bet resets the count.
        """
        limit = self.timers.missed_rounds
        if not limit:
            return
        sat_by = self._clock.seconds() - self.timers.bet / 2
        for seat, player in sorted(self._seats.items()):
            if seat in self._bets or not player.connected \
                    or self._seated_at.get(player, sat_by) > sat_by:
                continue
            missed = self._missed.get(player, 0) + 1
            if missed < limit:
                self._missed[player] = missed
                if missed == limit - 1:
                    player.send({"event": "info", "message":
                                 f"you have not bet for {missed} betting window"
                                 f"{'s' if missed > 1 else ''}; if the next one closes "
                                 "without your bet you are stood up to free the seat"})
                continue
            self._free_seat(player, seat, "missed rounds")
            player.send({"event": "info", "message":
                         f"you did not bet for {limit} betting windows in a row, so you "
                         f"are stood up from table {self.name}; your chips are "
                         f"untouched. Type 'join {self.name}' to sit down again."})

    # -- play -------------------------------------------------------------------

    def act(self, player: Player, action: Action) -> Deferred[None]:
        """Escrow what the action costs, then make it for the player's seat."""
        return self._queue.run(self._act, player, action)

    @inlineCallbacks
    def _act(self, player: Player, action: Action) -> Any:
        seat = player.seat
        rnd = self._round
        if seat is None or player.table is not self:
            raise TableError(f"sit down first: join {self.name}")
        if rnd is None or self.phase is not TablePhase.PLAYING:
            raise TableError(f"cannot {action.value}: no cards are dealt; bet first")
        if seat not in rnd.bets:
            raise TableError(f"cannot {action.value}: you have no hand this round")
        turn = rnd.turn
        if rnd.phase is Phase.PLAYING and turn is not None and turn.seat != seat:
            raise TableError(f"not your turn: seat {turn.seat} "
                             f"({self._seats[turn.seat].name}) is playing")
        reason = rnd.why_illegal(action, seat)
        if reason is not None:
            raise TableError(reason)
        cost = rnd.cost(action, seat)
        if cost:
            what = action.value if turn is None else f"hand{turn.hand}:{action.value}"
            balance = yield self._stake(player, seat, what, cost)
            player.send({"event": "balance", "balance": balance})
        rnd.act(action, seat=seat)
        yield self._after_change()

    def _after_change(self) -> Deferred[None] | None:
        """Send new engine events, then settle, play for absentees, or start a timer."""
        rnd = self._round
        assert rnd is not None
        for event in rnd.events[self._sent:]:
            self._broadcast(self._dress(event.to_dict()))
        self._sent = len(rnd.events)
        if rnd.phase is Phase.FINISHED:
            self._cancel_timer()
            return self._settle()
        if self._auto_seat() is not None:
            return self._auto_play()
        if rnd.phase is Phase.INSURANCE:
            if self._timer is None:
                self._start_timer(self.timers.insurance, self._time_up)
        else:
            self._start_timer(self.timers.turn, self._time_up)
        self._prompt_current()
        return None

    def _auto_seat(self) -> int | None:
        """A seat that must decide now and nobody will: it stands (or declines)."""
        rnd = self._round
        assert rnd is not None

        def absent(seat: int) -> bool:
            return seat in self._leaving or self.phase is TablePhase.CLOSED
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
        rnd.act(_passive(rnd), seat=seat)
        return self._after_change()

    def _prompt_current(self) -> None:
        """Tell everyone whose decision it is and for how long (the view is safe)."""
        rnd = self._round
        assert rnd is not None
        seconds = round(max(0.0, self._timer.getTime() - self._clock.seconds())) \
            if self._timer is not None else 0
        view = rnd.view().to_dict()
        if rnd.phase is Phase.INSURANCE:
            pending = rnd.insurance_pending
            # Every answer some waiting seat may give (even money only for a
            # natural, insurance only on a bet of 2 or more), as the engine says.
            offered = {name for seat in pending for name in rnd.legal_names(seat)}
            self._broadcast({"event": "decide", "seats": list(pending),
                             "players": [self._name(s) for s in pending],
                             "legal": [a.value for a in Action if a.value in offered],
                             "seconds": seconds, "view": view})
            return
        turn = rnd.turn
        assert turn is not None
        self._broadcast({"event": "prompt", "seat": turn.seat, "hand": turn.hand,
                         "player": self._name(turn.seat), "seconds": seconds,
                         "legal": view["legal"], "view": view})

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
                self._broadcast({"event": "timeout", "seat": seat, "player": self._name(seat),
                                 "action": action.value})
                rnd.act(action, seat=seat)
        else:
            turn = rnd.turn
            assert turn is not None
            self._broadcast({"event": "timeout", "seat": turn.seat, "hand": turn.hand,
                             "player": self._name(turn.seat), "action": action.value})
            rnd.act(action, seat=turn.seat)
        return self._after_change()

    # -- settlement ---------------------------------------------------------------

    @inlineCallbacks
    def _settle(self) -> Any:
        rnd, round_id = self._round, self._round_id
        assert rnd is not None and rnd.outcome is not None and round_id is not None
        outcome = rnd.outcome
        payouts: dict[int, int] = defaultdict(int, self._returned)
        for seat, player in self._stakers.items():
            payouts[player.account_id] += outcome.payout(seat)
        record = {"table": self.name, "round": round_id, "rules": self.rules.describe(),
                  "players": {str(s): p.name for s, p in sorted(self._stakers.items())},
                  "outcome": outcome.to_dict()}
        owners = {p.account_id: p for p in self._stakers.values()}
        try:
            balances = yield self._storage.settle(round_id, dict(payouts), record)
        except Exception:
            _log.failure("settling round {round_id} failed", round_id=round_id)
            self._broadcast({"event": "error", "message":
                             "the round could not be settled; its stakes stay in escrow "
                             "and are refunded when the server restarts"})
        else:
            self._send_balances(balances, owners)
        for seat in sorted(self._leaving):
            self._seats.pop(seat, None)
        self._leaving.clear()
        self._reset_round()
        if self.phase is TablePhase.CLOSED:
            return
        self.phase = TablePhase.IDLE
        if any(p.connected for p in self._seats.values()):
            self._open_betting()

    # -- shutting down ------------------------------------------------------------

    def stop(self) -> Deferred[None]:
        """Close the table: finish the round in play (every hand stands) or refund bets."""
        return self._queue.run(self._stop)

    def _stop(self) -> Deferred[None] | None:
        previous, self.phase = self.phase, TablePhase.CLOSED
        self._cancel_timer()
        for call in self._grace.values():
            if call.active():
                call.cancel()
        self._grace.clear()
        if previous is TablePhase.BETTING and self._round_id is not None:
            round_id = self._round_id
            owners = {p.account_id: p for p in self._stakers.values()}
            self._reset_round()
            if owners:
                self._broadcast({"event": "info",
                                 "message": "bets on this round are returned"})
            return self._storage.refund(round_id).addCallback(self._send_balances, owners)
        rnd = self._round
        if rnd is not None and rnd.phase is not Phase.FINISHED:
            self._broadcast({"event": "info", "message":
                             "the server is stopping: every hand still in play stands"})
            return self._auto_play()
        return None

    # -- plumbing -------------------------------------------------------------------

    @staticmethod
    def _send_balances(balances: Any, owners: dict[int, Player]) -> None:
        for account_id, balance in balances.items():
            if account_id in owners:
                owners[account_id].send({"event": "balance", "balance": balance})

    def _start_timer(self, seconds: float, callback: Callable[[int], None]) -> None:
        self._cancel_timer()
        self._timer_token += 1
        self._timer = self._clock.callLater(seconds, callback, self._timer_token)

    def _cancel_timer(self) -> None:
        self._timer_token += 1
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _name(self, seat: int) -> str:
        player = self._seats.get(seat) or self._stakers.get(seat)
        return player.name if player is not None else f"seat {seat}"

    def _dress(self, event: dict[str, Any]) -> dict[str, Any]:
        """Add player names to an engine event."""
        seat = event.get("seat")
        if isinstance(seat, int):
            event["player"] = self._name(seat)
        if event["event"] == "result":
            event["players"] = {str(s): self._name(s) for s in sorted(self._round.bets)} \
                if self._round is not None else {}
        return event

    def _recipients(self) -> list[Player]:
        seated = [p for s, p in sorted(self._seats.items()) if s not in self._leaving]
        return seated + sorted(self._spectators, key=lambda p: p.name)

    def _broadcast(self, event: dict[str, Any]) -> None:
        shared = Broadcast(event)
        for player in self._recipients():
            player.send(shared)

    def _log_failure(self, failure: Any) -> None:
        if not failure.check(TableError):
            _log.failure("table {name} failed", failure, name=self.name)

    def __repr__(self) -> str:
        return f"<Table {self.name!r} {self.phase.value} seats={sorted(self._seats)}>"
