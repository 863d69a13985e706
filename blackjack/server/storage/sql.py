"""The ledger in SQL, with group commit: what the SQLite and PostgreSQL backends share.

:class:`SQLStorage` implements :class:`~blackjack.server.storage.IStorage`
once; a backend (:mod:`.sqlite`, :mod:`.postgresql`) supplies the connection
pool, the schema and a :class:`Cursor` that speaks its dialect.  The queries
are written once, with ``?`` placeholders, and run on the pool's one thread.

Group commit.  A durable COMMIT (an fsync), not the SQL, is what a write
costs.  Every call, read or write, joins one first-in first-out queue on the
reactor thread.  When no batch is running, everything queued (up to
:attr:`SQLStorage.max_batch` calls) runs as one transaction on the pool
thread: BEGIN, then each call inside its own ``SAVEPOINT``, then one COMMIT
and so one fsync for the lot.  A call that fails is rolled back to its
savepoint and fails alone; the others in its batch still commit.  Only once
COMMIT has returned are the calls' Deferreds fired, in queue order, so no
caller hears "done" for a change that is not on disk; if BEGIN or COMMIT
fails (or the database drops the transaction), every call of the batch fails
and none of it is kept.  Whatever queued meanwhile is the next batch, so a
call waits at most for the batch in flight and its own.  One queue keeps
order: a read issued after a write sees it.

Money safety is in the SQL, not in the order of Python statements: a debit is
one ``UPDATE ... WHERE balance >= ?`` (nothing can spend the same chips
between the check and the debit), the round's row is locked (``FOR UPDATE``
where the dialect has it; SQLite's ``BEGIN IMMEDIATE`` locks the whole file)
before a stake, settlement or refund reads its state, so two connections
cannot settle a round twice or stake into a round being settled, and
``CHECK`` constraints and unique indexes back up every check made in Python.

A round belongs to the table its id names (:func:`round_table`); it is
recorded in ``rounds.table_name`` so recovery can refund one table's open
rounds (:meth:`SQLStorage.recover`).

In a room of several nodes (:mod:`.room`, queries in :mod:`.room_sql`) a
stake or settlement that names a :class:`~.room.Fence` first checks, in its
own transaction, that the table's lease still has that node and epoch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.server.meter import NULL_METER, Meter
from blackjack.server.storage import admin, room_sql, sql_records
from blackjack.server.storage._backend import (
    Refunded, fails_deferred, log_recovered, rebuy_arguments, record_text, shoe_arguments,
)
from blackjack.server.storage.audit import Audit, audit, read_books
from blackjack.server.storage.room import LEFT_DEALING, Arrival, Fence, RoomView, Takeover
from blackjack.server.text import look_alike_key
from blackjack.server.storage.interface import (
    ROLES,
    SANCTIONS,
    Account,
    AdminAct,
    Books,
    DatabaseError,
    DuplicateStakeError,
    FencedError,
    HandRecord,
    HandSummary,
    InsufficientFundsError,
    LedgerEntry,
    Leaderboard,
    LookAlikeNameError,
    NameTakenError,
    PlayerStats,
    RoundClosedError,
    SettlementError,
    ShoeEntry,
    UnknownAccountError,
    check_act,
    check_amount,
    check_choice,
    check_grant,
    check_id,
    check_limit,
    check_reason,
    check_text,
    check_time,
    round_table,
)

if TYPE_CHECKING:
    from twisted.enterprise import adbapi

__all__ = ["SQLStorage", "Cursor"]

_log = Logger()
_T = TypeVar("_T")


class Cursor:
    """A DB-API cursor seen through one dialect; the queries below use only this.

    ``execute`` takes ``?`` placeholders and returns the cursor, so
    ``txn.execute(sql).fetchone()`` reads as with ``sqlite3``.  A backend
    subclasses it for its placeholder style, locking clause, new-row ids and
    unique-violation errors.
    """

    for_update = ""
    """Appended to a SELECT that must lock the rows it reads."""

    for_share = ""
    """Appended to a SELECT that must keep the rows it reads from changing till COMMIT."""

    stake_function = False
    """True where the database has ``blackjack_stake``: a stake in one round trip."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        # Rounds whose row this transaction holds locked.  Locking a row again
        # in every call's savepoint would make PostgreSQL pile the calls'
        # subtransactions into one growing multixact: quadratic for a batch
        # of stakes into one round.  A lock taken in a call that is rolled
        # back is released with it, so only kept calls' locks count.
        self._locked: set[str] = set()
        self._pending: set[str] = set()

    def lock(self, round_id: str) -> str:
        """The clause that locks the round's row, unless this transaction holds it."""
        if not self.for_update or round_id in self._locked:
            return ""
        self._pending.add(round_id)
        return self.for_update

    def lock_shared(self, key: str) -> str:
        """:meth:`lock`, in share mode (others may read-lock the row too)."""
        if not self.for_share or key in self._locked:
            return ""
        self._pending.add(key)
        return self.for_share

    def database_time(self, fallback: float) -> float:
        """The database's clock, for leases; ``fallback`` (the storage's) if it has none."""
        return fallback

    def call_started(self) -> None:
        """A call's savepoint is set: its locks are not yet the transaction's."""
        self._pending = set()

    def call_kept(self) -> None:
        """The call's savepoint was released: its locks are held till COMMIT."""
        self._locked |= self._pending

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Cursor:
        self._cursor.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._cursor.executemany(sql, rows)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        rows: list[Any] = self._cursor.fetchall()
        return rows

    @property
    def rowcount(self) -> int:
        count: int = self._cursor.rowcount
        return count

    def insert_id(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run an INSERT into a table with an ``id`` key; the new row's id."""
        self.execute(sql, params)
        new_id: int = self._cursor.lastrowid
        return new_id

    def name_taken(self, error: Exception) -> bool:
        """True if ``error`` is the unique index on ``accounts.name_key`` refusing a row."""
        raise NotImplementedError

    def lock_name(self, look_key: str) -> None:
        """Keep other connections from registering this look-alike key till COMMIT.

        Nothing to do where a writing transaction locks the whole database
        (SQLite's BEGIN IMMEDIATE).
        """

    # Each statement is a round trip to a database server, so the two steps a
    # dialect can do in one statement are methods (PostgreSQL: RETURNING).

    def open_round(self, round_id: str, table: str, now: float) -> str | None:
        """Open the round if it is new; its state, its row locked till the end."""
        self.execute("INSERT INTO rounds (round_id, table_name, state, opened)"
                     " VALUES (?, ?, 'open', ?) ON CONFLICT (round_id) DO NOTHING",
                     (round_id, table, now))
        state: str | None = self.execute(
            "SELECT state FROM rounds WHERE round_id = ?" + self.lock(round_id),
            (round_id,)).fetchone()[0]
        return state

    def add_chips(self, account_id: int, amount: int, *, debit: bool = False) -> int | None:
        """Credit ``amount`` (or debit it, if the balance covers it); the new balance.

        ``None`` if nothing changed: no such account, or (debit) too few chips.
        """
        if debit:
            self.execute("UPDATE accounts SET balance = balance - ?"
                         " WHERE id = ? AND balance >= ?", (amount, account_id, amount))
        else:
            self.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?",
                         (amount, account_id))
        if self.rowcount != 1:
            return None
        return int(self.execute("SELECT balance FROM accounts WHERE id = ?",
                                (account_id,)).fetchone()[0])


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


