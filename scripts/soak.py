"""SIGKILL soak and hostile-client battery against the real ``twistd blackjack``.

A script run by hand (not a timed test), in two parts, each bounded in count
and time and talking only to loopback:

**The SIGKILL soak** (``--kills N``, default 100; needs ``--spawn``).
Basic-strategy bots play at two tables of a server started here.  N times, a
random moment after they sit down and once stakes are held in escrow, the
server is killed with SIGKILL and started again on the same SQLite file.
After every start the script waits for the refunds of what the dead server
left in escrow, runs ``python -m blackjack.server.audit --db FILE`` and
checks that the books balance and that escrow is empty.  It reports the
kills, the escrow held at each kill and refunded after it, the audits, chips
lost or created (0 expected) and timing.

**The hostile-client battery** (``--attack NAME``, repeatable; every attack by
default; ``scripts/battery.py``).  Each attack of issue 9 runs against a
server with the DEFAULT limits (with ``--spawn``, a fresh server and file for
each; an attack that needs an option says so), while a well-behaved client
asks ``help`` every 50 ms and times each reply.  For each attack: the
server's RSS before/peak/after, whether and when the server closed the
attacker, the well-behaved client's ``help`` p50/p99, and PASS/FAIL against
the issue's targets (RSS growth < 50 MB, p99 < 50 ms, attacker closed) and,
for the attacks about correctness, what the issue says must happen.

Examples::

    python scripts/soak.py --spawn                          # 100 kills, every attack
    python scripts/soak.py --spawn --kills 0 --attack iac-nop --attack lockout
    python scripts/soak.py --connect 127.0.0.1:8023 --server-pid 4242 --attack chat
    python scripts/soak.py --list-attacks

Servers it starts are killed when it ends, however it ends, and its
temporary files removed (``--keep`` keeps them).  The exit status is 0 when
everything passed, 1 when something failed.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import battery  # noqa: E402  (scripts/battery.py: the attacks)
import loadtest  # noqa: E402  (scripts/loadtest.py: bots, accounts, server options)

from blackjack.server.storage.audit import audit_file  # noqa: E402

__all__ = ["SoakPlan", "Server", "soak", "run_battery", "format_soak", "main"]

_REFUND = re.compile(r"recovery: refunded (\d+) chips to account (\d+), left in escrow "
                     r"for round (\S+) by a crash")
_AUDIT_FIGURE = re.compile(r"^(issued|balances|escrow|house net)\s+(-?\d+)$")


class SoakError(Exception):
    """Something the soak needs did not happen (a server did not start in time)."""


# -- servers ---------------------------------------------------------------------------------

_CHILDREN: set[subprocess.Popen[bytes]] = set()


def _kill_children() -> None:
    """Kill every server this script started and has not stopped (runs at exit)."""
    for process in list(_CHILDREN):
        if process.poll() is None:
            process.kill()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        _CHILDREN.discard(process)


atexit.register(_kill_children)


def _twistd() -> str:
    return shutil.which("twistd", path=str(Path(sys.executable).parent)) or "twistd"


def _dies_with_us() -> list[str]:
    """A prefix that has the kernel kill the server if this script dies, even by SIGKILL.

    util-linux's ``setpriv`` sets the parent-death signal and then execs the
    server (same pid); ``preexec_fn`` could do it too, but is unsafe in a
    process with threads, and this one has several.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL"] if setpriv else []


