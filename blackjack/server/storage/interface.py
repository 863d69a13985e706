"""The narrow storage interface for money, accounts and hand history.

Everything the server persists goes through :class:`IStorage`, so a database
other than SQLite (``sqlite.py``) can be plugged in without touching the
protocol, lobby or tables.  This module holds only the interface, the frozen
values it speaks in and the errors it raises; it imports no database driver.

Money model (all amounts are whole chips, ``int``, never ``float``):

* ``issue``: chips enter the economy, e.g. a new account's bankroll.
* ``rebuy``: chips enter the economy for a broke player (:meth:`IStorage.rebuy`);
  counted as issued, like the bankroll.
* ``stake``: chips leave a balance into *escrow* the moment a bet, double,
  split or insurance is placed, in the same transaction that checks the
  balance, so a balance can never go below zero.
* ``payout``: when a round is settled each staked account is credited the
  total it gets back for the round (stakes included; 0 for a total loss) and
  its escrow is released to the house.  Once per round, however often asked.
* ``refund``: a voided round (shutdown, crash recovery) returns every stake.
* ``grant``: an admin issues chips (or, a negative amount, takes some back
  to correct a balance).  It is ledger kind ``issue`` with key ``grant`` and a
  note naming the admin and the reason, so the books count it as chips issued.

The host's powers: each account has a role (``player`` or ``admin``, set only
from the host's command line), and may be under sanctions (``ban``, ``mute``)
until a time or until lifted.  Every act of an admin (and every role change)
is an :class:`AdminAct` in the audit trail, written in the transaction that
does it.

In a room of several nodes (:mod:`.room`) a stake and a settlement also name
the table's lease, a :class:`~.room.Fence`, checked in their transaction: a
node whose lease has moved on cannot stake or pay (``FencedError``).

Sign convention for :class:`Books`: ``house_net`` is what the house has won,
``sum(settled stakes) - sum(payouts)``; positive when players are down.  The
books balance when ``balances + escrow + house_net == issued``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from blackjack.server.errors import (  # noqa: F401  (re-exported: the interface's errors)
    DatabaseError,
    DuplicateStakeError,
    FencedError,
    InsufficientFundsError,
    InvalidAmountError,
    LookAlikeNameError,
    NameTakenError,
    RebuyRefusedError,
    RoundClosedError,
    MigrationError,
    SettlementError,
    StorageError,
    UnknownAccountError,
)

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from blackjack.server.storage.room import Fence

__all__ = [
    "Account",
    "LedgerEntry",
    "HandRecord",
    "HandSummary",
    "PlayerStats",
    "Leaderboard",
    "ShoeEntry",
    "Books",
    "AdminAct",
    "IStorage",
    "LEDGER_KINDS",
    "ROLES",
    "SANCTIONS",
    "StorageError",
    "DatabaseError",
    "NameTakenError",
    "LookAlikeNameError",
    "UnknownAccountError",
    "InsufficientFundsError",
    "InvalidAmountError",
    "DuplicateStakeError",
    "RoundClosedError",
    "SettlementError",
    "MigrationError",
    "FencedError",
    "check_amount",
    "check_act",
    "check_grant",
    "check_choice",
    "act_json",
    "grant_note",
    "check_text",
    "check_id",
    "check_limit",
    "check_time",
    "check_reason",
    "round_table",
    "RebuyRefusedError",
    "SHOE_RETIRED",
]

#: Every ``LedgerEntry.kind``; see the module docstring for what each means.
LEDGER_KINDS = frozenset({"issue", "rebuy", "stake", "payout", "refund"})

#: Every reason a provably fair shoe is retired for (``ShoeEntry.retired``).
SHOE_RETIRED = ("cut card", "table closed", "server restarted")

#: Every account role: an ``admin`` may use the admin commands.
ROLES = ("player", "admin")

#: Every kind of sanction: a ``ban`` refuses logins, a ``mute`` refuses chat.
SANCTIONS = ("ban", "mute")


# --- values -----------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A player account as the game sees it (the password hash stays in storage)."""

    id: int
    name: str
    """Display case as registered; uniqueness is case-insensitive."""
    balance: int
    created: float
    role: str = "player"
    """``player`` or ``admin`` (see :data:`ROLES`)."""
    sanctions: Mapping[str, float | None] = field(default_factory=dict)
    """The sanctions in force when the account was read: kind (``ban``, ``mute``)
    to the time it ends, ``None`` for until lifted.  Only ``get_account`` and
    ``get_account_by_id`` fill it in."""

    @property
    def admin(self) -> bool:
        """Whether the account may use the admin commands."""
        return self.role == "admin"


