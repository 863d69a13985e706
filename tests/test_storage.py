"""The storage contract: every backend behind IStorage keeps chips the same way.

Each test runs once per backend (``conftest.backend``: SQLite, memory, and
PostgreSQL where a server is reachable).  What only one backend has (SQLite's
file, pragmas and locking) is tested in that backend's own test module.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest
import pytest_twisted
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from blackjack.server.storage._backend import record_text
from blackjack.server.storage import (
    Account,
    Books,
    DatabaseError,
    DuplicateStakeError,
    HandSummary,
    InsufficientFundsError,
    InvalidAmountError,
    IStorage,
    LookAlikeNameError,
    NameTakenError,
    PlayerStats,
    RebuyRefusedError,
    RoundClosedError,
    SettlementError,
    UnknownAccountError,
)

T = TypeVar("T")

TIMEOUT = 10.0


def timed(d: Deferred[T]) -> Deferred[T]:
    """Give up on a Deferred that never fires instead of hanging the run."""
    from twisted.internet import reactor

    return d.addTimeout(TIMEOUT, reactor)


def call(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """From a worker thread, run ``f`` on the reactor and wait for its result.

    The Hypothesis machine runs in a thread (pytest-twisted runs tests on the
    reactor's greenlet, where nothing may block), so every storage call goes
    back to the reactor thread, where Deferreds and adbapi must be used.
    """
    from twisted.internet import reactor
    from twisted.internet.threads import blockingCallFromThread

    def start() -> Any:
        result = f(*args, **kwargs)
        return timed(result) if isinstance(result, Deferred) else result

    return blockingCallFromThread(reactor, start)


async def gather(*ds: Deferred[Any]) -> list[tuple[bool, Any]]:
    """Wait for all, collecting (success, result-or-exception) pairs."""
    results = await timed(defer.DeferredList(list(ds), consumeErrors=True))
    return [(ok, value if ok else value.value) for ok, value in results]


@pytest_twisted.async_yield_fixture()
async def clock() -> AsyncIterator[Clock]:
    yield Clock()


@pytest.fixture
def database(backend: Any) -> Any:
    """A fresh, empty database of the backend under test."""
    return backend.fresh()


@pytest_twisted.async_yield_fixture()
async def store(backend: Any, database: Any, clock: Clock) -> AsyncIterator[IStorage]:
    storage = backend.open(database, clock.seconds)
    await timed(storage.ready())
    yield storage
    await timed(storage.close())


async def new_account(
    storage: IStorage, name: str = "Alice", bankroll: int = 1000
) -> Account:
    return await timed(storage.create_account(name, "scrypt$fake", bankroll))


@pytest_twisted.async_yield_fixture()
async def pair(store: IStorage) -> AsyncIterator[tuple[Account, Account]]:
    """Alice and Bob, 100 chips each."""
    yield (await new_account(store, "Alice", 100), await new_account(store, "Bob", 100))


# --- accounts ----------------------------------------------------------------


def test_the_backend_provides_the_interface(store: IStorage) -> None:
    """Every backend satisfies the IStorage protocol the server codes against."""
    assert isinstance(store, IStorage)


@pytest_twisted.ensureDeferred
async def test_create_and_get_account(store: IStorage, clock: Clock) -> None:
    """A new account keeps its display case, gets the bankroll and the clock's time."""
    clock.advance(42)
    created = await new_account(store, "Alice", 1000)
    assert created == Account(created.id, "Alice", 1000, 42.0)
    assert await timed(store.get_account("aLiCe")) == created
    assert await timed(store.get_account_by_id(created.id)) == created
    assert await timed(store.get_account("bob")) is None
    assert await timed(store.balance(created.id)) == 1000


@pytest_twisted.ensureDeferred
async def test_names_are_unique_ignoring_case(store: IStorage) -> None:
    """A name differing only in case from an existing one is refused."""
    await new_account(store, "Alice")
    with pytest.raises(NameTakenError, match="'ALICE' is taken"):
        await new_account(store, "ALICE")
    assert (await timed(store.books())).issued == 1000


@pytest_twisted.ensureDeferred
async def test_a_look_alike_name_is_taken(store: IStorage) -> None:
    """'aIice' (capital i) or 'a1ice' cannot be created next to 'alice', in one transaction."""
    await new_account(store, "alice")
    for twin in ("aIice", "a1ice", "AL_ICE"):
        with pytest.raises(LookAlikeNameError, match="'alice', which is taken"):
            await new_account(store, twin)
    assert await timed(store.look_alike("A1lce")) == "alice"
    assert await timed(store.look_alike("bob")) is None
    assert (await timed(store.books())).issued == 1000  # no chips for the refused twins


@pytest_twisted.ensureDeferred
async def test_racing_look_alike_registrations_make_one_account(store: IStorage) -> None:
    """Two look-alike names created at once: one account, one LookAlikeNameError."""
    results = await gather(store.create_account("alice", "h", 10),
                           store.create_account("aIice", "h", 10))
    assert sorted(ok for ok, _ in results) == [False, True]
    assert any(isinstance(value, LookAlikeNameError) for _, value in results)


@pytest_twisted.ensureDeferred
async def test_look_alike_registrations_on_two_connections_make_one_account(
        backend: Any, database: Any) -> None:
    """Look-alike names registered at once through two connections: still one account."""
    one = backend.open(database, Clock().seconds)
    two = backend.open(database, Clock().seconds)
    try:
        for n in range(10):
            results = await gather(one.create_account(f"bo{n}b", "h", 10),
                                   two.create_account(f"b0{n}B", "h", 10))
            assert sorted(ok for ok, _ in results) == [False, True], results
    finally:
        await timed(one.close())
        await timed(two.close())


@pytest_twisted.ensureDeferred
async def test_password_hash_lookup(store: IStorage) -> None:
    """The stored hash is found by name in any case; unknown names give None."""
    await timed(store.create_account("Alice", "scrypt$abc", 10))
    assert await timed(store.password_hash("ALICE")) == "scrypt$abc"
    assert await timed(store.password_hash("nobody")) is None


@pytest_twisted.ensureDeferred
async def test_bankroll_is_an_issue_entry(store: IStorage) -> None:
    """Creating an account issues its bankroll through the ledger."""
    account = await new_account(store, bankroll=500)
    [entry] = await timed(store.ledger(account.id))
    assert (entry.kind, entry.amount, entry.balance, entry.round_id) == (
        "issue",
        500,
        500,
        None,
    )
    assert await timed(store.books()) == Books(500, 500, 0, 0)


@pytest_twisted.ensureDeferred
async def test_issue_tops_up(store: IStorage) -> None:
    """issue() adds new chips and counts them as issued."""
    account = await new_account(store, bankroll=10)
    assert await timed(store.issue(account.id, 90)) == 100
    books = await timed(store.books())
    assert (books.issued, books.balanced) == (100, True)


@pytest_twisted.ensureDeferred
async def test_balance_survives_restart(backend: Any, database: Any) -> None:
    """A balance written is there after closing the storage and opening it again."""
    first = backend.open(database, Clock().seconds)
    account = await new_account(first, bankroll=1000)
    await timed(first.stake(account.id, "r1", "seat1:bet", 100))
    await timed(first.settle("r1", {account.id: 250}))
    await timed(first.close())

    second = backend.open(database, Clock().seconds)
    try:
        reopened = await timed(second.get_account("alice"))
        assert reopened is not None and reopened.balance == 1150
        assert (await timed(second.books())).balanced
    finally:
        await timed(second.close())


# --- stakes ------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_stake_moves_chips_into_escrow(store: IStorage) -> None:
    """A stake leaves the balance at once and is held in escrow."""
    account = await new_account(store, bankroll=100)
    assert await timed(store.stake(account.id, "r1", "seat1:bet", 30)) == 70
    assert await timed(store.stake(account.id, "r1", "seat1:hand0:double", 30)) == 40
    assert await timed(store.books()) == Books(100, 40, 60, 0)


@pytest_twisted.ensureDeferred
async def test_stake_refuses_overdraft(store: IStorage) -> None:
    """A stake above the balance fails with a clear message and debits nothing."""
    account = await new_account(store, bankroll=40)
    with pytest.raises(InsufficientFundsError) as caught:
        await timed(store.stake(account.id, "r1", "seat1:bet", 50))
    assert str(caught.value) == "not enough chips: balance 40, need 50"
    assert await timed(store.balance(account.id)) == 40
    assert await timed(store.books()) == Books(40, 40, 0, 0)


@pytest_twisted.ensureDeferred
async def test_same_stake_twice_is_refused(
    store: IStorage,
) -> None:
    """Staking the same (round, account, key) twice fails and debits only once."""
    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "r1", "seat1:bet", 10))
    with pytest.raises(DuplicateStakeError):
        await timed(store.stake(account.id, "r1", "seat1:bet", 10))
    assert await timed(store.balance(account.id)) == 90
    entries = await timed(store.ledger(account.id))
    assert len(entries) == 2


