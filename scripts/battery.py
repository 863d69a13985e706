"""The hostile-client battery: each attack of issue 9 against a running blackjack server.

Used by ``scripts/soak.py`` (which starts the servers and prints the report);
this module only attacks and measures, given a server's address (and process
id, for its memory).

While an attack runs, a well-behaved client (:class:`Probe`) asks ``help``
every 50 ms and times every reply, and :class:`Monitor` reads the server's
RSS from ``/proc/PID/status`` and notes when the server closes each
attacker connection (from the attacker's side, by the kernel's TCP state, so
a client that never reads still learns it was closed: a server that stops
reading a connection but holds it open has not closed it).  Each attack is
a function of a :class:`Ctx` returning a :class:`Check`: what it found, and
for the attacks about correctness whether what the issue says must happen
did.  :func:`judge` adds the load targets: RSS growth under 50 MB, ``help``
p99 under 50 ms, and the attacker closed where the issue says it must be.

Every client connects from a loopback address of its own role
(:meth:`Ctx.address`), so per-address limits tell attacker, victim and
bystander apart; every wait has a deadline, and an attack that overruns its
time is cancelled and its connections closed.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import select
import selectors
import shutil
import socket
import threading
import time
import traceback
import unicodedata
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import loadtest  # scripts/loadtest.py: latency histograms and /proc readers

__all__ = ["ATTACKS", "Attack", "Check", "Client", "Ctx", "Endpoint", "Settings", "run_attack",
           "judge", "format_battery", "send_enter", "await_enter"]

PASSWORD = "soak-password-2024"
"""The password of every account an attack makes (12+ characters)."""

RSS_TARGET_MB = 50.0
P99_TARGET_MS = 50.0

_IAC = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", re.S)
_TCP_ESTABLISHED = 1
SAFE_LETTERS = "abefhkpqstuxyz"
"""Letters no look-alike rule maps to another (no i/l/o/m/n/r/v/w/c/d), for made-up names."""


class AttackError(Exception):
    """An attack could not be set up (a registration refused, a server silent)."""


# -- a synchronous client -------------------------------------------------------------------


def tcp_state(sock: socket.socket) -> int | None:
    """The kernel's TCP state of ``sock`` (1: established), or None once it is closed here."""
    if sock.fileno() < 0:
        return None
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    except OSError:
        return None