@dataclass(frozen=True)
class LedgerEntry:
    """One chip movement on one account's balance.

    ``amount`` is the signed change to the balance (a stake is negative) and
    ``balance`` the balance right after it.  ``round_id`` is ``None`` for chips
    issued outside a round; ``key`` names the stake (``"seat3:bet"``) and is
    ``""`` for entries that cover the whole round (payouts).
    """

    id: int
    account_id: int
    kind: str
    amount: int
    balance: int
    round_id: str | None
    key: str
    created: float
    note: str = ""
    """Who and why, for chips an admin granted (``"alice: lost in a crash"``)."""


@dataclass(frozen=True)
class HandRecord:
    """One account's part in one settled round, for the hand history."""

    id: int
    round_id: str
    account_id: int
    staked: int
    """Total chips the account put in escrow for the round."""
    payout: int
    """Total chips returned to the account, stakes included."""
    record: str
    """The table's record of the round as JSON text (``"{}"`` if none given)."""
    created: float

    @property
    def net(self) -> int:
        """What the account won (positive) or lost (negative) on the round."""
        return self.payout - self.staked

    @property
    def details(self) -> Any:
        """``record`` parsed from JSON."""
        return json.loads(self.record)


@dataclass(frozen=True)
class HandSummary:
    """One account's part in one round, counted for its statistics.

    The table works it out when it settles the round (it knows which seats
    are whose and what basic strategy said of each decision); the storage
    keeps it beside the hand so that ``stats`` is a sum, not a replay.
    """

    hands: int = 0
    """Hands the account played in the round (a split makes two)."""
    wins: int = 0
    losses: int = 0
    pushes: int = 0
    blackjacks: int = 0
    decisions: int = 0
    """Decisions the player made (not the timer's or the absent-player rule's)."""
    matched: int = 0
    """Of those, the ones basic strategy makes."""
    cost: float = 0.0
    """Chips the others gave up in expected value."""


@dataclass(frozen=True)
class PlayerStats:
    """An account's numbers over every round it played (the sums of its :class:`HandSummary`)."""

    rounds: int
    hands: int
    wins: int
    losses: int
    pushes: int
    blackjacks: int
    net: int
    biggest_win: int
    """The most won in one round (0 if never up)."""
    decisions: int
    matched: int
    cost: float


@dataclass(frozen=True)
class Leaderboard:
    """``(name, balance)`` by balance, and ``(name, net)`` by net since a time, best first."""

    by_balance: tuple[tuple[str, int], ...]
    by_net: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ShoeEntry:
    """A provably fair shoe as stored: its public record, and its seed once retired."""

    id: str
    table: str
    record: str
    """The public part as JSON text: scheme, terms, commitment, client seed, seeds."""
    server_seed: str | None
    """The revealed seed, or ``None`` while the shoe may deal (the storage never
    gives out the seed of a shoe not retired)."""
    retired: str | None
    """One of :data:`SHOE_RETIRED`, or ``None``."""
    opened: float
    closed: float | None
    rounds: tuple[str, ...]
    """The records of the rounds dealt from it, as JSON text, in the order dealt."""

    @property
    def commitment(self) -> str:
        """The commitment announced before the shoe was shuffled."""
        return str(json.loads(self.record)["commitment"])

    def verification(self) -> dict[str, Any] | None:
        """The shoe's whole record for ``python -m blackjack.verify`` (``None`` until retired)."""
        if self.server_seed is None or self.retired is None:
            return None
        return {**json.loads(self.record), "server_seed": self.server_seed,
                "retired": self.retired, "rounds": [json.loads(r) for r in self.rounds]}


