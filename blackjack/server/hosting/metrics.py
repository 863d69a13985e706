"""Prometheus metrics of a running card room, served over ``twisted.web`` (``--metrics``).

:class:`Exporter` owns one :class:`~prometheus_client.CollectorRegistry` (its
own, not the library's global one, so two services in one process do not
collide) and fills it two ways:

* **Counted** as things happen, through :class:`PrometheusMeter`, the
  :class:`~blackjack.server.meter.Meter` the core, front ends and storage
  call: rounds and hands settled, command latency, limits tripped, failed
  logins, database batches, admin acts.
* **Read** when scraped, from the service itself (:class:`_RoomCollector`):
  connections by front end, players logged in, tables by phase, seats taken,
  and the books (one ``storage.books()`` read per scrape, made before the page
  is written): chips issued, in balances, in escrow, the house's net, and
  ``blackjack_books_imbalance``, which must read 0.

On a node of a room of several servers, the players and tables are this
node's (its own connections, the tables it runs); the books are the whole
room's, the same on every node (read them from one).

The page is rendered on the reactor thread (the collector reads the lobby,
which only the reactor thread may touch), not in a thread pool as
``prometheus_client.twisted.MetricsResource`` would, and asks for the books
first, so every scrape shows them as they are.  Every name and what it means
is listed in the README ("Metrics").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.process_collector import ProcessCollector
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from blackjack.round import SEATS
from blackjack.server.core.table import Table, TablePhase
from blackjack.server.meter import Meter
from blackjack.server.room.guests import GuestClient
from blackjack.server.storage import Books

if TYPE_CHECKING:
    from blackjack.server.hosting.service import BlackjackService

__all__ = ["Exporter", "PrometheusMeter", "LIMITS", "DROPS", "LOGIN_FAILURES"]

_log = Logger()

LIMITS = ("flood", "max_line", "telnet_commands", "output_cap", "idle", "max_per_ip",
          "max_connections")
"""The limits that close (or refuse) a connection, named as their options are."""

DROPS = ("rate", "chat_rate")
"""The limits that drop a line or a chat message and leave the connection open."""

LOGIN_FAILURES = ("password", "throttled", "banned", "token")
"""Why a login is refused (the client is told the same for all but a ban)."""

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_CALLS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class PrometheusMeter(Meter):
    """A :class:`~blackjack.server.meter.Meter` that counts into a Prometheus registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        self.rounds = counter("blackjack_rounds", "Rounds settled, by table.", "table")
        self.hands = counter("blackjack_hands", "Hands settled (a split makes two), by table.",
                             "table")
        self.commands = Histogram(
            "blackjack_command_seconds",
            "Seconds from a command's arrival to its answer (its wait in line included).",
            ["command"], buckets=_SECONDS, registry=registry)
        self.disconnects = counter(
            "blackjack_limit_disconnects",
            "Connections closed (or refused) by a limit, by the limit's option name.", "limit")
        self.drops = counter("blackjack_limit_drops",
                             "Commands or chat lines dropped over a rate, by limit.", "limit")
        self.login_failures = counter("blackjack_login_failures",
                                      "Logins refused, by reason.", "reason")
        self.batch_calls = Histogram(
            "blackjack_db_batch_calls", "Calls carried by each database transaction "
            "(group commit).", buckets=_CALLS, registry=registry)
        self.batch_seconds = Histogram(
            "blackjack_db_commit_seconds", "Seconds from a database batch being sent to "
            "its COMMIT returning.", buckets=_SECONDS, registry=registry)
        self.admin_acts = counter("blackjack_admin_acts", "Admin acts carried out, by act.",
                                  "act")
        # Known labels show 0 from the start, so a rate() has a first point.
        for limit in LIMITS:
            self.disconnects.labels(limit)
        for limit in DROPS:
            self.drops.labels(limit)
        for reason in LOGIN_FAILURES:
            self.login_failures.labels(reason)

    def round_settled(self, table: str, hands: int) -> None:
        self.rounds.labels(table).inc()
        self.hands.labels(table).inc(hands)

    def command_done(self, command: str, seconds: float) -> None:
        self.commands.labels(command).observe(max(0.0, seconds))

    def limit_tripped(self, limit: str, disconnected: bool) -> None:
        (self.disconnects if disconnected else self.drops).labels(limit).inc()

    def login_failed(self, reason: str) -> None:
        self.login_failures.labels(reason).inc()

    def batch_committed(self, calls: int, seconds: float) -> None:
        self.batch_calls.observe(calls)
        self.batch_seconds.observe(max(0.0, seconds))

    def admin_act(self, act: str) -> None:
        self.admin_acts.labels(act).inc()


