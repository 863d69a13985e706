"""Crash test: the real ``twistd blackjack``, killed with SIGKILL mid-round, started again.

Bots connect over TCP to 127.0.0.1 in JSON mode, register, sit at two
tables, bet and play.  Three times the server is killed with SIGKILL while
stakes are in escrow (twice with every bot's bet held in a round waiting for
its players, once at a random moment of play) and started again on the same
SQLite file.  Each start-up must refund exactly the stakes the dead server
left held, and log each refund; the books must balance in every state the
file is left in; at the end, after a graceful stop, nothing is held and every
account holds what it was issued plus its net over settled hands.

A synchronous test: plain sockets and ``selectors``, no reactor; every wait
has a deadline, and the server process is killed in ``finally``.
"""

from __future__ import annotations

import json
import os
import random
import re
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


from blackjack.server.storage.audit import audit_database
from blackjack.server.storage.backends import is_postgresql
from blackjack.server.hosting.tap import Options

from conftest import conforms
from pg_cluster import Cluster

REPO = Path(__file__).resolve().parent.parent
NAMES = ("crashann", "crashbob", "crashcat", "crashdan")
TABLES = ("main", "side")
_IAC = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", re.S)
_PORT = re.compile(r"blackjack listening on .*port=(\d+)")
_REFUND = re.compile(r"recovery: refunded (\d+) chips to account (\d+), left in escrow "
                     r"for round (\S+) by a crash")