@dataclass(frozen=True)
class Books:
    """A consistent snapshot of where every chip ever issued is now."""

    issued: int
    balances: int
    escrow: int
    house_net: int
    """Chips the house has won net: settled stakes minus payouts."""

    @property
    def balanced(self) -> bool:
        """True when no chip has been created or lost."""
        return self.balances + self.escrow + self.house_net == self.issued


@dataclass(frozen=True)
class AdminAct:
    """One act of an admin (or of the host's command line), as the audit trail keeps it."""

    admin: str
    """Who: the admin's account name, or ``host`` for the host's command line."""
    act: str
    """What: the command (``ban``, ``grant``, ``table_add``...) or ``role``."""
    target: str = ""
    """On whom or what: an account or table name (empty for ``announce``)."""
    reason: str = ""
    """Why, in the admin's words (a grant's reason, a ban's, the text announced)."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    """Anything else, JSON-ready (an amount, a duration, rules)."""
    admin_id: int | None = None
    """The admin's account id; ``None`` for the host's command line."""
    id: int = 0
    """The act's number in the trail (0 until stored)."""
    created: float = 0.0
    """When it was stored (0 until stored)."""


# --- the interface --------------------------------------------------------------


@runtime_checkable
class IStorage(Protocol):
    """Persistent accounts, balances, escrow, ledger and hand history.

    Every method returns a Deferred and never blocks the reactor.  Every
    method that moves chips does so in one database transaction that also
    writes the matching ledger entries.
    """

    def create_account(
        self, name: str, password_hash: str, bankroll: int
    ) -> Deferred[Account]:
        """Create an account and issue it ``bankroll`` chips (ledger kind "issue").

        Fails with :class:`NameTakenError` if the name, compared
        case-insensitively, exists, and with :class:`LookAlikeNameError` if an
        account's name looks like it (the same
        :func:`~blackjack.server.text.look_alike_key`).  The check and the
        insert are one transaction.
        """

    def get_account(self, name: str) -> Deferred[Account | None]:
        """The account with this name (any case), or ``None``."""

    def look_alike(self, name: str) -> Deferred[str | None]:
        """The name of an account that this name looks like (or is), or ``None``."""

    def get_account_by_id(self, account_id: int) -> Deferred[Account | None]:
        """The account with this id, or ``None``."""

    def password_hash(self, name: str) -> Deferred[str | None]:
        """The stored password hash for this name (any case), or ``None``."""

    def issue(self, account_id: int, amount: int) -> Deferred[int]:
        """Issue new chips to an account (a top-up); returns the new balance."""

    def stake(
        self, account_id: int, round_id: str, key: str, amount: int,
        *, fence: Fence | None = None,
    ) -> Deferred[int]:
        """Move ``amount`` from the balance into escrow; returns the new balance.

        ``key`` names what the stake is for (``"seat3:bet"``,
        ``"seat3:hand1:double"``, ``"seat3:insurance"``).  Fails, debiting
        nothing, with :class:`InsufficientFundsError`,
        :class:`DuplicateStakeError` (same round, account and key twice),
        :class:`RoundClosedError`, :class:`UnknownAccountError`, or
        :class:`FencedError` if ``fence`` (the table's lease, in a room of
        nodes) no longer holds.
        """

    def settle(
        self,
        round_id: str,
        payouts: Mapping[int, int],
        record: Mapping[str, Any] | None = None,
        *,
        shoe: str | None = None,
        summaries: Mapping[int, HandSummary] | None = None,
        fence: Fence | None = None,
    ) -> Deferred[Mapping[int, int]]:
        """Pay out a round once and release its escrow; returns new balances.

        With a ``fence`` (the table's lease, in a room of nodes) it pays
        nothing, failing with :class:`FencedError`, unless the lease still
        holds: a node that lost its table cannot pay out its round.

        ``payouts`` must name exactly the accounts that staked in the round,
        each with the total chips it gets back (stakes included, 0 for a total
        loss), else :class:`SettlementError` and nothing changes.  ``record``
        (JSON-serialisable) is stored as each account's hand history, with
        the account's :class:`HandSummary` from ``summaries`` (zeros if not
        given); ``shoe`` names the provably fair shoe the round was dealt
        from, whose record lists it (:meth:`shoe`).  A round already settled
        or refunded is left alone and the current balances of its accounts
        are returned.
        """

    def refund(self, round_id: str) -> Deferred[Mapping[int, int]]:
        """Void an unsettled round, returning every stake; returns new balances.

        Idempotent; a settled round is left alone.
        """

    def recover(self, table: str | None = None) -> Deferred[list[tuple[str, int, int]]]:
        """Refund every stake a crash left in escrow for ``table``'s open rounds.

        ``table`` names the table whose rounds to void (see
        :func:`round_table`); ``None`` voids every open round in the
        database.  Call it for a table before that table opens a round: the
        single server process calls it for each of its tables at start-up,
        and a node taking over a dead node's table calls it for that table.
        Logs each refund and returns ``(round_id, account_id, amount)`` for
        every stake refunded.
        """

    def balance(self, account_id: int) -> Deferred[int]:
        """The account's balance; :class:`UnknownAccountError` if none."""

    def ledger(self, account_id: int, limit: int = 20) -> Deferred[list[LedgerEntry]]:
        """The account's latest ledger entries, newest first."""

    def history(self, account_id: int, limit: int = 10) -> Deferred[list[HandRecord]]:
        """The account's latest settled rounds, newest first."""

    def books(self) -> Deferred[Books]:
        """A consistent snapshot of the totals; ``books().balanced`` must hold."""

    def hand(self, account_id: int, hand_id: int) -> Deferred[HandRecord | None]:
        """The account's hand with this id (:attr:`HandRecord.id`), or ``None``."""

    def stats(self, account_id: int) -> Deferred[PlayerStats]:
        """The sums of the account's hands (all zero if it never played)."""

    def top(self, limit: int, since: float) -> Deferred[Leaderboard]:
        """The ``limit`` accounts with the most chips, and with the best net over the
        rounds settled since ``since`` (a time), best first."""

    def rebuy(self, account_id: int, amount: int, below: int, since: float) -> Deferred[int]:
        """Issue ``amount`` chips to a broke account (ledger kind "rebuy"); the new balance.

        In one transaction with the checks: the balance plus the chips in
        escrow must be below ``below``, and the account's last rebuy must be
        before ``since`` (a time), else :class:`RebuyRefusedError` carrying
        those chips and that time, and nothing changes.
        """

    def open_shoe(self, shoe_id: str, table: str, record: Mapping[str, Any],
                  server_seed: str) -> Deferred[None]:
        """Store a provably fair shoe as it starts dealing: its public ``record``
        (JSON-serialisable) and its sealed ``server_seed``, kept secret until
        :meth:`retire_shoe`."""

    def retire_shoe(self, shoe_id: str, reason: str) -> Deferred[None]:
        """Mark a shoe retired (``reason`` one of :data:`SHOE_RETIRED`): its seed
        may now be given out.  A shoe already retired keeps its first reason."""

    def retire_shoes(self, table: str | None, reason: str) -> Deferred[list[str]]:
        """Retire every shoe of ``table`` (``None``: every table) still open, as
        at start-up after a crash; returns their ids."""

    def shoe(self, shoe_id: str) -> Deferred[ShoeEntry | None]:
        """The shoe with this id and its rounds, or ``None``."""

    # -- the host's powers (roles, sanctions, grants, the audit trail) --

    def set_role(self, name: str, role: str, act: AdminAct) -> Deferred[Account]:
        """Give the account called ``name`` (any case) a role of :data:`ROLES`, and
        record ``act``; the account as it now is.  :class:`UnknownAccountError` if none."""

    def grant(self, account_id: int, amount: int, act: AdminAct) -> Deferred[int]:
        """Issue ``amount`` chips (negative: take them back) by an admin's act; the new balance.

        One ledger entry of kind ``issue``, key ``grant``, noted with the act's
        admin and reason, and the act, in one transaction.  Taking back more
        than the balance fails with :class:`InsufficientFundsError`, changing nothing.
        """

    def sanction(self, account_id: int, kind: str, until: float | None,
                 act: AdminAct) -> Deferred[None]:
        """Put the account under a sanction of :data:`SANCTIONS` until ``until`` (a time
        from the storage's clock; ``None``: until lifted), replacing one of that kind,
        and record ``act``."""

    def lift(self, account_id: int, kind: str, act: AdminAct) -> Deferred[bool]:
        """End the account's sanction of ``kind`` and record ``act``; whether one was in force."""

    def record_act(self, act: AdminAct) -> Deferred[int]:
        """Add an act that moves nothing (a kick, an announcement) to the trail; its id."""

    def admin_acts(self, limit: int = 50) -> Deferred[list[AdminAct]]:
        """The latest acts of the audit trail, newest first."""

    def accounts_with_role(self, role: str) -> Deferred[list[Account]]:
        """Every account with this role, by name."""

    def close(self) -> Deferred[None]:
        """Release the database; no call may follow."""


