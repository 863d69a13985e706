"""PostgreSQL implementation of :class:`~blackjack.server.storage.IStorage`.

The queries, group commit and money checks are :class:`~.sql.SQLStorage`'s,
the same as SQLite's; this module connects and speaks PostgreSQL.  Driver:
``psycopg2`` through ``twisted.enterprise.adbapi``, as Synapse runs it.  Its
calls block, so they run on the pool's one thread and the reactor never
waits; it works under any reactor (psycopg 3's asynchronous API would tie the
server to the asyncio reactor).  Install it with the ``postgresql`` extra.

One connection, in autocommit mode so the batches send their own ``BEGIN``
and ``COMMIT`` as on SQLite: the batch knows exactly whether COMMIT went out.
``synchronous_commit`` is set ``on`` for the connection, whatever the server's
default: a chip movement reported done is on disk.  Writes run at READ
COMMITTED with the round's row locked (``SELECT ... FOR UPDATE``) and the
debit a single ``UPDATE ... WHERE balance >= ?``, so two servers (or two
connections) racing on one account can never take it below zero nor settle a
round twice.  A batch of reads runs REPEATABLE READ, READ ONLY: one snapshot.

When the database restarts.  The connection is found dead at the next batch;
nothing of that batch was kept (COMMIT was never sent), so it runs again on
a new connection and nobody notices.  While the database is away, every call
fails at once with :class:`DatabaseUnavailableError` ("try again in a
moment"; a stake that fails moved no chip), and each new batch tries to
connect again, so play resumes by itself when the database is back.  Only a
connection lost during COMMIT leaves it unknown whether the batch was kept;
its callers are told so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.errors
from twisted.enterprise import adbapi

from blackjack.server.storage import schema
from blackjack.server.storage.backends import redact
from blackjack.server.errors import DatabaseUnavailableError
from blackjack.server.storage.interface import DatabaseError
from blackjack.server.storage.sql import Cursor, SQLStorage

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorCore

__all__ = ["PostgreSQLStorage", "DatabaseUnavailableError", "connect", "create"]

_SCHEMA = """
CREATE TABLE accounts (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT   NOT NULL,
    name_key      TEXT   NOT NULL UNIQUE,   -- lower(name): unique ignoring case
    password_hash TEXT   NOT NULL,
    balance       BIGINT NOT NULL CHECK (balance >= 0),
    created       DOUBLE PRECISION NOT NULL,
    look_key      TEXT   NOT NULL DEFAULT ''  -- text.look_alike_key(name)
);
CREATE INDEX accounts_by_look_key ON accounts (look_key);
CREATE TABLE rounds (
    round_id   TEXT PRIMARY KEY,
    table_name TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL CHECK (state IN ('open', 'settled', 'refunded')),
    opened     DOUBLE PRECISION NOT NULL,
    closed     DOUBLE PRECISION
);
CREATE INDEX rounds_by_state ON rounds (state);
CREATE INDEX rounds_by_table ON rounds (table_name, state);
CREATE TABLE stakes (
    id         BIGSERIAL PRIMARY KEY,
    round_id   TEXT   NOT NULL REFERENCES rounds (round_id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    key        TEXT   NOT NULL,
    amount     BIGINT NOT NULL CHECK (amount > 0),
    state      TEXT   NOT NULL CHECK (state IN ('held', 'settled', 'refunded')),
    created    DOUBLE PRECISION NOT NULL,
    UNIQUE (round_id, account_id, key)
);
CREATE INDEX stakes_by_state ON stakes (state);
CREATE TABLE ledger (
    id         BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    kind       TEXT   NOT NULL CHECK (kind IN ('issue', 'stake', 'payout', 'refund')),
    amount     BIGINT NOT NULL,
    balance    BIGINT NOT NULL CHECK (balance >= 0),
    round_id   TEXT,
    key        TEXT   NOT NULL DEFAULT '',
    created    DOUBLE PRECISION NOT NULL
);
CREATE INDEX ledger_by_account ON ledger (account_id, id);
CREATE INDEX ledger_by_kind ON ledger (kind);
CREATE UNIQUE INDEX ledger_once ON ledger (round_id, account_id, kind, key)
    WHERE round_id IS NOT NULL;
CREATE TABLE hands (
    id         BIGSERIAL PRIMARY KEY,
    round_id   TEXT   NOT NULL REFERENCES rounds (round_id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    staked     BIGINT NOT NULL,
    payout     BIGINT NOT NULL,
    record     TEXT   NOT NULL,
    created    DOUBLE PRECISION NOT NULL,
    UNIQUE (round_id, account_id)
);
CREATE INDEX hands_by_account ON hands (account_id, id);
"""

_SCHEMA_LOCK = 0x626A6B  # any constant: one server at a time creates or upgrades

_STEPS: dict[int, schema.Step] = {}
"""No PostgreSQL database was written before version 3: it starts there."""

# Connection-level failures: the connection is gone, refused, or shutting down.
_GONE = ("08", "57P")


def connect(url: str) -> Any:
    """A psycopg2 connection set up as the storage uses it (autocommit, durable)."""
    connection = psycopg2.connect(url, **_CONNECT)
    _configure(connection)
    return connection


_CONNECT = {
    "connect_timeout": 5,
    "application_name": "blackjack",
    # A peer that vanishes without closing the socket is noticed in ~25 s.
    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
}


def _configure(connection: Any) -> None:
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO on")


def create(cursor: Any) -> None:
    """The latest schema, statement by statement, in an empty database."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            cursor.execute(statement)


class PostgreSQLCursor(Cursor):
    """PostgreSQL's dialect: ``%s`` placeholders, row locks, ``RETURNING id``."""

    for_update = " FOR UPDATE"
    _translated: dict[str, str] = {}

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Cursor:
        text = self._translated.get(sql)
        if text is None:
            # No query of ours has a literal ? or %.
            text = self._translated[sql] = sql.replace("?", "%s")
        self._cursor.execute(text, params)
        return self

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), rows)

    def insert_id(self, sql: str, params: tuple[Any, ...]) -> int:
        new_id: int = self.execute(sql + " RETURNING id", params).fetchone()[0]
        return new_id

    def name_taken(self, error: Exception) -> bool:
        return (isinstance(error, psycopg2.errors.UniqueViolation)
                and "name_key" in (error.diag.constraint_name or ""))

    def lock_name(self, look_key: str) -> None:
        # Held till COMMIT: another server registering a look-alike waits here,
        # then sees this account.
        self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (look_key,))

    def add_chips(self, account_id: int, amount: int, *, debit: bool = False) -> int | None:
        if debit:
            row = self.execute("UPDATE accounts SET balance = balance - ?"
                               " WHERE id = ? AND balance >= ? RETURNING balance",
                               (amount, account_id, amount)).fetchone()
        else:
            row = self.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?"
                               " RETURNING balance", (amount, account_id)).fetchone()
        return None if row is None else int(row[0])


