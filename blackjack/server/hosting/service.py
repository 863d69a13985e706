"""The running card room as one Twisted service, with a graceful stop.

:class:`BlackjackService` owns the storage, accounts, lobby, tables and the
listening port.  Starting it queues a recovery for each of its tables
(``storage.recover(table)``: refund the stakes a crash left in escrow for
that table's open rounds) ahead of every other database call, then listens.
Stopping it (``SIGTERM`` under twistd) stops listening, tells everyone, lets
every table finish its round (hands still in play stand) or refund its bets,
closes the connections and then the database, so nothing staked is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.rules import Rules
from blackjack.server.core import events
from blackjack.server.core.accounts import Accounts, LoginThrottle
from blackjack.server.frontends.limits import Limits
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import DEFAULT_PARAMS, ScryptParams
from blackjack.server.frontends.telnet.protocol import BlackjackFactory
from blackjack.server.storage import IStorage
from blackjack.server.core.table import Table, Timers

__all__ = ["BlackjackService", "SHUTDOWN_MESSAGE"]

SHUTDOWN_MESSAGE = ("The server is shutting down. Hands in play stand and are paid; "
                    "bets not yet dealt are returned. Your chips are safe.")
_log = Logger()


class BlackjackService(Service):
    """The blackjack server: tables, accounts and a listening endpoint."""

    def __init__(self, listen: str, storage: IStorage, tables: Sequence[tuple[str, Rules]],
                 reactor: Any, *, bankroll: int = 1000, timers: Timers = Timers(),
                 hasher: ScryptParams = DEFAULT_PARAMS, close_timeout: float = 5.0,
                 limits: Limits = Limits()) -> None:
        self.listen = listen
        self.storage = storage
        self.reactor = reactor
        self.close_timeout = close_timeout
        throttle = LoginThrottle(reactor, ip_limit=limits.login_attempts_per_ip,
                                 account_limit=limits.login_attempts,
                                 period=limits.login_period)
        self.accounts = Accounts(storage, reactor, bankroll, hasher=hasher, throttle=throttle,
                                 registrations=limits.registrations_per_hour)
        self.lobby = Lobby([Table(name, rules, storage, reactor, timers)
                            for name, rules in tables])
        self.factory = BlackjackFactory(self.lobby, self.accounts, storage, limits, reactor)
        self.port: IListeningPort | None = None

    def startService(self) -> None:
        """Refund crash leftovers (queued first on the database), then listen."""
        super().startService()
        for table in self.lobby.tables.values():
            self._recover(table.name)
        # This one process owns the whole database, so rounds of tables it no
        # longer hosts (renamed or dropped from the options) are refunded too.
        self._recover(None)
        listening = serverFromString(self.reactor, self.listen).listen(self.factory)
        failures: list[Failure] = []
        listening.addCallbacks(self._listening, failures.append)
        if failures:
            failures[0].raiseException()

    def _recover(self, table: str | None) -> None:
        def failed(failure: Failure) -> None:
            _log.failure("could not recover stakes left in escrow at table {table}",
                         failure, table=table or "(any)")
        self.storage.recover(table).addErrback(failed)

    def _listening(self, port: IListeningPort) -> IListeningPort:
        self.port = port
        _log.info("blackjack listening on {address}", address=port.getHost())
        return port

    @inlineCallbacks
    def stopService(self) -> Any:
        """Stop listening, tell everyone, finish or refund rounds, close everything."""
        super().stopService()
        if self.port is not None:
            yield self.port.stopListening()
        for client in list(self.factory.clients):
            client.send_event(events.SHUTDOWN(message=SHUTDOWN_MESSAGE))
        yield self.lobby.stop()
        for client in list(self.factory.clients):
            client.close("Goodbye!")
        gone = self.factory.all_gone()
        gone.addTimeout(self.close_timeout, self.reactor)
        try:
            yield gone
        except Exception:
            _log.warn("some connections did not close in time; aborting them")
            for client in list(self.factory.clients):
                client.transport.abortConnection()
        yield self.storage.close()

    def whenListening(self) -> Deferred[IListeningPort]:
        """The listening port (already bound once ``startService`` returned)."""
        assert self.port is not None, "the service is not running"
        return succeed(self.port)