def check_amount(amount: object, what: str, *, allow_zero: bool = False) -> int:
    """Return ``amount`` if it is a whole number of chips in range, else raise.

    Shared by storage backends so they refuse the same inputs (``bool`` and
    ``float`` are refused: money is only ever ``int``).
    """
    if type(amount) is not int:
        raise InvalidAmountError(
            f"{what} must be a whole number of chips, got {amount!r}"
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        low = "zero or more" if allow_zero else "positive"
        raise InvalidAmountError(f"{what} must be {low}, got {amount}")
    return amount


def round_table(round_id: str) -> str:
    """The table a round belongs to: its id up to the last ``-``.

    Tables name their rounds ``<table name>-<unique part without a dash>``
    (``main-3f2a...``), so the table is known from the id alone, in every
    backend and for rows written before the table was recorded.  An id
    without a dash belongs to no table (``""``).
    """
    return round_id.rpartition("-")[0]


def check_choice(value: object, choices: tuple[str, ...], what: str) -> str:
    """Return ``value`` if it is one of ``choices`` (a role, a kind of sanction), else raise."""
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def check_grant(amount: object) -> int:
    """Return ``amount`` if it is a whole number of chips to grant (negative: take back), not 0."""
    if type(amount) is not int or amount == 0:
        raise InvalidAmountError(f"a grant must be a whole number of chips other than 0, "
                                 f"got {amount!r}")
    return amount


def check_act(act: object) -> AdminAct:
    """Return ``act`` if it is an :class:`AdminAct` naming its admin and act, else raise."""
    if not isinstance(act, AdminAct) or not act.admin or not act.act:
        raise ValueError(f"an admin act names its admin and act, got {act!r}")
    if act.admin_id is not None:
        check_id(act.admin_id)
    return act


def act_json(act: AdminAct) -> str:
    """The act's detail as the JSON text every backend stores."""
    return json.dumps(dict(act.detail), sort_keys=True, separators=(",", ":"))


def grant_note(act: AdminAct) -> str:
    """The ledger note of a grant: who granted it, and why."""
    return f"{act.admin}: {act.reason}" if act.reason else act.admin


def check_text(value: object, what: str) -> str:
    """Return ``value`` if it is a non-empty string (a name, round id or key), else raise."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def check_id(value: object) -> int:
    """Return ``value`` if it is an account id (an ``int``, never a ``bool``), else raise."""
    if type(value) is not int:
        raise TypeError(f"account id must be an int, got {value!r}")
    return value


def check_limit(value: object) -> int:
    """Return ``value`` if it is a whole number >= 0 of rows to return, else raise."""
    if type(value) is not int or value < 0:
        raise ValueError(f"limit must be a whole number >= 0, got {value!r}")
    return value


def check_time(value: object) -> float:
    """Return ``value`` as a float if it is a time in seconds (an int or float), else raise."""
    if type(value) not in (int, float):
        raise TypeError(f"a time must be a number of seconds, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_reason(value: object) -> str:
    """Return ``value`` if it is a reason a shoe is retired for, else raise."""
    if value not in SHOE_RETIRED:
        raise ValueError(f"a shoe is retired for one of {SHOE_RETIRED}, not {value!r}")
    return str(value)