@pytest_twisted.ensureDeferred
async def test_racing_stakes_never_overdraw(store: IStorage) -> None:
    """Two sessions staking the whole balance at once: one wins, none overdraws."""
    account = await new_account(store, bankroll=50)
    results = await gather(
        store.stake(account.id, "r1", "seat1:bet", 50),
        store.stake(account.id, "r2", "seat4:bet", 50),
    )
    assert sorted(ok for ok, _ in results) == [False, True]
    [error] = [value for ok, value in results if not ok]
    assert isinstance(error, InsufficientFundsError)
    assert await timed(store.balance(account.id)) == 0
    assert (await timed(store.books())).balanced


@pytest_twisted.ensureDeferred
async def test_two_connections_racing_on_one_database(backend: Any, database: Any) -> None:
    """Two storages (as two server processes) on one database never overdraw or lock up."""
    one = backend.open(database, Clock().seconds)
    account = await new_account(one, bankroll=100)
    two = backend.open(database, Clock().seconds)
    try:
        results = await gather(
            *(
                (one if i % 2 else two).stake(account.id, f"r{i}", "seat1:bet", 2)
                for i in range(100)
            )
        )
        errors = [value for ok, value in results if not ok]
        # A deferred BEGIN would let some fail with "database is locked".
        assert all(isinstance(e, InsufficientFundsError) for e in errors), errors[:1]
        assert len(errors) == 50
        assert await timed(two.balance(account.id)) == 0
        assert (await timed(one.books())) == Books(100, 0, 100, 0)
    finally:
        await timed(one.close())
        await timed(two.close())


