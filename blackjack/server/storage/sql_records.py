"""Stored rounds, provably fair shoes, players' numbers and rebuys, in SQL.

The queries behind :meth:`~blackjack.server.storage.IStorage.hand`,
``stats``, ``top``, ``rebuy`` and the shoe methods, written once with ``?``
placeholders for every SQL backend, each run inside the caller's
transaction on a cursor that speaks the dialect (``txn.for_update`` is the
row-locking clause where the database has one).  :data:`TABLES` and
:data:`COLUMNS` are the schema they need, also dialect-neutral: SQLite reads
``DOUBLE PRECISION`` as a real number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from blackjack.server.storage.interface import (
    DatabaseError,
    HandRecord,
    HandSummary,
    Leaderboard,
    PlayerStats,
    RebuyRefusedError,
    ShoeEntry,
    UnknownAccountError,
)

__all__ = ["TABLES", "COLUMNS", "SUMMARY_COLUMNS", "SUMMARY_NAMES", "SUMMARY_PLACES",
           "summary_row", "checked_extras", "link_round", "select_hand", "select_stats",
           "select_top", "rebuy", "open_shoe", "retire_shoe", "retire_shoes", "select_shoe"]

SUMMARY_COLUMNS = ("hands_played", "wins", "losses", "pushes", "blackjacks", "decisions",
                   "matched")
"""The whole-number columns of a hand's :class:`HandSummary` (``cost`` is a real)."""

SUMMARY_NAMES = ", ".join((*SUMMARY_COLUMNS, "cost"))
"""The summary's columns, for an INSERT into ``hands``."""
SUMMARY_PLACES = ", ".join("?" for _ in (*SUMMARY_COLUMNS, "cost"))

TABLES = """
CREATE TABLE shoes (
    shoe_id     TEXT PRIMARY KEY,
    table_name  TEXT NOT NULL,
    record      TEXT NOT NULL,
    server_seed TEXT NOT NULL,
    retired     TEXT CHECK (retired IN ('cut card', 'table closed', 'server restarted')),
    opened      DOUBLE PRECISION NOT NULL,
    closed      DOUBLE PRECISION
);
CREATE INDEX shoes_open_by_table ON shoes (table_name, retired);
CREATE INDEX rounds_by_shoe ON rounds (shoe_id);
CREATE INDEX hands_by_time ON hands (created)
"""
"""What schema version 4 adds, once :data:`COLUMNS` are in."""

COLUMNS = (
    "ALTER TABLE rounds ADD COLUMN shoe_id TEXT",
    *(f"ALTER TABLE hands ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0"
      for name in SUMMARY_COLUMNS),
    "ALTER TABLE hands ADD COLUMN cost DOUBLE PRECISION NOT NULL DEFAULT 0",
)
"""The columns schema version 4 adds to existing tables: the fair shoe a round
was dealt from, and each hand's summary for ``stats``."""