class _RoomCollector:
    """What a scrape reads from the running service: connections, players, tables, books."""

    def __init__(self, exporter: Exporter) -> None:
        self._exporter = exporter

    def collect(self) -> Iterator[Metric]:
        service = self._exporter.service
        if service is None:
            return
        connections = GaugeMetricFamily("blackjack_connections",
                                        "Open connections, by front end.", labels=["frontend"])
        connections.add_metric(["telnet"], len(service.factory.clients))
        connections.add_metric(["web"], len(service.web_front.clients))
        yield connections
        # In a room, players of other nodes at tables run here (guests) are
        # counted by their own node.
        players = [p for p in service.lobby.players if not isinstance(p.client, GuestClient)]
        yield GaugeMetricFamily("blackjack_players_logged_in",
                                "Players with a connection logged in.",
                                value=sum(p.connected for p in players))
        yield GaugeMetricFamily("blackjack_players_away",
                                "Players disconnected whose seat is held for them.",
                                value=sum(not p.connected for p in players))
        tables = GaugeMetricFamily("blackjack_tables", "Tables, by phase.", labels=["phase"])
        # Tables run here (in a room, the others are counted by their owners).
        open_tables = [t for t in service.lobby.tables.values() if isinstance(t, Table)]
        for phase in TablePhase:
            tables.add_metric([phase.value], sum(t.phase is phase for t in open_tables))
        yield tables
        yield GaugeMetricFamily("blackjack_seats_taken", "Seats taken at all tables.",
                                value=sum(len(t.seats) for t in open_tables))
        yield GaugeMetricFamily("blackjack_seats", "Seats at all tables.",
                                value=len(SEATS) * len(open_tables))
        yield GaugeMetricFamily("blackjack_spectators", "Players watching a table.",
                                value=sum(len(t.spectators) for t in open_tables))
        books = self._exporter.books
        if books is None:
            return  # the read failed: better no figure than a stale one
        for name, doc, value in (
                ("blackjack_chips_issued", "Chips ever issued (bankrolls, rebuys and grants).",
                 books.issued),
                ("blackjack_chips_in_balances", "Chips in players' balances.", books.balances),
                ("blackjack_chips_in_escrow", "Chips staked in rounds not yet settled.",
                 books.escrow),
                ("blackjack_house_net", "Chips the house has won, net.", books.house_net),
                ("blackjack_books_imbalance", "balances + escrow + house net - issued: "
                 "chips created or lost; must be 0.",
                 books.balances + books.escrow + books.house_net - books.issued)):
            yield GaugeMetricFamily(name, doc, value=value)


class _MetricsPage(Resource):
    """``GET /metrics``: the books read first, then every metric, in the format asked for."""

    isLeaf = True

    def __init__(self, exporter: Exporter) -> None:
        super().__init__()
        self._exporter = exporter

    def render_GET(self, request: Request) -> Any:
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def write(_: object) -> None:
            if gone:
                return
            encode, content_type = choose_encoder(
                (request.getHeader("accept") or "").strip())
            request.setHeader(b"content-type", content_type.encode("ascii"))
            request.write(encode(self._exporter.registry))
            request.finish()
        self._exporter.refresh().addBoth(write)
        return NOT_DONE_YET


class Exporter:
    """The registry, the meter that fills it, and the ``twisted.web`` site that serves it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.meter = PrometheusMeter(self.registry)
        self.books_errors = Counter("blackjack_books_read_errors",
                                    "Scrapes whose read of the books failed.",
                                    registry=self.registry)
        self.registry.register(_RoomCollector(self))
        ProcessCollector(registry=self.registry)  # CPU, memory, open files of the server
        self.service: BlackjackService | None = None
        self.books: Books | None = None
        root = Resource()
        root.putChild(b"metrics", _MetricsPage(self))
        self.site = Site(root)
        self.site.noisy = False

    def watch(self, service: BlackjackService) -> None:
        """Read the live figures from ``service`` at each scrape."""
        self.service = service

    def refresh(self) -> Deferred[None]:
        """Read the books for the scrape under way; fires (never fails) once read."""
        service = self.service
        if service is None:
            d: Deferred[None] = Deferred()
            d.callback(None)
            return d

        def read(books: Books) -> None:
            self.books = books

        def failed(failure: Failure) -> None:
            self.books = None
            self.books_errors.inc()
            _log.warn("metrics: could not read the books: {error}", error=failure.value)
        return service.storage.books().addCallbacks(read, failed)
