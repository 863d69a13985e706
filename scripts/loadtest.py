"""Load test: basic-strategy bots against a blackjack server, and the echo ceiling.

Every client is a :class:`blackjack.client.Client` speaking protocol v1
(``docs/protocol.md``).  Three modes, each bounded in connections and time,
talking only to loopback:

``--mode play``
    N bots say ``hello``, log in, sit at tables (7 a table, or
    ``--per-table``) and play basic strategy (:class:`blackjack.client.Bot`
    with :func:`blackjack.client.basic_strategy`) round after round.
    Reports rounds/s, commands/s, command latency p50/p95/p99, errors and
    the server's memory and CPU.
``--mode idle``
    N connections that connect and say ``hello`` (``--login`` also logs
    them in) and then sit; reports the server's RSS before and after, per
    connection.  With ``--spawn`` it does the same against the bare echo
    server (``scripts/echo_server.py``) in the same run.
``--mode throughput``
    N connections each keep ``--window`` requests pipelined (``--command``
    as typed, default ``help hit``, sent as its v1 request
    ``{"cmd":"help","command":"hit"}``, answered by one reply line), as fast
    as the server answers; then the same client does the same against the
    echo server.  Reports requests/s against echo lines/s and the ratio.

Latency is the time from writing a request to the socket until its reply
arrives (v1 replies come after every event the request caused, so a bot's
last play of a round is answered after the dealer's hand and the settlement;
see ``docs/performance.md``).  A refusal answers a request too, and counts as
an error.  In throughput mode it is the time from writing a batch of
``--batch`` requests to the arrival of the reply to its last one.

``--spawn`` starts the server itself (``twistd -n blackjack`` from this
checkout, with short timers, a fresh SQLite file, and bot accounts created
in it beforehand with a cheap password hash) and the echo server, raises the
open-files limit for both, and stops them at the end.  Otherwise give
``--connect HOST:PORT`` and ``--server-pid PID`` of a server you started,
with tables named ``lt0``, ``lt1``... and accounts made by ``--make-accounts``.
``--procs N`` splits the bots over N worker processes (the client is Python
too, and competes with the server for this machine's cores).

Examples (run ``ulimit -n 65536`` first for more than a few thousand
connections)::

    python scripts/loadtest.py --spawn --mode play --players 1000 --duration 60
    python scripts/loadtest.py --spawn --mode idle --connections 10000
    python scripts/loadtest.py --spawn --mode throughput --connections 200
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from twisted.internet import defer, task  # noqa: E402
from twisted.internet.defer import Deferred, DeferredSemaphore  # noqa: E402
from twisted.internet.endpoints import TCP4ClientEndpoint  # noqa: E402
from twisted.internet.protocol import ProcessProtocol, connectionDone  # noqa: E402
from twisted.protocols.basic import LineReceiver  # noqa: E402
from twisted.python.failure import Failure  # noqa: E402

from blackjack.client import (  # noqa: E402
    Bot, Client, ConnectionClosed, Message, ProtocolError, RequestRefused, basic_strategy,
    connect_endpoint,
)
from blackjack.actions import Action  # noqa: E402
from blackjack.cards import Card  # noqa: E402
from blackjack.hand import Hand  # noqa: E402
from blackjack.rules import Rules  # noqa: E402
from blackjack.strategy import advise  # noqa: E402

__all__ = ["Plan", "Histogram", "Swarm", "Player", "make_accounts", "run", "main"]

PASSWORD = "loadtest-password"
"""The password every bot account gets."""

TABLE_PREFIX = "lt"
"""Tables are named lt0, lt1, ...; a server run by hand needs ``-t lt0:RULES`` etc."""

GAME_KINDS = ("bet", "act")
"""Latency kinds that are game commands (login and join are setup)."""

_SAMPLE_EVERY = 0.5


# -- measurement ---------------------------------------------------------------


class Histogram:
    """Latencies in 1% wide logarithmic buckets: small, and mergeable across processes."""

    _PER_E = 100.0

    def __init__(self, buckets: dict[int, int] | None = None) -> None:
        self.buckets: Counter[int] = Counter(buckets or {})

    def add(self, seconds: float) -> None:
        """Record one latency."""
        micros = max(seconds * 1e6, 1.0)
        self.buckets[int(math.log(micros) * self._PER_E)] += 1

    def merge(self, other: dict[Any, int]) -> None:
        """Add another histogram's buckets (JSON turns the keys into strings)."""
        for key, n in other.items():
            self.buckets[int(key)] += n

    @property
    def count(self) -> int:
        """How many latencies were recorded."""
        return sum(self.buckets.values())

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile in milliseconds (bucket middle), or None if empty."""
        total = self.count
        if not total:
            return None
        rank = max(1, math.ceil(total * p / 100.0))
        seen = 0
        for key in sorted(self.buckets):
            seen += self.buckets[key]
            if seen >= rank:
                return math.exp((key + 0.5) / self._PER_E) / 1000.0
        raise AssertionError("unreachable")  # pragma: no cover

    def summary(self) -> dict[str, float | int | None]:
        """Count and p50/p95/p99/max in milliseconds."""
        return {"count": self.count, "p50_ms": self.percentile(50),
                "p95_ms": self.percentile(95), "p99_ms": self.percentile(99),
                "max_ms": self.percentile(100)}


class Tally:
    """One process's counters (cumulative) and latencies (handed over, then reset)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self._latency: dict[str, Histogram] = {}

    def latency(self, kind: str, seconds: float) -> None:
        """Record how long a command of ``kind`` took to be answered."""
        histogram = self._latency.get(kind)
        if histogram is None:
            histogram = self._latency[kind] = Histogram()
        histogram.add(seconds)

    def error(self, message: str) -> None:
        """Count an error event, by its (shortened) message."""
        self.counts["errors"] += 1
        self.errors[message[:80]] += 1

    def take_latencies(self) -> dict[str, dict[int, int]]:
        """The latencies recorded since the last call."""
        taken = {kind: dict(h.buckets) for kind, h in self._latency.items()}
        self._latency = {}
        return taken


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_rss_kb(pid: int) -> int:
    """A process's resident set size in kB (``VmRSS`` in /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ValueError(f"no VmRSS for process {pid}")


def raise_open_files_limit() -> int:
    """Raise this process's soft open-files limit to its hard limit; return it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# -- what to run -------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything a swarm of clients needs, picklable as JSON for worker processes."""

    mode: str
    host: str
    port: int
    clients: int
    per_table: int = 7
    rules: str = "min=1"
    bet: int = 0
    """Chips per bet; 0 means the table minimum."""
    names: str = "bot"
    login: bool = False
    """Idle mode: also log in (play mode always does)."""
    command: str = "help hit"
    window: int = 32
    batch: int = 8
    think: float = 0.0
    """Play mode: mean seconds a bot waits before each bet or play (uniform 0 to 2x)."""
    per_source: int = 10
    """Connections per local source address (127.1.0.1, 127.1.0.2, ...); 0 binds none."""
    connect_concurrency: int = 256
    target: str = "server"
    """``server`` or ``echo``: what the throughput and idle clients talk to."""
    transport: str = "telnet"
    """``telnet``, or ``ws``: the same clients over the WebSocket (``loadtest_ws.py``)."""

    @property
    def tables(self) -> int:
        """How many tables the bots fill."""
        return math.ceil(self.clients / self.per_table)

    def name(self, index: int) -> str:
        """Bot ``index``'s account name."""
        return f"{self.names}{index:05d}"

    def table(self, index: int) -> str:
        """The table bot ``index`` sits at."""
        return f"{TABLE_PREFIX}{index // self.per_table}"

    def source(self, index: int) -> str | None:
        """The local address bot ``index`` connects from (distinct peer IPs for the server)."""
        if not self.per_source:
            return None
        # All of 127.0.0.0/8 is loopback on Linux: distinct peer addresses
        # keep the bots under the server's per-address caps.
        k = index // self.per_source
        return f"127.1.{k // 250 % 256}.{k % 250 + 1}"