class SQLStorage:
    """IStorage over an ``adbapi`` pool of one connection, with group commit.

    A backend's ``__init__`` makes ``self._pool`` and then calls
    :meth:`_start`; it overrides the hooks in the "dialect" section.
    ``clock`` stamps every row and is only ever called on the reactor thread.
    """

    max_batch = 512
    """The most calls one group-commit transaction carries."""

    meter: Meter = NULL_METER
    """Told of every batch committed: its calls, and how long it took."""

    driver_errors: tuple[type[Exception], ...] = ()
    """The driver's exception classes, turned into :class:`DatabaseError`."""

    _pool: adbapi.ConnectionPool

    def _start(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._closed = False
        # Set (on the pool thread) when the schema can never be used (a newer
        # version, a file that is not a database); every later batch then
        # fails with it instead of with "no such table".
        self._schema_error: str | None = None
        self._prepared = False
        # Calls waiting for the next batch, and Deferreds waiting for the queue
        # to drain (close).  ``_busy`` while a batch is in flight or its
        # Deferreds are firing.
        self._queue: deque[_Queued] = deque()
        self._idle: list[Deferred[None]] = []
        self._busy = False
        self._failing = False
        #: Batch transactions committed, and the calls they carried (each
        #: committed or rolled back to its savepoint); for tests and operators.
        self.commits = 0
        self.batched_calls = 0

    # --- dialect: what a backend overrides -------------------------------------------

    def _cursor(self, txn: adbapi.Transaction) -> Cursor:
        """The pool's cursor wrapped in the backend's :class:`Cursor`."""
        raise NotImplementedError

    def _prepare(self, txn: Cursor) -> None:
        """Create or upgrade the schema, in a transaction of its own (first batch only)."""
        raise NotImplementedError

    def _begin(self, writes: bool) -> str:
        """The statement that opens a batch that writes, or only reads."""
        return "BEGIN"

    def _lost(self, txn: adbapi.Transaction, error: Exception) -> bool:
        """True if ``error`` means the connection is gone (so the batch may be retried)."""
        return False

    def _wrap(self, error: Exception, committing: bool, note: str = "") -> Exception:
        """A driver error as the :class:`DatabaseError` a caller gets.

        ``committing``: the error came from COMMIT, so the batch may or may not
        have been kept.  ``note`` is added to the message.
        """
        wrapped = DatabaseError(f"database error: {error}{note}")
        wrapped.__cause__ = error
        return wrapped

    # --- the batch, on the pool thread ------------------------------------------------

    def _run_batch(self, txn: adbapi.Transaction, begin: str,
                   calls: list[_Call]) -> list[_Outcome]:
        """Run ``calls`` in one transaction; one outcome each.

        If the connection turns out to be gone before COMMIT was sent (the
        database restarted since the last batch), nothing of the batch was
        kept, so it runs once more on a new connection.
        """
        try:
            return self._try_batch(txn, begin, calls)
        except _BeforeCommit as lost:
            if not self._lost(txn, lost.error):
                raise self._wrap(lost.error, False, lost.note) from lost.error
        txn.reconnect()
        txn.reopen()
        try:
            return self._try_batch(txn, begin, calls)
        except _BeforeCommit as again:
            raise self._wrap(again.error, False, again.note) from again.error

    def _try_batch(self, txn: adbapi.Transaction, begin: str,
                   calls: list[_Call]) -> list[_Outcome]:
        if self._schema_error is not None:
            raise DatabaseError(self._schema_error)
        cursor = self._cursor(txn)
        outcomes: list[_Outcome] = []
        try:
            if not self._prepared:
                self._prepare_once(cursor)
            cursor.execute(begin)
            for work, args in calls:
                if work is _stake and cursor.stake_function:
                    # Changes nothing when refused: no savepoint to pay for.
                    outcomes.append(self._unguarded(cursor, work, args))
                    continue
                cursor.execute("SAVEPOINT call")
                cursor.call_started()
                try:
                    result = work(cursor, *args)
                except Exception as error:
                    try:
                        cursor.execute("ROLLBACK TO call")
                        cursor.execute("RELEASE call")
                    except self.driver_errors as lost:
                        # The database dropped the whole transaction (I/O
                        # error, full disk, lost connection): nothing of this
                        # batch is left to commit.
                        raise _BeforeCommit(error, f" (transaction lost: {lost})") from error
                    outcomes.append((False, self._domain(error)))
                else:
                    cursor.execute("RELEASE call")
                    cursor.call_kept()
                    outcomes.append((True, result))
        except self.driver_errors as error:
            _roll_back(cursor, self.driver_errors)
            raise _BeforeCommit(error) from error
        except BaseException:
            _roll_back(cursor, self.driver_errors)
            raise
        try:
            cursor.execute("COMMIT")
        except self.driver_errors as error:
            _roll_back(cursor, self.driver_errors)
            raise self._wrap(error, True) from error
        return outcomes

    def _unguarded(self, cursor: Cursor, work: Callable[..., Any],
                   args: tuple[Any, ...]) -> _Outcome:
        """Run a call that writes nothing unless it succeeds, without a savepoint.

        A domain error fails it alone; a database error (which PostgreSQL
        answers by aborting the transaction) fails the whole batch.
        """
        cursor.call_started()
        try:
            result = work(cursor, *args)
        except self.driver_errors:
            raise
        except Exception as error:
            return (False, error)
        cursor.call_kept()
        return (True, result)

    def _prepare_once(self, cursor: Cursor) -> None:
        try:
            self._prepare(cursor)
        except DatabaseError as e:
            self._schema_error = str(e)
            raise
        self._prepared = True

    def _domain(self, error: Exception) -> Exception:
        """Domain errors pass through; a raw driver error becomes a DatabaseError."""
        if isinstance(error, self.driver_errors):
            return self._wrap(error, False)
        return error

    # --- the queue, on the reactor thread --------------------------------------------

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
        begin = self._begin(any(q.writes for q in batch))
        calls = [(q.work, q.args) for q in batch]
        self._pool.runInteraction(self._run_batch, begin, calls).addCallbacks(
            self._batch_committed,
            self._batch_failed,
            callbackArgs=(batch, self._clock()),
            errbackArgs=(batch,),
        )

    def _batch_committed(self, outcomes: list[_Outcome], batch: list[_Queued],
                         sent: float) -> None:
        self.commits += 1
        self.batched_calls += len(batch)
        self.meter.batch_committed(len(batch), self._clock() - sent)
        if self._failing:
            self._failing = False
            _log.info("{storage}: the database answers again", storage=self)
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
        if failure.check(*self.driver_errors):  # e.g. the connection could not open
            failure = Failure(self._wrap(failure.value, False))  # type: ignore[arg-type]
        if not self._failing:
            self._failing = True
            _log.warn("{storage}: a batch of {n} calls failed: {error}", storage=self,
                      n=len(batch), error=failure.value.__cause__ or failure.value)
        try:
            for queued in batch:
                queued.deferred.errback(failure)
        finally:
            self._next_batch()

    def ready(self) -> Deferred[None]:
        """Fire once the schema is there (created or upgraded); fail if it cannot be."""
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
    def create_account(self, name: str, password_hash: str, bankroll: int) -> Deferred[Account]:
        check_text(name, "name")
        check_text(password_hash, "password hash")
        check_amount(bankroll, "bankroll", allow_zero=True)
        return self._write(_create_account, name, password_hash, bankroll, self._clock())

    @fails_deferred
    def get_account(self, name: str) -> Deferred[Account | None]:
        check_text(name, "name")
        return self._read(_select_account, "name_key", name.lower(), self._clock())

    @fails_deferred
    def look_alike(self, name: str) -> Deferred[str | None]:
        check_text(name, "name")
        return self._read(_one, "SELECT name FROM accounts WHERE look_key = ? ORDER BY id LIMIT 1",
                          (look_alike_key(name),))

    @fails_deferred
    def get_account_by_id(self, account_id: int) -> Deferred[Account | None]:
        return self._read(_select_account, "id", check_id(account_id), self._clock())

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
        return self._write(_issue, account_id, amount, self._clock())

    @fails_deferred
    def stake(self, account_id: int, round_id: str, key: str, amount: int,
              *, fence: Fence | None = None) -> Deferred[int]:
        check_id(account_id)
        check_text(round_id, "round id")
        check_text(key, "stake key")
        check_amount(amount, "stake")
        return self._write(_stake, account_id, round_id, key, amount, self._clock(), fence)

    @fails_deferred
    def settle(self, round_id: str, payouts: Mapping[int, int],
               record: Mapping[str, Any] | None = None, *, shoe: str | None = None,
               summaries: Mapping[int, HandSummary] | None = None,
               fence: Fence | None = None) -> Deferred[Mapping[int, int]]:
        check_text(round_id, "round id")
        # Copied and checked here, on the reactor thread, so the caller may
        # reuse its dict and a bad value fails before touching the database.
        checked = {check_id(account_id): check_amount(payout, "payout", allow_zero=True)
                   for account_id, payout in payouts.items()}
        record_json = record_text(record)
        extras = sql_records.checked_extras(shoe, summaries)
        return self._write(_settle, round_id, checked, record_json, self._clock(), *extras,
                           fence)

    @fails_deferred
    def refund(self, round_id: str) -> Deferred[Mapping[int, int]]:
        check_text(round_id, "round id")
        return self._write(_refund, round_id, self._clock())

    @fails_deferred
    def recover(self, table: str | None = None) -> Deferred[Refunded]:
        if table is not None:
            check_text(table, "table")
        return self._write(_recover, table, self._clock()).addCallback(log_recovered)

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

    # --- hands, numbers, rebuys and fair shoes (sql_records) ---------------------

    @fails_deferred
    def hand(self, account_id: int, hand_id: int) -> Deferred[HandRecord | None]:
        return self._read(sql_records.select_hand, check_id(account_id), check_limit(hand_id))

    @fails_deferred
    def stats(self, account_id: int) -> Deferred[PlayerStats]:
        return self._read(sql_records.select_stats, check_id(account_id))

    @fails_deferred
    def top(self, limit: int, since: float) -> Deferred[Leaderboard]:
        return self._read(sql_records.select_top, check_limit(limit), check_time(since))

    @fails_deferred
    def rebuy(self, account_id: int, amount: int, below: int, since: float) -> Deferred[int]:
        return self._write(_rebuy, *rebuy_arguments(account_id, amount, below, since),
                           self._clock())

    @fails_deferred
    def open_shoe(self, shoe_id: str, table: str, record: Mapping[str, Any],
                  server_seed: str) -> Deferred[None]:
        return self._write(sql_records.open_shoe,
                           *shoe_arguments(shoe_id, table, record, server_seed), self._clock())

    @fails_deferred
    def retire_shoe(self, shoe_id: str, reason: str) -> Deferred[None]:
        check_text(shoe_id, "shoe id")
        return self._write(sql_records.retire_shoe, shoe_id, check_reason(reason),
                           self._clock())

    @fails_deferred
    def retire_shoes(self, table: str | None, reason: str) -> Deferred[list[str]]:
        if table is not None:
            check_text(table, "table")
        return self._write(sql_records.retire_shoes, table, check_reason(reason),
                           self._clock())

    @fails_deferred
    def shoe(self, shoe_id: str) -> Deferred[ShoeEntry | None]:
        check_text(shoe_id, "shoe id")
        return self._read(sql_records.select_shoe, shoe_id)

    @fails_deferred
    def audit(self) -> Deferred[Audit]:
        """Every check of :mod:`blackjack.server.storage.audit`, in one read transaction."""
        return self._read(audit)

    # --- the host's powers (queries in :mod:`.admin`) -----------------------------

    @fails_deferred
    def set_role(self, name: str, role: str, act: AdminAct) -> Deferred[Account]:
        check_text(name, "name")
        check_choice(role, ROLES, "role")
        return self._write(admin.set_role, name, role, check_act(act), self._clock())

    @fails_deferred
    def grant(self, account_id: int, amount: int, act: AdminAct) -> Deferred[int]:
        check_id(account_id)
        check_grant(amount)
        return self._write(admin.grant, account_id, amount, check_act(act), self._clock())

    @fails_deferred
    def sanction(self, account_id: int, kind: str, until: float | None,
                 act: AdminAct) -> Deferred[None]:
        check_id(account_id)
        check_choice(kind, SANCTIONS, "sanction")
        return self._write(admin.sanction, account_id, kind, until, check_act(act),
                           self._clock())

    @fails_deferred
    def lift(self, account_id: int, kind: str, act: AdminAct) -> Deferred[bool]:
        check_id(account_id)
        check_choice(kind, SANCTIONS, "sanction")
        return self._write(admin.lift, account_id, kind, check_act(act), self._clock())

    @fails_deferred
    def record_act(self, act: AdminAct) -> Deferred[int]:
        return self._write(admin.insert_act, check_act(act), self._clock())

    @fails_deferred
    def admin_acts(self, limit: int = 50) -> Deferred[list[AdminAct]]:
        return self._read(admin.select_acts, check_limit(limit))

    @fails_deferred
    def accounts_with_role(self, role: str) -> Deferred[list[Account]]:
        check_choice(role, ROLES, "role")
        return self._read(admin.accounts_with_role, role, self._clock())

    # --- the room of nodes (IRoomStorage) ---------------------------------------------

    @fails_deferred
    def room_tick(self, node: str, instance: str, address: str, draining: bool,
                  lease: float, held: Sequence[Fence]) -> Deferred[RoomView]:
        return self._write(room_sql.tick, check_text(node, "node"),
                           check_text(instance, "instance"), address, draining, lease,
                           tuple(held), self._clock())

    @fails_deferred
    def take_table(self, table: str, node: str, lease: float) -> Deferred[Takeover | None]:
        check_text(table, "table")
        check_text(node, "node")
        return self._write(_take_table, table, node, lease, self._clock()).addCallback(
            _log_takeover)

    @fails_deferred
    def save_seats(self, fence: Fence, seats: Mapping[int, int]) -> Deferred[bool]:
        return self._write(room_sql.save_seats, fence, dict(seats), self._clock())

    @fails_deferred
    def release_table(self, fence: Fence, seats: Mapping[int, int]) -> Deferred[bool]:
        return self._write(room_sql.release, fence, dict(seats), self._clock())

    @fails_deferred
    def arrive(self, account_id: int, node: str) -> Deferred[Arrival]:
        return self._write(room_sql.arrive, check_id(account_id), check_text(node, "node"),
                           self._clock())

    @fails_deferred
    def leave_room(self, node: str, instance: str, held: Sequence[Fence]) -> Deferred[None]:
        return self._write(room_sql.leave, node, instance, tuple(held))


class _BeforeCommit(Exception):
    """The batch failed before COMMIT was sent: nothing of it was kept."""

    def __init__(self, error: Exception, note: str = "") -> None:
        super().__init__(f"{error}{note}")
        self.error = error
        self.note = note


def _roll_back(cursor: Cursor, driver_errors: tuple[type[Exception], ...]) -> None:
    # The connection may be gone already; then there is nothing to roll back.
    try:
        cursor.execute("ROLLBACK")
    except driver_errors:
        pass


# --- queries, run on the pool thread inside a transaction --------------------


def _one(txn: Cursor, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = txn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def _create_account(txn: Cursor, name: str, password_hash: str, bankroll: int,
                    now: float) -> Account:
    look_key = look_alike_key(name)
    # Not a UNIQUE index (see schema version 2): the check and the insert
    # share the write transaction, and the key is locked, so no other
    # registration fits between them.
    txn.lock_name(look_key)
    taken = _one(txn, "SELECT name FROM accounts WHERE look_key = ? ORDER BY id LIMIT 1",
                 (look_key,))
    if taken is not None:
        if taken.lower() != name.lower():
            raise LookAlikeNameError(name, taken)
        # Refused before the INSERT: a failed INSERT would still use up an
        # id on PostgreSQL.  The unique name_key below backs this up.
        raise NameTakenError(name)
    try:
        account_id = txn.insert_id(
            "INSERT INTO accounts (name, name_key, password_hash, balance, created, look_key)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, name.lower(), password_hash, bankroll, now, look_key))
    except Exception as e:
        if txn.name_taken(e):
            raise NameTakenError(name) from None
        raise
    if bankroll:
        _journal(txn, account_id, "issue", bankroll, bankroll, None, "", now)
    return Account(account_id, name, bankroll, now)


def _issue(txn: Cursor, account_id: int, amount: int, now: float) -> int:
    balance = _credit(txn, account_id, amount)
    _journal(txn, account_id, "issue", amount, balance, None, "", now)
    return balance


def _stake(txn: Cursor, account_id: int, round_id: str, key: str, amount: int,
           now: float, fence: Fence | None = None) -> int:
    if txn.stake_function:
        return _stake_by_function(txn, account_id, round_id, key, amount, now, fence)
    if fence is not None:
        room_sql.check_fence(txn, fence)
    # Open the round if it is new, and lock it: a settlement on another
    # connection waits for this stake, or this stake sees the round closed.
    state = txn.open_round(round_id, round_table(round_id), now)
    if state != "open":
        raise RoundClosedError(round_id, state or "gone")
    if _one(txn, "SELECT 1 FROM stakes WHERE round_id = ? AND account_id = ? AND key = ?",
            (round_id, account_id, key)):
        raise DuplicateStakeError(round_id, account_id, key)
    # The balance check and the debit are one statement: nothing can spend
    # the same chips between them, whatever else is running.
    balance = txn.add_chips(account_id, amount, debit=True)
    if balance is None:
        raise InsufficientFundsError(_balance(txn, account_id), amount)
    # UNIQUE (round_id, account_id, key) backs up the check above.
    txn.execute("INSERT INTO stakes (round_id, account_id, key, amount, state, created)"
                " VALUES (?, ?, ?, ?, 'held', ?)", (round_id, account_id, key, amount, now))
    _journal(txn, account_id, "stake", -amount, balance, round_id, key, now)
    return balance


def _stake_by_function(txn: Cursor, account_id: int, round_id: str, key: str, amount: int,
                       now: float, fence: Fence | None) -> int:
    """:func:`_stake`, its steps run by the database's ``blackjack_stake`` function.

    The same checks in the same order (``postgresql.STAKE_FUNCTION``), all
    before the first write, in one round trip instead of seven; a refusal
    has written nothing, so the call runs without a savepoint.
    """
    fence_lock = fence is not None and bool(txn.lock_shared("lease:" + fence.table))
    lock = bool(txn.lock(round_id))
    outcome, value = txn.execute(
        "SELECT outcome, result FROM blackjack_stake(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (account_id, round_id, round_table(round_id), key, amount, now, lock,
         fence.node if fence else None, fence.epoch if fence else None,
         fence_lock)).fetchone()
    if outcome == "ok":
        return int(value)
    if outcome == "fenced":
        assert fence is not None
        raise FencedError(fence.table, fence.node, fence.epoch)
    if outcome == "closed":
        raise RoundClosedError(round_id, value)
    if outcome == "duplicate":
        raise DuplicateStakeError(round_id, account_id, key)
    if outcome == "insufficient":
        raise InsufficientFundsError(int(value), amount)
    raise UnknownAccountError(account_id)


def _settle(txn: Cursor, round_id: str, payouts: dict[int, int], record: str,
            now: float, shoe: str | None = None,
            summaries: Mapping[int, HandSummary] | None = None,
            fence: Fence | None = None) -> dict[int, int]:
    if fence is not None:
        room_sql.check_fence(txn, fence)
    if not payouts:
        # Nobody bet (or so the table says).  Record the round so a late stake
        # cannot reopen it; if it already exists, it is settled below.
        txn.execute("INSERT INTO rounds (round_id, table_name, state, opened, closed)"
                    " VALUES (?, ?, 'settled', ?, ?) ON CONFLICT (round_id) DO NOTHING",
                    (round_id, round_table(round_id), now, now))
        if txn.rowcount == 1:
            return {}
    state = _round_state(txn, round_id)
    if state is None:
        raise SettlementError(f"round {round_id!r} has no stakes, cannot pay {sorted(payouts)}")
    if state != "open":
        return _round_balances(txn, round_id)  # already paid: change nothing
    staked = {account_id: int(total) for account_id, total in txn.execute(
        "SELECT account_id, SUM(amount) FROM stakes"
        " WHERE round_id = ? AND state = 'held' GROUP BY account_id", (round_id,)).fetchall()}
    if set(payouts) != set(staked):
        raise SettlementError(
            f"payouts for round {round_id!r} must name exactly the accounts"
            f" that staked, {sorted(staked)}; got {sorted(payouts)}")
    balances = {}
    for account_id in sorted(staked):  # one order everywhere: no deadlock between two
        payout = payouts[account_id]
        balance = _credit(txn, account_id, payout)
        _journal(txn, account_id, "payout", payout, balance, round_id, "", now)
        txn.execute("INSERT INTO hands (round_id, account_id, staked, payout, record, created, "
                    f"{sql_records.SUMMARY_NAMES}) VALUES (?, ?, ?, ?, ?, ?, "
                    f"{sql_records.SUMMARY_PLACES})",
                    (round_id, account_id, staked[account_id], payout, record, now,
                     *sql_records.summary_row((summaries or {}).get(account_id))))
        balances[account_id] = balance
    if shoe is not None:
        sql_records.link_round(txn, round_id, shoe)
    _close_round(txn, round_id, "settled", now)
    return balances


def _rebuy(txn: Cursor, account_id: int, amount: int, below: int, since: float,
           now: float) -> int:
    sql_records.rebuy(txn, account_id, below, since)
    balance = _credit(txn, account_id, amount)
    _journal(txn, account_id, "rebuy", amount, balance, None, "", now)
    return balance


def _refund(txn: Cursor, round_id: str, now: float) -> dict[int, int]:
    if _round_state(txn, round_id) == "open":
        _refund_round(txn, round_id, now)
    return _round_balances(txn, round_id)


def _recover(txn: Cursor, table: str | None, now: float) -> Refunded:
    if table is None:
        rows = txn.execute("SELECT round_id FROM rounds WHERE state = 'open'"
                           " ORDER BY opened, round_id").fetchall()
    else:
        rows = txn.execute("SELECT round_id FROM rounds WHERE state = 'open'"
                           " AND table_name = ? ORDER BY opened, round_id", (table,)).fetchall()
    refunded: Refunded = []
    for (round_id,) in rows:
        # Locked and read again: another node may have closed it meanwhile.
        if _round_state(txn, round_id) == "open":
            refunded.extend(_refund_round(txn, round_id, now))
    return refunded


def _take_table(txn: Cursor, table: str, node: str, lease: float,
                now: float) -> Takeover | None:
    """Claim a table, void what its last owner left open (its round, its shoe) and read
    its seats: one step."""
    fence = room_sql.claim(txn, table, node, lease, now)
    if fence is None:
        return None
    refunded = _recover(txn, table, now)
    retired = sql_records.retire_shoes(txn, table, LEFT_DEALING, now)
    return Takeover(fence, tuple(refunded), room_sql.seats(txn, table), tuple(retired))


def _log_takeover(takeover: Takeover | None) -> Takeover | None:
    if takeover is not None:
        log_recovered(list(takeover.refunded))
    return takeover


def _balance(txn: Cursor, account_id: int) -> int:
    balance = _one(txn, "SELECT balance FROM accounts WHERE id = ?", (account_id,))
    if balance is None:
        raise UnknownAccountError(account_id)
    return int(balance)


def _credit(txn: Cursor, account_id: int, amount: int) -> int:
    balance = txn.add_chips(account_id, amount)
    if balance is None:
        raise UnknownAccountError(account_id)
    return balance


def _journal(txn: Cursor, account_id: int, kind: str, amount: int, balance: int,
             round_id: str | None, key: str, now: float) -> None:
    txn.execute(
        "INSERT INTO ledger (account_id, kind, amount, balance, round_id, key, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account_id, kind, amount, balance, round_id, key, now))


def _round_state(txn: Cursor, round_id: str) -> str | None:
    """The round's state, its row locked until the transaction ends."""
    state: str | None = _one(
        txn, "SELECT state FROM rounds WHERE round_id = ?" + txn.lock(round_id), (round_id,))
    return state


def _round_balances(txn: Cursor, round_id: str) -> dict[int, int]:
    return {account_id: int(balance) for account_id, balance in txn.execute(
        "SELECT id, balance FROM accounts WHERE id IN"
        " (SELECT account_id FROM stakes WHERE round_id = ?) ORDER BY id",
        (round_id,)).fetchall()}


def _close_round(txn: Cursor, round_id: str, state: str, now: float) -> None:
    # Stakes and round share the word: 'settled' or 'refunded'.
    txn.execute("UPDATE stakes SET state = ? WHERE round_id = ? AND state = 'held'",
                (state, round_id))
    txn.execute("UPDATE rounds SET state = ?, closed = ? WHERE round_id = ?",
                (state, now, round_id))


def _refund_round(txn: Cursor, round_id: str, now: float) -> Refunded:
    held = txn.execute("SELECT account_id, key, amount FROM stakes"
                       " WHERE round_id = ? AND state = 'held' ORDER BY id",
                       (round_id,)).fetchall()
    for account_id, key, amount in held:
        balance = _credit(txn, account_id, amount)
        _journal(txn, account_id, "refund", amount, balance, round_id, key, now)
    _close_round(txn, round_id, "refunded", now)
    return [(round_id, account_id, amount) for account_id, _key, amount in held]


def _select_account(txn: Cursor, column: str, value: object, now: float) -> Account | None:
    # ``column`` is one of two literals chosen above, never user input.
    row = txn.execute(f"SELECT {admin.ACCOUNT_COLUMNS} FROM accounts WHERE {column} = ?",
                      (value,)).fetchone()
    return None if row is None else admin.account(txn, row, now)


def _select_password_hash(txn: Cursor, name_key: str) -> str | None:
    stored: str | None = _one(
        txn, "SELECT password_hash FROM accounts WHERE name_key = ?", (name_key,))
    return stored


def _select_ledger(txn: Cursor, account_id: int, limit: int) -> list[LedgerEntry]:
    rows = txn.execute("SELECT id, account_id, kind, amount, balance, round_id, key, created,"
                       " note FROM ledger WHERE account_id = ? ORDER BY id DESC LIMIT ?",
                       (account_id, limit)).fetchall()
    return [LedgerEntry(*row) for row in rows]


def _select_hands(txn: Cursor, account_id: int, limit: int) -> list[HandRecord]:
    rows = txn.execute("SELECT id, round_id, account_id, staked, payout, record, created"
                       " FROM hands WHERE account_id = ? ORDER BY id DESC LIMIT ?",
                       (account_id, limit)).fetchall()
    return [HandRecord(*row) for row in rows]