class Server:
    """A ``twistd -n blackjack`` started here: its pid, port and log; killed at exit."""

    def __init__(self, command: list[str], log: Path, port: int) -> None:
        self.log = log
        self.port = port
        self._offset = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                _dies_with_us() + command, cwd=ROOT, env=_env(), stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT)
        _CHILDREN.add(self.process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_listening(self, timeout: float = 60.0) -> None:
        """Return once the server logs that it listens; SoakError if it dies or takes too long."""
        deadline = time.monotonic() + timeout
        while "blackjack listening on" not in self.log_text():
            if self.process.poll() is not None:
                raise SoakError(f"the server exited ({self.process.returncode}): "
                                f"{self.log_text()[-1500:]}")
            if time.monotonic() > deadline:
                raise SoakError(f"the server was not listening after {timeout:g}s: "
                                f"{self.log_text()[-1500:]}")
            time.sleep(0.02)

    def log_text(self) -> str:
        """What this run of the server has logged (the file may hold earlier runs)."""
        try:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL, and wait for the process to be gone."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        _CHILDREN.discard(self.process)

    def stop(self, timeout: float = 20.0) -> int:
        """Stop as an operator would (SIGTERM), SIGKILL if that takes too long; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait(30)
        _CHILDREN.discard(self.process)
        return status


# -- the bots (swap for the client library here) ----------------------------------------------


def make_bot_accounts(db: Path, count: int, bankroll: int) -> Any:
    """Create the bots' accounts in ``db`` (a Deferred; call in the reactor thread)."""
    from twisted.internet.defer import ensureDeferred

    plan = loadtest.Plan(mode="play", host="127.0.0.1", port=0, clients=count)
    return ensureDeferred(loadtest.make_accounts_in(
        str(db), [plan.name(i) for i in range(count)], bankroll))


def start_bots(reactor: Any, port: int, count: int, rules: str, think: float) -> Any:
    """Basic-strategy bots that log in, sit at tables lt0, lt1... and play; in the reactor thread.

    They are scripts/loadtest.py's, on blackjack.client; these four functions
    are all the soak knows of them.
    """
    plan = loadtest.Plan(mode="play", host="127.0.0.1", port=port, clients=count, rules=rules,
                         think=think)
    swarm = loadtest.Swarm(reactor, plan, range(count))
    swarm.start()
    return swarm


def bots_progress(swarm: Any) -> tuple[int, int]:
    """How many bots are seated, and how many rounds they have seen settled."""
    return swarm.ready, swarm.tally.counts["rounds"]


def stop_bots(swarm: Any) -> None:
    swarm.stop()


@contextlib.contextmanager
def _reactor_thread() -> Iterator[Callable[..., Any]]:
    """Run the reactor (where the bots live) in a thread; yield ``call(f, *args)`` into it."""
    from twisted.internet import reactor as _reactor
    from twisted.internet.threads import blockingCallFromThread

    reactor: Any = _reactor
    thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                              name="reactor", daemon=True)
    thread.start()

    def call(f: Callable[..., Any], *args: Any) -> Any:
        return blockingCallFromThread(reactor, f, *args)
    try:
        yield call
    finally:
        reactor.callFromThread(reactor.stop)
        thread.join(10)


# -- the SIGKILL soak --------------------------------------------------------------------------


@dataclass(frozen=True)
class SoakPlan:
    """How the soak runs."""

    kills: int = 100
    bots: int = 14
    think: float = 0.05
    """Mean seconds a bot waits before each bet or play."""
    rules: str = "min=10"
    bankroll: int = 100_000
    pause: tuple[float, float] = (0.3, 2.5)
    """Seconds of play between the bots sitting down and the kill, drawn uniformly."""
    seed: int | None = None


