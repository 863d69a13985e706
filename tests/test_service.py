"""The service's start-up recovery: table by table, then whatever no table claims."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.task import Clock

from blackjack.rules import Rules
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.core.table import Table
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.storage import round_table
from blackjack.server.storage.memory import MemoryDatabase, MemoryStorage

from conftest import make_player, wait


class RecoverySpy(MemoryStorage):
    """A memory storage that notes every recover() call and what it refunded."""

    def __init__(self, database: MemoryDatabase) -> None:
        super().__init__(database)
        self.recovered: list[tuple[str | None, list[tuple[str, int, int]]]] = []

    def recover(self, table: str | None = None) -> Any:
        return super().recover(table).addCallback(
            lambda refunded: self.recovered.append((table, refunded)) or refunded)


@pytest_twisted.ensureDeferred
async def test_a_tables_rounds_are_recorded_under_its_name() -> None:
    """A round a real table opens carries the table's name, so recovery can find it."""
    storage = MemoryStorage()
    table = Table("high-rollers", Rules(min_bet=10), storage, Clock())
    player = await make_player(storage, "ann")  # type: ignore[arg-type]
    table.sit(player)
    await wait(table.bet(player, 10))
    # The round may be over already (a natural settles at once): look at the rows.
    rounds = storage.database.rounds
    assert len(rounds) >= 1
    assert {round_table(r) for r in rounds} == {rnd.table for rnd in rounds.values()} \
        == {"high-rollers"}


@pytest_twisted.ensureDeferred
async def test_start_recovers_each_table_then_the_rest() -> None:
    """Starting refunds each hosted table's open rounds, one call per table, then
    the rounds of tables this server no longer hosts; the books balance."""
    from twisted.internet import reactor

    database = MemoryDatabase()
    before = MemoryStorage(database)
    ann = await wait(before.create_account("ann", "h", 100))
    await wait(before.stake(ann.id, "main-aa", "seat1:bet", 10))
    await wait(before.stake(ann.id, "vegas-bb", "seat1:bet", 20))
    await wait(before.stake(ann.id, "closed-cc", "seat1:bet", 30))
    await wait(before.close())

    spy = RecoverySpy(database)
    service = BlackjackService("tcp:0:interface=127.0.0.1", spy,
                               [("main", Rules()), ("vegas", Rules())], reactor,
                               hasher=FAST_INSECURE)
    service.startService()
    try:
        assert await wait(spy.balance(ann.id)) == 100
        assert spy.recovered == [("main", [("main-aa", ann.id, 10)]),
                                 ("vegas", [("vegas-bb", ann.id, 20)]),
                                 (None, [("closed-cc", ann.id, 30)])]
    finally:
        await wait(service.stopService(), 10)


@pytest_twisted.ensureDeferred
async def test_start_retires_the_shoes_a_crash_left_dealing() -> None:
    """A shoe stored as dealing when the server died is retired at start ('server restarted'),
    so its seed is told and its rounds can be verified."""
    from twisted.internet import reactor

    database = MemoryDatabase()
    before = MemoryStorage(database)
    await wait(before.open_shoe("main-s1", "main", {"commitment": "c"}, "ab" * 32))
    await wait(before.open_shoe("gone-s1", "gone", {"commitment": "d"}, "cd" * 32))
    await wait(before.close())

    storage = MemoryStorage(database)
    service = BlackjackService("tcp:0:interface=127.0.0.1", storage, [("main", Rules())],
                               reactor, hasher=FAST_INSECURE)
    service.startService()
    try:
        await wait(storage.ready())
        for shoe, seed in (("main-s1", "ab" * 32), ("gone-s1", "cd" * 32)):
            found = await wait(storage.shoe(shoe))
            assert (found.retired, found.server_seed) == ("server restarted", seed)
    finally:
        await wait(service.stopService())
