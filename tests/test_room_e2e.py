"""End to end: three ``twistd blackjack`` nodes, HAProxy and PostgreSQL on loopback.

The room's whole story with real processes: players connect through HAProxy
(PROXY protocol v2 into the nodes' ``haproxy:`` endpoints, each player from
its own loopback address) and land on different nodes; they sit at one
table and see the same cards.  Then the table's owner is stalled
(SIGSTOP) past its lease: another node takes the table over, and when the
stalled node wakes (SIGCONT) and finishes its round, the fence refuses the
settlement.  Then the owner is killed (SIGKILL) mid-round: the table moves,
its round is refunded, the books balance and every player is back in their
seat.  Then the owner is stopped (SIGTERM) mid-round: it finishes the round,
pays it and hands the table over; no round is lost.

Needs HAProxy (``apt-get install haproxy``) and PostgreSQL; CI installs both
and sets ``BLACKJACK_CI``, where a missing one fails the test.  Synchronous:
plain sockets and ``selectors``, a deadline on every wait, every process
killed in ``finally``.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from blackjack.server.storage.audit import audit_database

from conftest import conforms
from storage_backends import PostgreSQLBackend, require_postgresql
from test_crash import wait_blocking as wait_for

REPO = Path(__file__).resolve().parent.parent
NODES = ("n1", "n2", "n3")
TABLES = ("t1", "t2", "t3")
LEASE = 2.0
_PORT = re.compile(r"blackjack listening on .*port=(\d+)")
_IAC = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", re.S)


def haproxy_binary() -> str:
    """HAProxy's path; skips the test without it, or fails it in CI."""
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None)
    if found is None:
        why = "HAProxy is not installed (apt-get install haproxy)"
        if os.environ.get("BLACKJACK_CI"):
            pytest.fail(why)
        pytest.skip(why)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One ``twistd -n blackjack --node NAME`` process, logging to a file."""

    def __init__(self, name: str, db: str, secret: Path, directory: Path) -> None:
        self.name = name
        self.log = directory / f"{name}.log"
        self.log.write_text("")
        options = ["--listen", "haproxy:tcp:0:interface=127.0.0.1", "--web", "none",
                   "--db", db, "--node", name, "--node-listen", "tcp:0:interface=127.0.0.1",
                   "--node-secret-file", str(secret), "--lease", str(LEASE),
                   "--drain-time", "30", "--bet-time", "1", "--turn-time", "20",
                   "--insurance-time", "20", "--grace", "60", "--missed-rounds", "0",
                   "--password-cost", "fast-insecure", "--max-per-ip", "0",
                   "--login-attempts-per-ip", "1000", "--rate", "0",
                   *[a for t in TABLES for a in ("--table", f"{t}:decks=1")]]
        self.output = directory / f"{name}.out"
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                 "-n", "--pidfile=", "--logfile", str(self.log), "blackjack", *options],
                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=output, stderr=subprocess.STDOUT)

    def port(self) -> int:
        match = wait_for(lambda: _PORT.search(self.text()), 30, f"{self.name} to listen")
        return int(match.group(1))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        return (f"--- {self.name} log:\n{self.text()[-4000:]}\n--- output:\n"
                + self.output.read_text(errors="replace")[-1500:])

    def signal(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


class HAProxy:
    """HAProxy in front of the nodes: mode tcp, PROXY v2 to each server, health checks."""

    def __init__(self, ports: dict[str, int], directory: Path) -> None:
        self.port = free_port()
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{port} send-proxy-v2 check inter 300 fall 1 rise 2"
            for name, port in ports.items())
        config = directory / "haproxy.cfg"
        config.write_text(f"""global
    maxconn 200
defaults
    mode tcp
    timeout connect 1s
    timeout client 10m
    timeout server 10m
    timeout check 500ms
    option redispatch
    retries 3
frontend room
    bind 127.0.0.1:{self.port}
    default_backend nodes
