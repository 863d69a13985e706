"""Check the books of a blackjack database: every chip accounted for.

Run by an operator against the live or a stopped server's database::

    python -m blackjack.server.audit --db blackjack.sqlite3
    python -m blackjack.server.audit --db postgresql://blackjack@dbhost/room

It prints the chips ever issued, the sum of balances, the chips in escrow and
the house's net result, then ``balanced`` (exit status 0) or each discrepancy
(exit status 1).  Besides the global identity ``balances + escrow + house net
== issued`` it checks every account (balance plus its escrow equals the chips
issued to it plus its net result over settled hands, and its ledger sums to its
balance) and that no stake is held in escrow for a round already closed.

The checks are plain SQL over any DB-API cursor (:func:`audit`), so the SQL
backends run the same ones inside their own read transaction, and this
command runs them on either database in one snapshot (SQLite opened
read-only; PostgreSQL in a REPEATABLE READ, READ ONLY transaction).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from blackjack.server.storage.interface import Books

__all__ = ["AccountAudit", "Audit", "read_books", "audit", "audit_file", "audit_database",
           "main"]


@dataclass(frozen=True)
class AccountAudit:
    """One account's chips, from the three places that record them."""

    account_id: int
    name: str
    balance: int
    held: int
    """Chips the account has in escrow (stakes not yet settled or refunded)."""
    issued: int
    settled_net: int
    """What the account won (positive) or lost over every settled hand."""
    ledger_sum: int
    """The sum of the account's ledger entries; must equal ``balance``."""

    @property
    def conserved(self) -> bool:
        """Balance plus escrow is what was issued plus what was won, and the ledger agrees."""
        return (self.balance + self.held == self.issued + self.settled_net
                and self.ledger_sum == self.balance and self.balance >= 0)


@dataclass(frozen=True)
class Audit:
    """The whole database's books, per account and per open round."""

    books: Books
    accounts: tuple[AccountAudit, ...]
    held_by_round: Mapping[str, int]
    """Chips in escrow for each round that holds any."""
    closed_rounds_holding: Mapping[str, int]
    """Chips still held for rounds already settled or refunded (should be empty)."""
    granted: int = 0
    """Of the chips issued, those admins granted (net of what they took back)."""

    @property
    def discrepancies(self) -> list[str]:
        """One line per thing that does not add up; empty when all is well."""
        problems = []
        books = self.books
        if not books.balanced:
            total = books.balances + books.escrow + books.house_net
            problems.append(f"balances + escrow + house net = {total}, but {books.issued} "
                            f"were issued (off by {total - books.issued:+d})")
        for a in self.accounts:
            if a.balance + a.held != a.issued + a.settled_net:
                problems.append(
                    f"account {a.account_id} ({a.name}): balance {a.balance} + escrow "
                    f"{a.held} != issued {a.issued} + settled net {a.settled_net:+d}")
            if a.ledger_sum != a.balance:
                problems.append(f"account {a.account_id} ({a.name}): ledger sums to "
                                f"{a.ledger_sum}, balance is {a.balance}")
            if a.balance < 0:
                problems.append(f"account {a.account_id} ({a.name}): balance {a.balance} < 0")
        for round_id, amount in sorted(self.closed_rounds_holding.items()):
            problems.append(f"round {round_id} is closed but holds {amount} chips in escrow")
        return problems

    @property
    def balanced(self) -> bool:
        """True when every check passes."""
        return not self.discrepancies

    def report(self) -> list[str]:
        """The lines the command prints."""
        books = self.books
        width = len(str(max(abs(books.issued), abs(books.balances), abs(books.escrow),
                            abs(books.house_net), abs(self.granted))))
        lines = [f"issued     {books.issued:>{width}}",
                 f"balances   {books.balances:>{width}}",
                 f"escrow     {books.escrow:>{width}}",
                 f"house net  {books.house_net:>{width}}",
                 f"granted    {self.granted:>{width}}  (by admins; counted in issued)",
                 f"accounts   {len(self.accounts)}",
                 f"open rounds holding escrow: {len(self.held_by_round)}"]
        problems = self.discrepancies
        return lines + (["balanced"] if not problems else
                        [f"UNBALANCED: {p}" for p in problems])


def _one(cursor: Any, sql: str) -> int:
    return int(cursor.execute(sql).fetchone()[0])


def _by_key(cursor: Any, sql: str) -> dict[Any, int]:
    return {key: int(value) for key, value in cursor.execute(sql).fetchall()}