@pytest_twisted.ensureDeferred
async def test_unknown_account_cannot_stake(store: IStorage) -> None:
    """Staking or asking the balance of a missing account is an UnknownAccountError."""
    with pytest.raises(UnknownAccountError, match="no such account: 99"):
        await timed(store.stake(99, "r1", "seat1:bet", 10))
    with pytest.raises(UnknownAccountError):
        await timed(store.balance(99))


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "10", None])
@pytest_twisted.ensureDeferred
async def test_bad_amounts_fail_the_deferred(store: IStorage, amount: Any) -> None:
    """Amounts that are not positive ints fail the returned Deferred, never raise."""
    account = await new_account(store, bankroll=100)
    d = store.stake(account.id, "r1", "seat1:bet", amount)
    assert isinstance(d, Deferred)
    with pytest.raises(InvalidAmountError):
        await timed(d)
    assert await timed(store.balance(account.id)) == 100


# --- settling and refunds ----------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_settle_pays_once(
    store: IStorage, pair: tuple[Account, Account]
) -> None:
    """A second settle of the same round changes nothing and returns the balances."""
    alice, bob = pair
    await timed(store.stake(alice.id, "r1", "seat1:bet", 20))
    await timed(store.stake(bob.id, "r1", "seat2:bet", 30))
    payouts = {alice.id: 50, bob.id: 0}
    assert await timed(store.settle("r1", payouts, {"dealer": "20"})) == {
        alice.id: 130,
        bob.id: 70,
    }
    assert await timed(store.settle("r1", {alice.id: 999, bob.id: 999})) == {
        alice.id: 130,
        bob.id: 70,
    }
    assert await timed(store.books()) == Books(200, 200, 0, 0)
    assert [e.kind for e in await timed(store.ledger(alice.id))].count("payout") == 1


@pytest_twisted.ensureDeferred
async def test_racing_settlements_pay_once(store: IStorage) -> None:
    """Two settlements of one round fired together pay the round once."""
    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "r1", "seat1:bet", 10))
    results = await gather(
        store.settle("r1", {account.id: 20}), store.settle("r1", {account.id: 20})
    )
    assert results == [(True, {account.id: 110}), (True, {account.id: 110})]
    assert (await timed(store.books())).balanced


@pytest_twisted.ensureDeferred
async def test_settle_keeps_house_result(store: IStorage) -> None:
    """Chips lost to the house show as a positive house_net and the books balance."""
    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "r1", "seat1:bet", 40))
    await timed(store.settle("r1", {account.id: 0}))
    books = await timed(store.books())
    assert books == Books(issued=100, balances=60, escrow=0, house_net=40)
    assert books.balanced


@pytest_twisted.ensureDeferred
async def test_settle_refuses_payouts_that_do_not_match_stakes(
    store: IStorage,
    pair: tuple[Account, Account],
) -> None:
    """Paying an account that did not stake, or missing one that did, does nothing."""
    alice, bob = pair
    await timed(store.stake(alice.id, "r1", "seat1:bet", 20))
    with pytest.raises(SettlementError):
        await timed(store.settle("r1", {alice.id: 40, bob.id: 40}))
    with pytest.raises(SettlementError):
        await timed(store.settle("r1", {}))
    assert await timed(store.books()) == Books(200, 180, 20, 0)
    assert await timed(store.settle("r1", {alice.id: 40})) == {alice.id: 120}


@pytest_twisted.ensureDeferred
async def test_closed_round_takes_no_stakes(store: IStorage) -> None:
    """Once a round is settled a late stake into it is refused."""
    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "r1", "seat1:bet", 10))
    await timed(store.settle("r1", {account.id: 10}))
    with pytest.raises(RoundClosedError, match="already settled"):
        await timed(store.stake(account.id, "r1", "seat1:hand0:double", 10))
    assert await timed(store.balance(account.id)) == 100


