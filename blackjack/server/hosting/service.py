"""The running card room as one Twisted service, with a graceful stop.

:class:`BlackjackService` owns the storage, accounts, lobby, tables, the
admin commands and the two front ends: telnet (listening on each ``listen``
endpoint) and the web page with its WebSocket (on each ``web`` endpoint); the
two share the connection caps.  With ``metrics`` endpoints it also serves
Prometheus metrics there (:mod:`.metrics`); without, it counts nothing.
Starting it queues a recovery for each of its tables
(``storage.recover(table)``: refund the stakes a crash left in escrow for
that table's open rounds, and retire the fair shoes it left dealing, their
seeds then told) ahead of every other database call, then listens.
Stopping it (``SIGTERM`` under twistd) stops listening, tells everyone, lets
every table finish its round (hands still in play stand) or refund its bets,
closes the connections and then the database, so nothing staked is lost.

A ``haproxy:`` endpoint (behind a load balancer) builds each connection only
once its PROXY header has named the client (:mod:`.proxy`), so per-address
limits, login throttles and logs see the player, not the balancer.

As a node of a room (``room`` given: :mod:`blackjack.server.room`), the
service runs only the tables whose leases it holds; recovery is per table,
when a table is taken.  Stopping drains the node: its tables go to the
other nodes between rounds, and its players are told to reconnect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, inlineCallbacks, succeed
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack import strategy
from blackjack.rules import Rules
from blackjack.server.core import events
from blackjack.server.core.accounts import Accounts, LoginThrottle
from blackjack.server.core.admin import Admin
from blackjack.server.frontends.limits import Limits
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import DEFAULT_PARAMS, ScryptParams
from blackjack.server.frontends.telnet.protocol import BlackjackFactory
from blackjack.server.frontends.web import WebFrontEnd
from blackjack.server.hosting.collector import Collection
from blackjack.server.hosting.proxy import server_endpoint
from blackjack.server.meter import NULL_METER
from blackjack.server.storage import IStorage
from blackjack.server.core.table import Table, Timers

if TYPE_CHECKING:
    from blackjack.server.room.node import NodeOptions, RoomNode

__all__ = ["BlackjackService", "SHUTDOWN_MESSAGE", "LEAVING_MESSAGE"]

SHUTDOWN_MESSAGE = ("The server is shutting down. Hands in play stand and are paid; "
                    "bets not yet dealt are returned. Your chips are safe.")
LEAVING_MESSAGE = ("This server is leaving the card room: rounds in play finish as usual, "
                   "then its tables carry on at the room's other servers. Connect again "
                   "when this connection closes; your seat is held.")
_log = Logger()


class BlackjackService(Service):
    """The blackjack server: tables, accounts, and the endpoints of its two front ends.

    ``listen`` (one endpoint string or several) is where telnet listens,
    ``web`` where the page and its WebSocket are served (none: no page);
    ``web_origins`` are further page origins allowed to open the WebSocket;
    ``metrics`` where ``/metrics`` is served (none: nothing is counted);
    ``gc_threshold`` sets the garbage collector while it runs (0: as it is;
    :mod:`.collector`).
    """

    def __init__(self, listen: str | Sequence[str], storage: IStorage,
                 tables: Sequence[tuple[str, Rules]], reactor: Any, *,
                 web: Sequence[str] = (), web_origins: Sequence[str] = (),
                 bankroll: int = 1000, rebuy_cooldown: float = 3600.0,
                 timers: Timers = Timers(),
                 hasher: ScryptParams = DEFAULT_PARAMS, close_timeout: float = 5.0,
                 limits: Limits = Limits(), metrics: Sequence[str] = (),
                 room: NodeOptions | None = None, gc_threshold: int = 0) -> None:
        self.listen = [listen] if isinstance(listen, str) else list(listen)
        self.web = list(web)
        self.metrics = list(metrics)
        self.exporter: Any = None
        """The :class:`~.metrics.Exporter`, with ``metrics`` endpoints."""
        meter = NULL_METER
        if self.metrics:
            from blackjack.server.hosting.metrics import Exporter

            self.exporter = Exporter()
            meter = self.exporter.meter
        self.storage = storage
        self.reactor = reactor
        self.collection = Collection(gc_threshold)
        """The garbage collector's settings while the service runs (:mod:`.collector`)."""
        self.close_timeout = close_timeout
        self.meter = meter
        if hasattr(storage, "meter"):
            storage.meter = meter  # the SQL backends count their batches
        throttle = LoginThrottle(reactor, ip_limit=limits.login_attempts_per_ip,
                                 account_limit=limits.login_attempts,
                                 period=limits.login_period)
        self.accounts = Accounts(storage, reactor, bankroll, hasher=hasher, throttle=throttle,
                                 registrations=limits.registrations_per_hour,
                                 rebuy_cooldown=rebuy_cooldown, meter=meter)

        def make_table(name: str, rules: Rules) -> Table:
            return Table(name, rules, storage, reactor, timers, meter=meter)
        self.node: RoomNode | None = None
        """This process's part of a room of several nodes, if it is one."""
        if room is None:
            self.lobby = Lobby([make_table(name, rules) for name, rules in tables], make_table)
        else:
            from blackjack.server.room.node import RoomNode

            self.node = RoomNode(room, storage, tables, timers, make_table, reactor)
            self.lobby = self.node.lobby
        self.admin = Admin(self.lobby, storage, reactor.seconds, meter)
        if self.node is not None:
            self.node.admin = self.admin  # acts of admins on other nodes, for players here
        self.factory = BlackjackFactory(self.lobby, self.accounts, storage, limits, reactor,
                                        admin=self.admin, meter=meter)
        self.web_front = WebFrontEnd(self.lobby, self.accounts, storage, limits, reactor,
                                     connections=self.factory.connections,
                                     origins=web_origins, admin=self.admin, meter=meter)
        self.ports: list[IListeningPort] = []
        """The telnet ports, in the order of ``listen``."""
        self.web_ports: list[IListeningPort] = []
        """The web ports, in the order of ``web``."""
        self.metrics_ports: list[IListeningPort] = []
        """The metrics ports, in the order of ``metrics``."""
        if self.exporter is not None:
            self.exporter.watch(self)

    @property
    def port(self) -> IListeningPort | None:
        """The first telnet port, once listening."""
        return self.ports[0] if self.ports else None

    @property
    def web_port(self) -> IListeningPort | None:
        """The first web port, once listening."""
        return self.web_ports[0] if self.web_ports else None

    def startService(self) -> None:
        """Refund crash leftovers (queued first on the database), then listen."""
        super().startService()
        for rules in {table.rules for table in self.lobby.tables.values()}:
            # The exact analyser compiles each shoe's dealer once (a fraction of
            # a second), here rather than in the first player's hint.
            strategy.prepare(rules)
        if self.node is not None:
            # A node of a room recovers a table when it takes its lease; other
            # nodes' rounds are theirs.
            self.node.start(self._listen(self.node.options.listen, self.node.link_factory()))
        else:
            for table in self.lobby.tables.values():
                self._recover(table.name)
            # This one process owns the whole database, so rounds of tables it no
            # longer hosts (renamed or dropped from the options) are refunded too.
            self._recover(None)
        for endpoint in self.listen:
            self.ports.append(self._listen(endpoint, self.factory))
            _log.info("blackjack listening on {address}", address=self.ports[-1].getHost())
        for endpoint in self.web:
            self.web_ports.append(self._listen(endpoint, self.web_front.site))
            _log.info("blackjack page and WebSocket on {address}",
                      address=self.web_ports[-1].getHost())
        for endpoint in self.metrics:
            self.metrics_ports.append(self._listen(endpoint, self.exporter.site))
            _log.info("blackjack metrics on {address}/metrics",
                      address=self.metrics_ports[-1].getHost())
        # Last: what start-up built is frozen out of the collector's sight.
        self.collection.start()

    def _listen(self, endpoint: str, factory: Any) -> IListeningPort:
        """Listen at once (a port that cannot be had stops the start with its error)."""
        ports: list[IListeningPort] = []
        failures: list[Failure] = []
        server_endpoint(self.reactor, endpoint).listen(factory).addCallbacks(
            ports.append, failures.append)
        if failures:
            failures[0].raiseException()
        return ports[0]

    @property
    def clients(self) -> list[Any]:
        """Every open connection, telnet and web."""
        return [*self.factory.clients, *self.web_front.clients]

    def _recover(self, table: str | None) -> None:
        def failed(failure: Failure) -> None:
            _log.failure("could not recover stakes left in escrow at table {table}",
                         failure, table=table or "(any)")
        self.storage.recover(table).addErrback(failed)

        # A shoe a crash left dealing can never deal again: retired, so its
        # seed may be told and its hands verified.
        def retired(shoes: list[str]) -> None:
            for shoe in shoes:
                _log.info("retired shoe {shoe}, left dealing by a restart", shoe=shoe)

        def not_retired(failure: Failure) -> None:
            _log.failure("could not retire the shoes left dealing at table {table}",
                         failure, table=table or "(any)")
        self.storage.retire_shoes(table, "server restarted").addCallbacks(retired, not_retired)

    @inlineCallbacks
    def stopService(self) -> Any:
        """Stop listening, tell everyone, finish or refund rounds, close everything."""
        super().stopService()
        self.collection.stop()
        for port in self.ports + self.web_ports + self.metrics_ports:
            yield port.stopListening()
        message = SHUTDOWN_MESSAGE if self.node is None else LEAVING_MESSAGE
        for client in self.clients:
            client.send_event(events.SHUTDOWN(message=message))
        yield self.lobby.stop()
        for client in self.clients:
            client.close("Goodbye!" if self.node is None else
                         "Goodbye from this server: connect again to carry on.",
                         why="shutdown")
        gone = DeferredList([self.factory.all_gone(), self.web_front.all_gone()],
                            consumeErrors=True)
        gone.addTimeout(self.close_timeout, self.reactor)
        try:
            yield gone
        except Exception:
            _log.warn("some connections did not close in time; aborting them")
            for client in self.clients:
                client.transport.abortConnection()
        if self.node is not None:
            yield self.node.stop()
        yield self.storage.close()

    def whenListening(self) -> Deferred[IListeningPort]:
        """The first telnet port (already bound once ``startService`` returned)."""
        assert self.port is not None, "the service is not running"
        return succeed(self.port)
