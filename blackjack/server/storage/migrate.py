"""Copy an SQLite card room into PostgreSQL and prove the books match.

Run by an operator with the server stopped::

    python -m blackjack.server.migrate --from blackjack.sqlite3 --to postgresql://bj@db/room

Accounts (with their ids, password hashes and roles), balances, rounds, stakes,
the whole ledger, the hand history, sanctions and the audit trail of admin acts
are copied as they are: the source is read
in one snapshot (opened read-only, so a file from any release this one can
upgrade is left untouched; an older file gets its accounts' look-alike keys
and its rounds' tables on the way), and the target is written in one transaction into an
empty database, its schema made first.  Then both are audited
(:mod:`.audit`) and compared: the totals, every account's balance, escrow,
issued chips, net over settled hands and ledger sum, the chips held for each
open round, and the number of rows in every table must be equal.  It prints
both reports and ``books match`` (exit status 0), or each difference (1);
2 if either database cannot be used.  Stakes still held (a server that
crashed) are copied as held: the server refunds them when it starts on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from blackjack.server.storage import schema, sql_records
from blackjack.server.storage.audit import Audit, audit, unreadable
from blackjack.server.storage.backends import is_postgresql, redact
from blackjack.server.storage.interface import MigrationError, round_table
from blackjack.server.text import look_alike_key

__all__ = ["Copied", "copy_room", "main"]

_TABLES = {
    "accounts": "id, name, name_key, password_hash, balance, created, look_key, role",
    "rounds": "round_id, table_name, state, opened, closed, shoe_id",
    "stakes": "id, round_id, account_id, key, amount, state, created",
    "ledger": "id, account_id, kind, amount, balance, round_id, key, created, note",
    "hands": "id, round_id, account_id, staked, payout, record, created, "
             + sql_records.SUMMARY_NAMES,
    "shoes": "shoe_id, table_name, record, server_seed, retired, opened, closed",
    "admin_acts": "id, admin_id, admin, act, target, reason, detail, created",
    "sanctions": "account_id, kind, ends, created",
}
"""Every table and column copied, in an order that satisfies the foreign keys."""

_CHUNK = 2000


@dataclass(frozen=True)
class Copied:
    """What a copy did, and both sides' books."""

    rows: dict[str, int]
    source: Audit
    target: Audit
    target_rows: dict[str, int]

    @property
    def differences(self) -> list[str]:
        """One line per thing that differs between the two databases."""
        found = []
        if self.source.books != self.target.books:
            found.append(f"totals differ: {self.source.books} vs {self.target.books}")
        if self.source.accounts != self.target.accounts:
            target = {a.account_id: a for a in self.target.accounts}
            for account in self.source.accounts:
                if target.get(account.account_id) != account:
                    found.append(f"account {account.account_id} ({account.name}): "
                                 f"{account} vs {target.get(account.account_id)}")
            if len(target) != len(self.source.accounts):
                found.append(f"{len(self.source.accounts)} accounts vs {len(target)}")
        if dict(self.source.held_by_round) != dict(self.target.held_by_round):
            found.append("chips held by open rounds differ")
        for table, count in self.rows.items():
            if self.target_rows[table] != count:
                found.append(f"{table}: {count} rows copied, {self.target_rows[table]} found")
        return found


def _source_version(cursor: Any) -> int:
    try:
        found = cursor.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    except sqlite3.OperationalError as e:
        raise MigrationError(f"not a blackjack database: {e}") from None
    if found not in range(1, schema.SCHEMA_VERSION + 1):
        raise MigrationError(f"the file has schema version {found}; this release copies "
                             f"versions 1 to {schema.SCHEMA_VERSION}")
    return int(found)


_SINCE_5 = {"accounts": ("role", "'player'"), "ledger": ("note", "''")}
"""Columns added in version 5, and what older rows hold in their place."""


