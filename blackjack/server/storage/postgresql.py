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

_TYPES = {"id": "BIGINT", "serial": "BIGSERIAL", "time": "DOUBLE PRECISION"}
"""PostgreSQL's names for the types of :data:`.schema.POWERS`."""

_SCHEMA = """
CREATE TABLE accounts (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT   NOT NULL,
    name_key      TEXT   NOT NULL UNIQUE,   -- lower(name): unique ignoring case
    password_hash TEXT   NOT NULL,
    balance       BIGINT NOT NULL CHECK (balance >= 0),
    created       DOUBLE PRECISION NOT NULL,
    look_key      TEXT   NOT NULL DEFAULT '', -- text.look_alike_key(name)
    role          TEXT   NOT NULL DEFAULT 'player' CHECK (role IN ('player', 'admin'))
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
    kind       TEXT   NOT NULL CONSTRAINT ledger_kind_check {kinds},
    amount     BIGINT NOT NULL,
    balance    BIGINT NOT NULL CHECK (balance >= 0),
    round_id   TEXT,
    key        TEXT   NOT NULL DEFAULT '',
    created    DOUBLE PRECISION NOT NULL,
    note       TEXT   NOT NULL DEFAULT ''  -- a grant's admin and reason
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


STAKE_FUNCTION = """
CREATE OR REPLACE FUNCTION blackjack_stake(
    p_account BIGINT, p_round TEXT, p_table TEXT, p_key TEXT, p_amount BIGINT,
    p_now DOUBLE PRECISION, p_lock BOOLEAN, p_node TEXT, p_epoch BIGINT,
    p_fence_lock BOOLEAN, OUT outcome TEXT, OUT result TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_state TEXT;
    v_balance BIGINT;
    v_new BOOLEAN := FALSE;
BEGIN
    -- sql._stake's checks, in its order, made before anything is written:
    -- a refused stake changes nothing, so it needs no savepoint.
    IF p_node IS NOT NULL THEN
        -- The fence (room_sql.check_fence): the table's lease must still be
        -- this node's, at this epoch; share-locked till COMMIT.
        IF p_fence_lock THEN
            PERFORM 1 FROM table_leases
                WHERE table_name = p_table AND node = p_node AND epoch = p_epoch FOR SHARE;
        ELSE
            PERFORM 1 FROM table_leases
                WHERE table_name = p_table AND node = p_node AND epoch = p_epoch;
        END IF;
        IF NOT FOUND THEN
            outcome := 'fenced'; RETURN;
        END IF;
    END IF;
    IF p_lock THEN
        SELECT state INTO v_state FROM rounds WHERE round_id = p_round FOR UPDATE;
    ELSE
        SELECT state INTO v_state FROM rounds WHERE round_id = p_round;
    END IF;
    IF NOT FOUND THEN
        v_new := TRUE;
    ELSIF v_state <> 'open' THEN
        outcome := 'closed'; result := v_state; RETURN;
    ELSE
        PERFORM 1 FROM stakes
            WHERE round_id = p_round AND account_id = p_account AND key = p_key;
        IF FOUND THEN
            outcome := 'duplicate'; RETURN;
        END IF;
    END IF;
    -- The balance check and the debit are one statement.
    UPDATE accounts SET balance = balance - p_amount
        WHERE id = p_account AND balance >= p_amount RETURNING balance INTO v_balance;
    IF NOT FOUND THEN
        SELECT balance INTO v_balance FROM accounts WHERE id = p_account;
        IF NOT FOUND THEN
            outcome := 'unknown'; RETURN;
        END IF;
        outcome := 'insufficient'; result := v_balance::TEXT; RETURN;
    END IF;
    IF v_new THEN
        INSERT INTO rounds (round_id, table_name, state, opened)
            VALUES (p_round, p_table, 'open', p_now) ON CONFLICT (round_id) DO NOTHING;
        IF NOT FOUND THEN
            -- Another connection opened the round meanwhile: lock it, look again,
            -- and if this stake may not go in, give the chips back.
            SELECT state INTO v_state FROM rounds WHERE round_id = p_round FOR UPDATE;
            PERFORM 1 FROM stakes
                WHERE round_id = p_round AND account_id = p_account AND key = p_key;
            IF v_state <> 'open' OR FOUND THEN
                UPDATE accounts SET balance = balance + p_amount WHERE id = p_account;
                outcome := CASE WHEN v_state <> 'open' THEN 'closed' ELSE 'duplicate' END;
                result := v_state;
                RETURN;
            END IF;
        END IF;
    END IF;
    INSERT INTO stakes (round_id, account_id, key, amount, state, created)
        VALUES (p_round, p_account, p_key, p_amount, 'held', p_now);
    INSERT INTO ledger (account_id, kind, amount, balance, round_id, key, created)
        VALUES (p_account, 'stake', -p_amount, v_balance, p_round, p_key, p_now);
    outcome := 'ok'; result := v_balance::TEXT;
END
$$
"""
"""A stake in one round trip and no savepoint, where ``sql._stake`` takes seven
statements inside one: a busy room stakes hundreds a second through one
connection, and PostgreSQL's savepoints grow dear past 64 in a transaction.
Replaced at every start, so it always matches this release's queries; held
to the other backends call by call by ``tests/test_memory.py``."""

_SCHEMA_LOCK = 0x626A6B  # any constant: one server at a time creates or upgrades

def _add_records(cursor: Any) -> None:
    """Version 4: fair shoes, hand summaries, and the ledger kind ``rebuy``."""
    schema.add_records(cursor)
    cursor.execute("ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check")
    cursor.execute(f"ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check "
                   f"{schema.LEDGER_KINDS_CHECK}")


_STEPS: dict[int, schema.Step] = {
    4: _add_records,
    5: lambda cursor: schema.add_powers(cursor, _TYPES),
    6: lambda cursor: schema.add_room(cursor, _TYPES),
}
"""Upgrades; no PostgreSQL database was written before version 3: it starts there."""

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
    for statement in _SCHEMA.format(kinds=schema.LEDGER_KINDS_CHECK).split(";"):
        if statement.strip():
            cursor.execute(statement)
    schema.add_records(cursor)
    schema.create_powers(cursor, _TYPES)
    schema.add_room(cursor, _TYPES)


class PostgreSQLCursor(Cursor):
    """PostgreSQL's dialect: ``%s`` placeholders, row locks, ``RETURNING id``."""

    for_update = " FOR UPDATE"
    for_share = " FOR SHARE"
    stake_function = True
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

    def database_time(self, fallback: float) -> float:
        # The server's clock, not this node's: every node of a room reads the
        # same one, so no node's clock decides when a lease lapses.
        return float(self.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()[0])

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
        txn.execute(STAKE_FUNCTION)
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