def held_escrow(db: Path) -> int:
    """Chips held in escrow right now, read from the file."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return int(connection.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM stakes WHERE state = 'held'").fetchone()[0])
    finally:
        connection.close()


def run_audit(db: Path) -> dict[str, Any]:
    """``python -m blackjack.server.audit --db FILE``: its status, figures and problems."""
    done = subprocess.run([sys.executable, "-m", "blackjack.server.audit", "--db", str(db)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    lines = done.stdout.splitlines()
    figures = {m[1].replace(" ", "_"): int(m[2])
               for m in map(_AUDIT_FIGURE.match, lines) if m is not None}
    off_by = (figures.get("balances", 0) + figures.get("escrow", 0)
              + figures.get("house_net", 0) - figures.get("issued", 0))
    return {"status": done.returncode,
            "balanced": done.returncode == 0 and lines[-1:] == ["balanced"],
            **figures, "off_by": off_by,
            "problems": [ln for ln in lines if ln.startswith("UNBALANCED")]
            + ([done.stderr.strip()[-300:]] if done.returncode not in (0, 1) else [])}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _refunded(server: Server) -> int:
    return sum(int(amount) for amount, _, _ in _REFUND.findall(server.log_text()))


def _wait_recovery(server: Server, db: Path, expected: int, timeout: float = 30.0) -> int:
    """Wait until the start-up has refunded ``expected`` chips and none is held; what it refunded."""
    deadline = time.monotonic() + timeout
    while True:
        refunded = _refunded(server)
        if (refunded >= expected and held_escrow(db) == 0) or time.monotonic() > deadline:
            return refunded
        time.sleep(0.02)


def _wait(check: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def _seconds_summary(values: Sequence[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "max": None}
    return {"p50": round(ordered[len(ordered) // 2], 3), "max": round(ordered[-1], 3)}


def soak(plan: SoakPlan, workdir: Path, *, pids: list[int],
         progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Kill the server ``plan.kills`` times mid-round, restart and audit after each; the report."""
    rng = random.Random(plan.seed)
    db, log = workdir / "soak.sqlite3", workdir / "soak.log"
    port = loadtest.free_port()
    tables = math.ceil(plan.bots / 7)
    options = argparse.Namespace(twistd=None, backlog=128, bankroll=plan.bankroll,
                                 bet_time=5.0, turn_time=10.0, rules=plan.rules, server_arg=[])
    command = loadtest.blackjack_command(options, port, db, log, tables)
    cycles: list[dict[str, Any]] = []
    rounds = 0
    error = None
    escrow_at_kill = 0
    started = time.monotonic()
    with _reactor_thread() as call:
        call(make_bot_accounts, db, plan.bots, plan.bankroll)
        from twisted.internet import reactor
        for n in range(plan.kills + 1):
            cycle: dict[str, Any] = {"start": n}
            cycles.append(cycle)
            t0 = time.monotonic()
            server = Server(command, log, port)
            pids.append(server.pid)
            try:
                server.wait_listening()
                cycle["restart_s"] = round(time.monotonic() - t0, 3)
                t1 = time.monotonic()
                cycle["refunded"] = _wait_recovery(server, db, escrow_at_kill)
                cycle["recovery_s"] = round(time.monotonic() - t1, 3)
                cycle["refund_off_by"] = cycle["refunded"] - escrow_at_kill
                cycle["audit"] = run_audit(db)
                if n == plan.kills:
                    cycle["stop_status"] = server.stop()
                    cycle["final_audit"] = run_audit(db)
                    break
                swarm = call(start_bots, reactor, port, plan.bots, plan.rules, plan.think)
                try:
                    t2 = time.monotonic()
                    cycle["bots_ready"] = _wait(
                        lambda: call(bots_progress, swarm)[0] >= plan.bots, 60)
                    time.sleep(rng.uniform(*plan.pause))
                    cycle["escrow_seen"] = _wait(lambda: held_escrow(db) > 0, 5, every=0.005)
                    server.kill()
                    cycle["played_s"] = round(time.monotonic() - t2, 3)
                finally:
                    rounds += call(bots_progress, swarm)[1]
                    call(stop_bots, swarm)
                crashed = audit_file(str(db))
                escrow_at_kill = crashed.books.escrow
                cycle["escrow_at_kill"] = escrow_at_kill
                cycle["crash_balanced"] = crashed.balanced
                progress(f"kill {n + 1}/{plan.kills}: {escrow_at_kill} chips were in escrow "
                         f"(this run: started in {cycle['restart_s']:.2f}s, refunded "
                         f"{cycle['refunded']}, audit "
                         f"{'balanced' if cycle['audit']['balanced'] else 'UNBALANCED'})")
            except SoakError as e:
                error = str(e)
                break
            finally:
                if server.process.poll() is None:
                    server.kill()
    return _soak_report(plan, tables, cycles, rounds, time.monotonic() - started, error)