@pytest_twisted.ensureDeferred
async def test_settling_an_empty_round_closes_it(store: IStorage) -> None:
    """A round settled with no stakes returns nothing and refuses later stakes."""
    account = await new_account(store, bankroll=100)
    assert await timed(store.settle("r1", {})) == {}
    with pytest.raises(RoundClosedError):
        await timed(store.stake(account.id, "r1", "seat1:bet", 10))


@pytest_twisted.ensureDeferred
async def test_refund_returns_every_stake_once(
    store: IStorage, pair: tuple[Account, Account]
) -> None:
    """refund() returns all escrow of a round, is idempotent and blocks settlement."""
    alice, bob = pair
    await timed(store.stake(alice.id, "r1", "seat1:bet", 20))
    await timed(store.stake(alice.id, "r1", "seat1:insurance", 10))
    await timed(store.stake(bob.id, "r1", "seat2:bet", 5))
    expected = {alice.id: 100, bob.id: 100}
    assert await timed(store.refund("r1")) == expected
    assert await timed(store.refund("r1")) == expected
    assert await timed(store.settle("r1", {alice.id: 60, bob.id: 10})) == expected
    assert await timed(store.books()) == Books(200, 200, 0, 0)
    refunds = [e for e in await timed(store.ledger(alice.id)) if e.kind == "refund"]
    assert sorted((e.key, e.amount) for e in refunds) == [
        ("seat1:bet", 20),
        ("seat1:insurance", 10),
    ]
    assert await timed(store.refund("never-played")) == {}


@pytest_twisted.ensureDeferred
async def test_refund_after_settle_changes_nothing(store: IStorage) -> None:
    """A refund of an already settled round does not pay the stakes back again."""
    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "r1", "seat1:bet", 10))
    await timed(store.settle("r1", {account.id: 0}))
    assert await timed(store.refund("r1")) == {account.id: 90}


@pytest_twisted.ensureDeferred
async def test_recover_refunds_stakes_left_by_a_crash(backend: Any, database: Any) -> None:
    """Stakes still in escrow when the server died are refunded once at start-up."""
    before = backend.open(database, Clock().seconds)
    alice = await new_account(before, "Alice", 100)
    bob = await new_account(before, "Bob", 100)
    await timed(before.stake(alice.id, "r1", "seat1:bet", 30))
    await timed(before.stake(bob.id, "r1", "seat2:bet", 40))
    await timed(before.stake(bob.id, "r0", "seat2:bet", 10))
    await timed(before.settle("r0", {bob.id: 20}))
    await timed(before.stake(alice.id, "r2", "seat5:bet", 5))
    await timed(before.close())  # the "crash": r1 and r2 never settle

    after = backend.open(database, Clock().seconds)
    try:
        refunded = await timed(after.recover())
        assert sorted(refunded) == [
            ("r1", alice.id, 30),
            ("r1", bob.id, 40),
            ("r2", alice.id, 5),
        ]
        assert await timed(after.recover()) == []
        assert await timed(after.balance(alice.id)) == 100
        assert await timed(after.balance(bob.id)) == 110
        books = await timed(after.books())
        assert books == Books(issued=200, balances=210, escrow=0, house_net=-10)
        assert books.balanced
    finally:
        await timed(after.close())


@pytest_twisted.ensureDeferred
async def test_recover_logs_each_refund(store: IStorage) -> None:
    """Every stake refunded at start-up is logged with round, account and amount."""
    from twisted.logger import globalLogPublisher

    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "r9", "seat2:bet", 25))
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        await timed(store.recover())
    finally:
        globalLogPublisher.removeObserver(events.append)
    [event] = [e for e in events if e.get("round_id") == "r9"]
    assert (event["account_id"], event["amount"]) == (account.id, 25)
    assert event["log_level"].name == "warn"


# --- reports -----------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_ledger_records_every_movement(
    store: IStorage, clock: Clock
) -> None:
    """The ledger lists movements newest first; their amounts add up to the balance."""
    account = await new_account(store, bankroll=100)
    clock.advance(5)
    await timed(store.stake(account.id, "r1", "seat1:bet", 10))
    await timed(store.stake(account.id, "r1", "seat1:hand0:double", 10))
    clock.advance(5)
    await timed(store.settle("r1", {account.id: 40}))
    entries = await timed(store.ledger(account.id))
    assert [(e.kind, e.amount, e.balance, e.key, e.created) for e in entries] == [
        ("payout", 40, 120, "", 10.0),
        ("stake", -10, 80, "seat1:hand0:double", 5.0),
        ("stake", -10, 90, "seat1:bet", 5.0),
        ("issue", 100, 100, "", 0.0),
    ]
    assert sum(e.amount for e in entries) == await timed(store.balance(account.id))
    latest_two = await timed(store.ledger(account.id, limit=2))
    assert latest_two == entries[:2]


