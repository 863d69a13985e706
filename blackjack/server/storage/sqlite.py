"""SQLite implementation of :class:`~blackjack.server.storage.IStorage`: one file.

The queries, group commit and money checks are :class:`~.sql.SQLStorage`'s;
this module opens the file and speaks SQLite.  Queries run in the one thread
of an ``adbapi.ConnectionPool`` holding one connection, so the reactor never
waits on the disk and this process's writers are serialised.  The connection
runs with ``isolation_level=None`` (no implicit transactions from the
``sqlite3`` module) and ``synchronous = FULL``: every COMMIT waits for an
fsync, so a chip movement reported done survives a power cut.

A batch that writes opens with ``BEGIN IMMEDIATE``, which takes the write lock
before the first read, so a read-then-write cannot be interleaved by another
process on the same file (and cannot fail half-way with SQLITE_BUSY the way a
deferred transaction upgrading its lock can).  A batch of reads only opens
with plain ``BEGIN``: one snapshot, no write lock, no fsync.

The first batch creates the schema, or upgrades a file written by an older
release in place (:mod:`.schema`); ``CHECK`` constraints keep money integer.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.enterprise import adbapi

from blackjack.server.storage import schema
from blackjack.server.storage.interface import DatabaseError
from blackjack.server.storage.schema import SCHEMA_VERSION
from blackjack.server.storage.sql import Cursor, SQLStorage

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorCore

__all__ = ["SQLiteStorage", "SCHEMA_VERSION"]

_TYPES = {"id": "INTEGER", "serial": "INTEGER", "time": "REAL"}
"""SQLite's names for the types of :data:`.schema.POWERS`."""

_SCHEMA = """
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,   -- lower(name): unique ignoring case
    password_hash TEXT    NOT NULL,
    balance       INTEGER NOT NULL CHECK (typeof(balance) = 'integer' AND balance >= 0),
    created       REAL    NOT NULL,
    look_key      TEXT    NOT NULL DEFAULT '', -- text.look_alike_key(name), since version 2
    role          TEXT    NOT NULL DEFAULT 'player' CHECK (role IN ('player', 'admin'))
);
CREATE INDEX accounts_by_look_key ON accounts (look_key);
CREATE TABLE rounds (
    round_id   TEXT PRIMARY KEY,
    table_name TEXT NOT NULL DEFAULT '',  -- round_table(round_id), since version 3
    state      TEXT NOT NULL CHECK (state IN ('open', 'settled', 'refunded')),
    opened     REAL NOT NULL,
    closed     REAL
);
CREATE INDEX rounds_by_state ON rounds (state);
CREATE INDEX rounds_by_table ON rounds (table_name, state);
CREATE TABLE stakes (
    id         INTEGER PRIMARY KEY,
    round_id   TEXT    NOT NULL REFERENCES rounds (round_id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    key        TEXT    NOT NULL,
    amount     INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
    state      TEXT    NOT NULL CHECK (state IN ('held', 'settled', 'refunded')),
    created    REAL    NOT NULL,
    UNIQUE (round_id, account_id, key)
);
CREATE INDEX stakes_by_state ON stakes (state);
CREATE TABLE ledger (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    kind       TEXT    NOT NULL {kinds},
    amount     INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
    balance    INTEGER NOT NULL CHECK (balance >= 0),
    round_id   TEXT,
    key        TEXT    NOT NULL DEFAULT '',
    created    REAL    NOT NULL,
    note       TEXT    NOT NULL DEFAULT ''  -- a grant's admin and reason, since version 5
);
CREATE INDEX ledger_by_account ON ledger (account_id, id);
CREATE INDEX ledger_by_kind ON ledger (kind);
-- The idempotency key: one stake, payout or refund per (round, account, key).
CREATE UNIQUE INDEX ledger_once ON ledger (round_id, account_id, kind, key)
    WHERE round_id IS NOT NULL;
CREATE TABLE hands (
    id         INTEGER PRIMARY KEY,
    round_id   TEXT    NOT NULL REFERENCES rounds (round_id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    staked     INTEGER NOT NULL,
    payout     INTEGER NOT NULL,
    record     TEXT    NOT NULL,
    created    REAL    NOT NULL,
    UNIQUE (round_id, account_id)
);
CREATE INDEX hands_by_account ON hands (account_id, id);
"""

_BUSY_TIMEOUT_MS = 5000


def _configure(connection: sqlite3.Connection) -> None:
    """Set up each new connection (adbapi's ``cp_openfun``)."""
    # WAL lets readers in other processes run beside the one writer; FULL keeps
    # a committed chip movement on disk across a power cut, not only a crash.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")


def _create(cursor: Any) -> None:
    # Statement by statement: executescript() would COMMIT first.
    for statement in _SCHEMA.format(kinds=schema.LEDGER_KINDS_CHECK).split(";"):
        if statement.strip():
            cursor.execute(statement)
    schema.add_records(cursor)
    schema.create_powers(cursor, _TYPES)
    schema.add_room(cursor, _TYPES)


