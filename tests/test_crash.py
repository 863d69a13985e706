"""Crash test: the real ``twistd blackjack``, killed with SIGKILL mid-round, started again.

Bots (:class:`blackjack.client.Bot`, over protocol v1) connect over TCP to
127.0.0.1, register, sit at two tables, bet and play.  Three times the server
is killed with SIGKILL while stakes are in escrow (twice with every bot's bet
held in a round waiting for its players, once at a random moment of play)
and started again on the same database (an SQLite file, or PostgreSQL).
Each start-up must refund exactly the stakes the dead server left held, and
log each refund; the books must balance in every state the database is left
in; at the end, after a graceful stop, nothing is held and every account
holds what it was issued plus its net over settled hands.  A second test
stops PostgreSQL itself under play.

The bots run on the test's reactor; the server is a child process.  Every
wait has a deadline, and the server process is killed in ``finally``.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet import task

from blackjack.client import EVERY, Bot, Client, Message, connect
from blackjack.server.hosting.tap import Options
from blackjack.server.storage.audit import audit_database
from blackjack.server.storage.backends import is_postgresql

from conftest import conforms, wait
from pg_cluster import Cluster

REPO = Path(__file__).resolve().parent.parent
NAMES = ("crashann", "crashbob", "crashcat", "crashdan")
TABLES = ("main", "side")
_PORT = re.compile(r"blackjack listening on .*port=(\d+)")
_REFUND = re.compile(r"recovery: refunded (\d+) chips to account (\d+), left in escrow "
                     r"for round (\S+) by a crash")


async def sleep(seconds: float) -> None:
    """Let the reactor run for ``seconds``."""
    from twisted.internet import reactor

    await task.deferLater(reactor, seconds, lambda: None)


class Server:
    """``twistd -n blackjack`` as a child process, logging to a file; see :meth:`start`."""

    def __init__(self, db: str, log: Path, *extra: str) -> None:
        self.log = log
        log.write_text("")
        options = ["--listen", "tcp:0:interface=127.0.0.1", "--db", str(db),
                   "--table", "main:decks=1", "--table", "side:decks=2",
                   "--bet-time", "1", "--turn-time", "60", "--insurance-time", "60",
                   "--grace", "60", *extra]
        if any(p[0] == "password-cost" for p in Options.optParameters):
            options += ["--password-cost", "fast-insecure"]
        if hasattr(Options, "opt_web"):
            options += ["--web", "none"]  # not the page's default port 8080
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.output = log.with_suffix(".out")
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                 "-n", "--pidfile=", "--logfile", str(log), "blackjack", *options],
                cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
        # Blocking (the reactor has nothing to do while a server starts): test_telnet_client
        # uses this class without a reactor.
        match = wait_blocking(lambda: _PORT.search(self.log_text()), 30, "the server to listen",
                              self)
        self.port = int(match.group(1))

    def log_text(self) -> str:
        """Everything the server has logged so far."""
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        """The end of the log and of the process's own output, for a failure message."""
        return self.log_text()[-3000:] + self.output.read_text(errors="replace")[-2000:]

    def kill(self, sig: signal.Signals) -> int:
        """Send ``sig`` and wait for the process to end; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server as an operator would (SIGTERM) and check that it shut down."""
        # twistd re-raises the signal once stopped, so a clean stop exits -SIGTERM.
        assert self.kill(signal.SIGTERM) in (0, -signal.SIGTERM)
        assert "Server Shut Down." in self.log_text(), self.tail()


def _checked(check: Callable[[], Any], deadline: float, what: str,
             server: Server | None) -> Any:
    """``check()``, or an AssertionError if the server died or the deadline passed."""
    result = check()
    if result:
        return result
    if server is not None and server.process.poll() is not None:
        raise AssertionError(f"the server exited waiting for {what}: {server.tail()}")
    if time.monotonic() > deadline:
        raise AssertionError(f"timed out waiting for {what}"
                             + ("" if server is None else ": " + server.tail()))
    return None


