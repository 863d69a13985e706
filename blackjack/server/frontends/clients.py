"""The open connections of one front end, and a way to wait until none is left.

A front end adds each connection once it is open and removes it when it
closes; the service's shutdown tells every connection, closes them, and
waits on :meth:`LiveClients.all_gone`.  A connection refused at the caps is
counted and logged by :func:`refused`, the same for both front ends.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from blackjack.server import logevents
from blackjack.server.meter import Meter

__all__ = ["LiveClients", "refused"]

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