class _Connection(adbapi.Connection):
    """adbapi's connection, for a driver in autocommit mode.

    The batches send their own COMMIT and ROLLBACK, so adbapi's have nothing
    to do; a connection found dead is dropped, so the next batch opens a new
    one (adbapi's own ``cp_reconnect`` logs a traceback for each).
    """

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pool = self._pool
        if self._connection.closed and pool.connections.get(pool.threadID()) is self._connection:
            pool.disconnect(self._connection)


class _Pool(adbapi.ConnectionPool):
    connectionFactory = _Connection


class PostgreSQLStorage(SQLStorage):
    """Accounts, escrow, ledger and hand history in a PostgreSQL database.

    ``url`` is a libpq connection string or ``postgresql://`` URL; the
    database must exist (the schema is created or upgraded at the first
    call).  ``clock`` stamps every row.
    """

    driver_errors = (psycopg2.Error,)

    def __init__(self, url: str, clock: Callable[[], float] | None = None, *,
                 reactor: IReactorCore | None = None) -> None:
        if reactor is None:
            from twisted.internet import reactor as _reactor

            reactor = _reactor
        self.url = url
        # One thread and one connection, as for SQLite: this process's writes
        # are serialised and batched; other servers are kept honest by locks.
        self._pool = _Pool("psycopg2", url, cp_min=1, cp_max=1, cp_openfun=_configure,
                           cp_reactor=reactor, **_CONNECT)
        self._start(clock or reactor.seconds)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"PostgreSQLStorage({redact(self.url)!r})"

    def _cursor(self, txn: adbapi.Transaction) -> Cursor:
        return PostgreSQLCursor(txn)

    def _begin(self, writes: bool) -> str:
        return "BEGIN" if writes else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def _prepare(self, txn: Cursor) -> None:
        txn.execute("BEGIN")
        # Two servers starting on one empty database: the second waits, then
        # finds the schema made.
        txn.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
        schema.upgrade(txn, redact(self.url), create, _STEPS)
        txn.execute("COMMIT")

    def _lost(self, txn: adbapi.Transaction, error: Exception) -> bool:
        connection = txn._connection._connection  # the psycopg2 connection
        return bool(connection.closed) or _gone(error)

    def _wrap(self, error: Exception, committing: bool, note: str = "") -> Exception:
        if _gone(error) or isinstance(error, psycopg2.InterfaceError):
            wrapped: Exception = DatabaseUnavailableError(committing)
        else:
            wrapped = DatabaseError(f"database error: {error}{note}".strip())
        wrapped.__cause__ = error
        return wrapped


def _gone(error: Exception) -> bool:
    """True for an error that says the server cannot be reached or is going away."""
    if isinstance(error, psycopg2.OperationalError):
        code = getattr(error, "pgcode", None)
        return code is None or code.startswith(_GONE)
    return False
