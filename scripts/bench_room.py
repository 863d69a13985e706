"""A room over several nodes: rounds/s, p99 and CPU per round with 1, 2 and 3 nodes,
and what forwarding a command to another node costs.

Everything runs on this machine over loopback, bounded in players and time:
a PostgreSQL server (libpq's environment, or ``--db``), HAProxy in front
(mode tcp, round robin, PROXY v2), ``twistd blackjack --node`` processes,
and the load test's basic-strategy bots (``scripts/loadtest.py``), which
play as fast as the room answers.  Each run gets a fresh PostgreSQL schema.

Runs, side by side on the same database server:

``single``
    One plain server (no room: no leases, no fences) on PostgreSQL: the
    baseline.
``room-1``, ``room-2``, ``room-3``
    One, two, three nodes behind HAProxy; the room spreads the tables over
    the nodes, and a player lands on any node, so with N nodes about
    (N-1)/N of the commands are forwarded to another node.
``local`` / ``forwarded``
    Two nodes, one of them ``--front-only``: the other runs every table.
    The bots connect straight to the node running their tables, then
    straight to the front-only node, which forwards every command; the
    difference in CPU per command (both nodes together) and in latency is
    the forwarding cost under load.  Alternated, ``--repeat`` times each.
``hop``
    The same two nodes, unloaded: one player sends 1,000 ``look`` requests
    one after another (protocol v1, each waiting for its reply), straight
    to the table's node and then through the front-only node: the latency
    one hop adds, with nothing queued.

``single`` and the ``room-N`` runs are repeated ``--repeat`` times, in turn.

Reported for each: rounds/s, the p50/p99 latency of game commands (bet and
plays), and CPU per round and per command of the nodes and of the
database's backends, from ``/proc``.  Needs ``haproxy`` on the PATH.

    python scripts/bench_room.py --players 140 --duration 20 --json room.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import loadtest  # noqa: E402
from loadtest import LOADTEST_SERVER_OPTIONS, Plan, free_port  # noqa: E402
from twisted.internet import defer, task, threads  # noqa: E402

SECRET = "a secret for the benchmark's room"


def _schema_url(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"


def _sql(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg2

    connection = psycopg2.connect(url, connect_timeout=5)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        connection.close()


class Setup:
    """One configuration's processes: the nodes (or single server), HAProxy, a schema."""

    def __init__(self, args: argparse.Namespace, name: str, nodes: int,
                 front_only: Sequence[bool] = ()) -> None:
        self.args = args
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"bench-room-{name}-"))
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        _sql(args.db, f"CREATE SCHEMA {self.schema}")
        self.url = _schema_url(args.db, self.schema)
        self.tables = -(-args.players // 7)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.direct: list[int] = []
        self.proxied: list[int] = []
        self.nodes = nodes
        self.front_only = list(front_only) or [False] * nodes
        self.haproxy: subprocess.Popen[bytes] | None = None
        self.port = 0

    def command(self, index: int) -> list[str]:
        args = self.args
        twistd = shutil.which("twistd", path=str(Path(sys.executable).parent)) or "twistd"
        direct, proxied = free_port(), free_port()
        self.direct.append(direct)
        self.proxied.append(proxied)
        profile = ([f"--profile={Path(args.profile) / f'{self.name}-n{index}.prof'}",
                    "--profiler=cprofile", "--savestats"] if args.profile else [])
        command = [twistd, "-n", "--pidfile=", "--logfile", str(self.dir / f"n{index}.log"),
                   *profile, "blackjack", "--listen", f"tcp:{direct}:interface=127.0.0.1:backlog=4096",
                   "--listen", f"haproxy:tcp:{proxied}:interface=127.0.0.1:backlog=4096",
                   "--web", "none", "--db", self.url, "--bankroll", "10000000",
                   "--bet-time", "5", "--turn-time", "10", "--insurance-time", "10",
                   "--grace", "5", "--password-cost", "fast-insecure"]
        for option, value in LOADTEST_SERVER_OPTIONS.items():
            command += [f"--{option}", value]
        for t in range(self.tables):
            command += ["--table", f"{loadtest.TABLE_PREFIX}{t}:min=1"]
        if self.nodes:
            secret = self.dir / "secret"
            secret.write_text(SECRET)
            command += ["--node", f"n{index}", "--node-listen",
                        f"tcp:{free_port()}:interface=127.0.0.1",
                        "--node-secret-file", str(secret), "--lease", "6"]
            if self.front_only[index]:
                command.append("--front-only")
        return command

    async def start(self, reactor: Any) -> None:
        names = [Plan("play", "", 0, self.args.players).name(i)
                 for i in range(self.args.players)]
        await loadtest.make_accounts_in(self.url, names, 10_000_000)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for index in range(max(1, self.nodes)):
            with open(self.dir / f"n{index}.out", "wb") as out:
                self.processes.append(subprocess.Popen(
                    self.command(index), cwd=ROOT, env=env, stdout=out,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        for port in self.direct:
            await _until(reactor, lambda p=port: _listening(p), 60, f"port {port}")
        if self.nodes:
            await _until(reactor, self._spread, 60, "the room to spread its tables")
        servers = "\n".join(f"    server n{i} 127.0.0.1:{p} send-proxy-v2"
                            for i, p in enumerate(self.proxied))
        self.port = free_port()
        config = self.dir / "haproxy.cfg"
        config.write_text(f"""global
    maxconn 5000
defaults
    mode tcp
    timeout connect 2s
    timeout client 10m
    timeout server 10m
frontend room
    bind 127.0.0.1:{self.port}
    default_backend nodes
backend nodes
    balance roundrobin
{servers}
""")
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.haproxy = subprocess.Popen([haproxy, "-db", "-f", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await _until(reactor, lambda: _listening(self.port), 30, "HAProxy")

    def _spread(self) -> bool:
        """Every table run, each table-running node at its share."""
        working = [f"n{i}" for i in range(self.nodes) if not self.front_only[i]]
        try:
            rows = _sql(self.url, "SELECT node FROM table_leases")
        except Exception:
            return False
        counts = {n: sum(1 for (node,) in rows if node == n) for n in working}
        share = -(-self.tables // len(working))
        logs = [(self.dir / f"n{i}.log").read_text(errors="replace")
                for i in range(self.nodes)]
        linked = all(f"linked to node n{j}" in log for i, log in enumerate(logs)
                     for j in range(self.nodes) if j != i)
        return linked and len(rows) == self.tables and sum(counts.values()) == self.tables \
            and all(c <= share for c in counts.values())

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def database_pids(self) -> list[int]:
        return [int(pid) for (pid,) in _sql(
            self.args.db, "SELECT pid FROM pg_stat_activity WHERE application_name = "
                          "'blackjack'")]

    async def measure(self, reactor: Any, port: int, label: str) -> dict[str, Any]:
        plan = Plan("play", "127.0.0.1", port, self.args.players, per_table=7,
                    rules="min=1", think=self.args.think)
        report = await loadtest.run(reactor, plan, duration=self.args.duration,
                                    procs=self.args.procs, settle=2.0, progress=False,
                                    cpu_of={"nodes": self.pids,
                                            "database": self.database_pids()})
        report["run"] = label
        return report

    def stop(self) -> None:
        for process in [*self.processes, *([self.haproxy] if self.haproxy else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.processes, *([self.haproxy] if self.haproxy else [])]:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        _sql(self.args.db, f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def _until(reactor: Any, check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await task.deferLater(reactor, 0.2, lambda: None)


def _hops(port: int, count: int) -> tuple[float, float]:
    """One player's ``look`` round trips, one after another: p50 and p99 in ms."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lines = sock.makefile("rb")

    def call(number: int, request: dict[str, Any]) -> dict[str, Any]:
        sock.sendall(json.dumps({"id": number, **request}).encode() + b"\n")
        tag = b'"id":%d,' % number
        while True:
            line = lines.readline()
            if not line:
                raise RuntimeError("the server closed the connection")
            if line.startswith(b"{") and tag in line:
                answer: dict[str, Any] = json.loads(line)
                return answer
    try:
        call(1, {"cmd": "hello", "protocol": 1})
        call(2, {"cmd": "login", "name": Plan("play", "", 0, 1).name(0),
                 "password": loadtest.PASSWORD})
        call(3, {"cmd": "watch", "table": f"{loadtest.TABLE_PREFIX}0"})
        times = []
        for number in range(4, 4 + count):
            started = time.perf_counter()
            if not call(number, {"cmd": "look"})["ok"]:
                raise RuntimeError("look was refused")
            times.append(1e3 * (time.perf_counter() - started))
    finally:
        sock.close()
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The figures the docs quote, from one run's report."""
    game = report["latency"].get("game", {})
    cpu = report.get("cpu", {})
    return {"run": report["run"], "rounds_per_s": round(report["rounds_per_s"], 1),
            "commands_per_s": round(report["commands_per_s"], 1),
            "p50_ms": _round(game.get("p50_ms")), "p99_ms": _round(game.get("p99_ms")),
            "errors": report["errors"], "ready": report["ready"],
            "nodes_cpu_percent": round(cpu["nodes"]["percent"], 1),
            "nodes_ms_per_round": _round(cpu["nodes"]["ms_per_round"]),
            "nodes_us_per_command": _round(cpu["nodes"]["us_per_command"]),
            "db_cpu_percent": round(cpu["database"]["percent"], 1),
            "db_ms_per_round": _round(cpu["database"]["ms_per_round"]),
            "client_cpu_percent": round(report["client_cpu_percent"], 1)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def _main(reactor: Any, args: argparse.Namespace) -> int:
    results: list[dict[str, Any]] = []

    async def one(setup: Setup, *measures: tuple[int, str]) -> None:
        try:
            await setup.start(reactor)
            for index, (port, label) in enumerate(measures):
                if index:
                    # Earlier bots' seats are held for the grace period: let it pass.
                    await task.deferLater(reactor, 6.0, lambda: None)
                line = summary(await setup.measure(reactor, port or setup.port, label))
                print(json.dumps(line), flush=True)
                results.append(line)
        finally:
            setup.stop()

    scaling = [r for r in args.runs if r == "single" or r.startswith("room-")]
    for _ in range(args.repeat if scaling else 0):
        for run in scaling:
            nodes = 0 if run == "single" else int(run.split("-")[1])
            await one(Setup(args, run, nodes), (0, run))
    for run in args.runs:
        if run == "hop":
            setup = Setup(args, "hop", 2, front_only=[False, True])
            try:
                await setup.start(reactor)
                for label, port in (("local", setup.direct[0]),
                                    ("forwarded", setup.direct[1])) * args.repeat:
                    p50, p99 = await threads.deferToThread(_hops, port, 1000)
                    line = {"run": f"hop-{label}", "p50_ms": round(p50, 3),
                            "p99_ms": round(p99, 3)}
                    print(json.dumps(line), flush=True)
                    results.append(line)
            finally:
                setup.stop()
        elif run == "forward":
            setup = Setup(args, "forward", 2, front_only=[False, True])
            # The direct ports are known once the commands are built, in start().
            order = ("local", "forwarded") * args.repeat

            async def measured() -> None:
                await setup.start(reactor)
                for index, label in enumerate(order):
                    if index:
                        await task.deferLater(reactor, 6.0, lambda: None)
                    port = setup.direct[0 if label == "local" else 1]
                    line = summary(await setup.measure(reactor, port, label))
                    print(json.dumps(line), flush=True)
                    results.append(line)
            try:
                await measured()
            finally:
                setup.stop()
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": loadtest.machine(),
                                               "players": args.players,
                                               "duration": args.duration,
                                               "results": results}, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="postgresql://",
                   help="a PostgreSQL server (each run makes a schema of its own)")
    p.add_argument("--players", type=int, default=140, help="bots, 7 a table")
    p.add_argument("--duration", type=float, default=20.0, help="seconds measured per run")
    p.add_argument("--think", type=float, default=0.0, help="bots' mean pause (seconds)")
    p.add_argument("--procs", type=int, default=1, help="client worker processes")
    p.add_argument("--repeat", type=int, default=2,
                   help="passes over the scaling runs; alternations of local and forwarded")
    p.add_argument("--runs", nargs="+",
                   default=["single", "room-1", "room-2", "room-3", "forward", "hop"])
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--profile", metavar="DIR",
                   help="run each node under cProfile, its stats saved in DIR at exit")
    args = p.parse_args(argv)
    codes: list[int] = []

    async def go(reactor: Any) -> None:
        codes.append(await _main(reactor, args))

    task.react(lambda reactor: defer.ensureDeferred(go(reactor)))
    return codes[0] if codes else 1


if __name__ == "__main__":
    sys.exit(main())
