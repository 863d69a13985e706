"""Fault tests: random players, bets, plays, disconnects, timeouts and restarts at a table.

A Hypothesis state machine drives a real :class:`Table` behind a real
:class:`Lobby` on a ``task.Clock``, with a real storage of each backend
(SQLite, memory, PostgreSQL: ``conftest.backend``) and a seeded one-deck shoe.  Players log in (or take
over their own session), sit, watch, bet valid and invalid amounts, make every
action whether legal or not, drop and come back inside or after the grace
period, leave, and let timers run out; the server stops gracefully or crashes
and restarts on the same database.  After every step the books must balance,
each account must hold exactly what it was issued plus what the engine says it
won, escrow may be held only for the round in play, every round is settled or
refunded exactly once, no client has been sent the hole card before the
reveal, and nothing was logged as a failure.

Threading: as in ``test_storage.BankMachine``, the machine runs in a worker
thread and every step is handed to the reactor with ``blockingCallFromThread``
and then waits for ``table.idle()``.  The table and adbapi both live on the
reactor thread, exactly as in production, and pytest-twisted's reactor
greenlet must never block.  Making adbapi synchronous instead would mean
swapping the pool's private ``threadpool`` and faking ``callFromThread``,
which tests a code path the server never runs.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import pytest_twisted
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, globalLogPublisher
from zope.interface import implementer

from blackjack.actions import Action
from blackjack.round import HIDDEN, Round
from blackjack.rules import Rules
from blackjack.server.core.lobby import Lobby, LobbyError
from blackjack.server.core.player import ISeatClient, Player
from blackjack.server.storage import Account
from blackjack.server.core.table import Table, TableError, TablePhase, Timers
from blackjack.shoe import Shoe

from conftest import conforms

from test_storage import call

TIMERS = Timers(bet=20, turn=30, insurance=15, grace=60)
RULES = Rules(decks=1, surrender=True, min_bet=10, max_bet=100)
NAMES = ("ann", "bob", "cat", "dan")
BETS = st.sampled_from([10, 20, 50, 100]) | st.integers(1, 400)
TICKS = st.sampled_from([1, 14.5, 15, 20, 30, 59, 60, 61, 200])
MOVES = ("log_in", "drop", "sit", "watch", "leave", "bet", "act", "tick")


def hidden_hole(rnd: Round | None) -> str | None:
    """The dealer's face-down card while it is face down, else ``None``."""
    if rnd is None or rnd.outcome is not None:
        return None
    dealer = rnd.view().dealer
    if len(dealer) < 2 or dealer[1] != HIDDEN:
        return None
    return str(rnd.cards_out()[1])  # the dealer's cards come first


@implementer(ISeatClient)
class Recorder:
    """A client that serialises every event as the JSON wire would and checks it for the hole."""

    def __init__(self, machine: TableMachine, name: str, fails_on: str | None = None) -> None:
        self.machine = machine
        self.name = name
        self.fails_on = fails_on
        """An event kind this client raises on after recording it, like a broken renderer."""
        self.texts: list[str] = []
        self.closed: str | None = None
        self._round: Round | None = None
        self._this_round: list[str] = []

    def send_event(self, event: dict[str, Any]) -> None:
        text = json.dumps(conforms(event))  # what the JSON mode sends, as the schema says
        self.texts.append(text)
        rnd = self.machine.table.round
        if rnd is not self._round:
            self._round, self._this_round = rnd, []
        hole = hidden_hole(rnd)
        if hole is not None and f'"{hole}"' in text:
            self.machine.leaks.append(f"{self.name} saw hole {hole} in {text}")
        if event["event"] == "reveal":
            # Events sent in the same batch as the reveal were built while the
            # hole was still down: none of them may name it either.
            card = f'"{event["card"]}"'
            self.machine.leaks.extend(f"{self.name} saw hole {card} before the reveal: {t}"
                                      for t in self._this_round if card in t)
        self._this_round.append(text)
        if event["event"] == self.fails_on:
            raise RuntimeError(f"{self.name}'s client cannot take a {self.fails_on} event")

    def close(self, message: str, why: str = "server") -> None:
        self.closed = message