def _soak_report(plan: SoakPlan, tables: int, cycles: list[dict[str, Any]], rounds: int,
                 seconds: float, error: str | None) -> dict[str, Any]:
    kills = [c for c in cycles if "escrow_at_kill" in c]
    audits = [c["audit"] for c in cycles if "audit" in c]
    audits += [c["final_audit"] for c in cycles if "final_audit" in c]
    recovered = [c for c in cycles if "audit" in c]
    final = cycles[-1].get("final_audit") if cycles else None
    issued_expected = plan.bots * plan.bankroll
    lost_or_created = (sum(abs(a["off_by"]) for a in audits)
                       + sum(abs(c["refund_off_by"]) for c in recovered)
                       + (abs(final.get("issued", 0) - issued_expected) if final else 0))
    report = {
        "kills": len(kills), "kills_asked": plan.kills, "bots": plan.bots, "tables": tables,
        "rules": plan.rules, "think_s": plan.think, "seconds": round(seconds, 1),
        "rounds": rounds,
        "kills_with_escrow": sum(c["escrow_at_kill"] > 0 for c in kills),
        "escrow_at_kills": sum(c["escrow_at_kill"] for c in kills),
        "refunded": sum(c["refunded"] for c in recovered),
        "refunds_not_matching": sum(c["refund_off_by"] != 0 for c in recovered),
        "crash_audits": {"run": len(kills), "balanced": sum(c["crash_balanced"] for c in kills)},
        "audits": {"run": len(audits), "balanced": sum(a["balanced"] for a in audits),
                   "problems": [p for a in audits for p in a["problems"]][:20]},
        "escrow_after_recovery_nonzero": sum(c["audit"].get("escrow", 1) != 0 for c in recovered),
        "chips_lost_or_created": lost_or_created,
        "issued": final.get("issued") if final else None, "issued_expected": issued_expected,
        "final_stop_status": cycles[-1].get("stop_status") if cycles else None,
        "restart_s": _seconds_summary([c["restart_s"] for c in cycles if "restart_s" in c]),
        "recovery_s": _seconds_summary([c["recovery_s"] for c in recovered]),
        "played_s": _seconds_summary([c["played_s"] for c in kills if "played_s" in c]),
        "error": error,
        "cycles": cycles,
    }
    report["ok"] = (error is None and len(kills) == plan.kills and final is not None
                    and report["audits"]["balanced"] == len(audits)
                    and report["crash_audits"]["balanced"] == len(kills)
                    and report["escrow_after_recovery_nonzero"] == 0
                    and lost_or_created == 0)
    return report


def format_soak(report: dict[str, Any]) -> str:
    """The soak's report as text."""
    s = report
    lines = [
        f"== SIGKILL soak: {s['kills']} of {s['kills_asked']} kills in {s['seconds']:.0f}s, "
        f"{s['bots']} bots at {s['tables']} table(s) ({s['rules']}), {s['rounds']} rounds",
        f"  escrow held at the kill: {s['kills_with_escrow']} of {s['kills']} kills, "
        f"{s['escrow_at_kills']} chips in all; refunded at restart: {s['refunded']} "
        f"({s['refunds_not_matching']} restarts refunded a different amount)",
        f"  audits after restart: {s['audits']['run']} run, {s['audits']['balanced']} balanced; "
        f"of the killed files: {s['crash_audits']['balanced']} of {s['crash_audits']['run']} "
        f"balanced; escrow not empty after recovery: {s['escrow_after_recovery_nonzero']} times",
        f"  chips lost or created: {s['chips_lost_or_created']} (issued {s['issued']}, "
        f"expected {s['issued_expected']}); graceful stop at the end: exit "
        f"{s['final_stop_status']}",
        f"  restart (spawn to listening) p50 {s['restart_s']['p50']}s max "
        f"{s['restart_s']['max']}s; recovery (listening to refunds done) p50 "
        f"{s['recovery_s']['p50']}s max {s['recovery_s']['max']}s; play before each kill "
        f"p50 {s['played_s']['p50']}s",
    ]
    for problem in s["audits"]["problems"]:
        lines.append(f"    {problem}")
    if s["error"]:
        lines.append(f"  stopped early: {s['error']}")
    lines.append(f"  {'PASS' if s['ok'] else 'FAIL'}")
    return "\n".join(lines)


