"""The host's powers in SQL: roles, sanctions, grants and the audit trail of admin acts.

What :class:`~blackjack.server.storage.sql.SQLStorage` runs, on its pool
thread inside a batch, for the admin half of
:class:`~blackjack.server.storage.IStorage`; SQLite and PostgreSQL share it.
Each function that changes something writes its :class:`AdminAct` in the
same transaction, so the trail can never miss an act nor hold one that did
not happen.  The schema (version 4, :mod:`.schema`) is each backend's.
"""

from __future__ import annotations

import json
from typing import Any

from blackjack.server.storage.interface import (
    Account,
    AdminAct,
    InsufficientFundsError,
    UnknownAccountError,
    act_json,
    grant_note,
)

__all__ = ["insert_act", "set_role", "grant", "sanction", "lift", "select_acts",
           "select_sanctions", "accounts_with_role", "ACCOUNT_COLUMNS", "account"]

ACCOUNT_COLUMNS = "id, name, balance, created, role"
"""The columns an :class:`Account` is read from, in order (then its sanctions)."""


def account(txn: Any, row: Any, now: float) -> Account:
    """An account from a row of :data:`ACCOUNT_COLUMNS`, with its sanctions in force."""
    account_id, name, balance, created, role = row
    return Account(account_id, name, balance, created, role,
                   select_sanctions(txn, int(account_id), now))


def select_sanctions(txn: Any, account_id: int, now: float) -> dict[str, float | None]:
    """The account's sanctions in force at ``now``: kind to end (``None``: until lifted)."""
    return {kind: None if until is None else float(until)
            for kind, until in txn.execute(
                "SELECT kind, ends FROM sanctions WHERE account_id = ?"
                " AND (ends IS NULL OR ends > ?) ORDER BY kind",
                (account_id, now)).fetchall()}


def insert_act(txn: Any, act: AdminAct, now: float) -> int:
    """Write ``act`` to the trail; its id."""
    new_id: int = txn.insert_id(
        "INSERT INTO admin_acts (admin_id, admin, act, target, reason, detail, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (act.admin_id, act.admin, act.act, act.target, act.reason, act_json(act), now))
    return new_id


def set_role(txn: Any, name: str, role: str, act: AdminAct, now: float) -> Account:
    txn.execute("UPDATE accounts SET role = ? WHERE name_key = ?", (role, name.lower()))
    if txn.rowcount != 1:
        raise UnknownAccountError(name)
    insert_act(txn, act, now)
    row = txn.execute(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name_key = ?",
                      (name.lower(),)).fetchone()
    return account(txn, row, now)


def grant(txn: Any, account_id: int, amount: int, act: AdminAct, now: float) -> int:
    if amount > 0:
        balance = txn.add_chips(account_id, amount)
    else:
        # A correction takes chips back, never below zero: one statement checks and debits.
        balance = txn.add_chips(account_id, -amount, debit=True)
    if balance is None:
        row = txn.execute("SELECT balance FROM accounts WHERE id = ?", (account_id,)).fetchone()
        if row is None:
            raise UnknownAccountError(account_id)
        raise InsufficientFundsError(int(row[0]), -amount)
    txn.execute(
        "INSERT INTO ledger (account_id, kind, amount, balance, round_id, key, created, note)"
        " VALUES (?, 'issue', ?, ?, NULL, 'grant', ?, ?)",
        (account_id, amount, balance, now, grant_note(act)))
    insert_act(txn, act, now)
    return balance


def _require_account(txn: Any, account_id: int) -> None:
    if txn.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is None:
        raise UnknownAccountError(account_id)


def sanction(txn: Any, account_id: int, kind: str, until: float | None, act: AdminAct,
             now: float) -> None:
    _require_account(txn, account_id)
    txn.execute("INSERT INTO sanctions (account_id, kind, ends, created) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (account_id, kind) DO UPDATE"
                " SET ends = excluded.ends, created = excluded.created",
                (account_id, kind, until, now))
    insert_act(txn, act, now)


def lift(txn: Any, account_id: int, kind: str, act: AdminAct, now: float) -> bool:
    _require_account(txn, account_id)
    in_force = kind in select_sanctions(txn, account_id, now)
    txn.execute("DELETE FROM sanctions WHERE account_id = ? AND kind = ?", (account_id, kind))
    insert_act(txn, act, now)
    return in_force


def select_acts(txn: Any, limit: int) -> list[AdminAct]:
    rows = txn.execute("SELECT id, created, admin_id, admin, act, target, reason, detail"
                       " FROM admin_acts ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [AdminAct(admin=admin, act=act, target=target, reason=reason,
                     detail=json.loads(detail), admin_id=admin_id, id=act_id,
                     created=float(created))
            for act_id, created, admin_id, admin, act, target, reason, detail in rows]


def accounts_with_role(txn: Any, role: str, now: float) -> list[Account]:
    rows = txn.execute(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE role = ?"
                       " ORDER BY name_key", (role,)).fetchall()
    return [account(txn, row, now) for row in rows]