backend nodes
    balance roundrobin
{servers}
""")
        self.process = subprocess.Popen([haproxy_binary(), "-db", "-f", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


class Bot:
    """A JSON-mode player behind HAProxy, from its own loopback address.

    It bets 10 at each window (unless ``betting`` is off), stands when
    prompted (unless ``holding``), declines insurance, and logs back in
    through HAProxy whenever its connection drops.
    """

    def __init__(self, name: str, source: str, port: int) -> None:
        self.name, self.source, self.port = name, source, port
        self.events: list[dict[str, Any]] = []
        self.betting = True
        self.holding = False
        self.held: str | None = None
        """The answer this bot owes while holding (given when released)."""
        self.reconnects = 0
        self.logins: list[dict[str, Any]] = []
        self.connect("register")

    def connect(self, verb: str) -> None:
        sock = socket.socket()
        sock.bind((self.source, 0))
        sock.settimeout(10)
        sock.connect(("127.0.0.1", self.port))
        sock.setblocking(False)
        self.sock, self.buffer = sock, b""
        self.say("json on")
        password = f"pw-{self.name}-e2e"
        self.say(f"{verb} {self.name} {password}" + (f" {password}" if verb == "register" else ""))

    def say(self, text: str) -> None:
        self.sock.setblocking(True)
        try:
            self.sock.sendall(text.encode() + b"\r\n")
        except OSError:
            pass  # the node went away: the next read notices
        self.sock.setblocking(False)

    def read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.sock.close()
            self.reconnects += 1
            self.connect("login")  # through HAProxy to a node that is up
            return
        self.buffer += _IAC.sub(b"", data)
        *lines, self.buffer = self.buffer.split(b"\r\n")
        for line in lines:
            if line.startswith(b"{"):
                self.answer(conforms(json.loads(line)))

    def answer(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        kind = event["event"]
        if kind == "login":
            self.logins.append(event)
        elif kind == "betting" and self.betting:
            self.say("bet 10")
        elif kind == "prompt" and event["player"] == self.name:
            self.act("stand")
        elif kind == "decide" and self.name in event["players"]:
            self.say("no")  # never held: a held round waits on a play

    def act(self, answer: str) -> None:
        if self.holding:
            self.held = answer
        else:
            self.say(answer)

    def release(self) -> None:
        """Stop holding: give the answer owed, if any."""
        self.holding = False
        answer, self.held = self.held, None
        if answer is not None:
            self.say(answer)

    def seen(self, kind: str, **fields: Any) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind
                and all(e.get(k) == v for k, v in fields.items())]

    def results(self) -> dict[str, dict[str, Any]]:
        return {e["round"]: e for e in self.seen("result")}

    def last_round(self) -> str:
        """The round of the last betting window this bot saw."""
        return str(self.seen("betting")[-1]["round"])


class Room:
    """The bots, pumped together."""

    def __init__(self, bots: list[Bot]) -> None:
        self.bots = bots

    def pump(self) -> None:
        selector = selectors.DefaultSelector()
        for bot in self.bots:
            selector.register(bot.sock, selectors.EVENT_READ, bot)
        for key, _ in selector.select(timeout=0.05):
            key.data.read()
        selector.close()

    def until(self, check: Callable[[], Any], seconds: float, what: str,
              nodes: list[Node]) -> Any:
        try:
            return wait_for(check, seconds, what, pump=self.pump)
        except AssertionError as error:
            raise AssertionError(f"{error}\n" + "\n".join(n.tail() for n in nodes)) from None


def seated_again(bot: Bot, before: int, seating: dict[str, str]) -> bool:
    """Whether a round after the first ``before`` the bot saw had everyone in their seats."""
    return any(result["players"] == seating for result in bot.seen("result")[before:])


def held_round(room: Room, bots: list[Bot], nodes: list[Node]) -> str:
    """Hold every bot's plays; once a round waits on one, its id."""
    for bot in bots:
        bot.holding = True
    room.until(lambda: any(b.held for b in bots), 60, "a round waiting on a play", nodes)
    return next(b for b in bots if b.held).last_round()


