"""What every front end shares: the room it serves, its caps, its open connections.

:class:`FrontDoor` holds the core (lobby, accounts, storage, admin), the
limits and the meter, admits each new connection against the connection
caps (a refusal counted and logged by :func:`refused`, the same for every
door), and keeps the :class:`LiveClients`: a front end adds each connection
once it is open and removes it when it closes; the service's shutdown tells
every connection, closes them, and waits on :meth:`FrontDoor.all_gone`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from blackjack.server import logevents
from blackjack.server.frontends.limits import ConnectionCounter, Limits
from blackjack.server.meter import NULL_METER, Meter

if TYPE_CHECKING:
    from blackjack.server.core.accounts import Accounts
    from blackjack.server.core.admin import Admin
    from blackjack.server.core.lobby import Lobby
    from blackjack.server.storage import IStorage

__all__ = ["FrontDoor", "LiveClients", "refused"]

_log = Logger()


def refused(meter: Meter, limit: str, host: str | None) -> None:
    """A new connection from ``host`` was refused by ``limit`` (a connection cap)."""
    meter.limit_tripped(limit, True)
    logevents.LIMIT_TRIPPED(_log, peer=host or "?", limit=limit, action="refused", name="")


class LiveClients(set[Any]):
    """A set of connections that can say when it has become empty."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: list[Deferred[None]] = []

    def gone(self, client: Any) -> None:
        """Forget a closed connection; wake :meth:`all_gone` waiters on the last."""
        self.discard(client)
        if not self:
            waiters, self._waiters = self._waiters, []
            for d in waiters:
                d.callback(None)

    def all_gone(self) -> Deferred[None]:
        """Fire when no connection is left."""
        if not self:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._waiters.append(d)
        return d


class FrontDoor:
    """One way into the card room: its core, limits and meter, caps and live connections.

    ``connections`` counts open connections against the caps; pass another
    door's counter so one cap covers both doors.
    """

    def __init__(self, lobby: Lobby, accounts: Accounts, storage: IStorage,
                 limits: Limits = Limits(), clock: Any = None, *,
                 connections: ConnectionCounter | None = None,
                 admin: Admin | None = None, meter: Meter = NULL_METER) -> None:
        self.lobby = lobby
        self.accounts = accounts
        self.storage = storage
        self.limits = limits
        self.clock = clock
        self.admin = admin
        self.meter = meter
        self.connections = connections if connections is not None else ConnectionCounter(
            limits.max_connections, limits.max_per_ip)
        self.clients = LiveClients()

    def admit(self, host: str | None) -> str | None:
        """Take a place for a new connection from ``host``, or say why not (and log it)."""
        refusal = self.connections.admit(host)
        if refusal is not None:
            refused(self.meter, self.connections.refused_by, host)
        return refusal

    def all_gone(self) -> Deferred[None]:
        """Fire when no connection is left."""
        return self.clients.all_gone()
