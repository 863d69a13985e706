"""The in-memory backend held to the SQL ones: the same calls give the same answers and errors.

The contract tests (``test_storage.py``) already run against MemoryStorage;
here random sequences of calls, bad ones included, go to MemoryStorage and to
SQLite (or PostgreSQL, whose stakes run in a PL/pgSQL function) side by side,
and every answer, every error (its type and message), every ledger and every
hand history must be the same.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from blackjack.server.storage import AdminAct, HandSummary, IStorage
from blackjack.server.storage.memory import MemoryDatabase, MemoryStorage
from blackjack.server.storage.sqlite import SQLiteStorage

from test_storage import call, new_account, timed

# Mostly valid, sometimes not: a call with one bad argument tests only the check.
ACCOUNT_IDS = st.sampled_from([1, 1, 2, 2, 3, 99, True, "1"])
ROUNDS = st.sampled_from(["main-r1", "main-r1", "main-r2", "side-r1", ""])
AMOUNTS = st.one_of(st.integers(1, 150), st.integers(1, 150), st.integers(1, 150),
                    st.sampled_from([0, -5, True, 2.5, None]))
ACTS = st.sampled_from([AdminAct("host", "role"), AdminAct("ann", "grant", "bob", "why",
                                                         {"amount": 1}, admin_id=1),
                        AdminAct("", "nameless")])
SHOES = st.sampled_from(["main-s1", "main-s1", "main-s2", ""])
REASONS = st.sampled_from(["cut card", "table closed", "bored"])
CALLS = st.one_of(
    st.tuples(st.just("create_account"), st.sampled_from(["ann", "ANN", "bob", ""]),
              st.just("h"), AMOUNTS),
    st.tuples(st.just("create_account"), st.sampled_from(["ann", "bob", "cat"]),
              st.just("h"), st.integers(0, 300)),
    st.tuples(st.just("issue"), ACCOUNT_IDS, AMOUNTS),
    st.tuples(st.just("stake"), ACCOUNT_IDS, ROUNDS,
              st.sampled_from(["seat1:bet", "seat1:double", "seat2:bet", ""]), AMOUNTS),
    st.tuples(st.just("settle"), ROUNDS,
              st.dictionaries(ACCOUNT_IDS, AMOUNTS, max_size=3),
              st.none() | st.just({"dealer": "20"})),
    st.tuples(st.just("refund"), ROUNDS),
    st.tuples(st.just("recover")),
    st.tuples(st.just("balance"), ACCOUNT_IDS),
    st.tuples(st.just("get_account"), st.sampled_from(["Ann", "bob", "nobody"])),
    st.tuples(st.just("books")),
    # The host's powers: a grant may take back (negative), a sanction may end at once.
    st.tuples(st.just("grant"), ACCOUNT_IDS, st.sampled_from([50, -20, -500, 0, 2.5]), ACTS),
    st.tuples(st.just("sanction"), ACCOUNT_IDS, st.sampled_from(["ban", "mute", "jail"]),
              st.sampled_from([None, 0.0, 1e12]), ACTS),
    st.tuples(st.just("lift"), ACCOUNT_IDS, st.sampled_from(["ban", "mute"]), ACTS),
    st.tuples(st.just("set_role"), st.sampled_from(["ann", "BOB", "nobody"]),
              st.sampled_from(["admin", "player", "root"]), ACTS),
    st.tuples(st.just("get_account_by_id"), ACCOUNT_IDS),
    st.tuples(st.just("settle"), ROUNDS, st.dictionaries(ACCOUNT_IDS, AMOUNTS, max_size=3),
              st.just({"round": "r"}), st.fixed_dictionaries({
                  "shoe": st.sampled_from([None, "main-s1", "main-s2", ""]),
                  "summaries": st.none() | st.dictionaries(
                      ACCOUNT_IDS, st.builds(HandSummary, hands=st.integers(0, 3),
                                             wins=st.integers(0, 3), decisions=st.integers(0, 4),
                                             matched=st.integers(0, 4),
                                             cost=st.sampled_from([0.0, 0.25, 1.5])),
                      max_size=2)})),
    st.tuples(st.just("rebuy"), ACCOUNT_IDS, AMOUNTS, st.integers(0, 300),
              st.sampled_from([-1.0, 0.0, 1.0])),
    st.tuples(st.just("hand"), ACCOUNT_IDS, st.integers(0, 6)),
    st.tuples(st.just("stats"), ACCOUNT_IDS),
    st.tuples(st.just("top"), st.integers(0, 3), st.sampled_from([0.0, 1.0])),
    st.tuples(st.just("open_shoe"), SHOES, st.just("main"), st.just({"commitment": "c"}),
              st.just("ab" * 32)),
    st.tuples(st.just("retire_shoe"), SHOES, REASONS),
    st.tuples(st.just("retire_shoes"), st.sampled_from([None, "main", "side"]), REASONS),
    st.tuples(st.just("shoe"), SHOES),
)


def outcome(storage: IStorage, name: str, *args: Any) -> tuple[str, Any]:
    """What one call answered: ``("ok", value)`` or ``("error", (type, message))``."""
    keywords = args[-1] if args and isinstance(args[-1], dict) and name == "settle" \
        and len(args) == 4 else {}
    if keywords:
        args = args[:-1]
    try:
        return "ok", call(getattr(storage, name), *args, **keywords)
    except Exception as e:
        return "error", (type(e).__name__, str(e))


def everything(storage: IStorage) -> Any:
    """Every account's ledger and history, and the audit, for comparing two backends."""
    report = call(storage.audit)  # type: ignore[attr-defined]
    return (report, [(call(storage.ledger, a.account_id, 1000),
                      call(storage.history, a.account_id, 1000),
                      call(storage.stats, a.account_id),
                      call(storage.get_account_by_id, a.account_id))
                     for a in report.accounts],
            [call(storage.shoe, shoe) for shoe in ("main-s1", "main-s2")],
            call(storage.admin_acts, 1000))


