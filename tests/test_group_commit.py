"""Tests for group commit in SQLiteStorage: many calls, one transaction, one fsync.

Calls made in one reactor turn share a batch.  To know which calls shared one,
:func:`batch_of` notes ``storage.commits`` as each Deferred fires: the counter
goes up once per committed batch, before that batch's Deferreds fire.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_storage import call, gather, new_account, timed
from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from blackjack.server.storage import sql as sql_module
from blackjack.server.storage import sqlite as sqlite_module
from blackjack.server.storage.sqlite import SQLiteStorage
from blackjack.server.storage import (
    Books,
    DatabaseError,
    DuplicateStakeError,
    InsufficientFundsError,
    NameTakenError,
    RoundClosedError,
    SettlementError,
    UnknownAccountError,
)


@pytest_twisted.async_yield_fixture()
async def store() -> AsyncIterator[SQLiteStorage]:
    storage = SQLiteStorage(":memory:", clock=Clock().seconds)
    await timed(storage.ready())
    yield storage
    await timed(storage.close())


def batch_of(
    storage: SQLiteStorage, d: Deferred[Any], seen: list[int]
) -> Deferred[Any]:
    """``d``, noting in ``seen`` the number of the batch that fired it."""

    def note(result: Any) -> Any:
        seen.append(storage.commits)
        return result

    return d.addBoth(note)


async def audit_is_balanced(storage: SQLiteStorage) -> bool:
    result = await timed(storage.audit())
    return result.balanced


class CommitFails(adbapi.Transaction):
    """An adbapi transaction whose COMMIT fails as a dying disk would make it."""

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self._cursor.execute(sql, *args)


# --- batching ------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_stakes_in_one_turn_share_a_commit(store: SQLiteStorage) -> None:
    """Two hundred stakes made at once commit in at most two transactions, every one
    landing in balance, ledger and escrow."""
    accounts = await timed(
        defer.gatherResults(
            [store.create_account(f"p{n}", "h", 100) for n in range(200)]
        )
    )
    commits, calls = store.commits, store.batched_calls
    results = await gather(
        *(
            store.stake(a.id, "r1", "seat:bet", 1 + n % 50)
            for n, a in enumerate(accounts)
        )
    )
    assert results == [(True, 100 - (1 + n % 50)) for n in range(200)]
    assert store.commits - commits <= 2
    assert store.batched_calls - calls == 200
    staked = sum(1 + n % 50 for n in range(200))
    assert await timed(store.books()) == Books(20_000, 20_000 - staked, staked, 0)
    [stake, issue] = await timed(store.ledger(accounts[7].id))
    assert (stake.kind, stake.amount, stake.balance, issue.kind) == (
        "stake", -8, 92, "issue"
    )
    assert await audit_is_balanced(store)


@pytest_twisted.ensureDeferred
async def test_a_lone_call_is_one_commit(store: SQLiteStorage) -> None:
    """A call with nothing else queued runs at once as its own transaction."""
    account = await new_account(store, bankroll=100)
    commits = store.commits
    assert await timed(store.stake(account.id, "r1", "seat:bet", 10)) == 90
    assert store.commits == commits + 1


@pytest_twisted.ensureDeferred
async def test_batches_are_capped(tmp_path: Path) -> None:
    """No batch carries more than max_batch calls, and close() waits for them all."""
    path = str(tmp_path / "capped.sqlite3")
    storage = SQLiteStorage(path, clock=Clock().seconds)
    storage.max_batch = 4
    account = await new_account(storage, bankroll=100)
    seen: list[int] = []
    stakes = [
        batch_of(storage, storage.stake(account.id, f"r{n}", "seat:bet", 1), seen)
        for n in range(10)
    ]
    await timed(storage.close())
    assert all(d.called for d in stakes)
    sizes = Counter(seen)
    assert len(sizes) >= 3 and max(sizes.values()) <= 4
    with pytest.raises(DatabaseError, match="closed"):
        await timed(storage.balance(account.id))
    reopened = SQLiteStorage(path, clock=Clock().seconds)
    try:
        assert await timed(reopened.balance(account.id)) == 90
    finally:
        await timed(reopened.close())


# --- order ---------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_calls_in_one_turn_see_each_other_in_order(store: SQLiteStorage) -> None:
    """A balance asked right after a stake sees it, as does a settle after that."""
    account = await new_account(store, bankroll=100)
    results = await gather(
        store.balance(account.id),
        store.stake(account.id, "r1", "seat:bet", 10),
        store.balance(account.id),
        store.settle("r1", {account.id: 25}),
        store.balance(account.id),
        store.ledger(account.id),
    )
    assert [value for _, value in results[:5]] == [100, 90, 90, {account.id: 115}, 115]
    assert [e.kind for e in results[5][1]] == ["payout", "stake", "issue"]


@pytest_twisted.ensureDeferred
async def test_deferreds_fire_only_after_the_commit(tmp_path: Path) -> None:
    """When any call of a batch reports success, the whole batch is already on disk."""
    path = tmp_path / "durable.sqlite3"
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    try:
        account = await new_account(storage, bankroll=100)
        fired: list[tuple[int, int, int]] = []  # (batch, own result, on disk)

        def read_from_another_connection(balance: int) -> int:
            other = sqlite3.connect(path)
            try:
                [(stored,)] = other.execute(
                    "SELECT balance FROM accounts WHERE id = ?", (account.id,)
                ).fetchall()
            finally:
                other.close()
            fired.append((storage.commits, balance, stored))
            return balance

        stakes = [
            storage.stake(account.id, f"r{n}", "seat:bet", 10).addCallback(
                read_from_another_connection
            )
            for n in range(5)
        ]
        assert await timed(defer.gatherResults(stakes)) == [90, 80, 70, 60, 50]
        # Even the first caller of a batch finds the batch's last stake on disk.
        for batch, _, stored in fired:
            assert stored == min(own for b, own, _ in fired if b == batch)
        assert len({b for b, _, _ in fired}) < len(fired), "no batch had two stakes"
    finally:
        await timed(storage.close())


# --- failures ------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_a_failing_call_is_rolled_back_alone(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one batch, every call that fails is undone alone and the others commit."""
    alice = await new_account(store, "Alice", 100)
    bob = await new_account(store, "Bob", 10)
    carol = await new_account(store, "Carol", 50)
    await timed(store.stake(carol.id, "r0", "seat:bet", 10))
    await timed(store.settle("r0", {carol.id: 0}))
    journal = sql_module._journal

    def carol_disk_fails(txn: Any, account_id: int, *args: Any) -> None:
        journal(txn, account_id, *args)
        if account_id == carol.id:  # after her row is written: must be undone
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sql_module, "_journal", carol_disk_fails)
    seen: list[int] = []
    ahead = store.ready()  # whether or not a batch is in flight, the rest share one
    calls = [
        store.stake(alice.id, "r1", "seat1:bet", 30),
        store.stake(bob.id, "r1", "seat2:bet", 50),
        store.stake(alice.id, "r1", "seat1:bet", 30),
        store.stake(alice.id, "r0", "seat1:bet", 5),
        store.stake(99, "r1", "seat3:bet", 5),
        store.create_account("ALICE", "h", 500),
        store.settle("r1", {bob.id: 10}),
        store.issue(carol.id, 1000),
        store.stake(bob.id, "r1", "seat2:bet", 10),
        store.balance(carol.id),
    ]
    [_, *results] = await gather(ahead, *(batch_of(store, d, seen) for d in calls))
    monkeypatch.undo()
    assert len(set(seen)) == 1, "the calls did not share one batch"
    errors = [type(value) for ok, value in results if not ok]
    assert errors == [
        InsufficientFundsError,
        DuplicateStakeError,
        RoundClosedError,
        UnknownAccountError,
        NameTakenError,
        SettlementError,
        DatabaseError,
    ]
    assert str(results[7][1]) == "database error: disk I/O error"
    assert [value for ok, value in results if ok] == [70, 0, 40]
    assert await timed(store.books()) == Books(160, 110, 40, 10)
    assert [e.kind for e in await timed(store.ledger(carol.id))] == [
        "payout",
        "stake",
        "issue",
    ]
    assert await audit_is_balanced(store)


