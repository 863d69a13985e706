"""What only the PostgreSQL backend has: restarts under it, its schema lock and URLs.

The behaviour every backend shares (stakes, settlement, two connections
racing on one account, recovery) is in ``test_storage.py``, which runs it
against PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from blackjack.server.storage import Books, DatabaseError, round_table
from blackjack.server.storage.backends import open_storage, redact

from pg_cluster import Cluster
from storage_backends import PostgreSQLBackend
from test_storage import gather, new_account, timed



@pytest.fixture
def cluster() -> Iterator[Cluster]:
    own = Cluster()
    yield own
    own.destroy()


@pytest_twisted.ensureDeferred
async def test_a_restart_between_calls_goes_unnoticed(cluster: Cluster) -> None:
    """After the database restarts, the next call reconnects and succeeds; while it
    is down, calls fail at once saying so, and no chip moves."""
    from blackjack.server.storage.postgresql import DatabaseUnavailableError

    storage = open_storage(cluster.url, Clock().seconds)
    try:
        account = await new_account(storage, bankroll=100)
        assert await timed(storage.stake(account.id, "main-r1", "seat1:bet", 10)) == 90
        cluster.stop()
        with pytest.raises(DatabaseUnavailableError, match="no chips moved, try again"):
            await timed(storage.stake(account.id, "main-r1", "seat1:double", 10))
        with pytest.raises(DatabaseUnavailableError):
            await timed(storage.balance(account.id))
        cluster.start()
        assert await timed(storage.balance(account.id)) == 90
        cluster.stop()
        cluster.start()
        # The old connection is dead; the batch runs again on a new one.
        assert await timed(storage.settle("main-r1", {account.id: 20})) == {account.id: 110}
        assert await timed(storage.books()) == Books(100, 110, 0, -10)
    finally:
        await timed(storage.close())


@pytest_twisted.ensureDeferred
async def test_a_server_that_is_not_there_is_a_clear_error() -> None:
    """Starting against a database that is down fails each call, then works once it is up."""
    from blackjack.server.storage.postgresql import DatabaseUnavailableError

    cluster = Cluster()
    try:
        cluster.stop()
        storage = open_storage(cluster.url, Clock().seconds)
        with pytest.raises(DatabaseUnavailableError, match="unavailable"):
            await timed(storage.ready())
        cluster.start()
        await timed(storage.ready())
        await new_account(storage)
        await timed(storage.close())
    finally:
        cluster.destroy()


@pytest_twisted.ensureDeferred
async def test_stakes_in_one_turn_share_a_commit(pg: PostgreSQLBackend) -> None:
    """Two hundred stakes made at once commit in a few transactions, not two hundred."""
    storage: Any = pg.open(pg.fresh(), Clock().seconds)
    try:
        accounts = [await new_account(storage, f"p{n}", 10) for n in range(200)]
        commits = storage.commits
        results = await gather(*(storage.stake(a.id, "main-r1", "seat1:bet", 10)
                                 for a in accounts))
        assert all(ok for ok, _ in results)
        assert storage.commits - commits <= 2
        assert await timed(storage.books()) == Books(2000, 0, 2000, 0)
    finally:
        await timed(storage.close())


@pytest_twisted.ensureDeferred
async def test_two_servers_creating_one_schema_do_not_collide(pg: PostgreSQLBackend) -> None:
    """Two storages starting at once on an empty database both come up; one schema."""
    database = pg.fresh()
    one, two = pg.open(database), pg.open(database)
    try:
        results = await gather(one.ready(), two.ready())  # type: ignore[attr-defined]
        assert [ok for ok, _ in results] == [True, True]
        await new_account(one, "ann")
        assert (await timed(two.get_account("ANN"))) is not None
    finally:
        await timed(one.close())
        await timed(two.close())


@pytest_twisted.ensureDeferred
async def test_a_newer_schema_is_refused(pg: PostgreSQLBackend) -> None:
    """A database written by a newer release is left alone, every call failing clearly."""
    import psycopg2

    from blackjack.server.storage.schema import SCHEMA_VERSION

    database = pg.fresh()
    connection = psycopg2.connect(database)
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        cursor.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION + 1,))
    connection.close()
    storage = pg.open(database)
    try:
        with pytest.raises(DatabaseError, match="schema version"):
            await timed(storage.ready())  # type: ignore[attr-defined]
        with pytest.raises(DatabaseError, match="schema version"):
            await timed(storage.get_account("ann"))
    finally:
        await timed(storage.close())


@pytest_twisted.ensureDeferred
async def test_rounds_record_their_table(pg: PostgreSQLBackend) -> None:
    """Each round row carries round_table() of its id, for recovery by table."""
    import psycopg2

    database = pg.fresh()
    storage = pg.open(database)
    account = await new_account(storage)
    await timed(storage.stake(account.id, "high-rollers-ab12", "seat1:bet", 10))
    await timed(storage.settle("main-cd34", {}))
    await timed(storage.close())
    connection = psycopg2.connect(database)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT round_id, table_name FROM rounds ORDER BY round_id")
        rows = cursor.fetchall()
    connection.close()
    assert rows == [(r, round_table(r)) for r in ("high-rollers-ab12", "main-cd34")]


def test_urls_are_shown_without_their_password() -> None:
    """A password in the URL never reaches a log line or an error message."""
    assert redact("postgresql://bj:s3cret@db.example/room") == "postgresql://bj:***@db.example/room"
    assert redact("postgresql://bj@db/room") == "postgresql://bj@db/room"