def wait_blocking(check: Callable[[], Any], seconds: float, what: str,
                  server: Server | None = None, pump: Callable[[], None] | None = None) -> Any:
    """Sleep (or call ``pump``) until ``check`` returns something true, or fail saying
    ``what``: for tests that drive blocking sockets, with no reactor running."""
    deadline = time.monotonic() + seconds
    while not (result := _checked(check, deadline, what, server)):
        if pump is not None:
            pump()
        else:
            time.sleep(0.02)
    return result


async def wait_for(check: Callable[[], Any], seconds: float, what: str,
                   server: Server | None = None) -> Any:
    """Let the reactor run until ``check`` returns something true, or fail saying ``what``."""
    deadline = time.monotonic() + seconds
    while not (result := _checked(check, deadline, what, server)):
        await sleep(0.02)
    return result


class CrashBot(Bot):
    """A player that bets 10 to 30 and plays at random; frozen, it bets and answers nothing."""

    def __init__(self, client: Client, table: str, rng: random.Random) -> None:
        super().__init__(client, table, policy=self._choose,
                         bet=lambda: rng.choice([10, 20, 30]))
        self.rng = rng
        self.playing = True
        self.stalled = False
        """Whether a decision came while frozen: the round now waits for this bot."""

    def _choose(self, event: Message) -> str | None:
        if not self.playing:
            self.stalled = True
            return None
        legal = event["legal"]
        wanted = ("hit", "stand", "double", "split") if event["event"] == "prompt" \
            else ("insurance", "no")
        return self.rng.choice([a for a in legal if a in wanted] or legal)


class Room:
    """The bots, each on its own connection; see :meth:`enter`."""

    def __init__(self) -> None:
        self.bots: list[CrashBot] = []
        self.logins: dict[str, Message] = {}

    @classmethod
    async def enter(cls, server: Server, verb: str, seed: int) -> Room:
        """Connect every bot, ``register`` or ``login`` it, and sit it at its table."""
        from twisted.internet import reactor

        room = cls()
        for i, name in enumerate(NAMES):
            client = await wait(connect(reactor, "127.0.0.1", server.port, timeout=30), 30)
            client.on(EVERY, conforms)  # every event the server sends fits the schema
            login = await wait(getattr(client, verb)(name, f"pw-{name}"), 30)
            room.logins[name] = conforms(login, "event.login")
            room.bots.append(CrashBot(client, TABLES[i % 2], random.Random(seed + i)))
        for bot in room.bots:
            await wait(bot.sit(), 30)
        return room

    @property
    def rounds(self) -> int:
        """Results the bots have seen, summed."""
        return sum(b.rounds for b in self.bots)

    def close(self) -> None:
        for bot in self.bots:
            bot.stop()
            if bot.client.transport is not None:
                bot.client.transport.loseConnection()


def refunds_logged(server: Server) -> Counter[tuple[int, int, str]]:
    """(amount, account, round) of every refund the server's start-up logged."""
    return Counter((int(a), int(b), c) for a, b, c in _REFUND.findall(server.log_text()))


def held_stakes(db: str) -> Counter[tuple[int, int, str]]:
    """(amount, account, round) of every stake held in escrow, straight from the database."""
    sql = "SELECT amount, account_id, round_id FROM stakes WHERE state = 'held'"
    if is_postgresql(db):
        import psycopg2

        connection = psycopg2.connect(db)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
        finally:
            connection.close()
    else:
        connection = sqlite3.connect(db, timeout=10)
        try:
            rows = connection.execute(sql).fetchall()
        finally:
            connection.close()
    return Counter((int(a), int(b), str(c)) for a, b, c in rows)


