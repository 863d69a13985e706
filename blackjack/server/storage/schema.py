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
4. Provably fair shoes and the player's numbers: the ``shoes`` table,
   ``rounds.shoe_id``, each hand's summary for ``stats`` (zeros for hands
   stored before), and the ledger kind ``rebuy`` (:mod:`.sql_records`).
5. The host's powers: ``accounts.role`` (every existing account a
   ``player``), ``ledger.note`` (who granted chips, and why), ``sanctions``
   (bans and mutes) and ``admin_acts`` (the audit trail of admin acts).
6. A room of several nodes (:mod:`~blackjack.server.storage.room`):
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

from blackjack.server.storage import sql_records
from blackjack.server.storage.interface import DatabaseError, round_table
from blackjack.server.text import look_alike_key

__all__ = ["SCHEMA_VERSION", "upgrade", "version", "fill_look_keys", "fill_round_tables",
           "add_records", "LEDGER_KINDS_CHECK", "add_powers", "create_powers", "POWERS",
           "ROOM_TABLES", "add_room"]

SCHEMA_VERSION = 6
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
    expires    {time} NOT NULL DEFAULT 0   -- the database's clock, in seconds
);""", """
CREATE TABLE room_nodes (
    name     TEXT PRIMARY KEY,
    instance TEXT NOT NULL,                -- the process holding the name
    address  TEXT NOT NULL,                -- host:port of its node link
    draining INTEGER NOT NULL DEFAULT 0,
    expires  {time} NOT NULL
);""", """
CREATE TABLE seats (
    table_name TEXT    NOT NULL,
    seat       INTEGER NOT NULL,
    account_id {id}    NOT NULL REFERENCES accounts (id),
    since      {time}  NOT NULL,
    PRIMARY KEY (table_name, seat)
);""", """
CREATE INDEX seats_by_account ON seats (account_id);""", """
CREATE TABLE room_logins (
    account_id {id}   PRIMARY KEY REFERENCES accounts (id),
    node       TEXT   NOT NULL,
    since      {time} NOT NULL
);""")
"""Version 6's tables, each statement for a backend's types (``id``, ``time``)."""


def add_room(cursor: Any, types: Mapping[str, str]) -> None:
    """Version 6: the room's leases, members, seats and logins, in any backend
    (a new database or an upgraded one: the step only adds tables)."""
    for statement in ROOM_TABLES:
        cursor.execute(statement.format(**types))


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


LEDGER_KINDS_CHECK = "CHECK (kind IN ('issue', 'rebuy', 'stake', 'payout', 'refund'))"
"""The ledger's kinds, as both backends' schemas constrain them since version 4."""


def add_records(cursor: Any) -> None:
    """Version 4's tables and columns, the same in every SQL dialect (the
    ledger's new kind is each backend's own step: SQLite cannot alter a CHECK)."""
    for statement in sql_records.COLUMNS:
        cursor.execute(statement)
    for statement in sql_records.TABLES.split(";"):
        if statement.strip():
            cursor.execute(statement)


POWERS = """
CREATE TABLE sanctions (
    account_id {id}    NOT NULL REFERENCES accounts (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('ban', 'mute')),
    ends       {time},                   -- NULL: until lifted
    created    {time}  NOT NULL,
    PRIMARY KEY (account_id, kind)
);
CREATE TABLE admin_acts (
    id         {serial} PRIMARY KEY,
    admin_id   {id},                     -- NULL: the host's command line (a record: no key)
    admin      TEXT    NOT NULL,
    act        TEXT    NOT NULL,
    target     TEXT    NOT NULL DEFAULT '',
    reason     TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT '{{}}',  -- JSON
    created    {time}  NOT NULL
);
CREATE INDEX admin_acts_by_target ON admin_acts (target, id);
"""
"""Version 5's new tables, for a backend's types (``id``, ``serial``, ``time``)."""

_ROLE = "TEXT NOT NULL DEFAULT 'player' CHECK (role IN ('player', 'admin'))"


def add_powers(cursor: Any, types: Mapping[str, str]) -> None:
    """Version 5: roles, grant notes, sanctions and the audit trail, in any backend."""
    cursor.execute(f"ALTER TABLE accounts ADD COLUMN role {_ROLE}")
    cursor.execute("ALTER TABLE ledger ADD COLUMN note TEXT NOT NULL DEFAULT ''")
    create_powers(cursor, types)


def create_powers(cursor: Any, types: Mapping[str, str]) -> None:
    """Version 5's tables (:data:`POWERS`), in a new database or an upgraded one."""
    for statement in POWERS.format(**types).split(";"):
        if statement.strip():
            cursor.execute(statement)
