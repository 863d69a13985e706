"""What only the SQLite backend has: its file, pragmas, schema checks and write lock.

The behaviour every backend shares is in ``test_storage.py``; group commit is
in ``test_group_commit.py``.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from blackjack.server.storage import Account, Books, DatabaseError, LookAlikeNameError
from blackjack.server.storage import sql as sql_module
from blackjack.server.storage import sqlite as sqlite_module
from blackjack.server.storage.backends import open_storage
from blackjack.server.storage.sqlite import SCHEMA_VERSION, SQLiteStorage

from test_storage import TIMEOUT, new_account, timed


@pytest_twisted.async_yield_fixture()
async def store() -> Any:
    storage = SQLiteStorage(":memory:", clock=Clock().seconds)
    await timed(storage.ready())
    yield storage
    await timed(storage.close())


@pytest_twisted.async_yield_fixture()
async def pair(store: SQLiteStorage) -> Any:
    """Alice and Bob, 100 chips each."""
    yield (await new_account(store, "Alice", 100), await new_account(store, "Bob", 100))


@pytest_twisted.ensureDeferred
async def test_write_takes_the_lock_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stake holds the write lock from its first read (BEGIN IMMEDIATE), so no
    other connection can write between its check and its debit."""
    from twisted.internet.threads import deferToThread

    path = tmp_path / "lock.sqlite3"
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    account = await new_account(storage, bankroll=100)
    inside, release = threading.Event(), threading.Event()
    open_round = sqlite_module.SQLiteCursor.open_round

    def pause_after_reading(txn: Any, *args: Any) -> str | None:
        state = open_round(txn, *args)
        inside.set()
        release.wait(TIMEOUT)
        return state

    def try_to_write() -> str:
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return "got the write lock"
        except sqlite3.OperationalError as e:
            return str(e)
        finally:
            other.close()

    monkeypatch.setattr(sqlite_module.SQLiteCursor, "open_round", pause_after_reading)
    try:
        staking = storage.stake(account.id, "r1", "seat1:bet", 10)
        assert await timed(deferToThread(inside.wait, TIMEOUT))
        assert await timed(deferToThread(try_to_write)) == "database is locked"
    finally:
        release.set()
    assert await timed(staking) == 90
    await timed(storage.close())