def _rows(cursor: Any, table: str, version: int) -> list[tuple[Any, ...]]:
    columns = _TABLES[table]
    if version < 5:
        if table in ("admin_acts", "sanctions"):
            return []
        if table in _SINCE_5:
            column, default = _SINCE_5[table]
            columns = columns.replace(column, default)
    if table == "accounts" and version < 2:
        rows = cursor.execute("SELECT id, name, name_key, password_hash, balance, created,"
                              " 'player' FROM accounts ORDER BY id").fetchall()
        return [(*row[:6], look_alike_key(row[1]), row[6]) for row in rows]
    if table == "rounds" and version < 3:
        rows = cursor.execute("SELECT round_id, state, opened, closed FROM rounds").fetchall()
        return [(r, round_table(r), state, opened, closed, None)
                for r, state, opened, closed in rows]
    if version < 4:
        # Before fair shoes and hand summaries: no shoes, no summaries (zeros).
        if table == "shoes":
            return []
        if table == "rounds":
            return [(*row, None) for row in cursor.execute(
                "SELECT round_id, table_name, state, opened, closed FROM rounds").fetchall()]
        if table == "hands":
            return [(*row, *sql_records.summary_row(None)) for row in cursor.execute(
                "SELECT id, round_id, account_id, staked, payout, record, created FROM hands"
                " ORDER BY 1").fetchall()]
    found: list[tuple[Any, ...]] = cursor.execute(
        f"SELECT {columns} FROM {table} ORDER BY 1").fetchall()
    return found


def _counts(cursor: Any) -> dict[str, int]:
    return {table: int(cursor.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in _TABLES}


def copy_room(source: str, target: str) -> Copied:
    """Copy the SQLite file ``source`` into the empty PostgreSQL database ``target``."""
    from psycopg2.extras import execute_values

    from blackjack.server.storage.postgresql import PostgreSQLCursor, connect, create

    if not is_postgresql(target):
        raise MigrationError(f"--to must be a postgresql:// URL, not {redact(target)!r}")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    writer = connect(target)
    try:
        src = reader.cursor()
        src.execute("BEGIN")
        version = _source_version(src)
        dst = PostgreSQLCursor(writer.cursor())
        dst.execute("BEGIN")
        dst.execute("SELECT pg_advisory_xact_lock(?)", (0x626A6B,))
        schema.upgrade(dst, redact(target), create, {})
        held = dst.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
        if held:
            raise MigrationError(f"{redact(target)} already holds {held} accounts; "
                                 "copy into an empty database")
        rows = {}
        for table, columns in _TABLES.items():
            data = _rows(src, table, version)
            rows[table] = len(data)
            for start in range(0, len(data), _CHUNK):
                execute_values(writer.cursor(),
                               f"INSERT INTO {table} ({columns}) VALUES %s",
                               data[start:start + _CHUNK])
        for table in ("accounts", "stakes", "ledger", "hands", "admin_acts"):
            # New rows continue after the copied ids.
            dst.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}")
        source_audit = audit(src)
        dst.execute("COMMIT")
        src.execute("ROLLBACK")
        dst.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            return Copied(rows, source_audit, audit(dst), _counts(dst))
        finally:
            dst.execute("ROLLBACK")
    except BaseException:
        if not writer.closed:
            writer.rollback()
            writer.cursor().execute("ROLLBACK")
        raise
    finally:
        reader.close()
        writer.close()


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: 0 if the books match, 1 if not, 2 if a database cannot be used."""
    parser = argparse.ArgumentParser(
        prog="python -m blackjack.server.migrate",
        description="Copy an SQLite card room into an empty PostgreSQL database "
                    "and check that the books match. Stop the server first.")
    parser.add_argument("--from", dest="source", required=True, metavar="FILE",
                        help="the SQLite file")
    parser.add_argument("--to", dest="target", required=True, metavar="URL",
                        help="postgresql://USER@HOST/DATABASE (the database must exist)")
    args = parser.parse_args(argv)
    try:
        copied = copy_room(args.source, args.target)
    except MigrationError as e:
        print(f"cannot migrate: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        if not unreadable(e):
            raise
        print(f"cannot migrate {args.source} to {redact(args.target)}: {e}", file=sys.stderr)
        return 2
    print(f"copied from {args.source}: " + ", ".join(f"{n} {t}" for t, n in copied.rows.items()))
    for title, report in (("SQLite", copied.source), ("PostgreSQL", copied.target)):
        print(f"-- {title}")
        for line in report.report():
            print(f"   {line}")
    problems = copied.differences
    for problem in problems:
        print(f"DIFFERENT: {problem}")
    if not problems:
        print("books match")
    return 0 if not problems and copied.target.balanced else 1