def read_books(cursor: Any) -> Books:
    """The four totals of :class:`Books`, read through ``cursor``.

    Call it inside one read transaction so the sums describe the same instant.
    """
    paid = _one(cursor, "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE kind = 'payout'")
    settled = _one(cursor,
                   "SELECT COALESCE(SUM(amount), 0) FROM stakes WHERE state = 'settled'")
    return Books(
        issued=_one(cursor, "SELECT COALESCE(SUM(amount), 0) FROM ledger"
                            " WHERE kind IN ('issue', 'rebuy')"),
        balances=_one(cursor, "SELECT COALESCE(SUM(balance), 0) FROM accounts"),
        escrow=_one(cursor, "SELECT COALESCE(SUM(amount), 0) FROM stakes WHERE state = 'held'"),
        house_net=settled - paid,
    )


def audit(cursor: Any) -> Audit:
    """Every check, read through ``cursor`` (inside one read transaction)."""
    held = _by_key(cursor, "SELECT account_id, SUM(amount) FROM stakes"
                           " WHERE state = 'held' GROUP BY account_id")
    issued = _by_key(cursor, "SELECT account_id, SUM(amount) FROM ledger"
                             " WHERE kind IN ('issue', 'rebuy') GROUP BY account_id")
    net = _by_key(cursor, "SELECT account_id, SUM(payout - staked) FROM hands"
                          " GROUP BY account_id")
    ledger = _by_key(cursor, "SELECT account_id, SUM(amount) FROM ledger GROUP BY account_id")
    accounts = tuple(
        AccountAudit(account_id, name, int(balance), held.get(account_id, 0),
                     issued.get(account_id, 0), net.get(account_id, 0),
                     ledger.get(account_id, 0))
        for account_id, name, balance in cursor.execute(
            "SELECT id, name, balance FROM accounts ORDER BY id").fetchall())
    return Audit(
        books=read_books(cursor),
        accounts=accounts,
        held_by_round=_by_key(cursor, "SELECT round_id, SUM(amount) FROM stakes"
                                      " WHERE state = 'held' GROUP BY round_id"),
        closed_rounds_holding=_by_key(
            cursor, "SELECT s.round_id, SUM(s.amount) FROM stakes s JOIN rounds r"
                    " ON r.round_id = s.round_id WHERE s.state = 'held'"
                    " AND r.state != 'open' GROUP BY s.round_id"),
        granted=_one(cursor, "SELECT COALESCE(SUM(amount), 0) FROM ledger"
                             " WHERE kind = 'issue' AND key = 'grant'"),
    )


def audit_file(path: str) -> Audit:
    """Audit a database file, opened read-only in one transaction."""
    # mode=ro: never create a missing file, never write to an existing one.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    return _in_snapshot(connection, connection.cursor(), "BEGIN")


def _in_snapshot(connection: Any, cursor: Any, begin: str) -> Audit:
    """:func:`audit` inside one read transaction opened by ``begin``; closes ``connection``."""
    try:
        cursor.execute(begin)
        try:
            return audit(cursor)
        finally:
            cursor.execute("ROLLBACK")
    finally:
        connection.close()


def audit_database(location: str) -> Audit:
    """Audit an SQLite file or a PostgreSQL database (a ``postgresql://`` URL)."""
    from blackjack.server.storage.backends import is_postgresql, sqlite_path

    if not is_postgresql(location):
        return audit_file(sqlite_path(location))
    from blackjack.server.storage.postgresql import PostgreSQLCursor, connect

    connection = connect(location)
    return _in_snapshot(connection, PostgreSQLCursor(connection.cursor()),
                        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")


def unreadable(error: Exception) -> bool:
    """True for a driver error (a missing file, a refused connection): exit status 2."""
    if isinstance(error, (sqlite3.Error, ValueError)):
        return True
    psycopg2 = sys.modules.get("psycopg2")
    return psycopg2 is not None and isinstance(error, psycopg2.Error)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns 0 if balanced, 1 if not, 2 if the database cannot be read."""
    from blackjack.server.storage.backends import redact

    parser = argparse.ArgumentParser(
        prog="python -m blackjack.server.audit",
        description="Check that every chip in a blackjack database is accounted for.")
    parser.add_argument("--db", required=True,
                        help="the server's SQLite file or postgresql:// URL")
    args = parser.parse_args(argv)
    try:
        result = audit_database(args.db)
    except Exception as e:
        if not unreadable(e):
            raise
        print(f"cannot audit {redact(args.db)}: {e}", file=sys.stderr)
        return 2
    for line in result.report():
        print(line)
    return 0 if result.balanced else 1


if __name__ == "__main__":
    from blackjack._cli import run

    run(main)