@pytest_twisted.ensureDeferred
async def test_settle_is_one_transaction(
    store: SQLiteStorage, pair: tuple[Account, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure half-way through a settlement rolls back every credit before it."""
    alice, bob = pair
    await timed(store.stake(alice.id, "r1", "seat1:bet", 20))
    await timed(store.stake(bob.id, "r1", "seat2:bet", 20))
    journal = sql_module._journal

    def fail_on_bob(txn: Any, account_id: int, *args: Any) -> None:
        if account_id == bob.id:
            raise sqlite3.OperationalError("disk I/O error")
        journal(txn, account_id, *args)

    monkeypatch.setattr(sql_module, "_journal", fail_on_bob)
    with pytest.raises(DatabaseError, match="disk I/O error"):
        await timed(store.settle("r1", {alice.id: 40, bob.id: 40}))
    monkeypatch.undo()
    assert await timed(store.balance(alice.id)) == 80
    assert await timed(store.books()) == Books(200, 160, 40, 0)
    assert await timed(store.history(alice.id)) == []
    assert await timed(store.settle("r1", {alice.id: 40, bob.id: 0})) == {
        alice.id: 120,
        bob.id: 80,
    }



@pytest.mark.parametrize(
    "url, expected",
    [
        ("bank.db", "bank.db"),
        ("sqlite:///bank.db", "bank.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite://", ":memory:"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_open_storage_accepts_paths_and_sqlite_urls(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_storage() maps a path or sqlite:// URL to an SQLite file."""
    monkeypatch.chdir(tmp_path)
    storage = open_storage(url, clock=Clock().seconds)
    try:
        assert isinstance(storage, SQLiteStorage) and storage.path == expected
        await timed(storage.ready())
    finally:
        await timed(storage.close())


def test_open_storage_refuses_other_databases() -> None:
    """A URL for a database the server does not speak gets a clear error."""
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        open_storage("mysql://localhost/blackjack")


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A database path in a directory that does not exist fails at once."""
    with pytest.raises(DatabaseError, match="does not exist"):
        SQLiteStorage(str(tmp_path / "nope" / "bank.sqlite3"))


@pytest_twisted.ensureDeferred
async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database written by a newer server version is not touched."""
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute(
            "INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,)
        )
    connection.close()
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    try:
        with pytest.raises(DatabaseError, match="schema version"):
            await timed(storage.ready())
        with pytest.raises(DatabaseError, match="schema version"):
            await timed(storage.get_account("alice"))
    finally:
        await timed(storage.close())


@pytest_twisted.ensureDeferred
async def test_schema_and_pragmas_on_a_new_file(tmp_path: Path) -> None:
    """A new file gets the schema version, WAL journal and integer-only money."""
    path = tmp_path / "new.sqlite3"
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    await timed(storage.ready())
    await timed(storage.close())
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [
            (SCHEMA_VERSION,)
        ]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(
                "INSERT INTO accounts (name, name_key, password_hash, balance, created)"
                " VALUES ('x', 'x', 'h', 1.5, 0)"
            )
    connection.close()




# --- schema versions ---------------------------------------------------------

RELEASE_1 = Path(__file__).parent / "data" / "release-1.sqlite3"
"""A room written by the first release (schema version 1): see data/make_release_1.py."""


@pytest_twisted.ensureDeferred
async def test_a_file_from_the_first_release_is_upgraded_in_place(tmp_path: Path) -> None:
    """A version-1 file opens, gains each round's table, keeps every chip, and its
    crash leftovers are refunded table by table."""
    from blackjack.server.storage.audit import audit_file

    path = tmp_path / "room.sqlite3"
    path.write_bytes(RELEASE_1.read_bytes())
    before = audit_file(str(path))
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    try:
        assert await timed(storage.audit()) == before
        assert before.balanced and before.books.escrow == 170
        refunded = await timed(storage.recover("main"))
        assert sorted(amount for _, _, amount in refunded) == [20, 50]
        [(round_id, _, amount)] = await timed(storage.recover("high-rollers"))
        assert (round_id.startswith("high-rollers-"), amount) == (True, 100)
        assert await timed(storage.recover()) == []
    finally:
        await timed(storage.close())
    with sqlite3.connect(path) as connection:
        versions = connection.execute("SELECT version FROM schema_version").fetchall()
        tables = dict(connection.execute("SELECT round_id, table_name FROM rounds"))
        roles = {role for (role,) in connection.execute("SELECT role FROM accounts")}
        notes = {note for (note,) in connection.execute("SELECT note FROM ledger")}
        room_tables = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN"
            " ('table_leases', 'room_nodes', 'seats', 'room_logins')")}
    connection.close()
    assert versions == [(1,), (2,), (3,), (4,), (5,), (6,)] and SCHEMA_VERSION == 6
    assert (roles, notes) == ({"player"}, {""})
    assert room_tables == {"table_leases", "room_nodes", "seats", "room_logins"}
    assert sorted(set(tables.values())) == ["high-rollers", "main", "vegas"]
    assert all(round_id.startswith(table + "-") for round_id, table in tables.items())
    after = audit_file(str(path))
    assert after.balanced and after.books.escrow == 0
    assert after.books.issued == before.books.issued


