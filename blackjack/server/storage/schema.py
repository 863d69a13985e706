"""Schema versions: create a new database at the latest one, upgrade an older one in place.

Every backend keeps the version in a ``schema_version`` table (one row per
version applied).  At start-up :func:`upgrade` reads it: an empty database
gets the latest schema at once; an older one gets each missing step in
order; a newer one (written by a later release) is refused untouched.  The
caller runs it inside one transaction, so an upgrade is applied whole or not
at all.

Versions (the same numbers in every backend):

1. accounts, rounds, stakes, ledger, hands (the first release, SQLite only).
2. ``accounts.look_key``: each name's look-alike form
   (:func:`~blackjack.server.text.look_alike_key`), so that ``aIice`` cannot
   join next to ``alice``; existing accounts get it from their name.
3. ``rounds.table_name``: the table a round belongs to, so recovery can
   refund one table's open rounds; existing rounds get it from their id
   (:func:`~blackjack.server.storage.interface.round_table`).
4. A room of several nodes (:mod:`~blackjack.server.storage.room`):
   ``table_leases`` (who runs each table, under which epoch, until when),
   ``room_nodes`` (the live nodes and where their links listen), ``seats``
   (who sits where, for the node that takes a table over) and
   ``room_logins`` (the node of each account's last login).  Empty, and
   unused, for a single server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.logger import Logger

from blackjack.server.storage.interface import DatabaseError, round_table
from blackjack.server.text import look_alike_key

__all__ = ["SCHEMA_VERSION", "upgrade", "version", "fill_look_keys", "fill_round_tables",
           "ROOM_TABLES"]

SCHEMA_VERSION = 4
"""The version this release writes."""

_log = Logger()

Step = Callable[[Any], None]
"""One upgrade step, given a cursor inside the upgrade's transaction."""

ROOM_TABLES = (
    """
CREATE TABLE table_leases (
    table_name TEXT PRIMARY KEY,
    node       TEXT NOT NULL DEFAULT '',   -- '' while free
    epoch      {id} NOT NULL DEFAULT 0,    -- bumped by every takeover
    expires    {real} NOT NULL DEFAULT 0   -- the database's clock, in seconds
);""", """
CREATE TABLE room_nodes (
    name     TEXT PRIMARY KEY,
    instance TEXT NOT NULL,                -- the process holding the name
    address  TEXT NOT NULL,                -- host:port of its node link
    draining INTEGER NOT NULL DEFAULT 0,
    expires  {real} NOT NULL
);""", """
CREATE TABLE seats (
    table_name TEXT    NOT NULL,
    seat       INTEGER NOT NULL,
    account_id {id}    NOT NULL REFERENCES accounts (id),
    since      {real}  NOT NULL,
    PRIMARY KEY (table_name, seat)
);""", """
CREATE INDEX seats_by_account ON seats (account_id);""", """
CREATE TABLE room_logins (
    account_id {id}   PRIMARY KEY REFERENCES accounts (id),
    node       TEXT   NOT NULL,
    since      {real} NOT NULL
);""")
"""Schema version 4, for both SQL dialects: ``.format(real=..., id=...)`` each
statement with the dialect's names for a float and a row id."""


def version(cursor: Any) -> int | None:
    """The database's schema version, or ``None`` for an empty database."""
    cursor.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    found = cursor.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    return None if found is None else int(found)


def upgrade(cursor: Any, where: str, create: Step, steps: Mapping[int, Step]) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; the version it had (0 if empty).

    ``create`` makes the latest schema in an empty database; ``steps[n]``
    upgrades version ``n - 1`` to ``n``.  ``where`` names the database in
    errors.
    """
    found = version(cursor)
    if found is None:
        create(cursor)
        _record(cursor, SCHEMA_VERSION)
        return 0
    if found > SCHEMA_VERSION:
        raise DatabaseError(f"database {where} has schema version {found}; "
                            f"this server knows version {SCHEMA_VERSION}")
    for number in range(found + 1, SCHEMA_VERSION + 1):
        if number not in steps:
            raise DatabaseError(f"database {where} has schema version {found}, "
                                f"which this server cannot upgrade")
        steps[number](cursor)
        _record(cursor, number)
    if found < SCHEMA_VERSION:
        _log.info("upgraded {where} from schema version {found} to {version}",
                  where=where, found=found, version=SCHEMA_VERSION)
    return found


def _record(cursor: Any, number: int) -> None:
    cursor.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))


def fill_look_keys(cursor: Any) -> None:
    """Give every account its name's look-alike key."""
    rows = cursor.execute("SELECT id, name FROM accounts").fetchall()
    if rows:
        cursor.executemany("UPDATE accounts SET look_key = ? WHERE id = ?",
                           [(look_alike_key(name), account_id) for account_id, name in rows])


def fill_round_tables(cursor: Any) -> None:
    """Give every round recorded without a table the one its id names."""
    rows = cursor.execute("SELECT round_id FROM rounds WHERE table_name = ''").fetchall()
    updates = [(round_table(round_id), round_id) for (round_id,) in rows]
    if updates:
        cursor.executemany("UPDATE rounds SET table_name = ? WHERE round_id = ?", updates)