@pytest.mark.parametrize("twin", ["sqlite", "postgresql"])
@pytest_twisted.ensureDeferred
async def test_memory_answers_as_sql_does(twin: str, request: pytest.FixtureRequest) -> None:
    """Random calls, valid or not, get the same answers and errors from both backends,
    and leave the same ledgers, histories and books behind."""
    from twisted.internet import reactor
    from twisted.internet.threads import deferToThread

    if twin == "postgresql":
        pg = request.getfixturevalue("pg")

        def open_twin() -> Any:
            return pg.open(pg.fresh(), Clock().seconds)
    else:
        def open_twin() -> Any:
            return SQLiteStorage(":memory:", Clock().seconds)

    # A PostgreSQL example costs a schema of its own: fewer of them.
    @settings(max_examples=40 if twin == "postgresql" else 150, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(CALLS, min_size=5, max_size=40))
    def same_answers(calls: list[tuple[Any, ...]]) -> None:
        sqlite = call(open_twin)
        memory = call(MemoryStorage, None, Clock().seconds)
        try:
            for name, *args in calls:
                assert outcome(memory, name, *args) == outcome(sqlite, name, *args), name
            assert everything(memory) == everything(sqlite)
        finally:
            call(sqlite.close)
            call(memory.close)

    await deferToThread(same_answers).addTimeout(240, reactor)


@pytest_twisted.ensureDeferred
async def test_answers_never_fire_inside_the_call() -> None:
    """A call returns before its Deferred fires, as a database thread's answer would."""
    storage = MemoryStorage(clock=Clock().seconds)
    account = await new_account(storage, bankroll=100)
    staking = storage.stake(account.id, "main-r1", "seat1:bet", 10)
    assert not staking.called
    assert await timed(staking) == 90
    refused = storage.stake(account.id, "main-r1", "seat1:double", 1000)
    assert not refused.called
    with pytest.raises(Exception, match="not enough chips"):
        await timed(refused)


@pytest_twisted.ensureDeferred
async def test_storages_on_one_database_share_the_chips() -> None:
    """A second storage on the same MemoryDatabase sees what the first one wrote."""
    database = MemoryDatabase()
    first = MemoryStorage(database, Clock().seconds)
    account = await new_account(first, bankroll=100)
    await timed(first.stake(account.id, "main-r1", "seat1:bet", 10))
    await timed(first.close())
    second = MemoryStorage(database, Clock().seconds)
    assert await timed(second.balance(account.id)) == 90
    assert await timed(second.recover()) == [("main-r1", account.id, 10)]