# -- clients ---------------------------------------------------------------------------


class _Connection(Client):
    """A :class:`blackjack.client.Client` that reports to its swarm: open, ready, timings."""

    # As telnet clients do, and as the echo server (a LineReceiver) needs.
    delimiter = b"\r\n"

    def __init__(self, swarm: Swarm, index: int) -> None:
        super().__init__(swarm.reactor, timeout=None)  # the run itself is bounded
        self.swarm = swarm
        self.index = index
        self.tally = swarm.tally
        self.now = swarm.clock
        self.ready = False

    def begin(self) -> None:
        """Override: the connection is open; set it up, then call :meth:`became_ready`."""

    def timed(self, kind: str, d: Deferred[Any]) -> Deferred[Any]:
        """``d`` (a call just made), with the time to its reply recorded as ``kind``."""
        sent = self.now()

        def answered(result: Any) -> Any:
            self.tally.latency(kind, self.now() - sent)
            return result
        return d.addBoth(answered)

    def became_ready(self) -> None:
        self.swarm.client_ready(self)

    def unmatched(self, message: Message) -> None:
        self.tally.counts["unsolicited_errors"] += 1
        self.tally.errors[f"unmatched reply: {str(message)[:60]}"] += 1

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.swarm.client_lost(self)

    def _setup_failed(self, failure: Failure) -> None:
        if not failure.check(ConnectionClosed):
            self.tally.error(f"setup: {failure.getErrorMessage()}")


class _Seat(Bot):
    """The basic-strategy :class:`blackjack.client.Bot`, timing each bet and play to its reply."""

    def __init__(self, player: Player) -> None:
        swarm = player.swarm
        plan = swarm.plan
        think = plan.think
        super().__init__(player, plan.table(player.index), policy=swarm.policy,
                         bet=plan.bet or None,
                         pause=(lambda: random.uniform(0, 2 * think)) if think else None)
        self.player = player
        self.tally = swarm.tally
        self.leader = player.index % plan.per_table == 0

    def request(self, cmd: str, **params: Any) -> Deferred[Any]:
        self.tally.counts["commands"] += 1
        d = self.player.timed("bet" if cmd == "bet" else "act", self.client.call(cmd, **params))
        return d.addErrback(self._count_refusal)

    def _count_refusal(self, failure: Failure) -> Failure:
        if failure.check(RequestRefused):
            self.tally.error(failure.getErrorMessage())
        return failure  # the Bot notes it too, and keeps playing

    def settled(self, result: Message, played: bool, net: int) -> None:
        counts = self.tally.counts
        if self.leader:
            counts["rounds"] += 1
        if played:
            counts["hands"] += 1


class Player(_Connection):
    """A player who says hello, logs in, sits down and plays basic strategy for ever."""

    def __init__(self, swarm: Swarm, index: int) -> None:
        super().__init__(swarm, index)
        self.bot: _Seat | None = None
        self.on("timeout", self._on_timeout)
        self.on("error", self._on_error)
        self.on("bye", self._on_bye)
        self.on("shutdown", self._on_bye)

    def begin(self) -> None:
        defer.ensureDeferred(self._sit_down()).addErrback(self._setup_failed)

    async def _sit_down(self) -> None:
        plan = self.swarm.plan
        counts = self.tally.counts
        counts["setup_commands"] += 1
        await self.timed("handshake", self.hello())
        while True:
            counts["setup_commands"] += 1
            try:
                login = await self.timed("login", self.login(plan.name(self.index), PASSWORD))
                break
            except RequestRefused:
                # The login throttle lets only a few attempts per address be in
                # flight at once; a refused attempt is not held against us.
                counts["login_retries"] += 1
                await _sleep(self.swarm.reactor, random.uniform(0.1, 1.0))
        self.bot = bot = _Seat(self)
        bot.start()  # before the join: its reply comes after the betting window it opens
        if not (login["resumed"] and login["table"] == bot.table):  # else: back in a held seat
            counts["setup_commands"] += 1
            await self.timed("join", self.join(bot.table))
        self.became_ready()

    def _on_timeout(self, event: Message) -> None:
        if event["player"] == self.name:
            self.tally.counts["timeouts"] += 1

    def _on_error(self, event: Message) -> None:
        # An error no request caused (a request's refusal comes as its reply).
        self.tally.counts["unsolicited_errors"] += 1
        self.tally.errors[event["message"][:80]] += 1

    def _on_bye(self, event: Message) -> None:
        self.tally.counts["closed_by_server"] += 1

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.bot is not None:
            self.bot.stop()
        super().connectionLost(reason)


class _Handshaker(_Connection):
    """Says hello (and may log in), then is ready; works on the echo server too.

    The echo server sends the hello back, which is no reply: the call fails
    with ProtocolError, and one line has gone each way, which is all the
    baseline needs.
    """

    def begin(self) -> None:
        defer.ensureDeferred(self._handshake()).addErrback(self._setup_failed)

    async def _handshake(self) -> None:
        plan = self.swarm.plan
        self.tally.counts["setup_commands"] += 1
        try:
            await self.timed("handshake", self.hello())
        except ProtocolError:
            if plan.target == "server":
                raise
        if plan.login and plan.target == "server":
            self.tally.counts["setup_commands"] += 1
            await self.timed("login", self.login(plan.name(self.index), PASSWORD))
        self.handshake_done()

    def handshake_done(self) -> None:
        self.became_ready()


class Idler(_Handshaker):
    """An idle connection: handshake, then silence."""


