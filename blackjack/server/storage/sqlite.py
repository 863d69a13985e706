"""SQLite implementation of :class:`~blackjack.server.storage.IStorage`.

Queries run in the one thread of an ``adbapi.ConnectionPool`` holding one
connection, so the reactor never waits on the disk and this process's writers
are serialised.  The connection runs with ``isolation_level=None`` (no implicit
transactions from the ``sqlite3`` module) and ``synchronous = FULL``: every
COMMIT waits for an fsync, so a chip movement reported done survives a power
cut.

That fsync, not the SQL, is what a write costs, so writes use *group commit*.
Every call, read or write, joins one first-in first-out queue on the reactor
thread.  When no batch is running, everything queued (up to
:attr:`SQLiteStorage.max_batch` calls) runs as one transaction on the pool
thread: ``BEGIN IMMEDIATE``, then each call inside its own ``SAVEPOINT``, then
one ``COMMIT`` and so one fsync for the lot.  A call that fails is rolled back
to its savepoint and fails alone; the others in its batch still commit.  Only
once COMMIT has returned are the calls' Deferreds fired, in queue order, so
no caller hears "done" for a change that is not on disk; if BEGIN or COMMIT
fails (or SQLite itself drops the transaction on an I/O error), every call of
the batch fails and none of it is kept.  Whatever queued meanwhile is the next
batch, so a call waits at most for the batch in flight and its own, and a lone
call costs about what a transaction of its own did (two savepoint statements
more).  One queue keeps order: a read issued after a write sees it.

``BEGIN IMMEDIATE`` takes the write lock before the first read, so a
read-then-write cannot be interleaved by another process on the same file (and
cannot fail half-way with SQLITE_BUSY the way a deferred transaction upgrading
its lock can).  A batch of reads only opens with plain ``BEGIN``: one snapshot,
no write lock, no fsync.

Chips are integers everywhere; ``CHECK`` constraints and a unique index on the
ledger back up the checks made in Python, so a bug cannot take a balance below
zero or pay a round twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.server.storage._backend import fails_deferred, log_recovered
from blackjack.server.storage.audit import Audit, audit, read_books
from blackjack.server.storage.interface import (
    Account,
    Books,
    DatabaseError,
    DuplicateStakeError,
    HandRecord,
    InsufficientFundsError,
    IStorage,
    LedgerEntry,
    NameTakenError,
    RoundClosedError,
    SettlementError,
    UnknownAccountError,
    check_amount,
    check_id,
    check_limit,
    check_text,
)

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorCore

__all__ = ["SQLiteStorage", "open_storage", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,   -- lower(name): unique ignoring case
    password_hash TEXT    NOT NULL,
    balance       INTEGER NOT NULL CHECK (typeof(balance) = 'integer' AND balance >= 0),
    created       REAL    NOT NULL
);
CREATE TABLE rounds (
    round_id TEXT PRIMARY KEY,
    state    TEXT NOT NULL CHECK (state IN ('open', 'settled', 'refunded')),
    opened   REAL NOT NULL,
    closed   REAL
);
CREATE INDEX rounds_by_state ON rounds (state);
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
    kind       TEXT    NOT NULL CHECK (kind IN ('issue', 'stake', 'payout', 'refund')),
    amount     INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
    balance    INTEGER NOT NULL CHECK (balance >= 0),
    round_id   TEXT,
    key        TEXT    NOT NULL DEFAULT '',
    created    REAL    NOT NULL
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

_log = Logger()

_T = TypeVar("_T")


def _configure(connection: sqlite3.Connection) -> None:
    """Set up each new connection (adbapi's ``cp_openfun``)."""
    # WAL lets readers in other processes run beside the one writer; FULL keeps
    # a committed chip movement on disk across a power cut, not only a crash.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")


_Call = tuple[Callable[..., Any], tuple[Any, ...]]
"""``work`` and its arguments, as handed to the pool thread."""

_Outcome = tuple[bool, Any]
"""``(True, result)`` or ``(False, exception)`` for one call of a batch."""


class _Queued(NamedTuple):
    """A call waiting in the queue for its batch."""

    work: Callable[..., Any]
    args: tuple[Any, ...]
    writes: bool
    deferred: Deferred[Any]


def _wrap_sqlite_error(error: Exception) -> Exception:
    """Domain errors pass through; a raw ``sqlite3`` error becomes a DatabaseError."""
    if isinstance(error, sqlite3.Error):
        wrapped = DatabaseError(f"database error: {error}")
        wrapped.__cause__ = error
        return wrapped
    return error


class SQLiteStorage:
    """Accounts, escrow, ledger and hand history in one SQLite file.

    ``path`` is a file (created with its schema on first use) or
    ``":memory:"``.  ``clock`` is a ``reactor.seconds``-style callable that
    stamps every row; it is only ever called on the reactor thread.
    """

    max_batch = 512
    """The most calls one group-commit transaction carries."""

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
        if clock is None:
            clock = reactor.seconds  # type: ignore[attr-defined]
        self.path = path
        self._clock = clock
        self._closed = False
        # Set (on the pool thread) if the schema cannot be created; every later
        # interaction then fails with it instead of with "no such table".
        self._schema_error: str | None = None
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
        # Calls waiting for the next batch, and Deferreds waiting for the queue
        # to drain (close).  ``_busy`` while a batch is in flight or its
        # Deferreds are firing.
        self._queue: deque[_Queued] = deque()
        self._idle: list[Deferred[None]] = []
        self._busy = True
        #: Batch transactions committed, and the calls they carried (each
        #: committed or rolled back to its savepoint); for tests and operators.
        self.commits = 0
        self.batched_calls = 0
        # Creating the schema is the first "batch": calls made meanwhile queue.
        self._pool.runInteraction(self._create_schema).addErrback(
            lambda failure: _log.failure(
                "could not create the schema in {path}", failure, path=path
            )
        ).addBoth(lambda _: self._next_batch())

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"

    # --- plumbing ---------------------------------------------------------------

    def _create_schema(self, txn: adbapi.Transaction) -> None:
        try:
            txn.execute("BEGIN IMMEDIATE")
            txn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            row = txn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            version = row[0]
            if version is None:
                # Statement by statement: executescript() would COMMIT first.
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        txn.execute(statement)
                txn.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif version != SCHEMA_VERSION:
                raise DatabaseError(
                    f"database {self.path!r} has schema version {version}; "
                    f"this server knows version {SCHEMA_VERSION}"
                )
            txn.execute("COMMIT")
        except DatabaseError as e:
            self._schema_error = str(e)
            raise
        except sqlite3.Error as e:
            self._schema_error = f"cannot open database {self.path!r}: {e}"
            raise DatabaseError(self._schema_error) from e

    def _run_batch(
        self, txn: adbapi.Transaction, begin: str, calls: list[_Call]
    ) -> list[_Outcome]:
        """Run ``calls`` in one transaction on the pool thread; one outcome each."""
        if self._schema_error is not None:
            raise DatabaseError(self._schema_error)
        outcomes: list[_Outcome] = []
        try:
            txn.execute(begin)
            for work, args in calls:
                txn.execute("SAVEPOINT call")
                try:
                    result = work(txn, *args)
                except Exception as error:
                    try:
                        txn.execute("ROLLBACK TO call")
                        txn.execute("RELEASE call")
                    except sqlite3.Error as lost:
                        # SQLite drops the whole transaction on some errors
                        # (I/O, full disk, no memory): nothing of this batch
                        # is left to commit.
                        raise DatabaseError(
                            f"database error: {error} (transaction lost: {lost})"
                        ) from error
                    outcomes.append((False, _wrap_sqlite_error(error)))
                else:
                    txn.execute("RELEASE call")
                    outcomes.append((True, result))
            txn.execute("COMMIT")
        except sqlite3.Error as e:
            # adbapi rolls back after we raise.
            raise DatabaseError(f"database error: {e}") from e
        return outcomes

    def _write(self, work: Callable[..., _T], *args: Any) -> Deferred[_T]:
        return self._run(True, work, *args)

    def _read(self, work: Callable[..., _T], *args: Any) -> Deferred[_T]:
        return self._run(False, work, *args)

    def _run(self, writes: bool, work: Callable[..., _T], *args: Any) -> Deferred[_T]:
        if self._closed:
            return defer.fail(DatabaseError("storage is closed"))
        d: Deferred[_T] = Deferred()
        self._queue.append(_Queued(work, args, writes, d))
        if not self._busy:
            self._next_batch()
        return d

    def _next_batch(self) -> None:
        """Start a batch with what has queued, or note that the pool is idle."""
        if not self._queue:
            self._busy = False
            idle, self._idle = self._idle, []
            for waiter in idle:
                waiter.callback(None)
            return
        self._busy = True
        queue = self._queue
        batch = [queue.popleft() for _ in range(min(len(queue), self.max_batch))]
        begin = "BEGIN IMMEDIATE" if any(q.writes for q in batch) else "BEGIN"
        calls = [(q.work, q.args) for q in batch]
        self._pool.runInteraction(self._run_batch, begin, calls).addCallbacks(
            self._batch_committed,
            self._batch_failed,
            callbackArgs=(batch,),
            errbackArgs=(batch,),
        )

    def _batch_committed(self, outcomes: list[_Outcome], batch: list[_Queued]) -> None:
        self.commits += 1
        self.batched_calls += len(batch)
        try:
            # Still busy: calls made by these callbacks queue for the next batch.
            for queued, (ok, value) in zip(batch, outcomes):
                if ok:
                    queued.deferred.callback(value)
                else:
                    queued.deferred.errback(value)
        finally:
            self._next_batch()

    def _batch_failed(self, failure: Failure, batch: list[_Queued]) -> None:
        if failure.check(sqlite3.Error):  # e.g. the connection could not open
            failure = Failure(DatabaseError(f"database error: {failure.value}"))
        try:
            for queued in batch:
                queued.deferred.errback(failure)
        finally:
            self._next_batch()

    def ready(self) -> Deferred[None]:
        """Fire once the schema exists; fail if it could not be created."""
        return self._read(lambda txn: None)

    @fails_deferred
    def close(self) -> Deferred[None]:
        """Wait for queued work, then close the connection and its thread."""
        if self._closed:
            return defer.succeed(None)
        self._closed = True
        if not self._busy:
            self._pool.close()
            return defer.succeed(None)
        # Closed once the queue has drained: stopping the (then idle) pool
        # thread does not block the reactor.
        drained: Deferred[None] = Deferred()
        self._idle.append(drained)
        done: Deferred[None] = drained.addCallback(lambda _: self._pool.close())
        return done

    # --- accounts ---------------------------------------------------------------

    @fails_deferred
    def create_account(
        self, name: str, password_hash: str, bankroll: int
    ) -> Deferred[Account]:
        check_text(name, "name")
        check_text(password_hash, "password hash")
        check_amount(bankroll, "bankroll", allow_zero=True)
        return self._write(
            self._create_account, name, password_hash, bankroll, self._clock()
        )

    @staticmethod
    def _create_account(
        txn: Any, name: str, password_hash: str, bankroll: int, now: float
    ) -> Account:
        try:
            txn.execute(
                "INSERT INTO accounts (name, name_key, password_hash, balance, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, name.lower(), password_hash, bankroll, now),
            )
        except sqlite3.IntegrityError as e:
            if "accounts.name_key" in str(e):
                raise NameTakenError(name) from None
            raise
        account_id = txn.lastrowid
        if bankroll:
            _journal(txn, account_id, "issue", bankroll, bankroll, None, "", now)
        return Account(account_id, name, bankroll, now)

    @fails_deferred
    def get_account(self, name: str) -> Deferred[Account | None]:
        check_text(name, "name")
        return self._read(_select_account, "name_key", name.lower())

    @fails_deferred
    def get_account_by_id(self, account_id: int) -> Deferred[Account | None]:
        return self._read(_select_account, "id", check_id(account_id))

    @fails_deferred
    def password_hash(self, name: str) -> Deferred[str | None]:
        check_text(name, "name")
        return self._read(_select_password_hash, name.lower())

    @fails_deferred
    def balance(self, account_id: int) -> Deferred[int]:
        return self._read(_balance, check_id(account_id))

    # --- chips ------------------------------------------------------------------

    @fails_deferred
    def issue(self, account_id: int, amount: int) -> Deferred[int]:
        check_id(account_id)
        check_amount(amount, "issued amount")
        return self._write(self._issue, account_id, amount, self._clock())

    @staticmethod
    def _issue(txn: Any, account_id: int, amount: int, now: float) -> int:
        balance = _credit(txn, account_id, amount)
        _journal(txn, account_id, "issue", amount, balance, None, "", now)
        return balance

    @fails_deferred
    def stake(
        self, account_id: int, round_id: str, key: str, amount: int
    ) -> Deferred[int]:
        check_id(account_id)
        check_text(round_id, "round id")
        check_text(key, "stake key")
        check_amount(amount, "stake")
        return self._write(
            self._stake, account_id, round_id, key, amount, self._clock()
        )

    @staticmethod
    def _stake(
        txn: Any, account_id: int, round_id: str, key: str, amount: int, now: float
    ) -> int:
        state = _round_state(txn, round_id)
        if state is None:
            txn.execute(
                "INSERT INTO rounds (round_id, state, opened) VALUES (?, 'open', ?)",
                (round_id, now),
            )
        elif state != "open":
            raise RoundClosedError(round_id, state)
        if _one(
            txn,
            "SELECT 1 FROM stakes WHERE round_id = ? AND account_id = ? AND key = ?",
            (round_id, account_id, key),
        ):
            raise DuplicateStakeError(round_id, account_id, key)
        # The balance check and the debit are one statement: nothing can spend
        # the same chips between them, whatever else is running.
        txn.execute(
            "UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?",
            (amount, account_id, amount),
        )
        if txn.rowcount != 1:
            raise InsufficientFundsError(_balance(txn, account_id), amount)
        # UNIQUE (round_id, account_id, key) backs up the check above.
        txn.execute(
            "INSERT INTO stakes (round_id, account_id, key, amount, state, created)"
            " VALUES (?, ?, ?, ?, 'held', ?)",
            (round_id, account_id, key, amount, now),
        )
        balance = _balance(txn, account_id)
        _journal(txn, account_id, "stake", -amount, balance, round_id, key, now)
        return balance

    @fails_deferred
    def settle(
        self,
        round_id: str,
        payouts: Mapping[int, int],
        record: Mapping[str, Any] | None = None,
    ) -> Deferred[Mapping[int, int]]:
        check_text(round_id, "round id")
        # Copied and checked here, on the reactor thread, so the caller may
        # reuse its dict and a bad value fails before touching the database.
        checked = {
            check_id(account_id): check_amount(payout, "payout", allow_zero=True)
            for account_id, payout in payouts.items()
        }
        record_json = json.dumps(
            {} if record is None else record, sort_keys=True, separators=(",", ":")
        )
        return self._write(self._settle, round_id, checked, record_json, self._clock())

    @staticmethod
    def _settle(
        txn: Any, round_id: str, payouts: dict[int, int], record: str, now: float
    ) -> dict[int, int]:
        state = _round_state(txn, round_id)
        if state is None:
            # Nobody bet.  Record the round so a late stake cannot reopen it.
            txn.execute(
                "INSERT INTO rounds (round_id, state, opened, closed)"
                " VALUES (?, 'settled', ?, ?)",
                (round_id, now, now),
            )
            if payouts:
                raise SettlementError(
                    f"round {round_id!r} has no stakes, cannot pay {sorted(payouts)}"
                )
            return {}
        if state != "open":
            return _round_balances(txn, round_id)  # already paid: change nothing
        staked = dict(
            txn.execute(
                "SELECT account_id, SUM(amount) FROM stakes"
                " WHERE round_id = ? AND state = 'held' GROUP BY account_id",
                (round_id,),
            ).fetchall()
        )
        if set(payouts) != set(staked):
            raise SettlementError(
                f"payouts for round {round_id!r} must name exactly the accounts"
                f" that staked, {sorted(staked)}; got {sorted(payouts)}"
            )
        balances = {}
        for account_id in sorted(staked):
            payout = payouts[account_id]
            balance = _credit(txn, account_id, payout)
            _journal(txn, account_id, "payout", payout, balance, round_id, "", now)
            txn.execute(
                "INSERT INTO hands"
                " (round_id, account_id, staked, payout, record, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (round_id, account_id, staked[account_id], payout, record, now),
            )
            balances[account_id] = balance
        _close_round(txn, round_id, "settled", now)
        return balances

    @fails_deferred
    def refund(self, round_id: str) -> Deferred[Mapping[int, int]]:
        check_text(round_id, "round id")
        return self._write(self._refund, round_id, self._clock())

    @staticmethod
    def _refund(txn: Any, round_id: str, now: float) -> dict[int, int]:
        if _round_state(txn, round_id) == "open":
            _refund_round(txn, round_id, now)
        return _round_balances(txn, round_id)

    @fails_deferred
    def recover(self) -> Deferred[list[tuple[str, int, int]]]:
        return self._write(self._recover, self._clock()).addCallback(log_recovered)

    @staticmethod
    def _recover(txn: Any, now: float) -> list[tuple[str, int, int]]:
        open_rounds = txn.execute(
            "SELECT round_id FROM rounds WHERE state = 'open' ORDER BY opened, round_id"
        ).fetchall()
        refunded = []
        for (round_id,) in open_rounds:
            refunded.extend(_refund_round(txn, round_id, now))
        return refunded

    # --- reports ----------------------------------------------------------------

    @fails_deferred
    def ledger(self, account_id: int, limit: int = 20) -> Deferred[list[LedgerEntry]]:
        return self._read(_select_ledger, check_id(account_id), check_limit(limit))

    @fails_deferred
    def history(self, account_id: int, limit: int = 10) -> Deferred[list[HandRecord]]:
        return self._read(_select_hands, check_id(account_id), check_limit(limit))

    @fails_deferred
    def books(self) -> Deferred[Books]:
        return self._read(read_books)

    @fails_deferred
    def audit(self) -> Deferred[Audit]:
        """Every check of :mod:`blackjack.server.storage.audit`, in one read transaction."""
        return self._read(audit)


# --- queries, run on the pool thread inside a transaction --------------------


def _one(txn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = txn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def _balance(txn: Any, account_id: int) -> int:
    balance = _one(txn, "SELECT balance FROM accounts WHERE id = ?", (account_id,))
    if balance is None:
        raise UnknownAccountError(account_id)
    return int(balance)


def _credit(txn: Any, account_id: int, amount: int) -> int:
    txn.execute(
        "UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, account_id)
    )
    if txn.rowcount != 1:
        raise UnknownAccountError(account_id)
    return _balance(txn, account_id)


def _journal(
    txn: Any,
    account_id: int,
    kind: str,
    amount: int,
    balance: int,
    round_id: str | None,
    key: str,
    now: float,
) -> None:
    txn.execute(
        "INSERT INTO ledger (account_id, kind, amount, balance, round_id, key, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account_id, kind, amount, balance, round_id, key, now),
    )


def _round_state(txn: Any, round_id: str) -> str | None:
    state: str | None = _one(
        txn, "SELECT state FROM rounds WHERE round_id = ?", (round_id,)
    )
    return state


def _round_balances(txn: Any, round_id: str) -> dict[int, int]:
    return dict(
        txn.execute(
            "SELECT id, balance FROM accounts WHERE id IN"
            " (SELECT account_id FROM stakes WHERE round_id = ?) ORDER BY id",
            (round_id,),
        ).fetchall()
    )


def _close_round(txn: Any, round_id: str, state: str, now: float) -> None:
    # Stakes and round share the word: 'settled' or 'refunded'.
    txn.execute(
        "UPDATE stakes SET state = ? WHERE round_id = ? AND state = 'held'",
        (state, round_id),
    )
    txn.execute(
        "UPDATE rounds SET state = ?, closed = ? WHERE round_id = ?",
        (state, now, round_id),
    )


def _refund_round(txn: Any, round_id: str, now: float) -> list[tuple[str, int, int]]:
    held = txn.execute(
        "SELECT account_id, key, amount FROM stakes"
        " WHERE round_id = ? AND state = 'held' ORDER BY id",
        (round_id,),
    ).fetchall()
    for account_id, key, amount in held:
        balance = _credit(txn, account_id, amount)
        _journal(txn, account_id, "refund", amount, balance, round_id, key, now)
    _close_round(txn, round_id, "refunded", now)
    return [(round_id, account_id, amount) for account_id, _key, amount in held]


def _select_account(txn: Any, column: str, value: object) -> Account | None:
    # ``column`` is one of two literals chosen above, never user input.
    row = txn.execute(
        f"SELECT id, name, balance, created FROM accounts WHERE {column} = ?",
        (value,),
    ).fetchone()
    return None if row is None else Account(*row)


def _select_password_hash(txn: Any, name_key: str) -> str | None:
    stored: str | None = _one(
        txn, "SELECT password_hash FROM accounts WHERE name_key = ?", (name_key,)
    )
    return stored


def _select_ledger(txn: Any, account_id: int, limit: int) -> list[LedgerEntry]:
    rows = txn.execute(
        "SELECT id, account_id, kind, amount, balance, round_id, key, created"
        " FROM ledger WHERE account_id = ? ORDER BY id DESC LIMIT ?",
        (account_id, limit),
    ).fetchall()
    return [LedgerEntry(*row) for row in rows]


def _select_hands(txn: Any, account_id: int, limit: int) -> list[HandRecord]:
    rows = txn.execute(
        "SELECT id, round_id, account_id, staked, payout, record, created"
        " FROM hands WHERE account_id = ? ORDER BY id DESC LIMIT ?",
        (account_id, limit),
    ).fetchall()
    return [HandRecord(*row) for row in rows]


# --- choosing a backend ------------------------------------------------------


def open_storage(
    url_or_path: str, clock: Callable[[], float] | None = None
) -> IStorage:
    """Open the storage named by a path or URL.

    Accepted: a plain file path, ``":memory:"``, ``sqlite:///relative.db``,
    ``sqlite:////absolute/path.db`` and ``sqlite://`` (in memory).  Other
    schemes (a future ``postgresql://``) are refused with a clear error.
    """
    if url_or_path.startswith("sqlite:///"):
        path = url_or_path[len("sqlite:///") :] or ":memory:"
    elif url_or_path == "sqlite://":
        path = ":memory:"
    elif "://" in url_or_path:
        scheme = url_or_path.split("://", 1)[0]
        raise ValueError(
            f"unsupported database {scheme!r} in {url_or_path!r}:"
            " use a file path or sqlite:///path"
        )
    else:
        path = url_or_path
    if not path:
        raise ValueError("empty database path")
    return SQLiteStorage(path, clock)
