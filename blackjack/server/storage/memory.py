"""In-memory implementation of :class:`~blackjack.server.storage.IStorage`.

For tests and for programs that embed the card room and keep nothing on disk.
It gives the guarantees of :mod:`.sqlite` and refuses exactly what it refuses,
with the same errors: a stake is escrowed in one step that checks the balance,
a round is settled or refunded once, recovery refunds what was left in escrow,
and the books balance.  Only durability is missing: the chips live as long as
the process.

Every call is checked, then applied at once in call order, so a read issued
after a write sees it, exactly as SQLite's single queue gives.  A call either
applies whole or not at all (all its checks come before its first change),
which is what a transaction gives the SQL backends.  Its Deferred fires on a
later reactor turn (``callLater(0)``), in call order, never inside the call:
the SQL backends answer from their database thread, and callers (the table's
queue) are written for an answer that comes after the call returns.  Bad
arguments fail the returned Deferred, as in SQLite.

The chips live in a :class:`MemoryDatabase`; several :class:`MemoryStorage`
objects may share one, like connections to one file: a test opens a second
storage on the same database to play a restart after a crash (close the first
without settling, then ``recover``), or several nodes of a room
(:mod:`.room_memory` keeps the room's leases, and fences stakes and
settlements as the SQL backends do).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import count
from typing import TYPE_CHECKING, Any, TypeVar

from twisted.internet import defer
from twisted.internet.defer import Deferred

from blackjack.server.storage._backend import (
    Refunded, fails_deferred, log_recovered, rebuy_arguments, record_text, shoe_arguments,
)
from blackjack.server.storage.audit import AccountAudit, Audit
from blackjack.server.storage.room import Fence
from blackjack.server.storage.room_memory import MemoryRoom, RoomRecords
from blackjack.server.storage.interface import (
    ROLES,
    SANCTIONS,
    Account,
    AdminAct,
    Books,
    DatabaseError,
    DuplicateStakeError,
    HandRecord,
    HandSummary,
    InsufficientFundsError,
    LedgerEntry,
    Leaderboard,
    LookAlikeNameError,
    NameTakenError,
    PlayerStats,
    RebuyRefusedError,
    RoundClosedError,
    SettlementError,
    ShoeEntry,
    UnknownAccountError,
    act_json,
    check_act,
    check_amount,
    check_choice,
    check_grant,
    check_id,
    check_limit,
    check_reason,
    check_text,
    grant_note,
    check_time,
    round_table,
)
from blackjack.server.storage.sql_records import checked_extras

from blackjack.server.text import look_alike_key

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

__all__ = ["MemoryDatabase", "MemoryStorage"]

_T = TypeVar("_T")


@dataclass
class _Account:
    id: int
    name: str
    password_hash: str
    balance: int
    created: float
    look_key: str
    """:func:`~blackjack.server.text.look_alike_key` of the name."""
    role: str = "player"


@dataclass
class _Stake:
    account_id: int
    key: str
    amount: int
    state: str
    """``held``, ``settled`` or ``refunded``, as in SQLite's ``stakes.state``."""


@dataclass
class _Round:
    state: str
    """``open``, ``settled`` or ``refunded``."""
    opened: float
    table: str
    """:func:`round_table` of its id."""
    stakes: list[_Stake] = field(default_factory=list)
    shoe: str | None = None
    """The provably fair shoe it was dealt from, as SQLite's ``rounds.shoe_id``."""


@dataclass
class _Shoe:
    table: str
    record: str
    server_seed: str
    opened: float
    retired: str | None = None
    closed: float | None = None