def peer_closed(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (FIN or RST), read or not."""
    state = tcp_state(sock)
    return state is not None and state != _TCP_ESTABLISHED


class Client:
    """One connection with deadlines everywhere: lines out, lines and JSON events in."""

    def __init__(self, host: str, port: int, *, source: str | None = None,
                 rcvbuf: int | None = None, timeout: float = 10.0, record: bool = False) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf:
                # Before connect: the receive window is offered at the handshake.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if source:
                sock.bind((source, 0))
            sock.settimeout(timeout)
            sock.connect((host, port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.eof = False
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.raw: bytearray | None = bytearray() if record else None
        self._buffer = b""
        self._seen = 0

    def send(self, line: str) -> bool:
        """Send one line ended with CR LF; False if the connection is gone."""
        return self.send_bytes(line.encode("utf-8") + b"\r\n")

    def send_bytes(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def pump(self, timeout: float = 0.0) -> None:
        """Take in what has arrived, waiting up to ``timeout`` seconds for something."""
        if self.eof or self.sock.fileno() < 0:
            self.eof = True
            return
        try:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return
            data = self.sock.recv(65536)
        except (BlockingIOError, socket.timeout):
            return
        except (OSError, ValueError):
            data = b""
        if not data:
            self.eof = True
            return
        if self.raw is not None:
            self.raw += data
        *lines, self._buffer = _IAC.sub(b"", self._buffer + data).split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if line.startswith("{"):
                try:
                    self.events.append(json.loads(line))
                    continue
                except ValueError:
                    pass
            self.lines.append(line)

    def wait_event(self, match: Callable[[dict[str, Any]], bool],
                   timeout: float) -> dict[str, Any] | None:
        """The next event (after the last one returned) that ``match`` accepts, or None."""
        deadline = time.monotonic() + timeout
        while True:
            while self._seen < len(self.events):
                event = self.events[self._seen]
                self._seen += 1
                if match(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                return None
            self.pump(min(left, 0.1))

    def wait_raw(self, pattern: bytes, timeout: float, count: int = 1) -> bool:
        """Whether ``pattern`` has arrived ``count`` times (needs ``record=True``)."""
        assert self.raw is not None, "wait_raw needs a Client made with record=True"
        deadline = time.monotonic() + timeout
        while self.raw.count(pattern) < count:
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                return False
            self.pump(min(left, 0.1))
        return True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _is(kind: str, player: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """A matcher for events of ``kind`` (about ``player``, if given)."""
    return lambda e: e.get("event") == kind and (player is None or e.get("player") == player)


# Registration and login syntax lives in these two functions and nowhere else.

def send_enter(client: Client, verb: str, name: str, password: str) -> None:
    """Send ``register`` or ``login`` for ``name`` on one line.

    ``login NAME PASSWORD``; a password on a ``register`` line comes twice
    (``register NAME PASSWORD PASSWORD``).  :func:`await_enter` answers the
    password prompts if the server asks anyway.
    """
    twice = f" {password}" if verb == "register" else ""
    client.send(f"{verb} {name} {password}{twice}")


def await_enter(client: Client, password: str, timeout: float = 30.0) -> dict[str, Any]:
    """The ``login`` event answering :func:`send_enter`, or the ``error``/``bye`` instead.

    Password prompts on the way (JSON mode's ``prompt_password``) are answered.
    A server that says nothing in time gives ``{"event": "timeout"}``.
    """
    deadline = time.monotonic() + timeout
    while True:
        event = client.wait_event(
            lambda e: e.get("event") in ("login", "error", "prompt_password", "bye"),
            max(0.0, deadline - time.monotonic()))
        if event is None:
            return {"event": "timeout", "message": "no answer" + (" (closed)" * client.eof)}
        if event["event"] != "prompt_password":
            return event
        client.send(password)


# -- measurement ------------------------------------------------------------------------------


class Probe:
    """The well-behaved client: ``help`` every ``interval`` s, each reply timed.

    The requests take turns over ``connections`` connections, so that each
    sends ``1 / (interval * connections)`` a second: 4 with the defaults,
    under the server's default command rate of 5.  A connection whose last
    request is still unanswered skips its turn (counted), so a stalled
    server is not buried in requests; requests still unanswered when a
    window is taken count with their age so far.
    """

    def __init__(self, host: str, port: int, source: str | None, *, connections: int = 5,
                 interval: float = 0.05) -> None:
        self.host, self.port, self.source = host, port, source
        self.interval = interval
        self._clients: list[Client | None] = [self._connect() for _ in range(connections)]
        self._pending: list[deque[list[Any]]] = [deque() for _ in range(connections)]
        self._buffers = [b""] * connections
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reset()
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)

    def _reset(self) -> None:
        self._histogram = loadtest.Histogram()
        self._counts = {"errors": 0, "skipped": 0, "unanswered": 0, "closed": 0}

    def _connect(self) -> Client | None:
        try:
            client = Client(self.host, self.port, source=self.source, timeout=5)
        except OSError:
            return None
        client.send("json on")
        if client.wait_event(_is("mode"), 5) is None:
            client.close()
            return None
        client.sock.setblocking(False)
        return client

    def start(self) -> None:
        if not any(self._clients):
            raise AttackError(f"the probe could not connect to {self.host}:{self.port}")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for client in self._clients:
            if client is not None:
                client.close()

    def _run(self) -> None:
        start = time.monotonic()
        turn = 0
        while not self._stop.is_set():
            now = time.monotonic()
            due = start + turn * self.interval
            if now >= due:
                if now - due > self.interval:  # fell behind: do not send a burst
                    turn = int((now - start) / self.interval)
                self._send(turn % len(self._clients), now)
                turn += 1
                continue
            socks = {c.sock: i for i, c in enumerate(self._clients) if c is not None}
            try:
                readable, _, _ = select.select(list(socks), [], [], min(due - now, 0.05))
            except (OSError, ValueError):
                readable = []
            for sock in readable:
                self._read(socks[sock])

    def _send(self, i: int, now: float) -> None:
        client = self._clients[i]
        if client is None:
            self._clients[i] = client = self._connect()
            self._pending[i].clear()
            self._buffers[i] = b""
            return
        with self._lock:
            if self._pending[i]:
                self._counts["skipped"] += 1
                return
        try:
            client.sock.send(b"help\r\n")
        except BlockingIOError:
            with self._lock:
                self._counts["skipped"] += 1
            return
        except OSError:
            self._lost(i)
            return
        with self._lock:
            self._pending[i].append([now, False])

    def _read(self, i: int) -> None:
        client = self._clients[i]
        assert client is not None
        try:
            data = client.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost(i)
            return
        now = time.monotonic()
        *lines, self._buffers[i] = (self._buffers[i] + data).split(b"\n")
        with self._lock:
            for line in lines:
                is_help = b'"event":"help"' in line
                if not is_help and b'"event":"error"' not in line:
                    continue
                if not is_help:
                    self._counts["errors"] += 1
                if self._pending[i]:
                    sent, censored = self._pending[i].popleft()
                    if is_help and not censored:
                        self._histogram.add(now - sent)

    def _lost(self, i: int) -> None:
        client = self._clients[i]
        if client is not None:
            client.close()
        self._clients[i] = None
        with self._lock:
            self._counts["closed"] += 1
            self._pending[i].clear()

    def take(self) -> dict[str, Any]:
        """Latencies (ms) and counts since the last call; unanswered requests count their age."""
        with self._lock:
            now = time.monotonic()
            for pending in self._pending:
                for entry in pending:
                    if not entry[1]:
                        entry[1] = True
                        self._histogram.add(now - entry[0])
                        self._counts["unanswered"] += 1
            summary = {**self._histogram.summary(), **self._counts}
            self._reset()
        return summary


class Monitor:
    """Samples the server's RSS and whether each watched attacker connection is still open."""

    def __init__(self, pid: int | None, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._peak: int | None = None
        self._watched: list[list[Any]] = []  # [socket, seconds after begin() when closed]
        self._frozen = True
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._thread.start()

    def rss_kb(self) -> int | None:
        if self.pid is None:
            return None
        try:
            return loadtest.process_rss_kb(self.pid)
        except (OSError, ValueError):
            return None

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        rss = self.rss_kb()
        now = time.monotonic()
        with self._lock:
            if rss is not None and (self._peak is None or rss > self._peak):
                self._peak = rss
            if self._frozen:
                return
            for entry in self._watched:
                if entry[1] is None and peer_closed(entry[0]):
                    entry[1] = now - self._started

    def begin(self) -> int | None:
        """Start an attack's window: the RSS now, which the peak starts from."""
        rss = self.rss_kb()
        with self._lock:
            self._started = time.monotonic()
            self._peak = rss
            self._watched = []
            self._frozen = False
        return rss

    def watch(self, sock: socket.socket) -> None:
        """Note when the server closes this connection."""
        with self._lock:
            self._watched.append([sock, None])

    def closures(self) -> list[float | None]:
        """Stop watching (the attack is over): when each watched connection was closed."""
        self._sample()
        with self._lock:
            self._frozen = True
            return [closed for _, closed in self._watched]

    def peak_kb(self) -> int | None:
        """The highest RSS since :meth:`begin`, this moment included."""
        self._sample()
        with self._lock:
            return self._peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


# -- the attacks ------------------------------------------------------------------------------------


@dataclass
class Check:
    """What an attack found: ``passed`` (None: nothing to judge beyond the load targets)."""

    passed: bool | None
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attack:
    """One hostile-client scenario of the issue."""

    name: str
    item: str
    """The issue's item number."""
    what: str
    must: str
    """What the issue says must happen (beyond the RSS and latency targets)."""
    run: Callable[[Ctx], Check]
    server_args: tuple[str, ...] = ()
    """Options the attack needs on a spawned server (the rest are the defaults)."""
    must_close: bool = False
    """Whether the server must close the attacker's connections."""


ROLES = ("probe", "attacker", "victim", "squatter", "newcomer", "owner", "impostor",
         "speaker", "listener", "player", "telnet", "netcat")


class Ctx:
    """What an attack works with: the server's address, a deadline, addresses and names."""

    def __init__(self, host: str, port: int, *, index: int, octet: int, tag: str,
                 duration: float, scale: float, monitor: Monitor, registrations: int) -> None:
        self.host, self.port = host, port
        self.index, self.octet, self.tag = index, octet, tag
        self.duration, self.scale = duration, scale
        self.monitor = monitor
        self.registrations = registrations
        self.started = time.monotonic()
        self.deadline = self.started + duration
        self.cancelled = threading.Event()
        self.clients: list[Client] = []

    def address(self, role: str) -> str:
        """The loopback address ``role`` connects from, distinct per run, attack and role."""
        return f"127.{self.octet}.{self.index}.{ROLES.index(role) + 1}"

    def name(self, label: str) -> str:
        """An account name unique to this run: ``label`` then the run's tag."""
        return f"{label}{self.tag}"

    def running(self) -> bool:
        return time.monotonic() < self.deadline and not self.cancelled.is_set()

    def connect(self, role: str, **options: Any) -> Client:
        client = Client(self.host, self.port, source=self.address(role), **options)
        self.clients.append(client)
        return client

    def session(self, role: str) -> Client:
        """A connection from ``role``'s address in JSON mode."""
        client = self.connect(role)
        client.send("json on")
        if client.wait_event(_is("mode"), 10) is None:
            raise AttackError(f"{role}: no answer to 'json on'")
        return client

    def player(self, role: str, name: str) -> tuple[Client, dict[str, Any]]:
        """A new account, registered and logged in from ``role``'s address."""
        client = self.session(role)
        send_enter(client, "register", name, PASSWORD)
        event = await_enter(client, PASSWORD)
        if event["event"] != "login":
            raise AttackError(f"could not register {name}: {event.get('message')}")
        return client, event

    def watch(self, client: Client) -> None:
        """The server must close this connection: note when it does."""
        self.monitor.watch(client.sock)

    def sleep(self, seconds: float) -> None:
        self.cancelled.wait(max(0.0, min(seconds, self.deadline - time.monotonic())))

    def close_all(self) -> None:
        for client in self.clients:
            client.close()


FLOOD_OVERTIME = 4.0
"""A flood goes on past the attack's duration until its volume is sent, up to this many times
the duration: a server parsing telnet byte by byte takes 20 MB in about a minute."""


def _flood(ctx: Ctx, clients: Sequence[Client], pattern: bytes, quota: int) -> dict[str, Any]:
    """Send ``pattern`` over and over on each client, up to ``quota`` bytes each, as fast as
    the server takes it; keep the connections open (and unread) until the deadline."""
    ctx.deadline = ctx.started + ctx.duration * FLOOD_OVERTIME  # cut short once all is sent
    chunk = memoryview(pattern * max(1, 65536 // len(pattern)))
    sent = [0] * len(clients)
    selector = selectors.DefaultSelector()
    for i, client in enumerate(clients):
        client.sock.setblocking(False)
        selector.register(client.sock, selectors.EVENT_WRITE, i)
    try:
        while ctx.running() and selector.get_map():
            for key, _ in selector.select(timeout=0.05):
                i = key.data
                # Go on from where the last send stopped, so every sequence stays whole.
                offset = sent[i] % len(chunk)
                try:
                    n = clients[i].sock.send(chunk[offset:offset + quota - sent[i]])
                except BlockingIOError:
                    continue
                except OSError:
                    selector.unregister(key.fileobj)
                    continue
                sent[i] += n
                if sent[i] >= quota:
                    selector.unregister(key.fileobj)
    finally:
        selector.close()
    ctx.deadline = min(ctx.deadline, max(time.monotonic(), ctx.started + ctx.duration))
    while ctx.running():
        ctx.sleep(0.1)
    return {"bytes_sent": sum(sent), "bytes_asked": quota * len(clients),
            "connections": len(clients)}


def attack_no_read_help(ctx: Ctx) -> Check:
    """Item 1: a 4 kB receive buffer, ``help`` five times every 3 ms, never a byte read."""
    client = ctx.connect("attacker", rcvbuf=4096)
    ctx.watch(client)
    client.sock.setblocking(False)
    burst = b"help\r\n" * 5
    unsent = b""  # what the kernel has not taken yet, so no line is cut in two
    sent = 0
    first_refused: float | None = None
    tick = time.monotonic()
    while ctx.running() and not peer_closed(client.sock):
        if len(unsent) < 65536:
            unsent += burst
        try:
            n = client.sock.send(unsent)
        except BlockingIOError:
            n = 0
        except OSError:
            break
        sent += n
        unsent = unsent[n:]
        if unsent and first_refused is None:
            first_refused = time.monotonic() - ctx.started
        tick += 0.003
        ctx.sleep(tick - time.monotonic())
    while ctx.running():
        ctx.sleep(0.1)
    stopped = (f"; the server stopped reading it after {first_refused:.1f}s"
               if first_refused is not None else "")
    return Check(None, f"sent {sent / 1e3:.0f} kB of 'help'{stopped}",
                 {"bytes_sent": sent, "server_stopped_reading_s": first_refused})


def attack_iac_will_do(ctx: Ctx) -> Check:
    """Item 2: IAC WILL o / IAC DO o for every option, 20 MB, from a client that never reads."""
    client = ctx.connect("attacker", rcvbuf=4096)
    ctx.watch(client)
    pattern = b"".join(bytes([255, 251, o, 255, 253, o]) for o in range(256))
    result = _flood(ctx, [client], pattern, int(20e6 * ctx.scale))
    return Check(None, f"sent {result['bytes_sent'] / 1e6:.1f} of "
                       f"{result['bytes_asked'] / 1e6:.1f} MB of IAC WILL/DO", result)


def attack_iac_nop(ctx: Ctx) -> Check:
    """Item 2: IAC NOP, 2 MB on each of 15 connections from one address."""
    clients = [ctx.connect("attacker") for _ in range(15)]
    for client in clients:
        ctx.watch(client)
    result = _flood(ctx, clients, b"\xff\xf1", int(2e6 * ctx.scale))
    return Check(None, f"sent {result['bytes_sent'] / 1e6:.1f} of "
                       f"{result['bytes_asked'] / 1e6:.1f} MB of IAC NOP", result)


def attack_lockout(ctx: Ctx) -> Check:
    """Item 3: a wrong password for the victim every 20 ms; the victim logs in every second."""
    name = ctx.name("vic")
    ctx.player("victim", name)[0].close()
    guessers = [ctx.session("attacker") for _ in range(12)]  # 12 x 4.2/s: each under the rate
    answers = {"error": 0, "login": 0, "other": 0}
    tries: list[dict[str, Any]] = []
    done = threading.Event()

    def victim() -> None:
        while not done.wait(1.0) and ctx.running():
            started = time.monotonic()
            try:
                client = ctx.session("victim")
            except (OSError, AttackError) as e:
                tries.append({"at_s": started - ctx.started, "ok": False, "message": str(e)})
                continue
            send_enter(client, "login", name, PASSWORD)
            event = await_enter(client, PASSWORD, 15)
            tries.append({"at_s": round(started - ctx.started, 2), "ok": event["event"] == "login",
                          "seconds": round(time.monotonic() - started, 3),
                          "message": event.get("message")})
            client.close()

    thread = threading.Thread(target=victim, daemon=True)
    thread.start()
    guesses = 0
    tick = time.monotonic()
    while ctx.running():
        send_enter(guessers[guesses % len(guessers)], "login", name, f"wrong-guess-{guesses:06d}")
        guesses += 1
        tick += 0.02
        while time.monotonic() < tick:
            for g in guessers:
                g.pump(0)
            ctx.sleep(min(0.005, tick - time.monotonic()))
    done.set()
    thread.join(20)
    for g in guessers:
        g.pump(0.2)
        for event in g.events:
            kind = event.get("event")
            if kind in ("error", "login"):
                answers[kind] += 1
    # The attacker happens on the right password: guessing must still be throttled.
    late = ctx.session("attacker")
    send_enter(late, "login", name, PASSWORD)
    late_event = await_enter(late, PASSWORD, 15)
    refused = late_event["event"] != "login"
    ok = sum(t["ok"] for t in tries)
    passed = bool(tries) and ok == len(tries) and refused
    return Check(passed, f"victim logged in {ok} of {len(tries)} times during {guesses} "
                         f"guesses; the attacker's right guess was "
                         f"{'refused' if refused else 'let in'}",
                 {"guesses": guesses, "guess_answers": answers, "victim_tries": tries,
                  "attacker_right_guess_refused": refused})


def attack_register_race(ctx: Ctx) -> Check:
    """Item 4: 19 ``register`` commands at once from one address."""
    clients = [ctx.session("attacker") for _ in range(19)]
    names = [ctx.name("rg" + SAFE_LETTERS[i // 14] + SAFE_LETTERS[i % 14])
             for i in range(len(clients))]
    for client, name in zip(clients, names):
        send_enter(client, "register", name, PASSWORD)
    events = [await_enter(c, PASSWORD, 60) for c in clients]
    made = sum(e["event"] == "login" for e in events)
    messages = sorted({str(e.get("message")) for e in events if e["event"] != "login"})
    return Check(made <= ctx.registrations,
                 f"{made} of {len(clients)} accounts made (limit {ctx.registrations} an hour)",
                 {"made": made, "sent": len(clients), "limit": ctx.registrations,
                  "refusals": messages})


def attack_idle_seats(ctx: Ctx) -> Check:
    """Item 5: seven players sit at 'main' and never bet; a newcomer wants a seat."""
    squatters: list[tuple[Client, str, int]] = []
    for i in range(7):
        name = ctx.name("sq" + SAFE_LETTERS[i])
        client, login = ctx.player("squatter", name)
        client.send("join main")
        if client.wait_event(_is("joined", name), 10) is None:
            raise AttackError(f"{name} could not sit at main")
        squatters.append((client, name, login["balance"]))
    newcomer_name = ctx.name("nwc")
    newcomer = ctx.player("newcomer", newcomer_name)[0]
    # Twenty seconds at least: three betting windows of 2 s, rounds between, margin.
    ctx.deadline = max(ctx.deadline, ctx.started + 20)
    seated_at: float | None = None
    refusals = 0
    while ctx.running() and seated_at is None:
        newcomer.send("join main")
        answer = newcomer.wait_event(
            lambda e: _is("joined", newcomer_name)(e) or e.get("event") == "error", 5)
        if answer is not None and answer["event"] == "joined":
            seated_at = time.monotonic() - ctx.started
            break
        refusals += 1
        for client, _, _ in squatters:
            client.pump(0)  # they read; they just never bet
        ctx.sleep(1.5)
    told = sum(any(e.get("event") == "left" and e.get("player") == name for e in c.events)
               for c, name, _ in squatters)
    changed = []
    for client, name, balance in squatters:
        if client.eof:
            client = ctx.session("squatter")
            send_enter(client, "login", name, PASSWORD)
            if await_enter(client, PASSWORD)["event"] != "login":
                changed.append(name)
                continue
        client.send("balance")
        event = client.wait_event(_is("balance"), 10)
        if event is None or event["balance"] != balance:
            changed.append(name)
    passed = seated_at is not None and not changed
    where = (f"seated after {seated_at:.1f}s" if seated_at is not None
             else f"still refused after {time.monotonic() - ctx.started:.0f}s")
    return Check(passed, f"newcomer {where} ({refusals} refusals); {told} of 7 squatters "
                         f"stood up; chips changed for {len(changed)}",
                 {"seated_after_s": seated_at, "refusals": refusals, "stood_up": told,
                  "chips_changed": changed})


def _lookalikes(tag: str) -> tuple[str, list[str]]:
    """A name, and names that look like it (O/0, l/I, l/1, m/rn, case)."""
    base = f"xol{tag}m"
    return base, [f"x0l{tag}m", f"xoI{tag}m", f"xo1{tag}m", f"xol{tag}rn", base.upper()]


RESERVED = ("Dealer", "You", "Seat", "Results")
"""Words the server speaks with, which the issue says no player may be called."""


def attack_names(ctx: Ctx) -> Check:
    """Item 7: register the server's own words, and look-alikes of an existing name."""
    base, lookalikes = _lookalikes(ctx.tag)
    ctx.player("owner", base)[0].close()
    let_in = []
    answers = {}
    for name in [*RESERVED, *lookalikes]:
        client = ctx.session("impostor")
        send_enter(client, "register", name, PASSWORD)
        event = await_enter(client, PASSWORD)
        answers[name] = event.get("message") or event["event"]
        if event["event"] == "login":
            let_in.append(name)
        client.close()
    tried = len(RESERVED) + len(lookalikes)
    return Check(not let_in, f"{tried - len(let_in)} of {tried} refused"
                             + (f"; accepted: {', '.join(let_in)}" if let_in else ""),
                 {"existing": base, "accepted": let_in, "answers": answers})


def _combining_run(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if unicodedata.combining(ch) else 0
        longest = max(longest, run)
    return longest


_FORMAT_CHARS = re.compile("[\u200b-\u200f\u061c\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
CHAT_LINES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("whitespace", "gg" + " " * 60 + "Dealer has blackjack",
     lambda text: re.search(r"\s{2}", text) is None),
    ("bidi marks", "nice\u200e\u200f\u061c hand", lambda text: not _FORMAT_CHARS.search(text)),
    ("zero-width", "zero\u200b\u200c\u200d\u2060\ufeffwidth",
     lambda text: not _FORMAT_CHARS.search(text)),
    ("tag characters", "tag\U000e0041\U000e0042\U000e007f",
     lambda text: not _FORMAT_CHARS.search(text)),
    # Unicode's stream-safe text format (UAX #15) allows at most 30 in a row.
    ("combining run", "e" + "\u0301" * 100, lambda text: _combining_run(text) <= 30),
)
"""Chat lines that must not reach a reader as sent, and how to tell they were mended."""


def attack_chat(ctx: Ctx) -> Check:
    """Item 7: chat that could pass for a server line or hide characters."""
    speaker_name = ctx.name("spk")
    speaker = ctx.player("speaker", speaker_name)[0]
    listener = ctx.player("listener", ctx.name("lsn"))[0]
    for client in (speaker, listener):
        client.send("watch main")
        if client.wait_event(_is("watching"), 10) is None:
            raise AttackError("could not watch main")
    results = {}
    for label, text, mended in CHAT_LINES:
        speaker.send(f"say {text}")
        event = listener.wait_event(_is("say", speaker_name), 5)
        got = None if event is None else str(event.get("text"))
        results[label] = {"mended": got is None or mended(got), "received": got}
        ctx.sleep(1.1)  # the default chat rate is 1 a second
    failed = [label for label, r in results.items() if not r["mended"]]
    return Check(not failed, "all mended" if not failed
                 else f"reached the reader as sent: {', '.join(failed)}", results)


def attack_small(ctx: Ctx) -> Check:
    """Item 8: 'register John Smith', a 4-character password, a 5,000-digit bet."""
    results: dict[str, Any] = {}
    for label, line in (("register John Smith", f"register {ctx.name('jo')} Smith"),
                        ("4-character password", f"register {ctx.name('fc')} abcd")):
        client = ctx.session("newcomer")
        client.send(line)  # deliberately not send_enter: this exact line is the test
        event = client.wait_event(
            lambda e: e.get("event") in ("login", "error", "prompt_password", "bye"), 30)
        results[label] = {"account_made": event is not None and event["event"] == "login",
                          "answer": None if event is None else
                          event.get("message") or event["event"]}
        client.close()
    player, _ = ctx.player("player", ctx.name("big"))
    player.send("join main")
    player.wait_event(_is("betting"), 10)
    player.send("bet " + "9" * 5000)
    event = player.wait_event(lambda e: e.get("event") in ("error", "bye"), 10)
    player.pump(0.5)
    message = "" if event is None else str(event.get("message"))
    clear = event is not None and (event["event"] == "error" and not player.eof
                                   or "bet" in message.lower())
    results["5,000-digit bet"] = {"clear_error": clear, "closed": player.eof, "answer": message}
    failed = [k for k, r in results.items() if r.get("account_made") or r.get("clear_error") is False]
    return Check(not failed, "all refused clearly" if not failed
                 else f"wrong: {', '.join(failed)}", results)


def _telnet_session(ctx: Ctx, telnet: str, command: str, password: str,
                    prompts: int) -> dict[str, Any]:
    """Type ``command`` and the password into the real telnet client; was it shown?"""
    import pexpect

    transcript = io.BytesIO()
    child = pexpect.spawn(telnet, ["-b", ctx.address("telnet"), ctx.host, str(ctx.port)],
                          timeout=15, env={**os.environ, "TERM": "dumb"})
    child.logfile_read = transcript
    problem = None
    try:
        child.expect("register")  # the greeting says how to make an account
        child.sendline(command)
        for _ in range(prompts):
            child.expect("[Pp]assword:")
            child.sendline(password)
        child.expect(["Hello", "failed", "differ"])
        child.sendline("quit")
        child.expect(pexpect.EOF, timeout=5)
    except (pexpect.TIMEOUT, pexpect.EOF) as e:
        problem = type(e).__name__
    finally:
        child.close(force=True)
    text = transcript.getvalue().decode("utf-8", "replace")
    return {"password_shown": password in text, "logged_in": "Hello" in text,
            "problem": problem}


def attack_echo(ctx: Ctx) -> Check:
    """Item 6: passwords typed into the stock telnet client, and what netcat sees."""
    telnet = shutil.which("telnet")
    if telnet is None or importlib.util.find_spec("pexpect") is None:
        return Check(None, "skipped: needs the telnet client and pexpect", {"skipped": True})
    name, password = ctx.name("tel"), f"Secret-{ctx.tag}-typed"
    results = {"register": _telnet_session(ctx, telnet, f"register {name}", password, 2),
               "login": _telnet_session(ctx, telnet, f"login {name}", password, 1)}
    netcat = ctx.connect("netcat", record=True)
    netcat.send_bytes(f"register {ctx.name('nc')}\n".encode())
    for n in (1, 2):
        netcat.wait_raw(b"password:", 10, n)
        netcat.send_bytes(password.encode() + b"\n")
    netcat.wait_raw(b"Hello", 10)
    assert netcat.raw is not None
    results["netcat"] = {"iac_bytes": netcat.raw.count(b"\xff"),
                         "logged_in": b"Hello" in netcat.raw}
    shown = [k for k in ("register", "login") if results[k]["password_shown"]]
    passed = not shown and not results["netcat"]["iac_bytes"] \
        and all(results[k]["logged_in"] for k in results)
    return Check(passed, (f"password shown at {' and '.join(shown)}" if shown
                          else "no password shown")
                 + f"; netcat saw {results['netcat']['iac_bytes']} IAC bytes", results)


ATTACKS: tuple[Attack, ...] = (
    Attack("no-read-help", "1", "4 kB receive buffer, 'help' x5 every 3 ms, never reads",
           "dropped once the output queued passes the cap; memory flat",
           attack_no_read_help, must_close=True),
    Attack("no-read-help-norate", "1", "the same with the command rate off (--rate 0)",
           "the output cap holds whatever the rate setting", attack_no_read_help,
           server_args=("--rate", "0"), must_close=True),
    Attack("iac-will-do", "2", "20 MB of IAC WILL/DO from a client that never reads",
           "negotiation counts against a budget; closed past it; memory flat",
           attack_iac_will_do, must_close=True),
    Attack("iac-nop", "2", "15 connections x 2 MB of IAC NOP",
           "closed past the budget; other clients' latency unchanged",
           attack_iac_nop, must_close=True),
    Attack("lockout", "3", "a wrong password every 20 ms; the owner logs in every 1 s "
           "from another address", "the owner always gets in; the guesser stays throttled",
           attack_lockout),
    Attack("register-race", "4", "19 'register' at once from one address",
           "no more accounts than --registrations-per-hour", attack_register_race),
    Attack("idle-seats", "5", "7 players sit at main and never bet (--bet-time 2)",
           "stood up after 3 windows, chips untouched; the newcomer gets a seat",
           attack_idle_seats, server_args=("--bet-time", "2")),
    Attack("echo", "6", "register and log in with the stock telnet client; netcat too",
           "no password shown; no IAC byte to netcat", attack_echo),
    Attack("names", "7", "register Dealer/You/Seat/Results and look-alikes of a name",
           "every one refused", attack_names),
    Attack("chat", "7", "chat with 60 spaces, bidi/zero-width/tag characters, 100 "
           "combining marks", "whitespace collapsed, format characters gone, runs capped",
           attack_chat),
    Attack("small", "8", "'register John Smith', a 4-character password, a 5,000-digit bet",
           "no account made by either; a clear error for the bet", attack_small),
)




# -- running and judging ------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How long and how hard the battery runs."""

    duration: float = 30.0
    """Seconds each attack lasts (those about correctness may finish sooner)."""
    scale: float = 1.0
    """Multiplies the flood volumes (20 MB, 2 MB a connection)."""
    baseline: float = 3.0
    """Seconds the probe runs before each attack, for its undisturbed latency."""
    settle: float = 2.0
    """Seconds after the attacker has gone before the RSS "after" is read."""
    probe_connections: int = 5
    probe_interval: float = 0.05
    registrations: int = 10
    """The server's --registrations-per-hour (the register race is held to it)."""


@dataclass(frozen=True)
class Endpoint:
    """A server to attack: its address, and what is known of its process."""

    host: str
    port: int
    pid: int | None = None
    log_text: Callable[[], str] | None = None


def _mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def run_attack(attack: Attack, endpoint: Endpoint, settings: Settings, *, index: int,
               octet: int, tag: str) -> dict[str, Any]:
    """Run one attack against a running server with the probe and monitor around it."""
    result: dict[str, Any] = {"name": attack.name, "item": attack.item, "what": attack.what,
                              "must": attack.must, "server_args": list(attack.server_args),
                              "server_pid": endpoint.pid}
    monitor = Monitor(endpoint.pid)
    probe: Probe | None = None
    ctx: Ctx | None = None
    try:
        probe_source = f"127.{octet}.{index}.{ROLES.index('probe') + 1}"
        probe = Probe(endpoint.host, endpoint.port, probe_source,
                      connections=settings.probe_connections, interval=settings.probe_interval)
        probe.start()
        time.sleep(settings.baseline)
        result["baseline"] = probe.take()
        rss_before = monitor.begin()
        ctx = Ctx(endpoint.host, endpoint.port, index=index, octet=octet, tag=tag,
                  duration=settings.duration, scale=settings.scale, monitor=monitor,
                  registrations=settings.registrations)
        check, error = _bounded(attack.run, ctx, settings.duration * FLOOD_OVERTIME + 120)
        result["seconds"] = round(time.monotonic() - ctx.started, 2)
        result["help"] = probe.take()
        closed = monitor.closures()
        ctx.close_all()
        # The peak takes in the settle too: a server may still be busy with
        # what the attacker left behind (Twisted joins a huge write buffer
        # into one string when the socket goes, doubling it for a moment).
        time.sleep(settings.settle)
        result["rss_mb"] = {"before": _mb(rss_before), "peak": _mb(monitor.peak_kb()),
                            "after": _mb(monitor.rss_kb())}
        if closed:
            times = [t for t in closed if t is not None]
            result["attacker"] = {"connections": len(closed), "closed": len(times),
                                  "first_closed_s": round(min(times), 2) if times else None,
                                  "last_closed_s": round(max(times), 2) if times else None}
            if endpoint.log_text is not None:
                attacker = ctx.address("attacker")
                result["attacker"]["log_lines"] = sum(
                    f"'{attacker}'" in line for line in endpoint.log_text().splitlines())
        if check is not None:
            result["check"] = {"passed": check.passed, "summary": check.summary,
                               "detail": check.detail}
        if error is not None:
            result["error"] = error
    except (OSError, AttackError) as e:
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        if ctx is not None:
            ctx.close_all()
        if probe is not None:
            probe.stop()
        monitor.stop()
    judge(result, must_close=attack.must_close)
    return result


def _bounded(run: Callable[[Ctx], Check], ctx: Ctx,
             limit: float) -> tuple[Check | None, str | None]:
    """``run(ctx)`` in a thread; cancelled (its sockets closed) if it overruns ``limit``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["check"] = run(ctx)
        except Exception as e:  # noqa: BLE001  (any failure of an attack is reported)
            box["error"] = f"{type(e).__name__}: {e}"
            box["trace"] = traceback.format_exc()

    thread = threading.Thread(target=target, name=f"attack-{ctx.index}", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        ctx.cancelled.set()
        ctx.close_all()
        thread.join(15)
        return None, f"did not finish in {limit:g}s; cancelled"
    error = box.get("error")
    if error is not None and os.environ.get("SOAK_TRACE"):
        error += "\n" + box["trace"]
    return box.get("check"), error


def judge(result: dict[str, Any], *, must_close: bool) -> None:
    """Set ``verdict`` (PASS, FAIL, ERROR or SKIP) and the ``reasons`` for it."""
    reasons = []
    rss = result.get("rss_mb") or {}
    if rss.get("before") is not None and rss.get("peak") is not None:
        growth = rss["peak"] - rss["before"]
        result["rss_growth_mb"] = round(growth, 1)
        if growth >= RSS_TARGET_MB:
            reasons.append(f"RSS grew {growth:.0f} MB (target < {RSS_TARGET_MB:g})")
    p99 = (result.get("help") or {}).get("p99_ms")
    if result.get("help") is not None:
        if p99 is None:
            reasons.append("no 'help' was answered")
        elif p99 >= P99_TARGET_MS:
            reasons.append(f"help p99 {p99:.0f} ms (target < {P99_TARGET_MS:g})")
    attacker = result.get("attacker")
    if must_close and attacker is not None and attacker["closed"] < attacker["connections"]:
        reasons.append(f"attacker not closed ({attacker['connections'] - attacker['closed']} "
                       f"of {attacker['connections']} connections open)")
    check = result.get("check")
    if check is not None and check["passed"] is False:
        reasons.append(check["summary"])
    result["reasons"] = reasons
    if result.get("error"):
        result["verdict"] = "ERROR"
    elif check is not None and check["detail"].get("skipped"):
        result["verdict"] = "SKIP"
    else:
        result["verdict"] = "FAIL" if reasons else "PASS"


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _row(r: dict[str, Any]) -> list[str]:
    rss = r.get("rss_mb") or {}
    attacker = r.get("attacker")
    if attacker is None:
        closed = "-"
    elif attacker["closed"] == attacker["connections"]:
        closed = f"yes, by {attacker['last_closed_s']:.1f}s"
    else:
        closed = f"no ({attacker['connections'] - attacker['closed']} of " \
                 f"{attacker['connections']} open)"
    check = r.get("check")
    verdict = "-" if check is None or check["passed"] is None else \
        ("PASS" if check["passed"] else "FAIL")
    help_, base = r.get("help") or {}, r.get("baseline") or {}
    return [r["name"], r["item"],
            "/".join(_fmt(rss.get(k)) for k in ("before", "peak", "after")),
            _fmt(r.get("rss_growth_mb"), "+.1f"), closed,
            f"{_fmt(help_.get('p50_ms'), '.2f')} / {_fmt(help_.get('p99_ms'), '.1f')}",
            f"{_fmt(base.get('p50_ms'), '.2f')} / {_fmt(base.get('p99_ms'), '.1f')}",
            verdict, r["verdict"]]


def format_battery(results: Sequence[dict[str, Any]]) -> str:
    """The battery as a text table, then a line or two per attack on what it found."""
    header = ["attack", "item", "server RSS MB before/peak/after", "growth", "attacker closed",
              "help p50/p99 ms", "(before attack)", "check", "verdict"]
    rows = [header] + [_row(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {3}
    lines = ["  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("")
    for r in results:
        check = r.get("check")
        said = check["summary"] if check else ""
        if r.get("server_args"):
            said += f" [server: {' '.join(r['server_args'])}]"
        lines.append(f"{r['name']}: {r['what']}. {said}".rstrip())
        if r.get("error"):
            lines.append(f"    error: {r['error']}")
        for reason in r.get("reasons", ()):
            if not check or reason != check["summary"]:
                lines.append(f"    - {reason}")
    return "\n".join(lines)