# -- the battery ---------------------------------------------------------------------------------


class _Spawner:
    """A fresh server (default limits, a new file) for each attack."""

    def __init__(self, workdir: Path, pids: list[int]) -> None:
        self.workdir = workdir
        self.pids = pids

    @contextlib.contextmanager
    def __call__(self, attack: battery.Attack) -> Iterator[battery.Endpoint]:
        port = loadtest.free_port()
        log = self.workdir / f"{attack.name}.log"
        command = [_twistd(), "-n", "--pidfile=", "--logfile", str(log), "blackjack",
                   "--listen", f"tcp:{port}:interface=127.0.0.1", "--web", "none",
                   "--db", str(self.workdir / f"{attack.name}.sqlite3"), *attack.server_args]
        server = Server(command, log, port)
        self.pids.append(server.pid)
        try:
            server.wait_listening()
            yield battery.Endpoint("127.0.0.1", port, server.pid, server.log_text)
        finally:
            server.stop()


def _running(endpoint: battery.Endpoint) -> Callable[[battery.Attack], Any]:
    @contextlib.contextmanager
    def server(attack: battery.Attack) -> Iterator[battery.Endpoint]:
        yield endpoint
    return server


def run_battery(attacks: Sequence[battery.Attack],
                server_for: Callable[[battery.Attack], Any], settings: battery.Settings, *,
                seed: int | None = None,
                progress: Callable[[str], None] = lambda line: None) -> list[dict[str, Any]]:
    """Each attack against the server ``server_for(attack)`` enters; one result each."""
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    # Fresh addresses and names for each run: a server that met an earlier run
    # still remembers its addresses in the per-address windows.
    octet = rng.randint(100, 199)
    tag = "".join(rng.choice(battery.SAFE_LETTERS) for _ in range(4))
    results = []
    for attack in attacks:
        progress(f"attack {attack.name}: {attack.what}")
        try:
            with server_for(attack) as endpoint:
                result = battery.run_attack(attack, endpoint, settings,
                                            index=battery.ATTACKS.index(attack) + 1,
                                            octet=octet, tag=tag)
        except SoakError as e:
            result = {"name": attack.name, "item": attack.item, "what": attack.what,
                      "must": attack.must, "error": str(e)}
            battery.judge(result, must_close=attack.must_close)
        results.append(result)
        reasons = result.get("reasons") or [result.get("error") or ""]
        progress(f"  {result['verdict']}" + (f": {'; '.join(reasons)}" if any(reasons) else ""))
    return results


