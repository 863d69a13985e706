"""The load test's WebSocket transport: the same bots play over ws:// against the real service."""

from __future__ import annotations

from pathlib import Path

import pytest_twisted
from twisted.internet.defer import ensureDeferred

from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.hosting.tap import Options, makeService

from conftest import load_script, wait

loadtest = load_script("loadtest")
loadtest_ws = load_script("loadtest_ws")


@pytest_twisted.ensureDeferred
async def test_bots_play_rounds_over_the_websocket(tmp_path: Path) -> None:
    """Seven bots, written for telnet lines, play whole rounds as WebSocket messages."""
    from twisted.internet import reactor

    options = Options()
    options.parseOptions(["--listen", "none", "--web", "tcp:0:interface=127.0.0.1",
                          "--db", str(tmp_path / "lt.sqlite3"), "--bet-time", "5",
                          "--turn-time", "10", "--table", f"{loadtest.TABLE_PREFIX}0:min=1",
                          *[arg for name, value in loadtest.LOADTEST_SERVER_OPTIONS.items()
                            for arg in (f"--{name}", value)]])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    service.startService()
    try:
        plan = loadtest.Plan(mode="play", host="127.0.0.1", clients=7, transport="ws",
                             port=service.web_port.getHost().port)  # type: ignore[attr-defined]
        await wait(ensureDeferred(loadtest.make_accounts(
            service.storage, [plan.name(i) for i in range(7)], 10_000)), 10)  # type: ignore[attr-defined]
        report = await wait(ensureDeferred(loadtest.run(
            reactor, plan, duration=2.0, setup_timeout=10, progress=False)), 30)
    finally:
        await wait(service.stopService(), 15)
    assert report["ready"] == 7 and report["rounds"] > 0
    assert (report["errors"], report["timeouts"], report["disconnects"]) == (0, 0, 0)
    assert len(service.web_front.clients) == 0  # type: ignore[attr-defined]