@pytest_twisted.ensureDeferred
async def test_history_stores_each_accounts_round(store: IStorage) -> None:
    """Each settled round is in the history with stake, payout and table record."""
    account = await new_account(store, bankroll=100)
    for number, payout in [(1, 0), (2, 25)]:
        await timed(store.stake(account.id, f"r{number}", "seat1:bet", 10))
        await timed(store.settle(f"r{number}", {account.id: payout}, {"round": number}))
    latest, first = await timed(store.history(account.id))
    assert (latest.round_id, latest.staked, latest.payout, latest.net) == (
        "r2",
        10,
        25,
        15,
    )
    assert latest.details == {"round": 2}
    assert (first.round_id, first.net) == ("r1", -10)
    assert await timed(store.history(account.id, limit=1)) == [latest]


# --- opening and closing -----------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_close_waits_for_queued_work(backend: Any, database: Any) -> None:
    """Work queued before close() still commits; close fires after it."""
    storage = backend.open(database, Clock().seconds)
    account = await new_account(storage, bankroll=100)
    staking = storage.stake(account.id, "r1", "seat1:bet", 10)
    await timed(storage.close())
    assert staking.called
    assert await timed(staking) == 90
    reopened = backend.open(database, Clock().seconds)
    assert await timed(reopened.balance(account.id)) == 90
    await timed(reopened.close())


@pytest_twisted.ensureDeferred
async def test_calls_after_close_fail(backend: Any, database: Any, clock: Clock) -> None:
    """A closed storage answers every call with a DatabaseError."""
    storage = backend.open(database, clock.seconds)
    await timed(storage.close())
    with pytest.raises(DatabaseError, match="closed"):
        await timed(storage.get_account("alice"))


# --- the books always balance ------------------------------------------------


class BankMachine(RuleBasedStateMachine):
    """Random stakes, settlements and refunds against a model of every balance."""

    backend: Any
    """The backend under test, set by the test before the machine runs."""

    def __init__(self) -> None:
        super().__init__()
        self.storage = call(self.backend.open, self.backend.fresh(), Clock().seconds)
        self.model: dict[int, int] = {}
        self.round = 0
        self.staked: dict[int, int] = {}  # account -> chips staked this round
        self.keys: set[tuple[int, str]] = set()

    @initialize(bankrolls=st.lists(st.integers(0, 200), min_size=1, max_size=3))
    def open_accounts(self, bankrolls: list[int]) -> None:
        for number, bankroll in enumerate(bankrolls):
            account = call(self.storage.create_account, f"p{number}", "h", bankroll)
            self.model[account.id] = bankroll

    def _account(self, index: int) -> int:
        return sorted(self.model)[index % len(self.model)]

    @rule(
        index=st.integers(0, 2),
        key=st.sampled_from(["bet", "double", "insurance"]),
        amount=st.integers(1, 120),
    )
    def stake(self, index: int, key: str, amount: int) -> None:
        account_id = self._account(index)
        args = (self.storage.stake, account_id, f"r{self.round}", key, amount)
        if (account_id, key) in self.keys:
            with pytest.raises(DuplicateStakeError):
                call(*args)
        elif amount > self.model[account_id]:
            with pytest.raises(InsufficientFundsError):
                call(*args)
        else:
            assert call(*args) == self.model[account_id] - amount
            self.model[account_id] -= amount
            self.staked[account_id] = self.staked.get(account_id, 0) + amount
            self.keys.add((account_id, key))

    @rule(halves=st.lists(st.sampled_from([0, 1, 2, 4, 5, 6]), min_size=3, max_size=3))
    def settle(self, halves: list[int]) -> None:
        # Payouts in half-stakes: lose, half back (surrender), push, win, 3:2, 2:1.
        payouts = {
            account_id: staked * halves[i % 3] // 2
            for i, (account_id, staked) in enumerate(sorted(self.staked.items()))
        }
        balances = call(self.storage.settle, f"r{self.round}", payouts)
        for account_id, payout in payouts.items():
            self.model[account_id] += payout
        assert balances == {a: self.model[a] for a in payouts}
        # Settling again is a no-op.
        assert call(self.storage.settle, f"r{self.round}", payouts) == balances
        self._next_round()

    @rule()
    def refund(self) -> None:
        for account_id, staked in self.staked.items():
            self.model[account_id] += staked
        call(self.storage.refund, f"r{self.round}")
        self._next_round()

    def _next_round(self) -> None:
        self.round += 1
        self.staked = {}
        self.keys = set()

    @invariant()
    def books_balance(self) -> None:
        if not self.model:
            return
        books = call(self.storage.books)
        assert books.balanced, books
        assert books.balances == sum(self.model.values())
        assert books.escrow == sum(self.staked.values())
        for account_id, expected in self.model.items():
            assert call(self.storage.balance, account_id) == expected >= 0

    def teardown(self) -> None:
        call(self.storage.close)