def _one(txn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = txn.execute(sql, params).fetchone()
    return None if row is None else row[0]


# --- rounds and hands ------------------------------------------------------------


def summary_row(summary: HandSummary | None) -> tuple[int | float, ...]:
    """The values of :data:`SUMMARY_NAMES` for a hand (zeros without a summary)."""
    s = HandSummary() if summary is None else summary
    return (s.hands, s.wins, s.losses, s.pushes, s.blackjacks, s.decisions, s.matched,
            float(s.cost))


def checked_extras(shoe: object, summaries: object) -> tuple[str | None, dict[int, HandSummary]]:
    """``settle``'s ``shoe`` and ``summaries``, checked (every backend refuses the same)."""
    if shoe is not None and (not isinstance(shoe, str) or not shoe):
        raise ValueError(f"shoe must be a shoe's id or None, got {shoe!r}")
    found: dict[int, HandSummary] = {}
    if summaries is not None:
        if not isinstance(summaries, Mapping):
            raise TypeError(f"summaries must map account ids to HandSummary, got {summaries!r}")
        for account_id, summary in summaries.items():
            if type(account_id) is not int or not isinstance(summary, HandSummary):
                raise TypeError(f"summaries must map account ids to HandSummary, got "
                                f"{account_id!r}: {summary!r}")
            found[account_id] = summary
    return shoe, found


def link_round(txn: Any, round_id: str, shoe_id: str) -> None:
    """Note the fair shoe a round was dealt from."""
    txn.execute("UPDATE rounds SET shoe_id = ? WHERE round_id = ?", (shoe_id, round_id))


def select_hand(txn: Any, account_id: int, hand_id: int) -> HandRecord | None:
    """The account's hand with this id."""
    row = txn.execute("SELECT id, round_id, account_id, staked, payout, record, created"
                      " FROM hands WHERE id = ? AND account_id = ?",
                      (hand_id, account_id)).fetchone()
    return None if row is None else HandRecord(*row)


def select_stats(txn: Any, account_id: int) -> PlayerStats:
    """The sums of the account's hands."""
    row = txn.execute(
        "SELECT COALESCE(SUM(CASE WHEN hands_played > 0 THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(hands_played), 0), COALESCE(SUM(wins), 0), COALESCE(SUM(losses), 0),"
        " COALESCE(SUM(pushes), 0), COALESCE(SUM(blackjacks), 0),"
        " COALESCE(SUM(payout - staked), 0), COALESCE(MAX(payout - staked), 0),"
        " COALESCE(SUM(decisions), 0), COALESCE(SUM(matched), 0), COALESCE(SUM(cost), 0)"
        " FROM hands WHERE account_id = ?", (account_id,)).fetchone()
    rounds, hands, wins, losses, pushes, blackjacks, net, best, decisions, matched, cost = row
    return PlayerStats(int(rounds), int(hands), int(wins), int(losses), int(pushes),
                       int(blackjacks), int(net), max(0, int(best)), int(decisions),
                       int(matched), float(cost))


def select_top(txn: Any, limit: int, since: float) -> Leaderboard:
    """The most chips, and the best net over the hands settled since ``since``."""
    by_balance = txn.execute("SELECT name, balance FROM accounts ORDER BY balance DESC, id"
                             " LIMIT ?", (limit,)).fetchall()
    by_net = txn.execute(
        "SELECT a.name, SUM(h.payout - h.staked) AS net FROM hands h"
        " JOIN accounts a ON a.id = h.account_id WHERE h.created >= ?"
        " GROUP BY a.id, a.name ORDER BY net DESC, a.id LIMIT ?", (since, limit)).fetchall()
    return Leaderboard(tuple((str(n), int(b)) for n, b in by_balance),
                       tuple((str(n), int(v)) for n, v in by_net))


# --- rebuys -------------------------------------------------------------------------


def rebuy(txn: Any, account_id: int, below: int, since: float) -> None:
    """Refuse, changing nothing, unless the account may rebuy now.

    The account's row is read with the lock clause, so two rebuys on two
    connections take turns (SQLite's write transaction already does).  The
    caller credits the chips and journals them as ``rebuy``.
    """
    balance = _one(txn, "SELECT balance FROM accounts WHERE id = ?" + txn.for_update,
                   (account_id,))
    if balance is None:
        raise UnknownAccountError(account_id)
    held = _one(txn, "SELECT COALESCE(SUM(amount), 0) FROM stakes"
                     " WHERE account_id = ? AND state = 'held'", (account_id,))
    last = _one(txn, "SELECT MAX(created) FROM ledger WHERE account_id = ? AND kind = 'rebuy'",
                (account_id,))
    chips = int(balance) + int(held)
    if chips >= below or (last is not None and float(last) > since):
        raise RebuyRefusedError(chips, None if last is None else float(last))


# --- provably fair shoes ---------------------------------------------------------------


def open_shoe(txn: Any, shoe_id: str, table: str, record: str, server_seed: str,
              now: float) -> None:
    """Store a shoe that starts dealing, its seed sealed."""
    if _one(txn, "SELECT 1 FROM shoes WHERE shoe_id = ?", (shoe_id,)):
        raise DatabaseError(f"shoe {shoe_id!r} is stored already")
    txn.execute("INSERT INTO shoes (shoe_id, table_name, record, server_seed, opened)"
                " VALUES (?, ?, ?, ?, ?)", (shoe_id, table, record, server_seed, now))


def retire_shoe(txn: Any, shoe_id: str, reason: str, now: float) -> None:
    """Retire a shoe still open (one already retired keeps its reason)."""
    txn.execute("UPDATE shoes SET retired = ?, closed = ? WHERE shoe_id = ?"
                " AND retired IS NULL", (reason, now, shoe_id))


def retire_shoes(txn: Any, table: str | None, reason: str, now: float) -> list[str]:
    """Retire every open shoe of ``table`` (or of every table); their ids."""
    if table is None:
        rows = txn.execute("SELECT shoe_id FROM shoes WHERE retired IS NULL"
                           " ORDER BY opened, shoe_id").fetchall()
    else:
        rows = txn.execute("SELECT shoe_id FROM shoes WHERE retired IS NULL"
                           " AND table_name = ? ORDER BY opened, shoe_id", (table,)).fetchall()
    for (shoe_id,) in rows:
        retire_shoe(txn, shoe_id, reason, now)
    return [shoe_id for (shoe_id,) in rows]


def select_shoe(txn: Any, shoe_id: str) -> ShoeEntry | None:
    """A shoe and its rounds' records (the seed only once it is retired)."""
    row = txn.execute("SELECT shoe_id, table_name, record, server_seed, retired, opened, closed"
                      " FROM shoes WHERE shoe_id = ?", (shoe_id,)).fetchone()
    if row is None:
        return None
    found, table, record, seed, retired, opened, closed = row
    # One record per round (each staking account's hand holds the same one),
    # in the order the rounds were settled, which is the order they were dealt.
    rounds = txn.execute(
        "SELECT record FROM hands WHERE id IN (SELECT MIN(h.id) FROM hands h"
        " JOIN rounds r ON r.round_id = h.round_id WHERE r.shoe_id = ? GROUP BY h.round_id)"
        " ORDER BY id", (shoe_id,)).fetchall()
    return ShoeEntry(found, table, record, seed if retired is not None else None, retired,
                     float(opened), None if closed is None else float(closed),
                     tuple(r for (r,) in rounds))
