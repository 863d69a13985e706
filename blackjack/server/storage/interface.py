"""The narrow storage interface for money, accounts and hand history.

Everything the server persists goes through :class:`IStorage`, so a database
other than SQLite (``sqlite.py``) can be plugged in without touching the
protocol, lobby or tables.  This module holds only the interface, the frozen
values it speaks in and the errors it raises; it imports no database driver.

Money model (all amounts are whole chips, ``int``, never ``float``):

* ``issue``: chips enter the economy, e.g. a new account's bankroll.
* ``stake``: chips leave a balance into *escrow* the moment a bet, double,
  split or insurance is placed, in the same transaction that checks the
  balance, so a balance can never go below zero.
* ``payout``: when a round is settled each staked account is credited the
  total it gets back for the round (stakes included; 0 for a total loss) and
  its escrow is released to the house.  Once per round, however often asked.
* ``refund``: a voided round (shutdown, crash recovery) returns every stake.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from blackjack.server.errors import (  # noqa: F401  (re-exported: the interface's errors)
    DatabaseError,
    DuplicateStakeError,
    FencedError,
    InsufficientFundsError,
    InvalidAmountError,
    LookAlikeNameError,
    NameTakenError,
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
    "Books",
    "IStorage",
    "LEDGER_KINDS",
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
    "check_text",
    "check_id",
    "check_limit",
    "round_table",
]

#: Every ``LedgerEntry.kind``; see the module docstring for what each means.
LEDGER_KINDS = frozenset({"issue", "stake", "payout", "refund"})


# --- values -----------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A player account as the game sees it (the password hash stays in storage)."""

    id: int
    name: str
    """Display case as registered; uniqueness is case-insensitive."""
    balance: int
    created: float


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
        *, fence: Fence | None = None,
    ) -> Deferred[Mapping[int, int]]:
        """Pay out a round once and release its escrow; returns new balances.

        With a ``fence`` (the table's lease, in a room of nodes) it pays
        nothing, failing with :class:`FencedError`, unless the lease still
        holds: a node that lost its table cannot pay out its round.

        ``payouts`` must name exactly the accounts that staked in the round,
        each with the total chips it gets back (stakes included, 0 for a total
        loss), else :class:`SettlementError` and nothing changes.  ``record``
        (JSON-serialisable) is stored as each account's hand history.  A round
        already settled or refunded is left alone and the current balances of
        its accounts are returned.
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
