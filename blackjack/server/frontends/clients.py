"""The open connections of one front end, and a way to wait until none is left.

A front end adds each connection once it is open and removes it when it
closes; the service's shutdown tells every connection, closes them, and
waits on :meth:`LiveClients.all_gone`.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed

__all__ = ["LiveClients"]


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
