"""``--metrics``: Prometheus metrics scraped over HTTP from a real service while rounds are played.

Bots play real rounds over telnet on 127.0.0.1; ``/metrics`` is fetched with
Twisted's HTTP client and read with prometheus_client's own parser, as
Prometheus would read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet.defer import Deferred, DeferredList, ensureDeferred

from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.hosting.tap import Options, makeService
from blackjack.server.hosting.metrics import PrometheusMeter
from blackjack.server.meter import NULL_METER, Meter

from conftest import wait
from test_e2e_accounts_chat_seats import PASSWORD, connect, register
from test_server_e2e import Client

# Twisted's own HTTP client warns about its own transport in readBody; not ours to mend.
pytestmark = pytest.mark.filterwarnings("ignore:Using readBody:DeprecationWarning")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def start(db: Path, *extra: str) -> BlackjackService:
    """The real service, quick timers, metrics on a free loopback port."""
    from twisted.internet import reactor

    options = Options()
    options.parseOptions(["--listen", "tcp:0:interface=127.0.0.1", "--web", "none",
                          "--db", str(db), "--table", "main:decks=6",
                          "--metrics", "tcp:0:interface=127.0.0.1", "--bet-time", "3",
                          "--turn-time", "3", "--insurance-time", "3", *extra])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    assert isinstance(service, BlackjackService)
    service.startService()
    return service


async def scrape(service: BlackjackService, accept: str = "") -> tuple[str, str, Samples]:
    """GET /metrics: the content type, the body, and every sample by (name, labels)."""
    from twisted.internet import reactor
    from twisted.web.client import Agent, readBody
    from twisted.web.http_headers import Headers

    port = service.metrics_ports[0].getHost().port
    headers = Headers({b"accept": [accept.encode()]} if accept else {})
    response = await wait(Agent(reactor).request(
        b"GET", f"http://127.0.0.1:{port}/metrics".encode(), headers))
    assert response.code == 200
    body = (await wait(readBody(response))).decode("utf-8")
    [content_type] = response.headers.getRawHeaders(b"content-type")
    samples: Samples = {}
    if "openmetrics" not in content_type.decode():
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return content_type.decode(), body, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 if absent)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str) -> float:
    """The sum of a metric's samples over all its labels."""
    return sum(v for (n, _), v in samples.items() if n == name)


async def play(client: Client, rounds: int) -> None:
    """Bet 10 at every window and stand (or decline insurance) until ``rounds`` are paid."""
    played = 0
    while played < rounds:
        line = await wait(client.queue.get(), 30)
        assert line or not client.closed, "connection closed mid-game"
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        kind = event["event"]
        if kind == "betting":
            client.say("bet 10")
        elif kind == "prompt":
            client.say("stand")
        elif kind == "decide":
            client.say("no")
        elif kind == "result":
            played += 1


@pytest_twisted.ensureDeferred
async def test_counters_move_while_rounds_are_played_and_the_books_balance(
        tmp_path: Path) -> None:
    """Two scrapes around rounds played by three bots: rounds, hands, command latencies and
    database batches went up, connections, players and seats are counted, a failed login
    and a rate drop are counted, and the imbalance gauge reads 0 every time."""
    service = start(tmp_path / "bj.sqlite3", "--rate", "2", "--burst", "3")
    clients: list[Client] = []
    try:
        bots = [await register(service, f"bot{n}") for n in range(3)]
        clients += bots
        for bot in bots:
            bot.say("join main")
        _, _, before = await scrape(service)
        games: list[Deferred[Any]] = [ensureDeferred(play(bot, 3)) for bot in bots]
        _, _, during = await scrape(service)  # while the rounds are under way
        assert value(during, "blackjack_books_imbalance") == 0
        await wait(DeferredList(games, fireOnOneErrback=True, consumeErrors=True), 90)

        stranger = await connect(service, "127.0.0.5")
        clients.append(stranger)
        stranger.say(f"login bot0 not-{PASSWORD}")
        await stranger.expect("error", code="login_failed")
        for _ in range(8):  # over --rate 2 / --burst 3: some are dropped
            stranger.say("tables")
        await stranger.expect("error", code="rate_limited")
        content_type, body, after = await scrape(service)

        assert content_type.startswith("text/plain")
        assert value(after, "blackjack_rounds_total", table="main") \
            >= value(before, "blackjack_rounds_total", table="main") + 3
        assert value(after, "blackjack_hands_total", table="main") >= 9
        assert value(after, "blackjack_command_seconds_count", command="bet") >= 9
        assert value(after, "blackjack_command_seconds_count", command="stand") > \
            value(before, "blackjack_command_seconds_count", command="stand")
        assert value(after, "blackjack_db_batch_calls_count") > \
            value(before, "blackjack_db_batch_calls_count")
        assert value(after, "blackjack_db_commit_seconds_count") == \
            value(after, "blackjack_db_batch_calls_count")
        assert value(after, "blackjack_connections", frontend="telnet") == 4
        assert value(after, "blackjack_connections", frontend="web") == 0
        assert value(after, "blackjack_players_logged_in") == 3
        assert value(after, "blackjack_seats_taken") == 3
        assert value(after, "blackjack_seats") == 7
        assert total(after, "blackjack_tables") == 1
        assert value(after, "blackjack_login_failures_total", reason="password") == 1
        assert value(after, "blackjack_limit_drops_total", limit="rate") >= 1
        assert value(after, "blackjack_limit_disconnects_total", limit="flood") == 0
        assert value(after, "blackjack_chips_issued") == 3000
        assert value(after, "blackjack_chips_in_escrow") in (0, 10, 20, 30)
        for samples in (before, during, after):
            assert value(samples, "blackjack_books_imbalance") == 0
        assert "process_resident_memory_bytes" in body
        assert "# HELP blackjack_books_imbalance" in body
    finally:
        for client in clients:
            client.transport.loseConnection()
        await wait(service.stopService(), 10)


@pytest_twisted.ensureDeferred
async def test_openmetrics_is_served_when_asked_for(tmp_path: Path) -> None:
    """A scraper asking for OpenMetrics gets it (Prometheus asks for it first)."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        content_type, body, _ = await scrape(service, "application/openmetrics-text")
        assert content_type.startswith("application/openmetrics-text")
        assert body.rstrip().endswith("# EOF")
        assert "blackjack_books_imbalance 0" in body
    finally:
        await wait(service.stopService(), 10)


def test_without_the_option_nothing_is_counted_or_served(tmp_path: Path) -> None:
    """By default there is no metrics endpoint, and the meter is the one that counts nothing."""
    from twisted.internet import reactor

    options = Options()
    options.parseOptions(["--db", str(tmp_path / "bj.sqlite3")])
    assert options["metrics"] == []
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    assert isinstance(service, BlackjackService)
    assert service.exporter is None and service.admin.meter is NULL_METER
    assert service.lobby.table("main").meter is NULL_METER


def test_a_meter_says_whether_it_times_commands() -> None:
    """Only a meter whose command_done counts is timed per command: the null meter and
    a subclass that counts other things are not; the Prometheus meter is."""
    class RoundsOnly(Meter):
        def round_settled(self, table: str, hands: int) -> None:
            pass

    assert not NULL_METER.times_commands and not RoundsOnly().times_commands
    assert PrometheusMeter.times_commands
