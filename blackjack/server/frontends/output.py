"""The output cap: a client that stops reading is cut off before it costs the server memory.

:class:`OutputGuard` is registered with a connection's transport as a
streaming producer.  The transport pauses it when its buffer is full past the
high-water mark and resumes it when the buffer drains; a front end asks
:meth:`OutputGuard.admit` before each write, and output written while paused
counts towards the cap.  Telnet and WebSocket connections use the same guard.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

__all__ = ["OutputGuard"]


@implementer(IPushProducer)
class OutputGuard:
    """Counts what is written to a client while the transport says it is not reading.

    Registered as a streaming producer, it is paused by the transport when
    the kernel's socket buffer and Twisted's write buffer are full past the
    high-water mark, and resumed once they drain.  Output written while
    paused only grows memory, so past ``cap`` bytes ``overflow`` is called.
    """

    def __init__(self, cap: int, overflow: Callable[[], None]) -> None:
        self.cap = cap
        self.paused = False
        self.queued = 0
        self._overflow = overflow

    def pauseProducing(self) -> None:
        # Twisted calls this again on every write while its buffer stays full:
        # only the first call starts the count, or the cap could never be reached.
        if not self.paused:
            self.paused = True
            self.queued = 0

    def resumeProducing(self) -> None:
        self.paused = False
        self.queued = 0

    def stopProducing(self) -> None:
        self.paused = False

    def admit(self, size: int) -> bool:
        """Count ``size`` bytes about to be written; False (and cut off) past the cap."""
        if self.paused:
            self.queued += size
            if self.queued > self.cap:
                self._overflow()
                return False
        return True