class Server:
    """``twistd -n blackjack`` as a child process, logging to a file."""

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
        match = wait_for(lambda: _PORT.search(self.log_text()), 30, "the server to listen",
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


def wait_for(check: Callable[[], Any], seconds: float, what: str,
             server: Server | None = None, pump: Callable[[], None] | None = None) -> Any:
    """Call ``check`` (and ``pump``) until it returns something true, or fail saying ``what``."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if server is not None and server.process.poll() is not None:
            raise AssertionError(f"the server exited waiting for {what}: {server.tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}"
                                 + ("" if server is None else ": " + server.tail()))
        if pump is not None:
            pump()
        else:
            time.sleep(0.02)


class Bot:
    """A JSON-mode player that bets 10 to 30 and plays at random when allowed to."""

    def __init__(self, port: int, name: str, table: str, rng: random.Random) -> None:
        self.name = name
        self.table = table
        self.rng = rng
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setblocking(False)
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.playing = True
        self.stalled = False
        self.results = 0

    def say(self, text: str) -> None:
        self.sock.setblocking(True)
        self.sock.sendall(text.encode() + b"\r\n")
        self.sock.setblocking(False)

    def read(self) -> None:
        """Take what has arrived and answer each event."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        self.buffer += _IAC.sub(b"", data)
        *lines, self.buffer = self.buffer.split(b"\r\n")
        for line in lines:
            if line.startswith(b"{"):
                event = conforms(json.loads(line))
                self.events.append(event)
                self.answer(event)

    def answer(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "betting":
            self.say(f"bet {self.rng.choice([10, 20, 30])}")
        elif kind == "result":
            self.results += 1
        elif not self.playing:
            # A round at this table now waits for a player who will not act.
            self.stalled = self.stalled or kind in ("prompt", "decide")
        elif kind == "prompt" and event["player"] == self.name:
            choices = [a for a in event["legal"] if a in ("hit", "stand", "double", "split")]
            self.say(self.rng.choice(choices))
        elif kind == "decide" and self.name in event["players"]:
            self.say(self.rng.choice(["insurance", "no"]))

    def saw(self, kind: str) -> dict[str, Any] | None:
        """The latest event of a kind, if any."""
        return next((e for e in reversed(self.events) if e["event"] == kind), None)


class Room:
    """The bots, pumped together with one selector."""

    def __init__(self, server: Server, verb: str, seed: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.bots = [Bot(server.port, name, TABLES[i % 2], random.Random(seed + i))
                     for i, name in enumerate(NAMES)]
        for bot in self.bots:
            self.selector.register(bot.sock, selectors.EVENT_READ, bot)
            bot.say("json on")
            password = f"pw-{bot.name}"
            bot.say(f"{verb} {bot.name} {password}" + (f" {password}" if verb == "register" else ""))
        wait_for(lambda: all(b.saw("login") for b in self.bots), 30, "the bots to log in",
                 server, self.pump)
        for bot in self.bots:
            bot.say(f"join {bot.table}")

    def pump(self) -> None:
        for key, _ in self.selector.select(timeout=0.05):
            key.data.read()

    def close(self) -> None:
        for bot in self.bots:
            self.selector.unregister(bot.sock)
            bot.sock.close()
        self.selector.close()


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


def test_sigkill_mid_round_strands_no_chip(tmp_path: Path, server_database: str) -> None:
    """Kill -9 with bets in escrow, three times: each restart refunds and logs exactly those
    stakes, the books always balance, and at the end every account adds up."""
    db = server_database
    server: Server | None = None
    room: Room | None = None
    rng = random.Random(20240)
    try:
        for cycle, how in enumerate(["frozen", "random", "frozen"]):
            server = Server(db, tmp_path / f"twistd-{cycle}.log")
            room = Room(server, "register" if cycle == 0 else "login", seed=cycle * 10)
            played = sum(b.results for b in room.bots)
            wait_for(lambda: sum(b.results for b in room.bots) >= played + 6, 60,
                     "a few rounds", server, room.pump)
            if how == "frozen":
                # The bots bet but stop playing: every bot's bet waits in escrow.
                for bot in room.bots:
                    bot.playing = False
                wait_for(lambda: all(any(b.stalled for b in room.bots if b.table == t)
                                     for t in TABLES)
                         and {a for _, a, _ in held_stakes(db)} >= {1, 2, 3, 4}, 60,
                         "both tables mid-round with every bot's stake in escrow",
                         server, room.pump)
            else:
                deadline = time.monotonic() + rng.uniform(0.1, 1.0)
                while time.monotonic() < deadline:
                    room.pump()
            assert server.kill(signal.SIGKILL) == -signal.SIGKILL
            room.close()
            room = None

            stranded = held_stakes(db)
            assert stranded or how == "random"
            crashed = audit_database(db)  # what the dead server left is consistent
            assert crashed.balanced, crashed.discrepancies
            assert crashed.books.escrow == sum(a * n for (a, _, _), n in stranded.items())

            server = Server(db, tmp_path / f"twistd-{cycle}-restart.log")
            wait_for(lambda: refunds_logged(server).total() >= stranded.total(), 30,
                     "the refunds to be logged", server)
            assert refunds_logged(server) == stranded
            assert not held_stakes(db) & stranded
            server.stop()

        # A last run: everyone logs in, sees their chips, and the server stops cleanly.
        balances = {a.name: a.balance for a in audit_database(db).accounts}
        server = Server(db, tmp_path / "twistd-final.log")
        room = Room(server, "login", seed=99)
        for bot in room.bots:
            assert bot.saw("login")["balance"] == balances[bot.name]  # type: ignore[index]
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


def test_a_postgresql_restart_under_play_loses_no_chip(tmp_path: Path) -> None:
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
        room = Room(server, "register", seed=5)
        wait_for(lambda: sum(b.results for b in room.bots) >= 6, 60, "a few rounds",
                 server, room.pump)
        cluster.stop()
        outage = sum(len(b.events) for b in room.bots)
        wait_for(lambda: any(e["event"] == "error" and "database is unavailable" in e["message"]
                             for b in room.bots for e in b.events[outage // 4:]),
                 30, "a bet refused while the database is away", server, room.pump)
        cluster.start()
        played = sum(b.results for b in room.bots)
        deadline = time.monotonic() + 60
        while sum(b.results for b in room.bots) < played + 6:
            assert time.monotonic() < deadline, "play did not resume: " + server.tail()
            # As told ("try again in a moment"), the players bet again.
            for bot in room.bots:
                bot.say("bet 10")
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                room.pump()
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