@pytest_twisted.ensureDeferred
async def test_books_always_balance(backend: Any) -> None:
    """Whatever the stakes, settlements and refunds, no chip appears or vanishes."""
    from twisted.internet import reactor
    from twisted.internet.threads import deferToThread

    BankMachine.backend = backend
    machine_settings = settings(
        # A PostgreSQL example costs a schema of its own: fewer of them.
        max_examples=30 if backend.name == "postgresql" else 100,
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    await deferToThread(
        run_state_machine_as_test, BankMachine, settings=machine_settings
    ).addTimeout(120, reactor)


# --- recovery table by table -------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_recover_one_table_leaves_the_others(store: IStorage) -> None:
    """recover(table) refunds only the open rounds whose id names that table."""
    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "main-aa", "seat1:bet", 10))
    await timed(store.stake(account.id, "high-rollers-bb", "seat1:bet", 20))
    await timed(store.stake(account.id, "main-cc", "seat1:bet", 5))
    await timed(store.settle("main-cc", {account.id: 10}))
    assert await timed(store.recover("main")) == [("main-aa", account.id, 10)]
    assert await timed(store.recover("main")) == []
    assert await timed(store.recover("high")) == []
    assert await timed(store.recover("high-rollers")) == [("high-rollers-bb", account.id, 20)]
    assert await timed(store.books()) == Books(100, 105, 0, -5)


@pytest_twisted.ensureDeferred
async def test_recover_everything_includes_rounds_of_no_table(store: IStorage) -> None:
    """recover() with no table refunds every open round, even one whose id names none."""
    account = await new_account(store, bankroll=100)
    await timed(store.stake(account.id, "r1", "seat1:bet", 10))
    await timed(store.stake(account.id, "main-aa", "seat1:bet", 20))
    assert await timed(store.recover("main")) == [("main-aa", account.id, 20)]
    assert await timed(store.recover()) == [("r1", account.id, 10)]


@pytest.mark.parametrize("table", ["", 5, None])
@pytest_twisted.ensureDeferred
async def test_recover_refuses_a_bad_table_name(store: IStorage, table: Any) -> None:
    """An empty or non-string table name fails the Deferred; None means every table."""
    d = store.recover(table)
    if table is None:
        assert await timed(d) == []
    else:
        with pytest.raises((ValueError, TypeError)):
            await timed(d)


@pytest_twisted.ensureDeferred
async def test_a_stake_racing_a_settlement_on_another_connection(backend: Any,
                                                                 database: Any) -> None:
    """A stake sent on one connection while another settles the round is either settled
    with it or refused as late; never left held in a closed round."""
    one = backend.open(database, Clock().seconds)
    two = backend.open(database, Clock().seconds)
    try:
        account = await new_account(one, bankroll=10_000)
        for n in range(30):
            round_id = f"main-{n}"
            await timed(one.stake(account.id, round_id, "seat1:bet", 10))
            results = await gather(two.stake(account.id, round_id, "seat1:double", 10),
                                   one.settle(round_id, {account.id: 0}))
            late, settled = results
            assert settled[0] or isinstance(settled[1], SettlementError), results
            assert late[0] or isinstance(late[1], RoundClosedError), results
            await timed(one.refund(round_id))  # whatever the settlement did not take
        report = await timed(one.audit())
        assert report.balanced and not report.closed_rounds_holding, report.discrepancies
        assert report.books.escrow == 0
    finally:
        await timed(one.close())
        await timed(two.close())


@pytest_twisted.ensureDeferred
async def test_one_stake_sent_on_two_connections_into_a_new_round(backend: Any,
                                                                  database: Any) -> None:
    """The same stake sent twice at once, on two connections, into a round neither has
    opened yet: it is taken once, the other is a DuplicateStakeError, the books balance."""
    one = backend.open(database, Clock().seconds)
    two = backend.open(database, Clock().seconds)
    try:
        account = await new_account(one, bankroll=1000)
        for n in range(20):
            results = await gather(one.stake(account.id, f"main-{n}", "seat1:bet", 10),
                                   two.stake(account.id, f"main-{n}", "seat1:bet", 10))
            assert sorted(ok for ok, _ in results) == [False, True], results
            assert any(isinstance(v, DuplicateStakeError) for _, v in results), results
        assert await timed(one.balance(account.id)) == 800
        report = await timed(one.audit())
        assert report.balanced and report.books.escrow == 200, report.discrepancies
    finally:
        await timed(one.close())
        await timed(two.close())


# --- hands, the player's numbers, rebuys and fair shoes -----------------------------


async def _settled(store: IStorage, account: Account, round_id: str, stake: int, payout: int,
                   summary: HandSummary | None = None, shoe: str | None = None) -> None:
    """One round staked and settled for one account."""
    await timed(store.stake(account.id, round_id, "seat1:bet", stake))
    await timed(store.settle(round_id, {account.id: payout}, {"round": round_id}, shoe=shoe,
                             summaries=None if summary is None else {account.id: summary}))