@implementer(ILogObserver)
class FailureLog:
    """Collects every failure the server code logs."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, event: dict[str, Any]) -> None:
        namespace = event.get("log_namespace", "")
        # A broken client's own failures are expected (and logged by Player.send).
        if "log_failure" in event and namespace.startswith("blackjack") \
                and namespace != "blackjack.server.core.player":
            self.failures.append(event["log_failure"].getTraceback())


class SpyStorage:
    """The real storage, counting how often each round is settled or refunded."""

    def __init__(self, machine: TableMachine, real: Any) -> None:
        self._machine = machine
        self._real = real
        self.staked_rounds: set[str] = set()
        self.closes: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def stake(self, account_id: int, round_id: str, key: str, amount: int,
              **fence: Any) -> Deferred[int]:
        def staked(balance: int) -> int:
            self.staked_rounds.add(round_id)
            return balance
        return self._real.stake(account_id, round_id, key, amount, **fence).addCallback(staked)

    def settle(self, round_id: str, payouts: Any, record: Any = None,
               **extras: Any) -> Deferred[Any]:
        self.closes[round_id] += 1
        if record is not None and self.closes[round_id] == 1:
            # What the engine says each account won, to hold storage to it.
            net = record["outcome"]["net"]
            for seat, name in record["players"].items():
                self._machine.engine_net[self._machine.account_named(name)] += net[seat]
        return self._real.settle(round_id, payouts, record, **extras)

    def refund(self, round_id: str) -> Deferred[Any]:
        self.closes[round_id] += 1
        return self._real.refund(round_id)


class TableMachine(RuleBasedStateMachine):
    """Players doing anything at all at a table, with the server stopping or crashing."""

    failures: FailureLog
    """Where the test collects failures logged by the server code."""
    backend: Any
    """The storage backend under test, set by the test."""

    def __init__(self) -> None:
        super().__init__()
        self.real = call(self.backend.open, self.backend.fresh(), Clock().seconds)
        self.storage = SpyStorage(self, self.real)
        self.accounts: list[Account] = []
        self.issued: dict[int, int] = {}
        self.engine_net: defaultdict[int, int] = defaultdict(int)
        self.players: dict[int, Player] = {}
        self.clients: dict[int, Recorder] = {}
        self.leaks: list[str] = []
        self.crashed_rounds: set[str] = set()
        self.rounds = 0
        self.seed = 0
        self._open_room()

    def _open_room(self) -> None:
        """A fresh table, lobby and clock, as a (re)started server has."""
        self.clock = Clock()
        storage: Any = self.storage  # a SpyStorage stands in for the IStorage
        self.table = Table("main", RULES, storage, self.clock, TIMERS,
                           shoe=Shoe(1, seed=self.seed), round_ids=self._next_round_id)
        self.lobby = Lobby([self.table])
        self.rounds_at_start = self.rounds
        self.players.clear()
        self.clients.clear()

    def _next_round_id(self) -> str:
        self.rounds += 1
        return f"main-{self.rounds}"

    def account_named(self, name: str) -> int:
        return next(a.id for a in self.accounts if a.name == name)

    @initialize(seed=st.integers(0, 2**32 - 1),
                bankrolls=st.lists(st.sampled_from([0, 15, 1000]) | st.integers(0, 500),
                                   min_size=2, max_size=len(NAMES)),
                watching=st.sets(st.integers(0, len(NAMES) - 1), max_size=1))
    def open_accounts(self, seed: int, bankrolls: list[int], watching: set[int]) -> None:
        """Accounts with random bankrolls, all logged in and seated but perhaps one."""
        self.seed = seed
        self.table.shoe = Shoe(1, seed=seed)
        for name, bankroll in zip(NAMES, bankrolls):
            account = call(self.real.create_account, name, "not-a-hash", bankroll)
            self.accounts.append(account)
            self.issued[account.id] = bankroll
        for index in range(len(self.accounts)):
            self._at_once(("log_in", index, None),
                          ("watch" if index in watching else "sit", index, None))

    # -- moves: each starts on the reactor thread and may leave work in flight ----

    def _account(self, index: int) -> Account:
        return self.accounts[index % len(self.accounts)]

    def _connected(self, index: int) -> Player | None:
        account = self._account(index)
        return self.players.get(account.id) if account.id in self.clients else None

    def _log_in(self, index: int, fails_on: str | None = None) -> None:
        account = self._account(index)
        old = self.clients.get(account.id)
        self.clients[account.id] = client = Recorder(self, account.name, fails_on)
        player = self.players[account.id] = self.lobby.player(account)
        self.lobby.attach(player, client)
        assert old is None or old.closed is not None  # a takeover closes the old session

    def _drop(self, index: int) -> None:
        account = self._account(index)
        client = self.clients.pop(account.id, None)
        if client is not None:
            self.lobby.detach(self.players[account.id], client)

    def _command(self, kind: str, index: int, arg: Any) -> Any:
        """Start one move; a Deferred if it is still running."""
        if kind == "log_in":
            return self._log_in(index, arg)
        if kind == "drop":
            return self._drop(index)
        if kind == "tick":
            return self.clock.advance(arg)
        player = self._connected(index)
        if player is None:
            return None
        if kind == "sit":
            return self.table.sit(player, arg)
        if kind == "watch":
            return self.table.watch(player)
        if kind == "leave":
            return self.table.leave(player)
        if kind == "bet":
            return self.table.bet(player, arg)
        assert kind == "act"
        return self.table.act(player, arg)

    def _at_once(self, *moves: tuple[str, int, Any]) -> list[str | None]:
        """Start the moves in one reactor turn, then wait for all of them and the table.

        Returns each move's refusal message (``None`` if it was done).  Moves
        started together interleave as they would on a busy server: a
        stake still in flight when a timer fires or its player drops.
        """
        def start() -> Deferred[list[str | None]]:
            outcomes: list[Deferred[str | None]] = []
            for kind, index, arg in moves:
                try:
                    result = self._command(kind, index, arg)
                except (TableError, LobbyError) as e:
                    outcomes.append(succeed(str(e)))
                    continue
                if not isinstance(result, Deferred):
                    outcomes.append(succeed(None))
                    continue

                def refused(failure: Any) -> str:
                    failure.trap(TableError)
                    return str(failure.value)
                outcomes.append(result.addCallbacks(lambda _: None, refused))
            return gatherResults(outcomes)
        done: list[str | None] = call(start)
        call(self.table.idle)
        return done

    # -- rules ------------------------------------------------------------------

    @rule(index=st.integers(0, 3),
          fails_on=st.none() | st.sampled_from(["deal", "prompt", "result", "balance"]))
    def log_in(self, index: int, fails_on: str | None) -> None:
        """Log in, come back after a drop, or take over one's own live session
        (perhaps on a client that breaks on one kind of event)."""
        self._at_once(("log_in", index, fails_on))

    @rule(index=st.integers(0, 3))
    def drop(self, index: int) -> None:
        """The connection goes away."""
        self._at_once(("drop", index, None))

    @rule(index=st.integers(0, 3), seat=st.none() | st.integers(0, 8))
    def sit(self, index: int, seat: int | None) -> None:
        self._at_once(("sit", index, seat))

    @rule(index=st.integers(0, 3))
    def watch(self, index: int) -> None:
        self._at_once(("watch", index, None))

    @rule(index=st.integers(0, 3))
    def leave(self, index: int) -> None:
        self._at_once(("leave", index, None))

    @rule(index=st.integers(0, 3), amount=BETS)
    def bet(self, index: int, amount: int) -> None:
        self._at_once(("bet", index, amount))

    @rule(index=st.integers(0, 3), action=st.sampled_from(list(Action)))
    def act(self, index: int, action: Action) -> None:
        self._at_once(("act", index, action))

    @rule(seconds=TICKS)
    def time_passes(self, seconds: float) -> None:
        self._at_once(("tick", 0, seconds))

    @rule(moves=st.lists(st.tuples(st.sampled_from(MOVES), st.integers(0, 3), st.none()),
                         min_size=2, max_size=5),
          data=st.data())
    def several_things_at_once(self, moves: list[tuple[str, int, None]],
                               data: st.DataObject) -> None:
        """Moves racing each other: stakes in flight while timers fire and players drop."""
        args = {"sit": st.none(), "bet": BETS, "act": st.sampled_from(list(Action)),
                "tick": TICKS}
        self._at_once(*[(kind, index, data.draw(args.get(kind, st.none())))
                        for kind, index, _ in moves])

    @rule(amount=st.sampled_from([10, 25, 100]),
          actions=st.lists(st.sampled_from(list(Action)), max_size=12))
    def a_round_is_played(self, amount: int, actions: list[Action]) -> None:
        """Everyone seated bets, then whoever is to play makes each move in turn."""
        self._at_once(*[("bet", index, amount) for index in range(len(self.accounts))])
        for action in actions:
            rnd = self.table.round
            turn = rnd.turn if rnd is not None else None
            player = self.table.seats.get(turn.seat) if turn is not None else None
            if player is None or not player.connected:
                return
            self._at_once(("act", self._index(player), action))

    def _index(self, player: Player) -> int:
        return next(i for i, a in enumerate(self.accounts) if a.id == player.account_id)

    @rule()
    def everyone_waits_out_the_round(self) -> None:
        """Nobody acts: the timers alone must finish any round in play."""
        for _ in range(100):
            if self.table.phase is not TablePhase.PLAYING:
                return
            self._at_once(("tick", 0, TIMERS.turn))
        raise AssertionError(f"the round never finished: {self.table.round!r}")

    @precondition(lambda self: self.rounds >= self.rounds_at_start + 2)
    @rule(crash=st.booleans())
    def restart(self, crash: bool) -> None:
        """The server stops (every round settled or refunded) or crashes; everyone comes back."""
        before = call(self.real.audit)
        if crash:
            self.crashed_rounds |= set(before.held_by_round)
            refunded = call(self.real.recover, "main")
            assert sum(amount for _, _, amount in refunded) == before.books.escrow
        else:
            call(self.lobby.stop)
            assert call(self.real.audit).books.escrow == 0
            assert call(self.real.recover, "main") == []
        self._open_room()
        for index in range(len(self.accounts)):
            self._at_once(("log_in", index, None), ("sit", index, None))

    # -- invariants ---------------------------------------------------------------

    @invariant()
    def the_books_balance(self) -> None:
        audit = call(self.real.audit)
        assert audit.balanced, audit.discrepancies
        for account in audit.accounts:
            assert account.issued == self.issued[account.account_id]
            assert account.balance >= 0
            assert account.balance + account.held == (
                account.issued + self.engine_net[account.account_id]), account
        assert set(audit.held_by_round) <= {self.table.round_id}, (
            audit.held_by_round, self.table.round_id)

    @invariant()
    def every_round_is_closed_exactly_once(self) -> None:
        assert all(n == 1 for n in self.storage.closes.values()), self.storage.closes
        current = self.table.round_id
        for round_id in self.storage.staked_rounds - self.crashed_rounds - {current}:
            assert self.storage.closes[round_id] == 1, round_id

    @invariant()
    def no_hole_card_leaks(self) -> None:
        assert not self.leaks, self.leaks

    @invariant()
    def nothing_was_logged_as_a_failure(self) -> None:
        assert not self.failures.failures, self.failures.failures[0]

    @invariant()
    def seats_and_players_agree(self) -> None:
        for player in self.players.values():
            if player.seat is not None:
                assert player.table is self.table
                assert self.table.seats[player.seat] is player

    def teardown(self) -> None:
        call(self.real.close)


@pytest_twisted.ensureDeferred
async def test_tables_keep_every_chip_and_the_hole_card(backend: Any) -> None:
    """Whatever players, timers and restarts do, the books balance, no chip strays
    and no hole card is shown early."""
    from twisted.internet import reactor
    from twisted.internet.threads import deferToThread

    TableMachine.backend = backend
    failures = TableMachine.failures = FailureLog()
    globalLogPublisher.addObserver(failures)
    try:
        await deferToThread(
            run_state_machine_as_test, TableMachine,
            # A PostgreSQL example costs a schema of its own: fewer of them.
            settings=settings(max_examples=25 if backend.name == "postgresql" else 100,
                              stateful_step_count=60, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow]),
        ).addTimeout(120, reactor)
    finally:
        globalLogPublisher.removeObserver(failures)