@dataclass
class MemoryDatabase:
    """The chips themselves: accounts, rounds, stakes, ledger and hand history.

    Plain data, changed only by :class:`MemoryStorage`; share one between
    storages to play several connections or a restart.
    """

    accounts: dict[int, _Account] = field(default_factory=dict)
    by_name: dict[str, int] = field(default_factory=dict)
    """Account id by ``name.lower()``: names are unique ignoring case."""
    by_look: dict[str, int] = field(default_factory=dict)
    """The first account id made with each look-alike key."""
    rounds: dict[str, _Round] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    hands: list[HandRecord] = field(default_factory=list)
    room: RoomRecords = field(default_factory=RoomRecords)
    """The room's leases, members, seats and logins (:mod:`.room_memory`)."""
    sanctions: dict[tuple[int, str], float | None] = field(default_factory=dict)
    """(account id, kind) to when the sanction ends (``None``: until lifted)."""
    acts: list[AdminAct] = field(default_factory=list)
    """The audit trail of admin acts, oldest first."""
    summaries: dict[int, HandSummary] = field(default_factory=dict)
    """Each hand's summary for ``stats``, by hand id."""
    shoes: dict[str, _Shoe] = field(default_factory=dict)
    _ids: dict[str, Iterator[int]] = field(
        default_factory=lambda: {"account": count(1), "ledger": count(1), "hand": count(1),
                                 "act": count(1)})

    def next_id(self, kind: str) -> int:
        """The next row id of ``account``, ``ledger`` or ``hand``."""
        return next(self._ids[kind])