def _add_look_keys(cursor: Any) -> None:
    """Version 2: each name's look-alike key.  Not a UNIQUE index: files from
    version 1 may already hold two names that look alike, and both must go on
    working; registration checks it in the transaction that inserts."""
    cursor.execute("ALTER TABLE accounts ADD COLUMN look_key TEXT NOT NULL DEFAULT ''")
    schema.fill_look_keys(cursor)
    cursor.execute("CREATE INDEX accounts_by_look_key ON accounts (look_key)")


def _add_round_tables(cursor: Any) -> None:
    """Version 3: record each round's table, for recovery table by table."""
    cursor.execute("ALTER TABLE rounds ADD COLUMN table_name TEXT NOT NULL DEFAULT ''")
    cursor.execute("CREATE INDEX rounds_by_table ON rounds (table_name, state)")
    schema.fill_round_tables(cursor)


def _add_records(cursor: Any) -> None:
    """Version 4: fair shoes, hand summaries, and the ledger kind ``rebuy``.

    SQLite cannot change a CHECK constraint in place, so the ledger is copied
    into a table made with the new one, as the SQLite manual's ALTER TABLE
    page describes, inside the upgrade's transaction.
    """
    schema.add_records(cursor)
    made = cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table'"
                          " AND name = 'ledger'").fetchone()[0]
    old = made[made.index("CHECK (kind IN"):]
    old = old[:old.index(")),") + 2]
    cursor.execute(made.replace("CREATE TABLE ledger", "CREATE TABLE ledger_new")
                   .replace(old, schema.LEDGER_KINDS_CHECK))
    cursor.execute("INSERT INTO ledger_new SELECT * FROM ledger")
    cursor.execute("DROP TABLE ledger")
    cursor.execute("ALTER TABLE ledger_new RENAME TO ledger")
    for index in ("CREATE INDEX ledger_by_account ON ledger (account_id, id)",
                  "CREATE INDEX ledger_by_kind ON ledger (kind)",
                  "CREATE UNIQUE INDEX ledger_once ON ledger (round_id, account_id, kind, key)"
                  " WHERE round_id IS NOT NULL"):
        cursor.execute(index)


def _add_powers(cursor: Any) -> None:
    """Version 5: roles, grant notes, sanctions and the audit trail of admin acts."""
    schema.add_powers(cursor, _TYPES)


def _add_room(cursor: Any) -> None:
    """Version 6: the room's leases, members, seats and logins (unused by one process,
    kept so that every backend has one schema)."""
    schema.add_room(cursor, _TYPES)


_STEPS = {2: _add_look_keys, 3: _add_round_tables, 4: _add_records, 5: _add_powers,
          6: _add_room}
"""Upgrades of files written by older releases, by the version each makes."""


class SQLiteCursor(Cursor):
    """SQLite's dialect: ``?`` placeholders already, no row locks, ``lastrowid``."""

    def name_taken(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "accounts.name_key" in str(error)


class SQLiteStorage(SQLStorage):
    """Accounts, escrow, ledger and hand history in one SQLite file.

    ``path`` is a file (created with its schema on first use) or
    ``":memory:"``.  ``clock`` is a ``reactor.seconds``-style callable that
    stamps every row; it is only ever called on the reactor thread.
    """

    driver_errors = (sqlite3.Error,)

    def __init__(
        self,
        path: str,
        clock: Callable[[], float] | None = None,
        *,
        reactor: IReactorCore | None = None,
    ) -> None:
        if path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise DatabaseError(
                    f"cannot open database {path!r}:"
                    f" directory {parent!r} does not exist"
                )
        if reactor is None:
            from twisted.internet import reactor as _reactor

            reactor = _reactor
        self.path = path
        # One thread and one connection: ":memory:" is a per-connection
        # database, and one connection serialises this process's writers.
        self._pool = adbapi.ConnectionPool(
            "sqlite3",
            path,
            check_same_thread=False,
            isolation_level=None,
            cp_min=1,
            cp_max=1,
            cp_openfun=_configure,
            cp_reactor=reactor,
        )
        self._start(clock or reactor.seconds)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"

    def _cursor(self, txn: adbapi.Transaction) -> Cursor:
        return SQLiteCursor(txn)

    def _begin(self, writes: bool) -> str:
        return "BEGIN IMMEDIATE" if writes else "BEGIN"

    def _prepare(self, txn: Cursor) -> None:
        try:
            txn.execute("BEGIN IMMEDIATE")
            schema.upgrade(txn, repr(self.path), _create, _STEPS)
            txn.execute("COMMIT")
        except sqlite3.Error as e:
            raise DatabaseError(f"cannot open database {self.path!r}: {e}") from e