@pytest_twisted.ensureDeferred
async def test_a_hand_is_found_by_its_id_for_its_own_account_only(
        store: IStorage, pair: tuple[Account, Account]) -> None:
    """hand() gives the account's own hand by id, and None for another's or no such id."""
    alice, bob = pair
    await _settled(store, alice, "main-r1", 10, 20)
    [mine] = await timed(store.history(alice.id, 5))
    assert await timed(store.hand(alice.id, mine.id)) == mine
    assert await timed(store.hand(bob.id, mine.id)) is None
    assert await timed(store.hand(alice.id, mine.id + 100)) is None


@pytest_twisted.ensureDeferred
async def test_stats_sum_the_summaries_stored_with_each_hand(
        store: IStorage, pair: tuple[Account, Account]) -> None:
    """Rounds, results, decisions and cost add up; net and biggest win come from the chips."""
    alice, bob = pair
    await _settled(store, alice, "main-r1", 10, 25, HandSummary(
        hands=1, wins=1, blackjacks=1, decisions=0))
    await _settled(store, alice, "main-r2", 20, 0, HandSummary(
        hands=2, losses=2, decisions=3, matched=1, cost=1.25))
    await _settled(store, alice, "main-r3", 10, 10)  # stored without a summary
    stats = await timed(store.stats(alice.id))
    assert stats == PlayerStats(rounds=2, hands=3, wins=1, losses=2, pushes=0, blackjacks=1,
                                net=-5, biggest_win=15, decisions=3, matched=1, cost=1.25)
    assert await timed(store.stats(bob.id)) == PlayerStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0)


@pytest_twisted.ensureDeferred
async def test_top_ranks_by_balance_and_by_net_since_a_time(
        store: IStorage, clock: Clock, pair: tuple[Account, Account]) -> None:
    """The leaderboard: most chips first; most won since ``since`` first, older hands left out."""
    alice, bob = pair
    await _settled(store, bob, "main-r1", 10, 60)      # bob +50, long ago
    clock.advance(1000)
    await _settled(store, alice, "main-r2", 10, 30)    # alice +20
    await _settled(store, bob, "main-r3", 10, 0)       # bob -10
    board = await timed(store.top(10, 500.0))
    assert board.by_balance == (("Bob", 140), ("Alice", 120))
    assert board.by_net == (("Alice", 20), ("Bob", -10))
    assert (await timed(store.top(1, 0.0))).by_net == (("Bob", 40),)


@pytest_twisted.ensureDeferred
async def test_a_rebuy_issues_chips_only_to_the_broke_and_once_per_cooldown(
        store: IStorage, clock: Clock) -> None:
    """Refused while balance plus escrow reaches the threshold, then issued as 'rebuy' (books
    balance), then refused until ``since`` passes the last rebuy."""
    alice = await new_account(store, bankroll=15)
    await timed(store.stake(alice.id, "main-r1", "seat1:bet", 10))  # 5 left, 10 on the table
    with pytest.raises(RebuyRefusedError) as refused:
        await timed(store.rebuy(alice.id, 1000, 10, clock.seconds()))
    assert (refused.value.chips, refused.value.last) == (15, None)
    await timed(store.settle("main-r1", {alice.id: 0}))
    clock.advance(100)
    assert await timed(store.rebuy(alice.id, 1000, 10, clock.seconds())) == 1005
    [entry] = await timed(store.ledger(alice.id, 1))
    assert (entry.kind, entry.amount, entry.balance) == ("rebuy", 1000, 1005)
    books = await timed(store.books())
    assert books.balanced and books.issued == 1015
    assert (await timed(store.audit())).balanced  # type: ignore[attr-defined]
    await timed(store.stake(alice.id, "main-r2", "seat1:bet", 1000))
    await timed(store.settle("main-r2", {alice.id: 0}))
    with pytest.raises(RebuyRefusedError) as refused:
        await timed(store.rebuy(alice.id, 1000, 10, 50.0))  # the last was at 100
    assert (refused.value.chips, refused.value.last) == (5, 100.0)
    assert await timed(store.rebuy(alice.id, 1000, 10, 100.0)) == 1005


@pytest_twisted.ensureDeferred
async def test_racing_rebuys_issue_once(store: IStorage) -> None:
    """Two rebuys sent at once for a broke account: one is issued, the other refused."""
    alice = await new_account(store, bankroll=0)
    results = await gather(store.rebuy(alice.id, 500, 10, 0.0),
                           store.rebuy(alice.id, 500, 10, 0.0))
    assert sorted(ok for ok, _ in results) == [False, True], results
    assert await timed(store.balance(alice.id)) == 500


