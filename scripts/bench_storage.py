"""Benchmark: stakes per second through the storage, with and without group commit.

A file database in a temporary directory, one account per bettor, and every
bettor staking at once, as 1,000 bots betting flat out do; repeated for a few
rounds.  Each row runs the same load with a different ``max_batch``: 1 is one
transaction (and one fsync) per stake, what the storage did before group
commit; the default is 512.  Run by hand::

    python scripts/bench_storage.py [--bettors 1000] [--rounds 5] [--dir DIR]
    python scripts/bench_storage.py --postgresql postgresql://USER@HOST/DATABASE

``--dir`` picks the disk: fsync cost is what group commit saves, so the figures
depend on it (a tmpfs makes fsync free and the difference small).
``--postgresql`` runs the same rows on PostgreSQL instead, each in a schema of
its own that is dropped afterwards (``postgresql://`` alone uses libpq's
environment, e.g. under ``pg_virtualenv``).
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

# Run from a checkout without installing: scripts/ is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from blackjack.server.storage.backends import open_storage  # noqa: E402
from blackjack.server.storage.sqlite import SQLiteStorage  # noqa: E402


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def bench(
    reactor: Any, path: str, max_batch: int, bettors: int, rounds: int
) -> dict[str, float]:
    """Stake ``rounds`` times from every bettor at once; figures for one table row."""
    storage: Any = open_storage(path, reactor=reactor)
    storage.max_batch = max_batch
    try:
        accounts = await defer.gatherResults(
            [storage.create_account(f"b{n}", "h", 10 * rounds) for n in range(bettors)]
        )
        commits = storage.commits
        latencies: list[float] = []

        def timed_stake(account_id: int, round_id: str) -> defer.Deferred[int]:
            issued = time.perf_counter()

            def done(balance: int) -> int:
                latencies.append(time.perf_counter() - issued)
                return balance

            return storage.stake(account_id, round_id, "seat:bet", 10).addCallback(done)

        started = time.perf_counter()
        for number in range(rounds):
            await defer.gatherResults(
                [timed_stake(account.id, f"r{number}") for account in accounts]
            )
        elapsed = time.perf_counter() - started
        commits = storage.commits - commits
        books = await storage.books()
        assert books.balanced and books.escrow == 10 * rounds * bettors, books
        return {
            "stakes": len(latencies),
            "seconds": elapsed,
            "commits": commits,
            "p50": _percentile(latencies, 0.50),
            "p99": _percentile(latencies, 0.99),
        }
    finally:
        await storage.close()


def _pg_schema(url: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


async def _row(reactor: Any, args: argparse.Namespace, max_batch: int) -> dict[str, float]:
    if args.postgresql:
        from urllib.parse import quote

        schema = f"bench_{max_batch}"
        _pg_schema(args.postgresql, f"DROP SCHEMA IF EXISTS {schema} CASCADE;"
                                    f" CREATE SCHEMA {schema}")
        joiner = "&" if "?" in args.postgresql else "?"
        url = f"{args.postgresql}{joiner}options={quote(f'-csearch_path={schema}')}"
        try:
            return await bench(reactor, url, max_batch, args.bettors, args.rounds)
        finally:
            _pg_schema(args.postgresql, f"DROP SCHEMA {schema} CASCADE")
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        return await bench(reactor, str(Path(directory) / "bench.sqlite3"), max_batch,
                           args.bettors, args.rounds)


async def run(reactor: Any, args: argparse.Namespace) -> None:
    if args.postgresql:
        import psycopg2

        connection = psycopg2.connect(args.postgresql)
        version = connection.server_version
        connection.close()
        where = f"PostgreSQL {version // 10000}.{version % 10000}, synchronous_commit=on"
    else:
        where = (f"sqlite {sqlite3.sqlite_version}, synchronous=FULL, WAL, in"
                 f" {args.dir or tempfile.gettempdir()}")
    print(f"python {platform.python_version()}, {where}; {args.bettors} bettors staking"
          f" at once, {args.rounds} rounds")
    print(
        f"{'max_batch':>9} {'stakes':>7} {'seconds':>8} {'stakes/s':>9}"
        f" {'commits':>8} {'per commit':>10} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for max_batch in args.batches:
        row = await _row(reactor, args, max_batch)
        print(
            f"{max_batch:>9} {row['stakes']:>7.0f} {row['seconds']:>8.2f}"
            f" {row['stakes'] / row['seconds']:>9,.0f} {row['commits']:>8.0f}"
            f" {row['stakes'] / row['commits']:>10.1f}"
            f" {row['p50'] * 1000:>7.1f} {row['p99'] * 1000:>7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bettors", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--batches", type=int, nargs="+", default=[1, 64, SQLiteStorage.max_batch],
        help="max_batch values to compare (default: 1, 64 and the class default)",
    )
    parser.add_argument("--dir", default=None, help="where to put the database")
    parser.add_argument("--postgresql", metavar="URL", default=None,
                        help="run on this PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    task.react(lambda reactor: defer.ensureDeferred(run(reactor, args)))


if __name__ == "__main__":
    main()
