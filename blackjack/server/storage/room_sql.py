"""The room's queries (:mod:`.room`) in SQL, shared by SQLite and PostgreSQL.

Functions run on the pool thread inside a transaction, like the queries of
:mod:`.sql`, which calls them.  Lease times are the database's clock where it
has one (:meth:`~.sql.Cursor.database_time`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from blackjack.server.storage.room import (
    Arrival,
    Fence,
    FencedError,
    Lease,
    Member,
    RoomView,
    SeatRecord,
)

if TYPE_CHECKING:
    from blackjack.server.storage.sql import Cursor

__all__ = ["check_fence", "tick", "claim", "seats", "save_seats", "release", "arrive",
           "leave"]


def check_fence(txn: Cursor, fence: Fence) -> None:
    """Raise :class:`FencedError` unless the table's lease is still ``fence``.

    The lease row stays share-locked until COMMIT, so a takeover (which
    updates it) waits for this transaction, and then its recovery sees every
    stake written here.
    """
    row = txn.execute("SELECT 1 FROM table_leases WHERE table_name = ? AND node = ?"
                      " AND epoch = ?" + txn.lock_shared("lease:" + fence.table),
                      (fence.table, fence.node, fence.epoch)).fetchone()
    if row is None:
        raise FencedError(fence.table, fence.node, fence.epoch)


def tick(txn: Cursor, node: str, instance: str, address: str, draining: bool,
         lease: float, held: Sequence[Fence], now: float) -> RoomView:
    """A node's heartbeat (see :meth:`~.room.IRoomStorage.room_tick`)."""
    now = txn.database_time(now)
    txn.execute("INSERT INTO room_nodes (name, instance, address, draining, expires)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " instance = excluded.instance, address = excluded.address,"
                " draining = excluded.draining, expires = excluded.expires"
                " WHERE room_nodes.instance = excluded.instance OR room_nodes.expires <= ?",
                (node, instance, address, int(draining), now + lease, now))
    joined = txn.rowcount == 1
    renewed = set()
    if joined:
        for fence in held:
            txn.execute("UPDATE table_leases SET expires = ?"
                        " WHERE table_name = ? AND node = ? AND epoch = ?",
                        (now + lease, fence.table, fence.node, fence.epoch))
            if txn.rowcount == 1:
                renewed.add(fence.table)
    leases = tuple(Lease(table, owner, int(epoch), float(expires))
                   for table, owner, epoch, expires in txn.execute(
                       "SELECT table_name, node, epoch, expires FROM table_leases"
                       " ORDER BY table_name").fetchall())
    members = tuple(Member(name, addr, bool(drain), float(expires))
                    for name, addr, drain, expires in txn.execute(
                        "SELECT name, address, draining, expires FROM room_nodes"
                        " WHERE expires > ? ORDER BY name", (now,)).fetchall())
    return RoomView(now, joined, frozenset(renewed), leases, members)


def claim(txn: Cursor, table: str, node: str, lease: float, now: float) -> Fence | None:
    """Take the table's lease with a new epoch if it is free or lapsed."""
    now = txn.database_time(now)
    txn.execute("INSERT INTO table_leases (table_name, node, epoch, expires)"
                " VALUES (?, '', 0, 0) ON CONFLICT (table_name) DO NOTHING", (table,))
    row = txn.execute("UPDATE table_leases SET node = ?, epoch = epoch + 1, expires = ?"
                      " WHERE table_name = ? AND (node = '' OR expires <= ?) RETURNING epoch",
                      (node, now + lease, table, now)).fetchone()
    return None if row is None else Fence(table, node, int(row[0]))


def seats(txn: Cursor, table: str) -> tuple[SeatRecord, ...]:
    """The seats recorded at a table, by seat number."""
    return tuple(SeatRecord(int(seat), int(account_id), name)
                 for seat, account_id, name in txn.execute(
                     "SELECT s.seat, s.account_id, a.name FROM seats s"
                     " JOIN accounts a ON a.id = s.account_id"
                     " WHERE s.table_name = ? ORDER BY s.seat", (table,)).fetchall())


def save_seats(txn: Cursor, fence: Fence, taken: Mapping[int, int], now: float) -> bool:
    """Replace the table's recorded seats, if ``fence`` holds."""
    try:
        check_fence(txn, fence)
    except FencedError:
        return False
    txn.execute("DELETE FROM seats WHERE table_name = ?", (fence.table,))
    if taken:
        txn.executemany("INSERT INTO seats (table_name, seat, account_id, since)"
                        " VALUES (?, ?, ?, ?)",
                        [(fence.table, seat, account_id, now)
                         for seat, account_id in sorted(taken.items())])
    return True


def release(txn: Cursor, fence: Fence, taken: Mapping[int, int], now: float) -> bool:
    """Record the seats and free the table, if ``fence`` holds."""
    if not save_seats(txn, fence, taken, now):
        return False
    txn.execute("UPDATE table_leases SET node = '', expires = 0"
                " WHERE table_name = ? AND node = ? AND epoch = ?",
                (fence.table, fence.node, fence.epoch))
    return True


def arrive(txn: Cursor, account_id: int, node: str, now: float) -> Arrival:
    """Record a login on ``node``; the node of the one before, and the account's seat."""
    row = txn.execute("SELECT node FROM room_logins WHERE account_id = ?"
                      + txn.lock("login:%d" % account_id), (account_id,)).fetchone()
    txn.execute("INSERT INTO room_logins (account_id, node, since) VALUES (?, ?, ?)"
                " ON CONFLICT (account_id) DO UPDATE SET node = excluded.node,"
                " since = excluded.since", (account_id, node, now))
    # The latest record wins: a seat taken at another table since is newer.
    seat = txn.execute("SELECT table_name, seat FROM seats WHERE account_id = ?"
                       " ORDER BY since DESC, table_name LIMIT 1", (account_id,)).fetchone()
    previous = row[0] if row is not None and row[0] != node else None
    return Arrival(previous, seat[0] if seat else None, int(seat[1]) if seat else None)


def leave(txn: Cursor, node: str, instance: str, held: Sequence[Fence]) -> None:
    """Free the node's leases and strike it off the members."""
    for fence in held:
        txn.execute("UPDATE table_leases SET node = '', expires = 0"
                    " WHERE table_name = ? AND node = ? AND epoch = ?",
                    (fence.table, fence.node, fence.epoch))
    txn.execute("DELETE FROM room_nodes WHERE name = ? AND instance = ?", (node, instance))
