"""Output to a client: the cap on what may queue for it, and writes straight to its socket.

:class:`OutputGuard` measures what a connection's transport still holds
unsent before each write, and calls ``overflow`` past the cap; telnet and
WebSocket connections use the same guard.  :func:`write_through` writes to a
plain TCP socket at once when nothing waits before it, instead of through
the reactor's writer set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import tcp as _tcp
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

__all__ = ["OutputGuard", "write_through"]


def _write_buffer(transport: Any) -> Any:
    """The transport under ``transport`` that holds its unsent bytes, or None.

    Twisted's socket transports (``FileDescriptor``, and the IOCP
    ``FileHandle``) keep unsent output in ``dataBuffer`` (from ``offset``)
    and ``_tempDataBuffer`` (``_tempDataLen`` bytes).  TLS and the HAProxy
    wrapper sit above one, so the chain is followed down.
    """
    for _ in range(4):
        if transport is None:
            return None
        if hasattr(transport, "_tempDataLen") and hasattr(transport, "dataBuffer"):
            return transport
        transport = getattr(transport, "transport", None)
    return None


@implementer(IPushProducer)
class OutputGuard:
    """Measures the output queued for a client, and calls ``overflow`` past ``cap``.

    Where the transport's write buffer can be seen (every Twisted socket),
    the measure is what it holds unsent, so a write never lands on more than
    ``cap`` bytes.  (The kernel's socket buffer is not counted: the kernel
    bounds it.)  Whatever one turn of the reactor writes to a client waits in
    that buffer until the next, so the cap must stay well above the largest
    burst of answers one packet can ask for; the default holds over a
    hundred ``help`` listings.

    Elsewhere the guard registers as a streaming producer and counts the
    bytes written since the transport first said its buffer was full.
    Twisted calls ``pauseProducing`` on every write while the buffer
    stays full, so a repeated pause must not restart that count (it used to,
    and the cap never fired); only ``resumeProducing``, once the buffer has
    drained, does.
    """

    def __init__(self, socket: Any, cap: int, overflow: Callable[[int], None]) -> None:
        self.cap = cap
        self.paused = False
        self.queued = 0
        self._overflow = overflow
        self._buffer = _write_buffer(socket)
        self._consumer = None if self._buffer is not None else socket
        if self._consumer is not None:
            self._consumer.registerProducer(self, True)

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.queued = 0

    def stopProducing(self) -> None:
        self.paused = False

    @property
    def measures_socket(self) -> bool:
        """Whether the guard reads a Twisted socket's own write buffer (else it counts)."""
        return self._buffer is not None

    def unsent(self) -> int:
        """Bytes queued for the client and not yet sent (by the fallback's count)."""
        buffer = self._buffer
        if buffer is not None:
            unsent: int = len(buffer.dataBuffer) - buffer.offset + buffer._tempDataLen
            return unsent
        return self.queued

    def admit(self, size: int) -> bool:
        """Whether ``size`` more bytes may be written; past the cap, cut off (False)."""
        unsent = self.unsent()
        if unsent > self.cap:
            self._overflow(unsent)
            return False
        if self.paused:
            self.queued += size
        return True

    def release(self) -> None:
        """Unregister from the transport, which otherwise waits for us before closing."""
        if self._consumer is not None:
            self._consumer.unregisterProducer()
            self._consumer = None


def write_through(transport: Any) -> Callable[[bytes], None] | None:
    """A write to ``transport`` that sends at once when it can, else ``transport.write``;
    ``None`` where there is no socket to write to directly.

    A Twisted socket's ``write`` only buffers: it adds the socket to the
    reactor's writer set (an ``epoll_ctl``), and on the reactor's next turn
    ``doWrite`` sends and takes it out again (another).  A server that
    answers each command at once pays those two system calls and a turn of
    the reactor's dispatch for every answer.  When nothing is buffered
    (nearly always: a reading client's kernel buffer has room), the bytes
    can go to the kernel here, in order; whatever the kernel does not take,
    and every write behind it, goes through ``transport.write`` as before,
    so the output cap still sees it.  This is Twisted's own ``doWrite``,
    done one turn early.

    Only a plain TCP transport (``twisted.internet.tcp``) is written to
    directly; for TLS, a test's ``StringTransport`` or anything else the
    answer is ``None``: write with its own ``write``.
    """
    socket = getattr(transport, "socket", None)
    if (not isinstance(transport, _tcp.Connection) or getattr(transport, "TLS", False)
            or socket is None):
        return None
    send = socket.send

    def write_now(data: bytes) -> None:
        if not (transport.dataBuffer or transport._tempDataLen or transport.disconnecting
                or transport._writeDisconnected) and transport.connected:
            try:
                sent = send(data)
            except OSError:
                # Full (EAGAIN) or broken: the reactor's write finds out, as it would.
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        transport.write(data)  # looked up each time: whoever wraps it sees what queues
    return write_now