@pytest_twisted.ensureDeferred
async def test_an_upgraded_file_takes_rebuys_shoes_and_counts_old_hands(tmp_path: Path) -> None:
    """After version 4's upgrade (the ledger copied under its new CHECK) a rebuy is
    journalled, a shoe stored, and hands from before count in stats with zero summaries."""
    path = tmp_path / "room.sqlite3"
    path.write_bytes(RELEASE_1.read_bytes())
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    try:
        await timed(storage.recover())
        with sqlite3.connect(path) as connection:
            account_id, = connection.execute(
                "SELECT account_id FROM hands ORDER BY id LIMIT 1").fetchone()
            balance, = connection.execute(
                "SELECT balance FROM accounts WHERE id = ?", (account_id,)).fetchone()
        connection.close()
        stats = await timed(storage.stats(account_id))
        assert stats.rounds == stats.hands == stats.decisions == 0  # no summaries before
        assert await timed(storage.rebuy(account_id, 500, balance + 1, 0.0)) == balance + 500
        await timed(storage.open_shoe("main-s1", "main", {"commitment": "c"}, "ab" * 32))
        assert (await timed(storage.shoe("main-s1"))).server_seed is None
        assert (await timed(storage.audit())).balanced
    finally:
        await timed(storage.close())
    with sqlite3.connect(path) as connection:
        kinds = {k for (k,) in connection.execute("SELECT kind FROM ledger")}
        indexes = {n for (n,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger'")}
    connection.close()
    assert "rebuy" in kinds
    assert {"ledger_by_account", "ledger_by_kind", "ledger_once"} <= indexes


@pytest_twisted.ensureDeferred
async def test_a_failed_upgrade_changes_nothing(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade that fails half-way leaves the file at version 1, as it was (even the
    steps before the one that failed are undone)."""
    path = tmp_path / "room.sqlite3"
    path.write_bytes(RELEASE_1.read_bytes())

    def broken(cursor: Any) -> None:
        cursor.execute("ALTER TABLE rounds ADD COLUMN table_name TEXT NOT NULL DEFAULT ''")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(sqlite_module._STEPS, 3, broken)
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    try:
        with pytest.raises(DatabaseError, match="disk I/O error"):
            await timed(storage.ready())
    finally:
        await timed(storage.close())
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT MAX(version) FROM schema_version").fetchone() == (1,)
        columns = [row[1] for row in connection.execute("PRAGMA table_info(rounds)")]
    connection.close()
    assert "table_name" not in columns


V1_DUMP = Path(__file__).resolve().parent / "data" / "schema-v1.sql"


def load_v1(path: Path) -> None:
    """Write the first release's database (schema version 1) to ``path``."""
    connection = sqlite3.connect(path)
    connection.executescript(V1_DUMP.read_text(encoding="utf-8"))
    connection.close()


@pytest_twisted.ensureDeferred
async def test_a_first_release_file_gains_look_alike_keys(tmp_path: Path) -> None:
    """A version 1 file gains look-alike keys at start-up; every account, look-alikes and
    reserved names included, is still there, and its books still balance."""
    from blackjack.server.storage.audit import audit_file

    path = tmp_path / "v1.sqlite3"
    load_v1(path)
    storage = SQLiteStorage(str(path), clock=Clock().seconds)
    try:
        await timed(storage.ready())
        for name, balance in (("alice", 1010), ("aIice", 980), ("Dealer", 1000)):
            account = await timed(storage.get_account(name))
            assert account is not None and account.balance == balance
            stored = await timed(storage.password_hash(name))
            assert stored is not None and stored.startswith("scrypt$")
        assert await timed(storage.look_alike("ALlCE")) == "alice"
        with pytest.raises(LookAlikeNameError):
            await new_account(storage, "a1ice")
    finally:
        await timed(storage.close())
    with sqlite3.connect(path) as connection:
        assert connection.execute(
            "SELECT name, look_key FROM accounts ORDER BY id").fetchall() == [
            ("alice", "allce"), ("aIice", "allce"), ("Dealer", "dealer")]
        assert connection.execute("SELECT MAX(version) FROM schema_version").fetchone() == (
            SCHEMA_VERSION,)
    connection.close()
    assert audit_file(str(path)).balanced
    reopened = SQLiteStorage(str(path), clock=Clock().seconds)  # a second start: no-op
    try:
        assert (await timed(reopened.get_account("aIice"))) is not None
    finally:
        await timed(reopened.close())