def books_add_up(db: str) -> None:
    """Nothing held, and every account holds what it was issued plus its net; CLI agrees."""
    result = audit_database(db)
    assert result.balanced, result.discrepancies
    assert result.books.escrow == 0 and result.held_by_round == {}
    for account in result.accounts:
        assert account.balance == account.issued + account.settled_net, account
    assert sum(a.settled_net for a in result.accounts) == -result.books.house_net
    cli = subprocess.run([sys.executable, "-m", "blackjack.server.audit", "--db", db],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert (cli.returncode, cli.stdout.splitlines()[-1]) == (0, "balanced"), cli.stdout


@pytest_twisted.ensureDeferred
async def test_sigkill_mid_round_strands_no_chip(tmp_path: Path, server_database: str) -> None:
    """Kill -9 with bets in escrow, three times: each restart refunds and logs exactly those
    stakes, the books always balance, and at the end every account adds up."""
    db = server_database
    server: Server | None = None
    room: Room | None = None
    rng = random.Random(20240)
    try:
        for cycle, how in enumerate(["frozen", "random", "frozen"]):
            server = Server(db, tmp_path / f"twistd-{cycle}.log")
            room = await Room.enter(server, "register" if cycle == 0 else "login",
                                    seed=cycle * 10)
            played = room.rounds
            await wait_for(lambda: room.rounds >= played + 6, 60, "a few rounds", server)
            if how == "frozen":
                # The bots bet but stop playing: every bot's bet waits in escrow.
                for bot in room.bots:
                    bot.playing = False
                await wait_for(lambda: all(any(b.stalled for b in room.bots if b.table == t)
                                           for t in TABLES)
                               and {a for _, a, _ in held_stakes(db)} >= {1, 2, 3, 4}, 60,
                               "both tables mid-round with every bot's stake in escrow",
                               server)
            else:
                await sleep(rng.uniform(0.1, 1.0))
            assert server.kill(signal.SIGKILL) == -signal.SIGKILL
            room.close()
            room = None

            stranded = held_stakes(db)
            assert stranded or how == "random"
            crashed = audit_database(db)  # what the dead server left is consistent
            assert crashed.balanced, crashed.discrepancies
            assert crashed.books.escrow == sum(a * n for (a, _, _), n in stranded.items())

            server = Server(db, tmp_path / f"twistd-{cycle}-restart.log")
            restarted = server
            await wait_for(lambda: refunds_logged(restarted).total() >= stranded.total(), 30,
                           "the refunds to be logged", server)
            assert refunds_logged(server) == stranded
            assert not held_stakes(db) & stranded
            server.stop()

        # A last run: everyone logs in, sees their chips, and the server stops cleanly.
        balances = {a.name: a.balance for a in audit_database(db).accounts}
        server = Server(db, tmp_path / "twistd-final.log")
        room = await Room.enter(server, "login", seed=99)
        for name, login in room.logins.items():
            assert login["balance"] == balances[name]
        room.close()
        room = None
        server.stop()
        server = None
    finally:
        if room is not None:
            room.close()
        if server is not None:
            server.kill(signal.SIGKILL)

    assert sorted(a.name for a in audit_database(db).accounts) == sorted(NAMES)
    books_add_up(db)


@pytest_twisted.ensureDeferred
async def test_a_postgresql_restart_under_play_loses_no_chip(tmp_path: Path) -> None:
    """PostgreSQL stops mid-game: bets then get a clear error, nobody's chips move; once
    it is back the players bet again and play resumes; after a restart of the server
    (which refunds any round it could not settle meanwhile) every account adds up."""
    cluster = Cluster()
    server: Server | None = None
    room: Room | None = None
    try:
        # Short turns: a play refused during the outage is not made again.
        server = Server(cluster.url, tmp_path / "twistd.log", "--turn-time", "2",
                                    "--insurance-time", "2")
        room = await Room.enter(server, "register", seed=5)
        await wait_for(lambda: room.rounds >= 6, 60, "a few rounds", server)
        cluster.stop()
        await wait_for(lambda: any(b.refusals["unavailable"] for b in room.bots), 30,
                       "a bet refused while the database is away", server)
        cluster.start()
        played = room.rounds
        deadline = time.monotonic() + 60
        while room.rounds < played + 6:
            assert time.monotonic() < deadline, "play did not resume: " + server.tail()
            # As told ("try again in a moment"), the players bet again.
            for bot in room.bots:
                bot.client.bet(10).addErrback(lambda _: None)
            await sleep(1.0)
        room.close()
        room = None
        server.stop()
        server = Server(cluster.url, tmp_path / "twistd-again.log")
        server.stop()
        server = None
        books_add_up(cluster.url)
    finally:
        if room is not None:
            room.close()
        if server is not None:
            server.kill(signal.SIGKILL)
        cluster.destroy()