@pytest_twisted.ensureDeferred
async def test_a_shoe_keeps_its_seed_until_retired_and_lists_its_rounds(
        store: IStorage, clock: Clock, pair: tuple[Account, Account]) -> None:
    """shoe() hides the seed of a dealing shoe, lists its rounds in order, and reveals the
    seed once retired; the first reason to retire it stays."""
    alice, bob = pair
    await timed(store.open_shoe("main-s1", "main", {"commitment": "c1"}, "ab" * 32))
    await timed(store.open_shoe("side-s1", "side", {"commitment": "c2"}, "cd" * 32))
    with pytest.raises(DatabaseError, match="stored already"):
        await timed(store.open_shoe("main-s1", "main", {"commitment": "c1"}, "ab" * 32))
    await _settled(store, alice, "main-r1", 10, 20, shoe="main-s1")
    await timed(store.stake(alice.id, "main-r2", "seat1:bet", 10))
    await timed(store.stake(bob.id, "main-r2", "seat1:bet", 10))
    await timed(store.settle("main-r2", {alice.id: 0, bob.id: 20}, {"round": "main-r2"},
                             shoe="main-s1"))
    await _settled(store, bob, "main-r3", 10, 0)  # from no fair shoe
    dealing = await timed(store.shoe("main-s1"))
    assert dealing is not None
    assert (dealing.table, dealing.commitment, dealing.server_seed, dealing.retired) == \
        ("main", "c1", None, None)
    assert [json.loads(r)["round"] for r in dealing.rounds] == ["main-r1", "main-r2"]
    assert dealing.verification() is None
    clock.advance(5)
    await timed(store.retire_shoe("main-s1", "cut card"))
    await timed(store.retire_shoe("main-s1", "table closed"))
    retired = await timed(store.shoe("main-s1"))
    assert (retired.server_seed, retired.retired, retired.closed) == ("ab" * 32, "cut card", 5.0)
    record = retired.verification()
    assert record is not None and record["server_seed"] == "ab" * 32
    assert [r["round"] for r in record["rounds"]] == ["main-r1", "main-r2"]
    assert await timed(store.retire_shoes("main", "server restarted")) == []
    assert await timed(store.retire_shoes(None, "server restarted")) == ["side-s1"]
    assert (await timed(store.shoe("side-s1"))).retired == "server restarted"
    assert await timed(store.shoe("nope")) is None


@pytest.mark.parametrize("method, args", [
    ("hand", (1, -1)), ("hand", ("1", 1)), ("stats", (True,)), ("top", (-1, 0.0)),
    ("top", (3, "yesterday")), ("rebuy", (1, 0, 10, 0.0)), ("rebuy", (1, 100, -1, 0.0)),
    ("rebuy", (1, 100, 10, None)), ("open_shoe", ("", "main", {}, "ab")),
    ("open_shoe", ("s", "main", {}, "")), ("retire_shoe", ("s", "bored")),
    ("retire_shoes", (None, "cut")), ("shoe", ("",)),
])
@pytest_twisted.ensureDeferred
async def test_bad_arguments_of_the_record_calls_fail_the_deferred(
        store: IStorage, method: str, args: tuple[Any, ...]) -> None:
    """Each new call checks its arguments and fails its Deferred, never raising at the caller."""
    d = getattr(store, method)(*args)
    assert isinstance(d, Deferred)
    with pytest.raises((TypeError, ValueError)):
        await timed(d)


@pytest_twisted.ensureDeferred
async def test_settle_refuses_malformed_summaries_and_shoe(
        store: IStorage, pair: tuple[Account, Account]) -> None:
    """A settlement with a summary that is not a HandSummary, or an empty shoe id, changes nothing."""
    alice, _ = pair
    await timed(store.stake(alice.id, "main-r1", "seat1:bet", 10))
    for extras in ({"summaries": {alice.id: {"hands": 1}}}, {"shoe": ""},
                   {"summaries": {"1": HandSummary()}}):
        with pytest.raises((TypeError, ValueError)):
            await timed(store.settle("main-r1", {alice.id: 20}, None, **extras))
    assert await timed(store.balance(alice.id)) == 90


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                   max_size=3),
    max_leaves=12))
def test_a_record_is_stored_as_the_standard_library_writes_it(value: Any) -> None:
    """The fast record encoder gives json.dumps's compact sorted text back, or the same
    value where only number spelling may differ (1e16 against 1e+16)."""
    record = {"value": value}
    text = record_text(record)
    expected = json.dumps(record, sort_keys=True, separators=(",", ":"))
    assert json.loads(text) == json.loads(expected)
    assert text.isascii()
    if not _has_float(value):
        assert text == expected


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, list) and any(_has_float(v) for v in value)


def test_a_record_beyond_64_bit_integers_still_stores() -> None:
    """What orjson refuses (an integer beyond 64 bits) is written by the standard library."""
    assert record_text({"n": 2 ** 70, "name": "zoë"}) == '{"n":1180591620717411303424,' \
                                                        '"name":"zo\\u00eb"}'
    assert record_text(None) == "{}"