@pytest_twisted.ensureDeferred
async def test_a_commit_failure_fails_the_whole_batch(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If COMMIT fails every call of the batch fails, none is kept, and the next
    batch works."""
    alice = await new_account(store, "Alice", 100)
    bob = await new_account(store, "Bob", 100)
    commits = store.commits
    monkeypatch.setattr(store._pool, "transactionFactory", CommitFails)
    results = await gather(
        store.stake(alice.id, "r1", "seat1:bet", 30),
        store.stake(bob.id, "r1", "seat2:bet", 500),
        store.issue(bob.id, 50),
        store.create_account("Carol", "h", 70),
        store.balance(alice.id),
    )
    monkeypatch.undo()
    assert all(not ok for ok, _ in results)
    assert {str(value) for _, value in results} == {"database error: disk I/O error"}
    assert all(isinstance(value, DatabaseError) for _, value in results)
    assert store.commits == commits
    assert await timed(store.books()) == Books(200, 200, 0, 0)
    assert await timed(store.get_account("carol")) is None
    assert await audit_is_balanced(store)
    assert await timed(store.stake(alice.id, "r1", "seat1:bet", 30)) == 70


@pytest_twisted.ensureDeferred
async def test_a_begin_that_times_out_fails_the_whole_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another process holds the write lock past the busy timeout, a batch of
    writes fails with DatabaseError and a batch of reads still answers; once the lock
    is free, writes work again."""
    monkeypatch.setattr(sqlite_module, "_BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "busy.sqlite3"
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    try:
        account = await new_account(storage, bankroll=100)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            assert await timed(storage.balance(account.id)) == 100
            results = await gather(
                storage.stake(account.id, "r1", "seat1:bet", 10),
                storage.issue(account.id, 5),
            )
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert [(ok, str(value)) for ok, value in results] == [
            (False, "database error: database is locked")
        ] * 2
        assert await timed(storage.balance(account.id)) == 100
        assert await timed(storage.stake(account.id, "r1", "seat1:bet", 10)) == 90
        assert await audit_is_balanced(storage)
    finally:
        await timed(storage.close())


@pytest_twisted.ensureDeferred
async def test_a_lost_transaction_fails_the_whole_batch(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after which SQLite has rolled back the whole transaction itself (as
    on I/O errors) fails every call of the batch, even those that had succeeded."""
    alice = await new_account(store, "Alice", 100)
    bob = await new_account(store, "Bob", 100)
    journal = sql_module._journal

    def bob_loses_the_transaction(txn: Any, account_id: int, *args: Any) -> None:
        journal(txn, account_id, *args)
        if account_id == bob.id:
            txn.execute("ROLLBACK")  # what SQLite does on SQLITE_IOERR and SQLITE_FULL
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sql_module, "_journal", bob_loses_the_transaction)
    [_, *results] = await gather(
        store.ready(),  # whether or not a batch is in flight, the rest share one
        store.stake(alice.id, "r1", "seat1:bet", 30),
        store.stake(bob.id, "r1", "seat2:bet", 30),
        store.stake(alice.id, "r1", "seat1:double", 30),
    )
    monkeypatch.undo()
    assert [ok for ok, _ in results] == [False] * 3
    assert all(isinstance(value, DatabaseError) for _, value in results)
    assert "disk I/O error" in str(results[0][1])
    assert await timed(store.books()) == Books(200, 200, 0, 0)
    assert await audit_is_balanced(store)
    assert await timed(store.stake(bob.id, "r1", "seat2:bet", 30)) == 70


# --- a batch is the same as one call at a time ---------------------------------


_ACCOUNTS = 3

_call = st.one_of(
    st.tuples(
        st.just("stake"),
        st.integers(0, _ACCOUNTS),  # the last index is an account that does not exist
        st.sampled_from(["r1", "r2"]),
        st.sampled_from(["bet", "double"]),
        st.integers(1, 80),
    ),
    st.tuples(
        st.just("settle"),
        st.sampled_from(["r1", "r2"]),
        st.dictionaries(st.integers(0, _ACCOUNTS - 1), st.integers(0, 100), max_size=3),
    ),
    st.tuples(st.just("refund"), st.sampled_from(["r1", "r2"])),
    st.tuples(st.just("issue"), st.integers(0, _ACCOUNTS - 1), st.integers(1, 50)),
    st.tuples(st.just("balance"), st.integers(0, _ACCOUNTS - 1)),
    st.tuples(st.just("create"), st.sampled_from(["p0", "new"])),
)


def _start(
    storage: SQLiteStorage, ids: list[int], spec: tuple[Any, ...]
) -> Deferred[Any]:
    verb, *args = spec

    def account(index: int) -> int:
        return ids[index] if index < len(ids) else 999

    if verb == "stake":
        index, round_id, key, amount = args
        return storage.stake(account(index), round_id, key, amount)
    if verb == "settle":
        round_id, payouts = args
        return storage.settle(round_id, {account(i): p for i, p in payouts.items()})
    if verb == "refund":
        return storage.refund(args[0])
    if verb == "issue":
        return storage.issue(account(args[0]), args[1])
    if verb == "balance":
        return storage.balance(account(args[0]))
    return storage.create_account(args[0], "h", 10)


def _outcomes(results: list[tuple[bool, Any]]) -> list[tuple[bool, Any]]:
    return [(ok, value if ok else (type(value), str(value))) for ok, value in results]


def _gather_all(ds: list[Deferred[Any]]) -> Deferred[list[tuple[bool, Any]]]:
    """Like :func:`test_storage.gather`, as a Deferred for :func:`call`."""
    d: Deferred[list[tuple[bool, Any]]] = defer.DeferredList(ds, consumeErrors=True)
    return d.addCallback(lambda pairs: [(ok, v if ok else v.value) for ok, v in pairs])


def _run_calls(specs: list[tuple[Any, ...]], batched: bool) -> tuple[Any, ...]:
    """From a worker thread: outcomes and final state of ``specs`` on a new storage."""
    storage = call(SQLiteStorage, ":memory:", clock=Clock().seconds)
    try:
        ids = [
            call(storage.create_account, f"p{n}", "h", 100).id for n in range(_ACCOUNTS)
        ]
        if batched:  # in one reactor turn: all but the first share a batch
            ds = call(lambda: [_start(storage, ids, s) for s in specs])
            results = call(_gather_all, ds)
        else:  # each waits for the one before
            results = [
                call(lambda: _gather_all([_start(storage, ids, s)]))[0] for s in specs
            ]
        ledgers = [call(storage.ledger, a, 100) for a in ids]
        return _outcomes(results), call(storage.audit), ledgers
    finally:
        call(storage.close)


@given(specs=st.lists(_call, min_size=1, max_size=25))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
def _batch_matches_one_at_a_time(specs: list[tuple[Any, ...]]) -> None:
    batched = _run_calls(specs, batched=True)
    alone = _run_calls(specs, batched=False)
    assert batched == alone
    assert batched[1].balanced


@pytest_twisted.ensureDeferred
async def test_a_batch_matches_its_calls_made_one_at_a_time() -> None:
    """Any mix of calls made in one turn has the results, ledger and books it would
    have if each call had waited for the one before."""
    from twisted.internet import reactor
    from twisted.internet.threads import deferToThread

    await deferToThread(_batch_matches_one_at_a_time).addTimeout(120, reactor)