class Piper(_Handshaker):
    """Keeps ``window`` requests in flight and counts the answering lines.

    It pipelines one v1 request (``--command`` as the server would read it
    typed: ``help hit`` is ``{"cmd": "help", "command": "hit"}``), without
    ids, and counts reply lines in bulk instead of matching each: the client
    must cost far less than the server for the figure to be the server's
    (see ``docs/performance.md``).
    """

    def __init__(self, swarm: Swarm, index: int) -> None:
        super().__init__(swarm, index)
        plan = swarm.plan
        self._line = swarm.request_line
        self._batch = max(1, plan.batch)
        self._window = max(self._batch, plan.window)
        self._sent_count = 0
        self._answered = 0
        self._batches: list[tuple[int, float]] = []
        self._counting = False

    def dataReceived(self, data: bytes) -> None:
        if not self._counting:
            super().dataReceived(data)
            if self._counting and self._buffer:
                rest, self._buffer = self._buffer, b""
                self._count(rest)
            return
        self._count(data)

    def handshake_done(self) -> None:
        self.became_ready()
        self._counting = True
        self._fill()

    def _count(self, data: bytes) -> None:
        lines = data.count(b"\n")
        if not lines:
            return
        self._answered += lines
        counts = self.tally.counts
        counts["commands"] += lines
        if b'"ok":false' in data:
            counts["errors"] += data.count(b'"ok":false')
        now = self.now()
        batches = self._batches
        done = 0
        for last, sent in batches:
            if last > self._answered:
                break
            self.tally.latency("pipelined", now - sent)
            done += 1
        if done:
            del batches[:done]
        self._fill()

    def _fill(self) -> None:
        if self.swarm.stopping:
            return
        room = self._window - (self._sent_count - self._answered)
        if room < self._batch:
            return
        n = room - room % self._batch
        self.tally.counts["sent"] += n
        self.transport.write(self._line * n)
        now = self.now()
        for _ in range(n // self._batch):
            self._sent_count += self._batch
            self._batches.append((self._sent_count, now))


class BaselinePlayer(LineReceiver):
    """The same basic-strategy bot, playing the thread-per-connection baseline.

    ``scripts/threaded_baseline.py`` deals one player against the dealer
    per connection and offers only ``hit`` and ``stand``; the bot plays the
    same chart (:func:`blackjack.strategy.advise` among those two) and times
    each command to the line that answers it, as a v1 request is timed to
    its reply: ``deal`` to the ``DEAL`` line (a bet), a play to its ``CARD``
    or ``RESULT`` line.
    """

    delimiter = b"\r\n"

    def __init__(self, swarm: Swarm, index: int) -> None:
        self.swarm = swarm
        self.index = index
        self.tally = swarm.tally
        self.now = swarm.clock
        self.ready = False
        self._cards: list[Card] = []
        self._upcard: Card | None = None
        self._sent: tuple[str, float] | None = None

    def begin(self) -> None:
        """Nothing to set up: the server deals at once."""
        self._sent = ("bet", self.now())

    def lineReceived(self, line: bytes) -> None:
        if self._sent is not None:
            kind, sent = self._sent
            self.tally.latency(kind, self.now() - sent)
            self._sent = None
        words = line.decode().split()
        if not words:
            return
        if words[0] == "DEAL":  # DEAL you C1 C2 (v) dealer UP ??
            self.swarm.client_ready(self)
            self._cards = [Card.parse(words[2]), Card.parse(words[3])]
            self._upcard = Card.parse(words[6])
            if Hand.of(*self._cards).total < 21:
                self._play()
        elif words[0] == "CARD":
            self._cards.append(Card.parse(words[1]))
            if Hand.of(*self._cards).total < 21:
                self._play()
        elif words[0] == "RESULT":
            self.tally.counts["hands"] += 1
            self.tally.counts["rounds"] += 1
            self._send("bet", b"deal")
        else:
            self.tally.error(f"baseline: {line[:60]!r}")

    def _play(self) -> None:
        assert self._upcard is not None
        action = advise(self.swarm.rules, Hand.of(*self._cards), self._upcard, _HIT_STAND)
        self._send("act", action.value.encode())

    def _send(self, kind: str, command: bytes) -> None:
        if self.swarm.stopping or self.transport is None:
            return
        self.tally.counts["commands"] += 1
        self._sent = (kind, self.now())
        self.sendLine(command)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.swarm.client_lost(self)


_HIT_STAND = frozenset({Action.HIT, Action.STAND})

_CLIENTS: dict[str, type[Any]] = {"play": Player, "idle": Idler, "throughput": Piper}


def request_line(command: str) -> bytes:
    """A typed command (``help hit``) as the protocol v1 request line it stands for."""
    from blackjack.server.frontends.requests import parse_text

    request = parse_text(command)
    params = {k: v for k, v in request.params.items() if v is not None}
    return json.dumps({"cmd": request.command.name, **params},
                      separators=(",", ":")).encode() + _Connection.delimiter


class Swarm:
    """The clients of one process: connects them (a bounded number at a time), samples them."""

    def __init__(self, reactor: Any, plan: Plan, indices: range) -> None:
        self.reactor = reactor
        self.plan = plan
        self.indices = indices
        self.rules = Rules.from_spec(plan.rules)
        self.policy = basic_strategy(self.rules)
        self.request_line = request_line(plan.command) if plan.mode == "throughput" else b""
        self.clock: Callable[[], float] = time.perf_counter
        self.tally = Tally()
        self.clients: list[Any] = []
        self.ready = 0
        self.open = 0
        self.stopping = False
        self._cpu_start = _own_cpu()

    def start(self) -> Deferred[None]:
        """Connect every client; fires when all have connected or failed."""
        gate = DeferredSemaphore(self.plan.connect_concurrency)
        kind = BaselinePlayer if self.plan.target == "baseline" else _CLIENTS[self.plan.mode]

        def connect(index: int) -> Deferred[Any]:
            if self.stopping:
                return defer.succeed(None)
            source = self.plan.source(index)
            client = kind(self, index)
            if self.plan.transport == "ws":
                import loadtest_ws
                d = loadtest_ws.connect(self.reactor, self.plan.host, self.plan.port, client,
                                        source)
            else:
                endpoint = TCP4ClientEndpoint(
                    self.reactor, self.plan.host, self.plan.port, timeout=30,
                    bindAddress=(source, 0) if source else None)
                d = connect_endpoint(endpoint, hello=False, client=client)
            d.addCallbacks(self._connected, self._failed)
            return d

        return defer.gatherResults(
            [gate.run(connect, index) for index in self.indices]).addCallback(lambda _: None)

    def _connected(self, client: Any) -> None:
        self.clients.append(client)
        self.open += 1
        client.begin()

    def client_ready(self, client: Any) -> None:
        """``client`` (a player, an idler, a baseline player...) is ready to be measured."""
        if not client.ready:
            client.ready = True
            self.ready += 1

    def client_lost(self, client: Any) -> None:
        """``client``'s connection has closed (a disconnect, unless we are stopping)."""
        if client.ready:
            self.ready -= 1
            client.ready = False
        self.open -= 1
        if not self.stopping:
            self.tally.counts["disconnects"] += 1

    def _failed(self, failure: Failure) -> None:
        self.tally.counts["connect_failures"] += 1
        self.tally.errors[f"connect: {failure.getErrorMessage()[:70]}"] += 1

    def stop(self) -> None:
        """Close every connection."""
        self.stopping = True
        for client in self.clients:
            if isinstance(client, Player) and client.bot is not None:
                client.bot.stop()
            if client.transport is not None:
                client.transport.loseConnection()

    def sample(self) -> dict[str, Any]:
        """Counters so far, latencies since the last sample, readiness and own CPU."""
        return {"counts": dict(self.tally.counts), "errors": dict(self.tally.errors),
                "latency": self.tally.take_latencies(), "ready": self.ready,
                "open": self.open, "total": len(self.indices),
                "cpu": _own_cpu() - self._cpu_start}


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


# -- sources of samples: in this process, or worker processes ---------------------------


class _LocalSource:
    """A swarm in this process."""

    def __init__(self, swarm: Swarm) -> None:
        self.swarm = swarm
        self.latest: dict[str, Any] = swarm.sample()

    def start(self) -> None:
        self.swarm.start().addErrback(lambda f: print(f"swarm failed: {f}", file=sys.stderr))

    def take(self) -> dict[str, Any]:
        self.latest = self.swarm.sample()
        return self.latest

    def stop(self) -> Deferred[None]:
        self.swarm.stop()
        return defer.succeed(None)


class _WorkerSource(ProcessProtocol):
    """A worker process running a swarm; its samples arrive as JSON lines on stdout."""

    def __init__(self, reactor: Any, plan: Plan, first: int, count: int) -> None:
        self.reactor = reactor
        self.argv = [sys.executable, str(Path(__file__).resolve()), "--worker",
                     json.dumps({"plan": asdict(plan), "first": first, "count": count})]
        self.latest: dict[str, Any] = {"counts": {}, "errors": {}, "latency": {},
                                       "ready": 0, "open": 0, "total": count, "cpu": 0.0}
        self._latency: dict[str, Histogram] = {}
        self._buffer = b""
        self._ended: Deferred[None] = Deferred()

    def start(self) -> None:
        self.reactor.spawnProcess(self, self.argv[0], self.argv, env=os.environ.copy(),
                                  childFDs={0: "w", 1: "r", 2: 2})

    def outReceived(self, data: bytes) -> None:
        lines = (self._buffer + data).split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            sample = json.loads(line)
            for kind, buckets in sample.pop("latency").items():
                self._latency.setdefault(kind, Histogram()).merge(buckets)
            self.latest = {**sample, "latency": {}}

    def take(self) -> dict[str, Any]:
        taken = {kind: dict(h.buckets) for kind, h in self._latency.items()}
        self._latency = {}
        return {**self.latest, "latency": taken}

    def stop(self) -> Deferred[None]:
        if not self._ended.called:
            self.transport.closeStdin()
            self.reactor.callLater(15, self._kill)
        return self._ended

    def _kill(self) -> None:
        if not self._ended.called:
            self.transport.signalProcess("KILL")

    def processEnded(self, reason: Failure) -> None:
        if not self._ended.called:
            self._ended.callback(None)


async def _worker(reactor: Any, spec: str) -> None:
    """Run one worker's share of the clients until the parent closes our stdin."""
    job = json.loads(spec)
    plan = Plan(**job["plan"])
    raise_open_files_limit()
    swarm = Swarm(reactor, plan, range(job["first"], job["first"] + job["count"]))
    done: Deferred[None] = Deferred()

    def wait_for_eof() -> None:
        # A blocking read in a thread: stdin stays blocking, and so does the
        # stdout we write samples to (they share nothing but the process).
        sys.stdin.buffer.read()
        reactor.callFromThread(finish)

    def finish() -> None:
        if not done.called:
            done.callback(None)

    reactor.callInThread(wait_for_eof)

    def report() -> None:
        sys.stdout.write(json.dumps(swarm.sample()) + "\n")
        sys.stdout.flush()

    loop = task.LoopingCall(report)
    loop.clock = reactor
    loop.start(_SAMPLE_EVERY, now=False)
    swarm.start()
    await done
    loop.stop()
    report()
    swarm.stop()
    await task.deferLater(reactor, 0.5, lambda: None)


# -- the run -----------------------------------------------------------------------------


@dataclass
class Window:
    """What the sources said at the start and end of the measured interval."""

    start: float = 0.0
    end: float = 0.0
    counts_start: Counter[str] = field(default_factory=Counter)
    counts_end: Counter[str] = field(default_factory=Counter)
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    latency: dict[str, Histogram] = field(default_factory=dict)
    groups_start: dict[str, float] = field(default_factory=dict)
    groups_end: dict[str, float] = field(default_factory=dict)
    """CPU seconds of each group of ``run(cpu_of=...)`` at the start and end."""


class _Monitor:
    """Samples the sources and the server process; prints progress; measures a window."""

    def __init__(self, reactor: Any, sources: Sequence[Any], server_pid: int | None,
                 progress: bool, cpu_of: Mapping[str, Sequence[int]] | None = None) -> None:
        self.reactor = reactor
        self.sources = sources
        self.server_pid = server_pid
        self.cpu_of = dict(cpu_of or {})
        self.progress = progress
        self.window: Window | None = None
        self.setup_latency: dict[str, Histogram] = {}
        self._tty = sys.stderr.isatty()
        self._last: tuple[float, int] = (time.monotonic(), 0)
        self._started = time.monotonic()
        self._loop = task.LoopingCall(self._tick)
        self._loop.clock = reactor
        self._ticks = 0

    def start(self) -> None:
        self._loop.start(_SAMPLE_EVERY, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()
        self._tick()
        if self.progress and self._tty:
            sys.stderr.write("\n")

    def totals(self) -> tuple[Counter[str], int, int, int, float]:
        """Summed counters, ready, open and total clients, and client CPU seconds."""
        counts: Counter[str] = Counter()
        ready = opened = total = 0
        cpu = 0.0
        for source in self.sources:
            s = source.latest
            counts.update(s["counts"])
            ready += s["ready"]
            opened += s["open"]
            total += s["total"]
            cpu += s["cpu"]
        return counts, ready, opened, total, cpu

    def _tick(self) -> None:
        for source in self.sources:
            latency = source.take()["latency"]
            target = self.window.latency if self.window is not None and not self.window.end \
                else self.setup_latency
            for kind, buckets in latency.items():
                target.setdefault(kind, Histogram()).merge(buckets)
        self._ticks += 1
        if self.progress and (self._ticks % (2 if self._tty else 10) == 0):
            self._show()

    def _show(self) -> None:
        counts, ready, opened, total, _cpu = self.totals()
        now = time.monotonic()
        then, before = self._last
        done = counts["commands"]
        rate = (done - before) / max(now - then, 1e-9)
        self._last = (now, done)
        p99 = "-"
        if self.window is not None:
            merged = Histogram()
            for kind, h in self.window.latency.items():
                if kind in GAME_KINDS or kind == "pipelined":
                    merged.merge(h.buckets)
            value = merged.percentile(99)
            p99 = f"{value:.1f}ms" if value is not None else "-"
        server = ""
        if self.server_pid is not None:
            try:
                server = f" server {process_rss_kb(self.server_pid) / 1024:.0f}MB"
            except OSError:
                server = " server gone"
        line = (f"[{now - self._started:5.0f}s] ready {ready}/{total} open {opened} "
                f"cmds/s {rate:8.0f} rounds {counts['rounds']} p99 {p99} "
                f"errors {counts['errors']} timeouts {counts['timeouts']}{server}")
        if self._tty:
            sys.stderr.write("\r\x1b[K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def open_window(self) -> None:
        self._tick()
        counts, *_ = self.totals()
        self.window = Window(start=time.monotonic(), counts_start=counts,
                             cpu_start=self._server_cpu(), groups_start=self._groups_cpu())

    def close_window(self) -> None:
        assert self.window is not None
        self._tick()
        counts, *_ = self.totals()
        self.window.end = time.monotonic()
        self.window.counts_end = counts
        self.window.cpu_end = self._server_cpu()
        self.window.groups_end = self._groups_cpu()

    def _groups_cpu(self) -> dict[str, float]:
        cpu = {}
        for group, pids in self.cpu_of.items():
            total = 0.0
            for pid in pids:
                try:
                    total += process_cpu(pid)
                except OSError:
                    pass  # gone: its last figures are lost with it
            cpu[group] = total
        return cpu

    def _server_cpu(self) -> float:
        if self.server_pid is None:
            return 0.0
        try:
            return process_cpu(self.server_pid)
        except OSError:
            return 0.0


async def _sleep(reactor: Any, seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


async def run(reactor: Any, plan: Plan, *, duration: float, procs: int = 1,
              server_pid: int | None = None, setup_timeout: float = 120.0,
              settle: float = 0.0, progress: bool = True,
              cpu_of: Mapping[str, Sequence[int]] | None = None) -> dict[str, Any]:
    """Run one measured phase and return its report (a JSON-ready dict).

    Clients connect and get ready (logged in and seated, or handshaken) for
    at most ``setup_timeout`` seconds; after ``settle`` more seconds the
    window opens, lasts ``duration`` seconds, and everything is closed.
    ``cpu_of`` names groups of other processes (the nodes of a room, the
    database's backends) whose CPU over the window is reported under ``cpu``.
    """
    if procs <= 1:
        sources: list[Any] = [_LocalSource(Swarm(reactor, plan, range(plan.clients)))]
    else:
        share = math.ceil(plan.clients / procs)
        sources = [_WorkerSource(reactor, plan, first, min(share, plan.clients - first))
                   for first in range(0, plan.clients, share)]
    monitor = _Monitor(reactor, sources, server_pid, progress, cpu_of)
    rss_before = _rss(server_pid)
    setup_started = time.monotonic()
    for source in sources:
        source.start()
    monitor.start()
    try:
        deadline = setup_started + setup_timeout
        while time.monotonic() < deadline:
            _counts, ready, _open, total, _cpu = monitor.totals()
            if ready >= total:
                break
            await _sleep(reactor, 0.2)
        setup_seconds = time.monotonic() - setup_started
        if settle:
            await _sleep(reactor, settle)
        rss_ready = _rss(server_pid)
        client_cpu_start = monitor.totals()[4]
        monitor.open_window()
        await _sleep(reactor, duration)
        monitor.close_window()
        rss_end = _rss(server_pid)
        counts_all, ready, opened, total, client_cpu_end = monitor.totals()
    finally:
        for source in sources:
            source.stop()
        monitor.stop()
    errors: Counter[str] = Counter()
    for source in sources:
        errors.update(source.latest.get("errors", {}))
    window = monitor.window
    assert window is not None
    seconds = window.end - window.start
    counts = window.counts_end - window.counts_start
    report: dict[str, Any] = {
        "mode": plan.mode, "target": plan.target, "clients": plan.clients,
        "procs": max(1, len(sources)), "ready": ready, "open": opened,
        "setup_seconds": round(setup_seconds, 2), "seconds": round(seconds, 2),
        "commands": counts["commands"], "unanswered_at_end":
            counts_all["sent"] - counts_all["commands"] if plan.mode == "throughput" else 0,
        "commands_per_s": counts["commands"] / seconds,
        "errors": counts["errors"], "timeouts": counts["timeouts"],
        "unsolicited_errors": counts["unsolicited_errors"],
        "disconnects": counts_all["disconnects"],
        "login_retries": counts_all["login_retries"],
        "connect_failures": counts_all["connect_failures"],
        "error_messages": dict(errors.most_common(8)),
        "latency": {kind: h.summary() for kind, h in sorted(window.latency.items())},
        "setup_latency": {k: h.summary() for k, h in sorted(monitor.setup_latency.items())},
        "client_cpu_percent": 100 * (client_cpu_end - client_cpu_start) / seconds,
        "loadavg": os.getloadavg(),
    }
    game = Histogram()
    for kind in GAME_KINDS:
        if kind in window.latency:
            game.merge(window.latency[kind].buckets)
    if game.count:
        report["latency"]["game"] = game.summary()
    if plan.mode == "play":
        report.update({"tables": plan.tables, "per_table": plan.per_table,
                       "rounds": counts["rounds"], "rounds_per_s": counts["rounds"] / seconds,
                       "hands": counts["hands"], "hands_per_s": counts["hands"] / seconds})
    if cpu_of:
        report["cpu"] = {group: {
            "percent": 100 * (window.groups_end[group] - window.groups_start[group]) / seconds,
            "us_per_command": 1e6 * (window.groups_end[group] - window.groups_start[group])
            / counts["commands"] if counts["commands"] else None,
            "ms_per_round": 1e3 * (window.groups_end[group] - window.groups_start[group])
            / counts["rounds"] if counts["rounds"] else None} for group in cpu_of}
    if server_pid is not None:
        report["server"] = {
            "pid": server_pid, "rss_kb_before": rss_before, "rss_kb_ready": rss_ready,
            "rss_kb_end": rss_end,
            "cpu_percent": 100 * (window.cpu_end - window.cpu_start) / seconds,
            "cpu_us_per_command": 1e6 * (window.cpu_end - window.cpu_start)
            / counts["commands"] if counts["commands"] else None}
        if plan.mode == "idle" and rss_before is not None and rss_ready is not None \
                and ready:
            report["server"]["rss_per_connection_bytes"] = \
                (rss_ready - rss_before) * 1024 / ready
    return report


def _rss(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        return process_rss_kb(pid)
    except OSError:
        return None


# -- accounts and servers ----------------------------------------------------------------


async def make_accounts(storage: Any, names: Iterable[str], bankroll: int) -> int:
    """Create the bot accounts that ``storage`` lacks; return how many were made.

    They get the cheap :data:`~blackjack.server.core.passwords.FAST_INSECURE` hash
    (one hash shared by all: each stored hash carries its own salt and cost),
    so logging a thousand bots in costs the server no real hashing.
    """
    from blackjack.server.core.passwords import FAST_INSECURE, hash_password

    hashed = await hash_password(PASSWORD, FAST_INSECURE)
    made = 0
    pending = list(names)
    for start in range(0, len(pending), 500):
        chunk = pending[start:start + 500]
        found = await defer.gatherResults([storage.get_account(n) for n in chunk])
        missing = [n for n, account in zip(chunk, found) if account is None]
        await defer.gatherResults(
            [storage.create_account(n, hashed, bankroll) for n in missing])
        made += len(missing)
    return made


async def make_accounts_in(path: str, names: Sequence[str], bankroll: int) -> int:
    """:func:`make_accounts` in an SQLite file or PostgreSQL URL (the server need not run)."""
    from blackjack.server.storage.backends import open_storage

    storage = open_storage(path)
    try:
        return await make_accounts(storage, names, bankroll)
    finally:
        await storage.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raise_child_limit() -> None:
    raise_open_files_limit()


@dataclass
class Spawned:
    """A server this script started, and how to stop it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    command: list[str]

    async def wait_listening(self, reactor: Any, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            await _sleep(reactor, 0.2)
        raise RuntimeError(f"server not listening after {timeout}s; see {self.log}")

    async def stop(self, reactor: Any, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            await _sleep(reactor, 0.2)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def spawn(command: list[str], log: Path, port: int) -> Spawned:
    """Start a server process (open-files limit raised, PYTHONPATH at this checkout)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=_raise_child_limit)
    return Spawned(process, port, log, command)


LOADTEST_SERVER_OPTIONS = {
    "rate": "0", "chat-rate": "0", "max-per-ip": "0", "idle-timeout": "0",
    "max-connections": "50000", "login-attempts-per-ip": "1000000",
    # A bot whose bet reaches an overloaded table after the window closed
    # would be stood up, and the test would measure fewer players.
    "missed-rounds": "0",
}
"""Server options that would stop a load test, and the values that turn them off.

Each is passed only if ``twistd blackjack --help`` lists it (a server from
before the hardening work has none of them)."""


def server_options(twistd: list[str]) -> set[str]:
    """The long option names ``twistd blackjack --help`` lists."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    text = subprocess.run([*twistd, "blackjack", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60).stdout
    return {word[2:].split("=")[0] for word in text.split() if word.startswith("--")}


def blackjack_command(args: argparse.Namespace, port: int, db: str, log: Path,
                      tables: int) -> list[str]:
    """``twistd -n blackjack`` with short timers, no per-client limits, the load-test tables."""
    twistd = args.twistd.split() if args.twistd else [
        shutil.which("twistd", path=str(Path(sys.executable).parent)) or "twistd"]
    known = server_options(twistd)
    command = [*twistd, "-n", "--pidfile=", "--logfile", str(log), "blackjack",
               "--listen", f"tcp:{port}:interface=127.0.0.1:backlog={args.backlog}",
               "--db", str(db), "--bankroll", str(args.bankroll),
               "--bet-time", str(args.bet_time), "--turn-time", str(args.turn_time),
               "--insurance-time", str(args.turn_time), "--grace", "5"]
    for option, value in LOADTEST_SERVER_OPTIONS.items():
        if option in known:
            command += [f"--{option}", value]
    if "web" in known:  # the page's port: the WebSocket bots' door, or none
        command += ["--web", f"tcp:{args.web_port}:interface=127.0.0.1:backlog={args.backlog}"
                    if getattr(args, "transport", "telnet") == "ws" else "none"]
    for t in range(max(1, tables)):
        command += ["--table", f"{TABLE_PREFIX}{t}:{args.rules}"]
    return command + [arg for extra in args.server_arg for arg in extra.split()]


def baseline_command(port: int) -> list[str]:
    """The thread-per-connection baseline (``scripts/threaded_baseline.py``)."""
    return [sys.executable, str(ROOT / "scripts" / "threaded_baseline.py"), str(port)]


def echo_command(args: argparse.Namespace, port: int) -> list[str]:
    """The bare echo server (``scripts/echo_server.py``)."""
    return [sys.executable, str(ROOT / "scripts" / "echo_server.py"),
            "--listen", f"tcp:{port}:interface=127.0.0.1:backlog={args.backlog}"]


# -- reports -----------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_report(report: dict[str, Any]) -> str:
    """The human-readable form of one phase's report."""
    lines = [f"== {report['mode']} against {report['target']}: {report['clients']} clients "
             f"({report['ready']} ready, {report['procs']} client process(es)), "
             f"window {report['seconds']}s, setup {report['setup_seconds']}s"]
    if report["mode"] == "play":
        lines.append(f"  tables {report['tables']} x {report['per_table']}: "
                     f"rounds {report['rounds']} ({report['rounds_per_s']:.1f}/s), "
                     f"hands {report['hands']} ({report['hands_per_s']:.1f}/s)")
    lines.append(f"  commands {report['commands']} ({report['commands_per_s']:.0f}/s), "
                 f"errors {report['errors']}, timeouts {report['timeouts']}, "
                 f"unsolicited errors {report['unsolicited_errors']}, disconnects "
                 f"{report['disconnects']}, connect failures {report['connect_failures']}"
                 + (f", unanswered at the end {report['unanswered_at_end']}"
                    if report["unanswered_at_end"] else ""))
    for message, n in report["error_messages"].items():
        lines.append(f"    {n} x {message}")
    for title, table in (("latency (ms)", report["latency"]),
                         ("setup latency (ms)", report["setup_latency"])):
        for kind, s in table.items():
            lines.append(f"  {title} {kind:<10} n={s['count']:<8} p50 {_ms(s['p50_ms'])}  "
                         f"p95 {_ms(s['p95_ms'])}  p99 {_ms(s['p99_ms'])}  "
                         f"max {_ms(s['max_ms'])}")
    server = report.get("server")
    if server:
        per = server.get("rss_per_connection_bytes")
        lines.append(f"  server RSS kB: before {server['rss_kb_before']}, ready "
                     f"{server['rss_kb_ready']}, end {server['rss_kb_end']}"
                     + (f"; {per:.0f} bytes per connection" if per is not None else "")
                     + f"; server CPU {server['cpu_percent']:.0f}%"
                     + (f", {server['cpu_us_per_command']:.1f} us per command"
                        if server.get("cpu_us_per_command") else ""))
    lines.append(f"  client CPU {report['client_cpu_percent']:.0f}% (summed over processes), "
                 f"load average {' '.join(f'{x:.2f}' for x in report['loadavg'])}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import twisted

    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f
                          if ln.startswith("model name")), "")
    except OSError:
        pass
    return {"python": platform.python_version(), "twisted": twisted.__version__,
            "platform": platform.platform(), "cpus": os.cpu_count(), "cpu_model": model,
            "open_files_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            "loadavg_at_start": os.getloadavg()}


# -- command line --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Load-test the blackjack server (see the module docstring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--mode", choices=["play", "idle", "throughput"], default="play")
    p.add_argument("--players", "--connections", dest="clients", type=_counts, default=[70],
                   help="bots (play) or connections (idle, throughput); play: a list "
                        "such as 100,1000 runs each in turn")
    p.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    p.add_argument("--procs", type=int, default=1, help="client worker processes")
    p.add_argument("--spawn", action="store_true",
                   help="start the server (and the echo server) here, and stop them after")
    p.add_argument("--connect", default="127.0.0.1:8023",
                   help="HOST:PORT of a running server (without --spawn)")
    p.add_argument("--server-pid", type=int, help="its process id, for RSS and CPU")
    p.add_argument("--echo-connect", help="HOST:PORT of a running echo server")
    p.add_argument("--echo-pid", type=int, help="its process id")
    p.add_argument("--no-echo", action="store_true",
                   help="idle/throughput: skip the echo-server comparison")
    p.add_argument("--transport", choices=["telnet", "ws"], default="telnet",
                   help="how the clients connect: telnet lines, or WebSocket messages "
                        "(with --connect, give the web port)")
    p.add_argument("--per-table", type=_counts, default=[7],
                   help="bots per table (1-7); play: a list such as 1,7 runs each in turn")
    p.add_argument("--baseline", action="store_true",
                   help="play: also run the same bots against the thread-per-connection "
                        "baseline (scripts/threaded_baseline.py) at each --players, in "
                        "turn with the server, and report them side by side")
    p.add_argument("--rules", default="min=1", help="rules of the tables lt0, lt1, ...")
    p.add_argument("--think", type=float, default=0.0,
                   help="play: mean seconds a bot pauses before a bet or play (0: none)")
    p.add_argument("--bet", type=int, default=0, help="chips per bet (0: table minimum)")
    p.add_argument("--login", action="store_true", help="idle: log the connections in")
    p.add_argument("--command", default="help hit",
                   help="throughput: the command, as typed (sent as its v1 request)")
    p.add_argument("--window", type=int, default=32, help="throughput: commands in flight")
    p.add_argument("--batch", type=int, default=8, help="throughput: commands per write")
    p.add_argument("--per-source", type=int, default=10,
                   help="connections per source address 127.1.0.1, .2, ... (0: no bind)")
    p.add_argument("--connect-concurrency", type=int, default=256)
    p.add_argument("--setup-timeout", type=float, default=180.0)
    p.add_argument("--settle", type=float, default=-1,
                   help="seconds between ready and the window (default: 3 idle, 2 others)")
    p.add_argument("--repeat", type=int, default=1,
                   help="throughput: alternate server and echo this many times; play: "
                        "run the whole list of settings this many times, in turn")
    p.add_argument("--db", help="--spawn: an SQLite file or a postgresql:// URL of an empty "
                   "database (default: a fresh temporary SQLite file)")
    p.add_argument("--make-accounts", metavar="DB",
                   help="only create the bot accounts in this SQLite file, then exit")
    p.add_argument("--bankroll", type=int, default=10_000_000)
    p.add_argument("--bet-time", type=float, default=5.0, help="--spawn: betting window")
    p.add_argument("--turn-time", type=float, default=10.0, help="--spawn: turn timer")
    p.add_argument("--twistd", help="--spawn: the twistd command (default: the venv's)")
    p.add_argument("--server-arg", action="append", default=[],
                   help="--spawn: more 'twistd blackjack' options, e.g. '--rate 0'")
    p.add_argument("--backlog", type=int, default=4096, help="--spawn: listen backlog")
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON ('-': stdout)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def _counts(text: str) -> list[int]:
    """``100,1000`` -> [100, 1000]."""
    return [int(word) for word in text.split(",") if word.strip()]


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost") and not host.startswith("127."):
        raise SystemExit(f"refusing to load-test {host}: this tool talks to loopback only")
    return host, int(port)


async def _main(reactor: Any, args: argparse.Namespace) -> int:
    if args.worker:
        await _worker(reactor, args.worker)
        return 0
    most = max(args.clients)
    limit = raise_open_files_limit()
    if most + 64 > limit:
        print(f"warning: {most} connections but an open-files limit of {limit}; "
              "run 'ulimit -n 65536' first", file=sys.stderr)
    base = Plan(mode=args.mode, host="127.0.0.1", port=0, clients=most,
                per_table=args.per_table[0], rules=args.rules, bet=args.bet, login=args.login,
                command=args.command, window=args.window, batch=args.batch,
                think=args.think, per_source=args.per_source, connect_concurrency=args.connect_concurrency,
                transport=args.transport)
    if not all(1 <= n <= 7 for n in args.per_table):
        raise SystemExit("--per-table is 1 to 7")
    if args.mode != "play" and (len(args.clients) > 1 or len(args.per_table) > 1):
        raise SystemExit("lists of --players or --per-table are for --mode play")
    if args.baseline and (args.mode != "play" or args.transport != "telnet"):
        raise SystemExit("--baseline is for --mode play over telnet")
    needs_accounts = args.mode == "play" or args.login
    names = [base.name(i) for i in range(most)] if needs_accounts else []
    if args.make_accounts:
        made = await make_accounts_in(args.make_accounts, names or
                                      [base.name(i) for i in range(most)],
                                      args.bankroll)
        print(f"{made} accounts created in {args.make_accounts}")
        return 0
    result: dict[str, Any] = {"machine": machine(), "argv": sys.argv, "phases": []}
    settle = args.settle if args.settle >= 0 else (3.0 if args.mode == "idle" else 2.0)
    workdir = Path(tempfile.mkdtemp(prefix="blackjack-loadtest-"))
    # (target, clients, per table) for each phase, in the order they run.
    if args.mode == "play":
        one = [(target, clients, per_table) for clients in args.clients
               for target, per_table in ([("baseline", 1)] if args.baseline else [])
               + [("server", n) for n in args.per_table]]
        order = one * args.repeat
    else:
        targets = (["server"] if args.no_echo or args.transport == "ws"
                   else ["server", "echo"])
        order = [(target, most, base.per_table) for target in targets] * (
            args.repeat if args.mode == "throughput" else 1)
    db = args.db or str(workdir / "loadtest.sqlite3")  # a path or a postgresql:// URL
    try:
        if args.spawn and needs_accounts:
            started = time.monotonic()
            made = await make_accounts_in(str(db), names, args.bankroll)
            print(f"{made} bot accounts created in {db} in "
                  f"{time.monotonic() - started:.1f}s", file=sys.stderr)
        for target, clients, per_table in order:
            plan = replace(base, clients=clients, per_table=per_table, target=target)
            tables = plan.tables if args.mode == "play" else 1
            spawned: Spawned | None = None
            if args.spawn:
                port, args.web_port = free_port(), free_port()
                log = workdir / f"{target}.log"
                command = (blackjack_command(args, port, db, log, tables) if target == "server"
                           else echo_command(args, port) if target == "echo"
                           else baseline_command(port))
                spawned = spawn(command, log, port)
                await spawned.wait_listening(reactor)
                await _sleep(reactor, 1.0)  # let it finish starting before the baseline
                host, pid = "127.0.0.1", spawned.process.pid
                if args.transport == "ws" and target == "server":
                    port = args.web_port
            elif target == "server":
                (host, port), pid = _address(args.connect), args.server_pid
            elif target == "echo":
                if not args.echo_connect:
                    raise SystemExit("--echo-connect is needed without --spawn (or --no-echo)")
                (host, port), pid = _address(args.echo_connect), args.echo_pid
            else:
                raise SystemExit("--baseline needs --spawn")
            plan = replace(plan, host=host, port=port)
            print(f"-- {args.mode} against {target} on {host}:{port}"
                  + (f" (pid {pid})" if pid else ""), file=sys.stderr)
            try:
                report = await run(reactor, plan, duration=args.duration, procs=args.procs,
                                   server_pid=pid, setup_timeout=args.setup_timeout,
                                   settle=settle, progress=not args.quiet)
            finally:
                if spawned is not None:
                    await spawned.stop(reactor)
            if spawned is not None:
                report["command"] = spawned.command
            result["phases"].append(report)
            print(format_report(report), flush=True)
    finally:
        if not args.db:
            shutil.rmtree(workdir, ignore_errors=True)
    _compare(result)
    if args.json:
        text = json.dumps(result, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0


def _compare(result: dict[str, Any]) -> None:
    """Print and record server-against-echo figures, where both were measured."""
    if result["phases"] and result["phases"][0]["mode"] == "play":
        _compare_play(result)
        return
    by: dict[str, list[dict[str, Any]]] = {}
    for phase in result["phases"]:
        by.setdefault(phase["target"], []).append(phase)
    if "server" not in by or "echo" not in by:
        return
    server, echo = by["server"], by["echo"]
    if server[0]["mode"] == "throughput":
        s = sorted(p["commands_per_s"] for p in server)[len(server) // 2]
        e = sorted(p["commands_per_s"] for p in echo)[len(echo) // 2]
        cost = [sorted(p.get("server", {}).get("cpu_us_per_command") or 0 for p in ps)
                [len(ps) // 2] for ps in (server, echo)]
        result["comparison"] = {"server_commands_per_s": s, "echo_lines_per_s": e,
                                "ratio": s / e if e else None,
                                "server_cpu_us_per_command": cost[0],
                                "echo_cpu_us_per_line": cost[1]}
        print(f"== throughput: server {s:.0f} commands/s, echo {e:.0f} lines/s, "
              f"ratio {s / e:.2f} (target >= 0.5); server CPU per command "
              f"{cost[0]:.2f} us, per echoed line {cost[1]:.2f} us"
              if e else "== echo answered nothing")
    elif server[0]["mode"] == "idle":
        sp = server[0].get("server", {}).get("rss_per_connection_bytes")
        ep = echo[0].get("server", {}).get("rss_per_connection_bytes")
        if sp is not None and ep is not None:
            result["comparison"] = {"server_bytes_per_connection": sp,
                                    "echo_bytes_per_connection": ep,
                                    "beyond_echo_bytes": sp - ep}
            print(f"== idle: server {sp:.0f} B/connection, echo {ep:.0f} B/connection, "
                  f"{sp - ep:.0f} B beyond the bare server (target < 5000)")


def _compare_play(result: dict[str, Any]) -> None:
    """Print and record one line per phase of a play run, and each against the baseline.

    Where a setting ran more than once (``--repeat``), its median by hands/s is shown.
    """
    settings: dict[tuple[int, str, int], list[dict[str, Any]]] = {}
    for phase in result["phases"]:
        key = (phase["clients"], phase["target"], phase["per_table"])
        settings.setdefault(key, []).append(phase)
    rows = []
    baseline: dict[int, float] = {}
    print("== play: players  target   per table  hands/s  game p50 ms  p99 ms  "
          "server CPU ms/hand  hands/s vs baseline")
    for (clients, target, per_table), phases in sorted(
            settings.items(), key=lambda kv: (kv[0][0], kv[0][1] != "baseline", kv[0][2])):
        phase = sorted(phases, key=lambda p: p["hands_per_s"])[len(phases) // 2]
        game = phase["latency"].get("game", {})
        server = phase.get("server", {})
        hands = phase["hands"]
        cpu_ms = (server["cpu_percent"] * phase["seconds"] * 10 / hands
                  if hands and server.get("cpu_percent") is not None else None)
        if target == "baseline":
            baseline[clients] = phase["hands_per_s"]
        ratio = (phase["hands_per_s"] / baseline[clients]
                 if baseline.get(clients) else None)
        row = {"players": clients, "target": target, "per_table": per_table,
               "runs": len(phases), "hands_per_s": phase["hands_per_s"],
               "p50_ms": game.get("p50_ms"), "p99_ms": game.get("p99_ms"),
               "server_cpu_ms_per_hand": cpu_ms, "server_cpu_percent": server.get("cpu_percent"),
               "vs_baseline": ratio, "errors": phase["errors"], "timeouts": phase["timeouts"]}
        rows.append(row)
        print(f"   {clients:>7}  {target:<8} {'-' if target == 'baseline' else per_table:>9}  "
              f"{phase['hands_per_s']:7.0f}  {_ms(game.get('p50_ms')):>11}  "
              f"{_ms(game.get('p99_ms')):>6}  {_ms(cpu_ms):>18}  "
              + ("-" if ratio is None else f"{ratio:.2f}"))
    result["comparison"] = rows


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    args = _parser().parse_args(argv)
    codes: list[int] = []

    async def go(reactor: Any) -> None:
        codes.append(await _main(reactor, args))

    task.react(lambda reactor: defer.ensureDeferred(go(reactor)))
    return codes[0] if codes else 1


if __name__ == "__main__":
    main()