class MemoryStorage(MemoryRoom):
    """Accounts, escrow, ledger and hand history in this process's memory.

    ``clock`` is a ``reactor.seconds``-style callable that stamps every row;
    ``reactor`` fires the answers (the global reactor by default).
    """

    def __init__(
        self,
        database: MemoryDatabase | None = None,
        clock: Callable[[], float] | None = None,
        *,
        reactor: IReactorTime | None = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as _reactor

            reactor = _reactor  # type: ignore[assignment]
        self.database = database if database is not None else MemoryDatabase()
        self._reactor: IReactorTime = reactor  # type: ignore[assignment]
        self._clock = clock if clock is not None else self._reactor.seconds
        self._closed = False

    def __repr__(self) -> str:
        return f"MemoryStorage(<{len(self.database.accounts)} accounts>)"

    @property
    def _room(self) -> RoomRecords:
        return self.database.room

    def _account_name(self, account_id: int) -> str:
        return self._account(account_id).name

    # --- plumbing ---------------------------------------------------------------

    def _answer(self, work: Callable[..., _T], *args: Any) -> Deferred[_T]:
        """Apply ``work`` now; fire its result (or error) on a later reactor turn."""
        if self._closed:
            return defer.fail(DatabaseError("storage is closed"))
        d: Deferred[_T] = Deferred()
        try:
            result = work(*args)
        except Exception as error:
            self._reactor.callLater(0, d.errback, error)
        else:
            self._reactor.callLater(0, d.callback, result)
        return d

    def ready(self) -> Deferred[None]:
        """Fire on the next turn: there is no schema to wait for."""
        return self._answer(lambda: None)

    @fails_deferred
    def close(self) -> Deferred[None]:
        """Refuse further calls; fire after every answer already on its way."""
        if self._closed:
            return defer.succeed(None)
        closing = self._answer(lambda: None)
        self._closed = True
        return closing

    # --- accounts ---------------------------------------------------------------

    @fails_deferred
    def create_account(self, name: str, password_hash: str, bankroll: int) -> Deferred[Account]:
        check_text(name, "name")
        check_text(password_hash, "password hash")
        check_amount(bankroll, "bankroll", allow_zero=True)
        return self._answer(self._create_account, name, password_hash, bankroll, self._clock())

    def _create_account(self, name: str, password_hash: str, bankroll: int,
                        now: float) -> Account:
        db = self.database
        look_key = look_alike_key(name)
        taken = self._look_alike(look_key)
        if taken is not None and taken.lower() != name.lower():
            raise LookAlikeNameError(name, taken)
        if name.lower() in db.by_name:
            raise NameTakenError(name)
        account = _Account(db.next_id("account"), name, password_hash, bankroll, now, look_key)
        db.accounts[account.id] = account
        db.by_name[name.lower()] = account.id
        db.by_look.setdefault(look_key, account.id)
        if bankroll:
            self._journal(account, "issue", bankroll, None, "", now)
        return Account(account.id, name, bankroll, now)

    @fails_deferred
    def get_account(self, name: str) -> Deferred[Account | None]:
        check_text(name, "name")
        return self._answer(self._public, self.database.by_name.get(name.lower()),
                            self._clock())

    @fails_deferred
    def look_alike(self, name: str) -> Deferred[str | None]:
        check_text(name, "name")
        return self._answer(self._look_alike, look_alike_key(name))

    def _look_alike(self, look_key: str) -> str | None:
        """The name of the first account made with this look-alike key."""
        account_id = self.database.by_look.get(look_key)
        return None if account_id is None else self.database.accounts[account_id].name

    @fails_deferred
    def get_account_by_id(self, account_id: int) -> Deferred[Account | None]:
        check_id(account_id)
        return self._answer(self._public, account_id, self._clock())

    def _public(self, account_id: int | None, now: float) -> Account | None:
        account = self.database.accounts.get(account_id) if account_id is not None else None
        if account is None:
            return None
        return Account(account.id, account.name, account.balance, account.created,
                       account.role, self._sanctions(account.id, now))

    def _sanctions(self, account_id: int, now: float) -> dict[str, float | None]:
        return {kind: ends for (holder, kind), ends in sorted(self.database.sanctions.items())
                if holder == account_id and (ends is None or ends > now)}

    @fails_deferred
    def password_hash(self, name: str) -> Deferred[str | None]:
        check_text(name, "name")

        def find() -> str | None:
            account_id = self.database.by_name.get(name.lower())
            return None if account_id is None else self.database.accounts[account_id].password_hash
        return self._answer(find)

    @fails_deferred
    def balance(self, account_id: int) -> Deferred[int]:
        check_id(account_id)
        return self._answer(lambda: self._account(account_id).balance)

    def _account(self, account_id: int) -> _Account:
        account = self.database.accounts.get(account_id)
        if account is None:
            raise UnknownAccountError(account_id)
        return account

    # --- chips ------------------------------------------------------------------

    @fails_deferred
    def issue(self, account_id: int, amount: int) -> Deferred[int]:
        check_id(account_id)
        check_amount(amount, "issued amount")
        return self._answer(self._issue, account_id, amount, self._clock())

    def _issue(self, account_id: int, amount: int, now: float) -> int:
        account = self._account(account_id)
        account.balance += amount
        self._journal(account, "issue", amount, None, "", now)
        return account.balance

    @fails_deferred
    def stake(self, account_id: int, round_id: str, key: str, amount: int,
              *, fence: Fence | None = None) -> Deferred[int]:
        check_id(account_id)
        check_text(round_id, "round id")
        check_text(key, "stake key")
        check_amount(amount, "stake")
        return self._answer(self._stake, account_id, round_id, key, amount, self._clock(),
                            fence)

    def _stake(self, account_id: int, round_id: str, key: str, amount: int,
               now: float, fence: Fence | None = None) -> int:
        # Every check first, in SQLite's order, so a refused stake changes nothing.
        self._check_fence(fence)
        rnd = self.database.rounds.get(round_id)
        if rnd is not None and rnd.state != "open":
            raise RoundClosedError(round_id, rnd.state)
        if rnd is not None and any(s.account_id == account_id and s.key == key
                                   for s in rnd.stakes):
            raise DuplicateStakeError(round_id, account_id, key)
        account = self._account(account_id)
        if account.balance < amount:
            raise InsufficientFundsError(account.balance, amount)
        if rnd is None:
            rnd = self.database.rounds[round_id] = _Round("open", now, round_table(round_id))
        account.balance -= amount
        rnd.stakes.append(_Stake(account_id, key, amount, "held"))
        self._journal(account, "stake", -amount, round_id, key, now)
        return account.balance

    @fails_deferred
    def settle(self, round_id: str, payouts: Mapping[int, int],
               record: Mapping[str, Any] | None = None, *, shoe: str | None = None,
               summaries: Mapping[int, HandSummary] | None = None,
               fence: Fence | None = None) -> Deferred[Mapping[int, int]]:
        check_text(round_id, "round id")
        checked = {check_id(account_id): check_amount(payout, "payout", allow_zero=True)
                   for account_id, payout in payouts.items()}
        record_json = record_text(record)
        extras = checked_extras(shoe, summaries)
        return self._answer(self._settle, round_id, checked, record_json, self._clock(),
                            *extras, fence)

    def _settle(self, round_id: str, payouts: dict[int, int], record: str,
                now: float, shoe: str | None = None,
                summaries: Mapping[int, HandSummary] | None = None,
                fence: Fence | None = None) -> dict[int, int]:
        self._check_fence(fence)
        db = self.database
        rnd = db.rounds.get(round_id)
        if rnd is None:
            if payouts:
                raise SettlementError(
                    f"round {round_id!r} has no stakes, cannot pay {sorted(payouts)}")
            # Nobody bet.  Record the round so a late stake cannot reopen it.
            db.rounds[round_id] = _Round("settled", now, round_table(round_id))
            return {}
        if rnd.state != "open":
            return self._round_balances(rnd)  # already paid: change nothing
        staked: dict[int, int] = {}
        for s in rnd.stakes:
            if s.state == "held":
                staked[s.account_id] = staked.get(s.account_id, 0) + s.amount
        if set(payouts) != set(staked):
            raise SettlementError(
                f"payouts for round {round_id!r} must name exactly the accounts"
                f" that staked, {sorted(staked)}; got {sorted(payouts)}")
        balances = {}
        for account_id in sorted(staked):
            account = db.accounts[account_id]
            payout = payouts[account_id]
            account.balance += payout
            self._journal(account, "payout", payout, round_id, "", now)
            hand = HandRecord(db.next_id("hand"), round_id, account_id, staked[account_id],
                              payout, record, now)
            db.hands.append(hand)
            db.summaries[hand.id] = (summaries or {}).get(account_id, HandSummary())
            balances[account_id] = account.balance
        if shoe is not None:
            rnd.shoe = shoe
        self._close_round(rnd, "settled")
        return balances

    @fails_deferred
    def refund(self, round_id: str) -> Deferred[Mapping[int, int]]:
        check_text(round_id, "round id")
        return self._answer(self._refund, round_id, self._clock())

    def _refund(self, round_id: str, now: float) -> dict[int, int]:
        rnd = self.database.rounds.get(round_id)
        if rnd is None:
            return {}
        if rnd.state == "open":
            self._refund_round(round_id, rnd, now)
        return self._round_balances(rnd)

    @fails_deferred
    def recover(self, table: str | None = None) -> Deferred[Refunded]:
        if table is not None:
            check_text(table, "table")
        return self._answer(self._recover, table, self._clock()).addCallback(log_recovered)

    def _recover(self, table: str | None, now: float) -> Refunded:
        open_rounds = sorted((rnd.opened, round_id) for round_id, rnd
                             in self.database.rounds.items()
                             if rnd.state == "open" and table in (None, rnd.table))
        refunded: Refunded = []
        for _, round_id in open_rounds:
            refunded.extend(self._refund_round(round_id, self.database.rounds[round_id], now))
        return refunded

    def _refund_round(self, round_id: str, rnd: _Round, now: float) -> Refunded:
        held = [s for s in rnd.stakes if s.state == "held"]
        for s in held:
            account = self.database.accounts[s.account_id]
            account.balance += s.amount
            self._journal(account, "refund", s.amount, round_id, s.key, now)
        self._close_round(rnd, "refunded")
        return [(round_id, s.account_id, s.amount) for s in held]

    @staticmethod
    def _close_round(rnd: _Round, state: str) -> None:
        # Stakes and round share the word: 'settled' or 'refunded'.
        for s in rnd.stakes:
            if s.state == "held":
                s.state = state
        rnd.state = state

    def _round_balances(self, rnd: _Round) -> dict[int, int]:
        return {account_id: self.database.accounts[account_id].balance
                for account_id in sorted({s.account_id for s in rnd.stakes})}

    def _journal(self, account: _Account, kind: str, amount: int, round_id: str | None,
                 key: str, now: float, note: str = "") -> None:
        self.database.ledger.append(LedgerEntry(
            self.database.next_id("ledger"), account.id, kind, amount, account.balance,
            round_id, key, now, note))

    # --- the host's powers ------------------------------------------------------

    def _record(self, act: AdminAct, now: float) -> int:
        act_id = self.database.next_id("act")
        # Stored as the SQL backends read it back: the detail through JSON.
        self.database.acts.append(replace(act, id=act_id, created=now,
                                          detail=json.loads(act_json(act))))
        return act_id

    @fails_deferred
    def set_role(self, name: str, role: str, act: AdminAct) -> Deferred[Account]:
        check_text(name, "name")
        check_choice(role, ROLES, "role")
        check_act(act)
        return self._answer(self._set_role, name, role, act, self._clock())

    def _set_role(self, name: str, role: str, act: AdminAct, now: float) -> Account:
        account_id = self.database.by_name.get(name.lower())
        if account_id is None:
            raise UnknownAccountError(name)
        self.database.accounts[account_id].role = role
        self._record(act, now)
        account = self._public(account_id, now)
        assert account is not None
        return account

    @fails_deferred
    def grant(self, account_id: int, amount: int, act: AdminAct) -> Deferred[int]:
        check_id(account_id)
        check_grant(amount)
        check_act(act)
        return self._answer(self._grant, account_id, amount, act, self._clock())

    def _grant(self, account_id: int, amount: int, act: AdminAct, now: float) -> int:
        account = self._account(account_id)
        if account.balance + amount < 0:
            raise InsufficientFundsError(account.balance, -amount)
        account.balance += amount
        self._journal(account, "issue", amount, None, "grant", now, grant_note(act))
        self._record(act, now)
        return account.balance

    @fails_deferred
    def sanction(self, account_id: int, kind: str, until: float | None,
                 act: AdminAct) -> Deferred[None]:
        check_id(account_id)
        check_choice(kind, SANCTIONS, "sanction")
        check_act(act)
        return self._answer(self._sanction, account_id, kind, until, act, self._clock())

    def _sanction(self, account_id: int, kind: str, until: float | None, act: AdminAct,
                  now: float) -> None:
        self._account(account_id)
        self.database.sanctions[(account_id, kind)] = until
        self._record(act, now)

    @fails_deferred
    def lift(self, account_id: int, kind: str, act: AdminAct) -> Deferred[bool]:
        check_id(account_id)
        check_choice(kind, SANCTIONS, "sanction")
        check_act(act)
        return self._answer(self._lift, account_id, kind, act, self._clock())

    def _lift(self, account_id: int, kind: str, act: AdminAct, now: float) -> bool:
        self._account(account_id)
        in_force = kind in self._sanctions(account_id, now)
        self.database.sanctions.pop((account_id, kind), None)
        self._record(act, now)
        return in_force

    @fails_deferred
    def record_act(self, act: AdminAct) -> Deferred[int]:
        check_act(act)
        return self._answer(self._record, act, self._clock())

    @fails_deferred
    def admin_acts(self, limit: int = 50) -> Deferred[list[AdminAct]]:
        check_limit(limit)
        return self._answer(lambda: list(reversed(self.database.acts))[:limit])

    @fails_deferred
    def accounts_with_role(self, role: str) -> Deferred[list[Account]]:
        check_choice(role, ROLES, "role")
        now = self._clock()

        def find() -> list[Account]:
            found = [self._public(a.id, now) for a in sorted(
                self.database.accounts.values(), key=lambda a: a.name.lower())
                if a.role == role]
            return [a for a in found if a is not None]
        return self._answer(find)

    # --- reports ----------------------------------------------------------------

    @fails_deferred
    def ledger(self, account_id: int, limit: int = 20) -> Deferred[list[LedgerEntry]]:
        check_id(account_id)
        check_limit(limit)
        return self._answer(
            lambda: [e for e in reversed(self.database.ledger)
                     if e.account_id == account_id][:limit])

    @fails_deferred
    def history(self, account_id: int, limit: int = 10) -> Deferred[list[HandRecord]]:
        check_id(account_id)
        check_limit(limit)
        return self._answer(
            lambda: [h for h in reversed(self.database.hands)
                     if h.account_id == account_id][:limit])

    @fails_deferred
    def books(self) -> Deferred[Books]:
        return self._answer(self._books)

    # --- hands, numbers, rebuys and fair shoes, as sql_records does them --------

    @fails_deferred
    def hand(self, account_id: int, hand_id: int) -> Deferred[HandRecord | None]:
        check_id(account_id)
        check_limit(hand_id)
        return self._answer(lambda: next((h for h in self.database.hands if h.id == hand_id
                                          and h.account_id == account_id), None))

    @fails_deferred
    def stats(self, account_id: int) -> Deferred[PlayerStats]:
        check_id(account_id)
        return self._answer(self._stats, account_id)

    def _stats(self, account_id: int) -> PlayerStats:
        db = self.database
        mine = [(h, db.summaries.get(h.id, HandSummary())) for h in db.hands
                if h.account_id == account_id]
        return PlayerStats(
            rounds=sum(s.hands > 0 for _, s in mine), hands=sum(s.hands for _, s in mine),
            wins=sum(s.wins for _, s in mine), losses=sum(s.losses for _, s in mine),
            pushes=sum(s.pushes for _, s in mine),
            blackjacks=sum(s.blackjacks for _, s in mine), net=sum(h.net for h, _ in mine),
            biggest_win=max([0, *(h.net for h, _ in mine)]),
            decisions=sum(s.decisions for _, s in mine),
            matched=sum(s.matched for _, s in mine), cost=sum(s.cost for _, s in mine))

    @fails_deferred
    def top(self, limit: int, since: float) -> Deferred[Leaderboard]:
        check_limit(limit)
        since = check_time(since)
        return self._answer(self._top, limit, since)

    def _top(self, limit: int, since: float) -> Leaderboard:
        db = self.database
        accounts = sorted(db.accounts.values(), key=lambda a: (-a.balance, a.id))
        net: dict[int, int] = {}
        for h in db.hands:
            if h.created >= since:
                net[h.account_id] = net.get(h.account_id, 0) + h.net
        best = sorted(net.items(), key=lambda item: (-item[1], item[0]))
        return Leaderboard(tuple((a.name, a.balance) for a in accounts[:limit]),
                           tuple((db.accounts[i].name, n) for i, n in best[:limit]))

    @fails_deferred
    def rebuy(self, account_id: int, amount: int, below: int, since: float) -> Deferred[int]:
        return self._answer(self._rebuy, *rebuy_arguments(account_id, amount, below, since),
                            self._clock())

    def _rebuy(self, account_id: int, amount: int, below: int, since: float,
               now: float) -> int:
        account = self._account(account_id)
        held = sum(s.amount for rnd in self.database.rounds.values() for s in rnd.stakes
                   if s.account_id == account_id and s.state == "held")
        last = max((e.created for e in self.database.ledger
                    if e.account_id == account_id and e.kind == "rebuy"), default=None)
        chips = account.balance + held
        if chips >= below or (last is not None and last > since):
            raise RebuyRefusedError(chips, last)
        account.balance += amount
        self._journal(account, "rebuy", amount, None, "", now)
        return account.balance

    @fails_deferred
    def open_shoe(self, shoe_id: str, table: str, record: Mapping[str, Any],
                  server_seed: str) -> Deferred[None]:
        return self._answer(self._open_shoe,
                            *shoe_arguments(shoe_id, table, record, server_seed), self._clock())

    def _open_shoe(self, shoe_id: str, table: str, record: str, server_seed: str,
                   now: float) -> None:
        if shoe_id in self.database.shoes:
            raise DatabaseError(f"shoe {shoe_id!r} is stored already")
        self.database.shoes[shoe_id] = _Shoe(table, record, server_seed, now)

    @fails_deferred
    def retire_shoe(self, shoe_id: str, reason: str) -> Deferred[None]:
        check_text(shoe_id, "shoe id")
        return self._answer(self._retire_shoe, shoe_id, check_reason(reason), self._clock())

    def _retire_shoe(self, shoe_id: str, reason: str, now: float) -> None:
        shoe = self.database.shoes.get(shoe_id)
        if shoe is not None and shoe.retired is None:
            shoe.retired, shoe.closed = reason, now

    @fails_deferred
    def retire_shoes(self, table: str | None, reason: str) -> Deferred[list[str]]:
        if table is not None:
            check_text(table, "table")
        return self._answer(self._retire_shoes, table, check_reason(reason), self._clock())

    def _retire_shoes(self, table: str | None, reason: str, now: float) -> list[str]:
        found = sorted((shoe.opened, shoe_id) for shoe_id, shoe in self.database.shoes.items()
                       if shoe.retired is None and table in (None, shoe.table))
        for _, shoe_id in found:
            self._retire_shoe(shoe_id, reason, now)
        return [shoe_id for _, shoe_id in found]

    @fails_deferred
    def shoe(self, shoe_id: str) -> Deferred[ShoeEntry | None]:
        check_text(shoe_id, "shoe id")
        return self._answer(self._shoe, shoe_id)

    def _shoe(self, shoe_id: str) -> ShoeEntry | None:
        db = self.database
        shoe = db.shoes.get(shoe_id)
        if shoe is None:
            return None
        rounds: dict[str, str] = {}
        for h in db.hands:  # in settlement order; one record per round
            if db.rounds[h.round_id].shoe == shoe_id:
                rounds.setdefault(h.round_id, h.record)
        return ShoeEntry(shoe_id, shoe.table, shoe.record,
                         shoe.server_seed if shoe.retired is not None else None, shoe.retired,
                         shoe.opened, shoe.closed, tuple(rounds.values()))

    def _books(self) -> Books:
        db = self.database
        settled = sum(s.amount for rnd in db.rounds.values() for s in rnd.stakes
                      if s.state == "settled")
        return Books(
            issued=sum(e.amount for e in db.ledger if e.kind in ("issue", "rebuy")),
            balances=sum(a.balance for a in db.accounts.values()),
            escrow=sum(s.amount for rnd in db.rounds.values() for s in rnd.stakes
                       if s.state == "held"),
            house_net=settled - sum(e.amount for e in db.ledger if e.kind == "payout"),
        )

    @fails_deferred
    def audit(self) -> Deferred[Audit]:
        """Every check of :mod:`blackjack.server.storage.audit`, on the same figures."""
        return self._answer(self._audit)

    def _audit(self) -> Audit:
        db = self.database
        held: dict[int, int] = {}
        held_by_round: dict[str, int] = {}
        closed_holding: dict[str, int] = {}
        for round_id, rnd in db.rounds.items():
            for s in rnd.stakes:
                if s.state == "held":
                    held[s.account_id] = held.get(s.account_id, 0) + s.amount
                    held_by_round[round_id] = held_by_round.get(round_id, 0) + s.amount
                    if rnd.state != "open":
                        closed_holding[round_id] = closed_holding.get(round_id, 0) + s.amount
        issued: dict[int, int] = {}
        ledger_sum: dict[int, int] = {}
        for e in db.ledger:
            ledger_sum[e.account_id] = ledger_sum.get(e.account_id, 0) + e.amount
            if e.kind in ("issue", "rebuy"):
                issued[e.account_id] = issued.get(e.account_id, 0) + e.amount
        net: dict[int, int] = {}
        for h in db.hands:
            net[h.account_id] = net.get(h.account_id, 0) + h.net
        accounts = tuple(
            AccountAudit(a.id, a.name, a.balance, held.get(a.id, 0), issued.get(a.id, 0),
                         net.get(a.id, 0), ledger_sum.get(a.id, 0))
            for a in sorted(db.accounts.values(), key=lambda a: a.id))
        granted = sum(e.amount for e in db.ledger if e.kind == "issue" and e.key == "grant")
        return Audit(books=self._books(), accounts=accounts, held_by_round=held_by_round,
                     closed_rounds_holding=closed_holding, granted=granted)
