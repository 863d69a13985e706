"""The load-test script, run for a few seconds against an in-process server, so it does not rot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.defer import ensureDeferred
from twisted.internet.protocol import Factory

from blackjack.server.hosting.tap import Options

from conftest import load_script, start_service, wait

loadtest = load_script("loadtest")
echo_server = load_script("echo_server")


def _service(db: Path) -> Any:
    """The real service with one load-test table and the per-client limits off, as --spawn runs it."""
    options = Options()
    known = {str(p[0]) for p in options.optParameters}  # type: ignore[index]
    argv = ["--turn-time", "10", "--table", f"{loadtest.TABLE_PREFIX}0:min=1"]
    for name, value in loadtest.LOADTEST_SERVER_OPTIONS.items():
        if name in known:
            argv += [f"--{name}", value]
    return start_service(db, *argv)


@pytest_twisted.ensureDeferred
async def test_bots_play_rounds_without_errors(tmp_path: Path) -> None:
    """Seven bots log in, sit at one table and play whole rounds with no errors or timeouts."""
    from twisted.internet import reactor

    service = _service(tmp_path / "lt.sqlite3")
    try:
        plan = loadtest.Plan(mode="play", host="127.0.0.1",
                             port=service.port.getHost().port, clients=7)
        made = await wait(ensureDeferred(loadtest.make_accounts(
            service.storage, [plan.name(i) for i in range(7)], 10_000)), 10)
        assert made == 7
        report = await wait(ensureDeferred(loadtest.run(
            reactor, plan, duration=2.0, setup_timeout=10, progress=False)), 30)
    finally:
        await wait(service.stopService(), 15)
    assert report["ready"] == 7
    assert report["rounds"] > 0
    assert report["hands"] >= report["rounds"]
    assert (report["errors"], report["timeouts"], report["unsolicited_errors"]) == (0, 0, 0)
    assert report["commands"] > 0 and report["latency"]["game"]["count"] > 0


@pytest_twisted.ensureDeferred
async def test_pipelined_commands_are_all_answered_by_the_echo_server() -> None:
    """The throughput clients keep commands in flight and count one answer per command."""
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ServerEndpoint

    port = await wait(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        Factory.forProtocol(echo_server.Echo)))
    try:
        plan = loadtest.Plan(mode="throughput", host="127.0.0.1", port=port.getHost().port,
                             clients=3, target="echo", window=16, batch=4)
        report = await wait(ensureDeferred(loadtest.run(
            reactor, plan, duration=0.5, setup_timeout=10, progress=False)), 30)
    finally:
        await wait(port.stopListening())
    assert report["ready"] == 3
    assert report["commands"] > 100
    assert report["errors"] == 0
    assert report["latency"]["pipelined"]["count"] > 0


@pytest_twisted.ensureDeferred
async def test_the_same_bots_play_the_threaded_baseline() -> None:
    """--baseline's bots play whole hands of the thread-per-connection server (started as
    --spawn starts it) with basic strategy, and each play is timed to its answer."""
    from twisted.internet import reactor

    port = loadtest.free_port()
    server = loadtest.spawn(loadtest.baseline_command(port), Path(os.devnull), port)
    try:
        await wait(ensureDeferred(server.wait_listening(reactor)), 35)
        plan = loadtest.Plan(mode="play", host="127.0.0.1", port=port, clients=3,
                             target="baseline")
        report = await wait(ensureDeferred(loadtest.run(
            reactor, plan, duration=1.0, setup_timeout=10, progress=False)), 30)
    finally:
        server.process.kill()
        server.process.wait(timeout=10)
    assert report["ready"] == 3 and report["hands"] > 10
    assert (report["errors"], report["disconnects"]) == (0, 0)
    assert report["latency"]["act"]["count"] > 0 and report["latency"]["bet"]["count"] > 0


def test_histogram_percentiles_are_within_a_percent() -> None:
    """Latency percentiles come back from the log buckets to within about 1%."""
    histogram = loadtest.Histogram()
    for ms in range(1, 101):
        histogram.add(ms / 1000)
    for p, expected in ((50, 50.0), (99, 99.0), (100, 100.0)):
        value = histogram.percentile(p)
        assert value is not None and abs(value - expected) / expected < 0.011
    merged = loadtest.Histogram()
    merged.merge({str(k): n for k, n in histogram.buckets.items()})
    assert merged.count == 100


def test_the_wire_benchmark_answers_a_packet_with_one_write(capsys: Any) -> None:
    """scripts/bench_wire.py runs the real command path and reports one write per pipelined packet."""
    load_script("bench_wire").main(["--packets", "50", "--per-packet", "16"])
    report = capsys.readouterr().out
    assert "'help hit', 16 a packet:" in report and "us per command" in report
    assert report.rstrip().endswith("1 write(s) a packet")


def test_the_hand_benchmark_plays_the_same_hands_every_time(capsys: Any) -> None:
    """scripts/bench_hand.py settles the hands asked for through the real stack, and its
    seeded shoes deal the same hands (the same balances) on every run."""
    bench = load_script("bench_hand")
    balances = []
    for _ in range(2):
        room = bench._Room(3, 1, seed=5)
        room.play(3)
        room.play(20)
        balances.append([room.storage.database.accounts[a].balance
                         for a in sorted(room.storage.database.accounts)])
    assert balances[0] == balances[1] and len(balances[0]) == 3
    bench.main(["--hands", "10", "--players", "2", "--per-table", "1", "--warm", "10"])
    assert "hands settled (2 players, 1 a table)" in capsys.readouterr().out