class Ledger:
    """Straight reads of the room's PostgreSQL schema."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        connection = psycopg2.connect(self.url)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def owner(self, table: str) -> tuple[str, int]:
        (node, epoch), = self.rows(
            "SELECT node, epoch FROM table_leases WHERE table_name = %s", table)
        return str(node), int(epoch)

    def owners(self) -> dict[str, str]:
        """Table to node running it (none before the first node has made the schema)."""
        import psycopg2.errors

        try:
            return {t: n for t, n in self.rows("SELECT table_name, node FROM table_leases")}
        except psycopg2.errors.UndefinedTable:
            return {}

    def node_of(self, name: str) -> str:
        (node,), = self.rows("SELECT l.node FROM room_logins l JOIN accounts a"
                             " ON a.id = l.account_id WHERE a.name = %s", name)
        return str(node)

    def round_state(self, round_id: str) -> str:
        (state,), = self.rows("SELECT state FROM rounds WHERE round_id = %s", round_id)
        return str(state)

    def kinds(self, round_id: str) -> set[str]:
        return {k for (k,) in self.rows("SELECT kind FROM ledger WHERE round_id = %s",
                                        round_id)}

    def balanced(self) -> None:
        report = audit_database(self.url)
        assert report.balanced, report.discrepancies


@pytest.fixture
def database() -> Iterator[str]:
    backend = PostgreSQLBackend(require_postgresql())
    yield backend.fresh()
    backend.close()


def test_three_nodes_behind_haproxy_survive_a_stall_a_kill_and_a_drain(
        tmp_path: Path, database: str) -> None:
    """Players on different nodes share a table; a stalled owner cannot settle, a killed
    owner's table moves with its seats and refunds, a drained owner finishes and hands
    over; every chip adds up."""
    haproxy_binary()
    secret = tmp_path / "room.secret"
    secret.write_text("the room's secret, shared by its nodes\n")
    nodes = {name: Node(name, database, secret, tmp_path) for name in NODES}
    balancer: HAProxy | None = None
    bots: list[Bot] = []
    ledger = Ledger(database)
    alive = list(nodes.values())
    try:
        balancer = HAProxy({n.name: n.port() for n in alive}, tmp_path)
        wait_for(lambda: sorted(ledger.owners().values()) == sorted(NODES), 30,
                 "each node to run one table")
        # -- players on different nodes, one table, the same cards ----------------------
        bots = [Bot(f"bot{i}", f"127.0.0.{11 + i}", balancer.port) for i in range(4)]
        room = Room(bots)
        room.until(lambda: all(b.logins for b in bots), 30, "the bots to log in", alive)
        for bot in bots:
            bot.say("join t1")
        room.until(lambda: all(len(b.results()) >= 2 for b in bots), 60, "two rounds", alive)
        fronts = {b.name: ledger.node_of(b.name) for b in bots}
        seating = bots[0].seen("result")[-1]["players"]  # seat -> name, every bot bet
        assert sorted(seating.values()) == sorted(b.name for b in bots)
        assert len(set(fronts.values())) >= 2, fronts
        shared = set.intersection(*(set(b.results()) for b in bots))
        assert shared and all(len({json.dumps(b.results()[r], sort_keys=True) for b in bots})
                              == 1 for r in shared)
        for bot in bots:  # each node saw the player's own address, not HAProxy's
            node = nodes[fronts[bot.name]]
            assert f"new account {bot.name} (" in node.text()
            assert re.search(rf"new account {bot.name} \(\d+\) from {re.escape(bot.source)}\b",
                             node.text()), node.tail()

        # -- SIGSTOP the owner past its lease: it cannot settle the round it lost --------
        owner, epoch = ledger.owner("t1")
        stalled = nodes[owner]
        players = [b for b in bots if fronts[b.name] != owner]
        for bot in bots:
            bot.betting = bot in players
        seats = {b.name: next(e["seat"] for e in reversed(b.seen("joined", player=b.name)))
                 for b in players}
        staller = next(b for b in players if seats[b.name] == max(seats.values()))
        # A fresh round, in which only the players of other nodes bet; the staller,
        # last to play, holds its stand (its window lasts a second: time to hold).
        # A dealer's blackjack ends a round with no play: then the next one.
        while not staller.held:
            mark = len(staller.events)
            room.until(lambda: any(e["event"] == "betting" for e in staller.events[mark:]),
                       60, "a fresh betting window", alive)
            staller.holding = True
            round_id = staller.last_round()
            room.until(lambda: staller.held or round_id in staller.results(), 60,
                       "the staller's play", alive)
        stalled.signal(signal.SIGSTOP)
        staller.release()  # its stand is forwarded into the stalled node's socket
        wait_for(lambda: ledger.owner("t1")[1] > epoch, LEASE * 6, "a takeover of t1")
        assert ledger.round_state(round_id) == "refunded"
        stalled.signal(signal.SIGCONT)
        wait_for(lambda: f"round {round_id} not settled" in stalled.text(), 30,
                 "the stalled node to try to settle, and be refused", stalled)
        assert "no longer run by node" in stalled.text()
        assert ledger.round_state(round_id) == "refunded"
        assert ledger.kinds(round_id) == {"stake", "refund"}
        ledger.balanced()
        for bot in bots:
            bot.betting = True
        played = {b.name: len(b.results()) for b in bots}
        room.until(lambda: all(len(b.results()) > played[b.name] for b in bots), 60,
                   "a round after the stall, everyone back at the table", alive)

        # -- SIGKILL the owner mid-round: the table moves, seats come back ---------------
        owner, epoch = ledger.owner("t1")
        killed = nodes[owner]
        round_id = held_round(room, bots, alive)
        killed.signal(signal.SIGKILL)
        killed.end()
        alive.remove(killed)
        for bot in bots:
            bot.held = None  # the round they owed answers in is void
            bot.release()
        wait_for(lambda: ledger.owner("t1")[1] > epoch, LEASE * 6, "a takeover after the kill")
        assert ledger.round_state(round_id) == "refunded"
        dropped = [b for b in bots if fronts[b.name] == owner]
        room.until(lambda: all(len(b.logins) >= 2 for b in dropped), 30,
                   "the killed node's players to log in again", alive)
        for bot in dropped:
            login = bot.logins[-1]
            assert (login["resumed"], login["table"]) == (True, "t1"), login
        played = {b.name: len(b.results()) for b in bots}
        room.until(lambda: all(seated_again(b, played[b.name], seating) for b in bots), 60,
                   "a round after the kill with every player in their seat", alive)
        ledger.balanced()

        # -- SIGTERM the owner mid-round: it finishes, pays and hands over ---------------
        owner, epoch = ledger.owner("t1")
        drained = nodes[owner]
        round_id = held_round(room, bots, alive)
        drained.signal(signal.SIGTERM)
        room.until(lambda: all(b.seen("shutdown") for b in bots
                               if ledger.node_of(b.name) == owner), 20,
                   "the draining node's players to hear it", alive)
        for bot in bots:
            bot.release()  # the round in play goes on, and ends as usual
        room.until(lambda: drained.process.poll() is not None, 60,
                   "the drained node to exit", alive)
        assert drained.process.returncode in (0, -signal.SIGTERM), drained.tail()
        assert "rounds still in play after" not in drained.text(), drained.tail()
        alive.remove(drained)
        assert ledger.round_state(round_id) == "settled"
        assert ledger.kinds(round_id) == {"stake", "payout"}
        assert ledger.owner("t1")[0] in {n.name for n in alive}
        played = {b.name: len(b.results()) for b in bots}
        room.until(lambda: all(seated_again(b, played[b.name], seating) for b in bots), 60,
                   "a round after the drain with every player in their seat", alive)
        ledger.balanced()
        refunds = ledger.rows("SELECT DISTINCT round_id FROM ledger WHERE kind = 'refund'")
        assert len(refunds) == 2  # the stalled round and the killed round; nothing else
    finally:
        for bot in bots:
            bot.sock.close()
        if balancer is not None:
            balancer.end()
        for node in nodes.values():
            node.signal(signal.SIGCONT)
            node.end()