# -- the command line ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="SIGKILL soak and hostile-client battery (see the module docstring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--spawn", action="store_true",
                       help="start the servers here (one for the soak, one per attack)")
    where.add_argument("--connect", metavar="HOST:PORT",
                       help="attack a running server on loopback (no soak)")
    p.add_argument("--server-pid", type=int, help="with --connect: its pid, for its RSS")
    p.add_argument("--kills", type=int, default=100, help="SIGKILLs in the soak (0: no soak)")
    p.add_argument("--attack", action="append", metavar="NAME",
                   help="an attack to run, repeatable (default: all; 'none': no battery)")
    p.add_argument("--list-attacks", action="store_true", help="list the attacks and exit")
    p.add_argument("--duration", type=float, default=30.0, help="seconds each attack lasts")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies the flood volumes")
    p.add_argument("--baseline", type=float, default=3.0,
                   help="seconds of undisturbed 'help' timing before each attack")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds after an attack before the RSS 'after' is read")
    p.add_argument("--registrations-per-hour", type=int, default=10,
                   help="the server's limit, which the register race must not beat")
    p.add_argument("--bots", type=int, default=14, help="soak: bots (7 a table)")
    p.add_argument("--think", type=float, default=0.05,
                   help="soak: mean seconds a bot waits before each move")
    p.add_argument("--pause", type=float, default=2.5,
                   help="soak: longest play (s) between the bots sitting down and a kill")
    p.add_argument("--seed", type=int, help="for the soak's pauses and the run's names")
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON ('-': stdout)")
    p.add_argument("--keep", action="store_true", help="keep the servers' files and logs")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _loopback(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if host != "localhost" and not host.startswith("127."):
        raise SystemExit(f"refusing to attack {host}: this tool talks to loopback only")
    return ("127.0.0.1" if host == "localhost" else host), int(port)


def _pick(names: Sequence[str] | None) -> list[battery.Attack]:
    if not names:
        return list(battery.ATTACKS)
    if names == ["none"]:
        return []
    known = {a.name: a for a in battery.ATTACKS}
    unknown = [n for n in names if n not in known and n != "all"]
    if unknown:
        raise SystemExit(f"unknown attack(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return list(battery.ATTACKS) if "all" in names else [known[n] for n in names]


def _interrupted(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and the battery as the command line says; 0 if everything passed."""
    args = _parser().parse_args(argv)
    if args.list_attacks:
        for a in battery.ATTACKS:
            extra = f" [server: {' '.join(a.server_args)}]" if a.server_args else ""
            print(f"{a.name:<20} item {a.item}: {a.what}{extra}\n{'':<20} must: {a.must}")
        return 0
    if not args.spawn and not args.connect:
        raise SystemExit("say --spawn (start servers here) or --connect HOST:PORT")
    attacks = _pick(args.attack)
    kills = args.kills if args.spawn else 0
    if args.connect and args.kills and args.attack is None:
        print("no soak with --connect: it needs to kill and restart the server",
              file=sys.stderr)
    signal.signal(signal.SIGTERM, _interrupted)
    progress = (lambda line: None) if args.quiet else \
        (lambda line: print(line, file=sys.stderr, flush=True))
    report: dict[str, Any] = {"machine": loadtest.machine(), "argv": sys.argv, "pids": []}
    workdir = Path(tempfile.mkdtemp(prefix="blackjack-soak-"))
    report["workdir"] = str(workdir)
    try:
        if kills:
            plan = SoakPlan(kills=kills, bots=args.bots, think=args.think,
                            pause=(min(0.3, args.pause), args.pause), seed=args.seed)
            report["soak"] = soak(plan, workdir, pids=report["pids"], progress=progress)
            print(format_soak(report["soak"]), flush=True)
        if attacks:
            settings = battery.Settings(duration=args.duration, scale=args.scale,
                                        baseline=args.baseline, settle=args.settle,
                                        registrations=args.registrations_per_hour)
            report["battery_settings"] = asdict(settings)
            if args.spawn:
                server_for: Callable[[battery.Attack], Any] = _Spawner(workdir, report["pids"])
            else:
                host, port = _loopback(args.connect)
                server_for = _running(battery.Endpoint(host, port, args.server_pid))
            report["attacks"] = run_battery(attacks, server_for, settings, seed=args.seed,
                                            progress=progress)
            print("== hostile-client battery (default limits unless marked [server: ...])")
            print(battery.format_battery(report["attacks"]), flush=True)
    finally:
        _kill_children()
        if args.keep:
            print(f"files kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report["ok"] = (report.get("soak", {}).get("ok", True)
                    and all(r["verdict"] in ("PASS", "SKIP") for r in report.get("attacks", ())))
    if args.json:
        text = json.dumps(report, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the servers started here are stopped", file=sys.stderr)
        sys.exit(130)
