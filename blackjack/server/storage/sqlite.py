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

import functools
import json
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar

from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.server.storage import sql_records
from blackjack.server.storage.audit import Audit, audit, read_books
from blackjack.server.storage.interface import (
    Account,
    Books,
    DatabaseError,
    DuplicateStakeError,
    HandRecord,
    HandSummary,
    InsufficientFundsError,
    IStorage,
    LedgerEntry,
    Leaderboard,
    PlayerStats,
    SHOE_RETIRED,
    ShoeEntry,
    LookAlikeNameError,
    NameTakenError,
    RoundClosedError,
    SettlementError,
    UnknownAccountError,
    check_amount,
)
from blackjack.server.text import look_alike_key

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorCore

__all__ = ["SQLiteStorage", "open_storage", "SCHEMA_VERSION"]

SCHEMA_VERSION = 3
"""1: the first release.  2: ``accounts.look_key``, the look-alike form of
each name, so that ``aIice`` cannot join next to ``alice``; a version 1 file
gains the column, filled in, when it is opened.  3: provably fair shoes
(``shoes``, ``rounds.shoe_id``), each hand's summary for ``stats``, and the
ledger kind ``rebuy`` (:mod:`.sql_records`)."""

_SCHEMA = """
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,   -- lower(name): unique ignoring case
    password_hash TEXT    NOT NULL,
    balance       INTEGER NOT NULL CHECK (typeof(balance) = 'integer' AND balance >= 0),
    created       REAL    NOT NULL,
    look_key      TEXT    NOT NULL DEFAULT ''  -- text.look_alike_key(name)
);
CREATE INDEX accounts_by_look_key ON accounts (look_key);
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
    kind       TEXT    NOT NULL CHECK (kind IN ('issue', 'rebuy', 'stake', 'payout', 'refund')),
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

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _configure(connection: sqlite3.Connection) -> None:
    """Set up each new connection (adbapi's ``cp_openfun``)."""
    # WAL lets readers in other processes run beside the one writer; FULL keeps
    # a committed chip movement on disk across a power cut, not only a crash.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")


def _deferred(
    method: Callable[_P, Deferred[_T]],
) -> Callable[_P, Deferred[_T]]:
    """Make a method report bad arguments as a failed Deferred, never a raise."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
        return defer.maybeDeferred(method, *args, **kwargs)

    return wrapper


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


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _check_id(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"account id must be an int, got {value!r}")
    return value


def _check_time(value: object) -> float:
    if type(value) not in (int, float):
        raise TypeError(f"a time must be a number of seconds, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _check_reason(value: object) -> str:
    if value not in SHOE_RETIRED:
        raise ValueError(f"a shoe is retired for one of {SHOE_RETIRED}, not {value!r}")
    return str(value)


def _check_limit(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"limit must be a whole number >= 0, got {value!r}")
    return value


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
        self._pool.runInteraction(self._create_schema).addCallback(
            self._log_upgrade
        ).addErrback(
            lambda failure: _log.failure(
                "could not create the schema in {path}", failure, path=path
            )
        ).addBoth(lambda _: self._next_batch())

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"

    # --- plumbing ---------------------------------------------------------------

    def _create_schema(self, txn: adbapi.Transaction) -> int | None:
        """Create or upgrade the schema; how many accounts an upgrade filled in."""
        upgraded = None
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
                _add_records(txn, rebuild_ledger=False)
                txn.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif version in (1, 2):
                if version == 1:
                    upgraded = _add_look_keys(txn)
                _add_records(txn, rebuild_ledger=True)
                txn.execute("INSERT INTO schema_version (version) VALUES (3)")
            elif version != SCHEMA_VERSION:
                raise DatabaseError(
                    f"database {self.path!r} has schema version {version}; "
                    f"this server knows version {SCHEMA_VERSION}"
                )
            txn.execute("COMMIT")
            return upgraded
        except DatabaseError as e:
            self._schema_error = str(e)
            raise
        except sqlite3.Error as e:
            self._schema_error = f"cannot open database {self.path!r}: {e}"
            raise DatabaseError(self._schema_error) from e

    def _log_upgrade(self, upgraded: int | None) -> None:
        if upgraded is not None:
            _log.info(
                "upgraded {path} to schema version {version}: look-alike keys for"
                " {count} accounts",
                path=self.path,
                version=SCHEMA_VERSION,
                count=upgraded,
            )

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

    @_deferred
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

    @_deferred
    def create_account(
        self, name: str, password_hash: str, bankroll: int
    ) -> Deferred[Account]:
        _check_text(name, "name")
        _check_text(password_hash, "password hash")
        check_amount(bankroll, "bankroll", allow_zero=True)
        return self._write(
            self._create_account, name, password_hash, bankroll, self._clock()
        )

    @staticmethod
    def _create_account(
        txn: Any, name: str, password_hash: str, bankroll: int, now: float
    ) -> Account:
        look_key = look_alike_key(name)
        # Not a UNIQUE index: files from version 1 may already hold two names
        # that look alike, and both must go on working.  This check and the
        # insert share the write transaction, so no other registration fits
        # between them.
        taken = _one(txn, "SELECT name FROM accounts WHERE look_key = ?", (look_key,))
        if taken is not None and taken.lower() != name.lower():
            raise LookAlikeNameError(name, taken)
        try:
            txn.execute(
                "INSERT INTO accounts"
                " (name, name_key, password_hash, balance, created, look_key)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, name.lower(), password_hash, bankroll, now, look_key),
            )
        except sqlite3.IntegrityError as e:
            if "accounts.name_key" in str(e):
                raise NameTakenError(name) from None
            raise
        account_id = txn.lastrowid
        if bankroll:
            _journal(txn, account_id, "issue", bankroll, bankroll, None, "", now)
        return Account(account_id, name, bankroll, now)

    @_deferred
    def get_account(self, name: str) -> Deferred[Account | None]:
        _check_text(name, "name")
        return self._read(_select_account, "name_key", name.lower())

    @_deferred
    def look_alike(self, name: str) -> Deferred[str | None]:
        _check_text(name, "name")
        return self._read(
            _one, "SELECT name FROM accounts WHERE look_key = ? ORDER BY id LIMIT 1",
            (look_alike_key(name),))

    @_deferred
    def get_account_by_id(self, account_id: int) -> Deferred[Account | None]:
        return self._read(_select_account, "id", _check_id(account_id))

    @_deferred
    def password_hash(self, name: str) -> Deferred[str | None]:
        _check_text(name, "name")
        return self._read(_select_password_hash, name.lower())

    @_deferred
    def balance(self, account_id: int) -> Deferred[int]:
        return self._read(_balance, _check_id(account_id))

    # --- chips ------------------------------------------------------------------

    @_deferred
    def issue(self, account_id: int, amount: int) -> Deferred[int]:
        _check_id(account_id)
        check_amount(amount, "issued amount")
        return self._write(self._issue, account_id, amount, self._clock())

    @staticmethod
    def _issue(txn: Any, account_id: int, amount: int, now: float) -> int:
        balance = _credit(txn, account_id, amount)
        _journal(txn, account_id, "issue", amount, balance, None, "", now)
        return balance

    @_deferred
    def stake(
        self, account_id: int, round_id: str, key: str, amount: int
    ) -> Deferred[int]:
        _check_id(account_id)
        _check_text(round_id, "round id")
        _check_text(key, "stake key")
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

    @_deferred
    def settle(
        self,
        round_id: str,
        payouts: Mapping[int, int],
        record: Mapping[str, Any] | None = None,
        *,
        shoe: str | None = None,
        summaries: Mapping[int, HandSummary] | None = None,
    ) -> Deferred[Mapping[int, int]]:
        _check_text(round_id, "round id")
        # Copied and checked here, on the reactor thread, so the caller may
        # reuse its dict and a bad value fails before touching the database.
        checked = {
            _check_id(account_id): check_amount(payout, "payout", allow_zero=True)
            for account_id, payout in payouts.items()
        }
        record_json = json.dumps(
            {} if record is None else record, sort_keys=True, separators=(",", ":")
        )
        if shoe is not None:
            _check_text(shoe, "shoe id")
        extras = dict(summaries or {})
        return self._write(
            self._settle, round_id, checked, record_json, self._clock(), shoe, extras
        )

    @staticmethod
    def _settle(
        txn: Any, round_id: str, payouts: dict[int, int], record: str, now: float,
        shoe: str | None = None, summaries: Mapping[int, HandSummary] | None = None,
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
        sql_records.settle_extras(txn, round_id, shoe, summaries or {}, payouts)
        _close_round(txn, round_id, "settled", now)
        return balances

    @_deferred
    def refund(self, round_id: str) -> Deferred[Mapping[int, int]]:
        _check_text(round_id, "round id")
        return self._write(self._refund, round_id, self._clock())

    @staticmethod
    def _refund(txn: Any, round_id: str, now: float) -> dict[int, int]:
        if _round_state(txn, round_id) == "open":
            _refund_round(txn, round_id, now)
        return _round_balances(txn, round_id)

    @_deferred
    def recover(self) -> Deferred[list[tuple[str, int, int]]]:
        return self._write(self._recover, self._clock()).addCallback(
            self._log_recovered
        )

    @staticmethod
    def _recover(txn: Any, now: float) -> list[tuple[str, int, int]]:
        open_rounds = txn.execute(
            "SELECT round_id FROM rounds WHERE state = 'open' ORDER BY opened, round_id"
        ).fetchall()
        refunded = []
        for (round_id,) in open_rounds:
            refunded.extend(_refund_round(txn, round_id, now))
        return refunded

    def _log_recovered(
        self, refunded: list[tuple[str, int, int]]
    ) -> list[tuple[str, int, int]]:
        for round_id, account_id, amount in refunded:
            _log.warn(
                "recovery: refunded {amount} chips to account {account_id},"
                " left in escrow for round {round_id} by a crash",
                amount=amount,
                account_id=account_id,
                round_id=round_id,
            )
        return refunded

    # --- reports ----------------------------------------------------------------

    @_deferred
    def ledger(self, account_id: int, limit: int = 20) -> Deferred[list[LedgerEntry]]:
        return self._read(_select_ledger, _check_id(account_id), _check_limit(limit))

    @_deferred
    def history(self, account_id: int, limit: int = 10) -> Deferred[list[HandRecord]]:
        return self._read(_select_hands, _check_id(account_id), _check_limit(limit))

    @_deferred
    def books(self) -> Deferred[Books]:
        return self._read(read_books)

    @_deferred
    def hand(self, account_id: int, hand_id: int) -> Deferred[HandRecord | None]:
        return self._read(sql_records.select_hand, _check_id(account_id),
                          _check_limit(hand_id))

    @_deferred
    def stats(self, account_id: int) -> Deferred[PlayerStats]:
        return self._read(sql_records.select_stats, _check_id(account_id))

    @_deferred
    def top(self, limit: int, since: float) -> Deferred[Leaderboard]:
        return self._read(sql_records.select_top, _check_limit(limit), _check_time(since))

    @_deferred
    def rebuy(self, account_id: int, amount: int, below: int, since: float) -> Deferred[int]:
        _check_id(account_id)
        check_amount(amount, "rebuy")
        check_amount(below, "rebuy threshold", allow_zero=True)
        return self._write(self._rebuy, account_id, amount, below, _check_time(since),
                           self._clock())

    @staticmethod
    def _rebuy(txn: Any, account_id: int, amount: int, below: int, since: float,
               now: float) -> int:
        sql_records.rebuy(txn, account_id, below, since)
        balance = _credit(txn, account_id, amount)
        _journal(txn, account_id, "rebuy", amount, balance, None, "", now)
        return balance

    @_deferred
    def open_shoe(self, shoe_id: str, table: str, record: Mapping[str, Any],
                  server_seed: str) -> Deferred[None]:
        _check_text(shoe_id, "shoe id")
        _check_text(table, "table")
        _check_text(server_seed, "server seed")
        record_json = json.dumps(dict(record), sort_keys=True, separators=(",", ":"))
        return self._write(sql_records.open_shoe, shoe_id, table, record_json, server_seed,
                           self._clock())

    @_deferred
    def retire_shoe(self, shoe_id: str, reason: str) -> Deferred[None]:
        _check_text(shoe_id, "shoe id")
        return self._write(sql_records.retire_shoe, shoe_id, _check_reason(reason),
                           self._clock())

    @_deferred
    def retire_shoes(self, table: str | None, reason: str) -> Deferred[list[str]]:
        if table is not None:
            _check_text(table, "table")
        return self._write(sql_records.retire_shoes, table, _check_reason(reason),
                           self._clock())

    @_deferred
    def shoe(self, shoe_id: str) -> Deferred[ShoeEntry | None]:
        _check_text(shoe_id, "shoe id")
        return self._read(sql_records.select_shoe, shoe_id)

    @_deferred
    def audit(self) -> Deferred[Audit]:
        """Every check of :mod:`blackjack.server.storage.audit`, in one read transaction."""
        return self._read(audit)


# --- queries, run on the pool thread inside a transaction --------------------


def _add_look_keys(txn: Any) -> int:
    """Bring a version 1 file to version 2: add ``look_key`` and fill it in."""
    txn.execute("ALTER TABLE accounts ADD COLUMN look_key TEXT NOT NULL DEFAULT ''")
    names = txn.execute("SELECT id, name FROM accounts").fetchall()
    txn.executemany(
        "UPDATE accounts SET look_key = ? WHERE id = ?",
        [(look_alike_key(name), account_id) for account_id, name in names],
    )
    txn.execute("CREATE INDEX accounts_by_look_key ON accounts (look_key)")
    txn.execute("INSERT INTO schema_version (version) VALUES (2)")
    return len(names)


def _add_records(txn: Any, *, rebuild_ledger: bool) -> None:
    """Version 3: shoes, hand summaries, and (for an older file) the ledger kind ``rebuy``."""
    for statement in sql_records.COLUMNS:
        txn.execute(statement)
    for statement in sql_records.TABLES.split(";"):
        if statement.strip():
            txn.execute(statement)
    if not rebuild_ledger:
        return
    # SQLite cannot change a CHECK constraint in place: the ledger is copied
    # into a table made with the new one, as the SQLite manual's ALTER TABLE
    # page describes, in this same transaction.
    create = _one(txn, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger'")
    txn.execute(create.replace("CREATE TABLE ledger", "CREATE TABLE ledger_new").replace(
        "'issue', 'stake'", "'issue', 'rebuy', 'stake'"))
    txn.execute("INSERT INTO ledger_new SELECT * FROM ledger")
    txn.execute("DROP TABLE ledger")
    txn.execute("ALTER TABLE ledger_new RENAME TO ledger")
    txn.execute("CREATE INDEX ledger_by_account ON ledger (account_id, id)")
    txn.execute("CREATE INDEX ledger_by_kind ON ledger (kind)")
    txn.execute("CREATE UNIQUE INDEX ledger_once ON ledger (round_id, account_id, kind, key)"
                " WHERE round_id IS NOT NULL")


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
