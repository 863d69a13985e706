"""Writes straight to a client's socket, over real loopback sockets."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.internet.testing import StringTransport

from blackjack.server.frontends.output import write_through

from conftest import wait


class _Server(Protocol):
    """The side that writes; hands its transport over once connected."""

    def __init__(self, made: Deferred[Any]) -> None:
        self.made = made
        self.lost: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        self.made.callback(self)

    def connectionLost(self, reason: Any = None) -> None:
        self.lost.callback(None)


class _Reader(Protocol):
    """The client: keeps what it reads, and says when ``expected`` bytes have come."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.received = bytearray()
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if len(self.received) >= self.expected and not self.done.called:
            self.done.callback(bytes(self.received))


async def _pair(expected: int) -> tuple[Any, _Reader, Any]:
    """A loopback connection: the server's transport, the client, and the listening port."""
    made: Deferred[Any] = Deferred()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        Factory.forProtocol(lambda: _Server(made)))
    reader = _Reader(expected)
    await TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port).connect(
        Factory.forProtocol(lambda: reader))
    server = await wait(made)
    return server.transport, reader, port


@pytest_twisted.ensureDeferred
async def test_a_write_with_nothing_waiting_goes_to_the_kernel_at_once() -> None:
    """With nothing buffered, the bytes are sent in the call: the transport buffers
    nothing and never joins the reactor's writers."""
    transport, reader, port = await _pair(5)
    try:
        write_through(transport)(b"hello")
        assert not transport.dataBuffer and not transport._tempDataLen
        assert transport not in reactor.getWriters()
        assert await wait(reader.done) == b"hello"
    finally:
        transport.loseConnection()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_what_the_kernel_refuses_is_buffered_and_everything_arrives_in_order() -> None:
    """A client that stops reading fills the kernel's buffers: the rest, and every
    write behind it, waits in the transport's buffer (where the output cap measures
    it) and reaches the client whole and in order once it reads again."""
    chunks = [b"%07d:" % n + b"x" * 8184 for n in range(2_000)]  # 16 MB, 8 kB each
    expected = b"".join(chunks)
    transport, reader, port = await _pair(len(expected))
    try:
        reader.transport.pauseProducing()  # type: ignore[attr-defined]
        write = write_through(transport)
        for chunk in chunks:
            write(chunk)
        buffered = len(transport.dataBuffer) + transport._tempDataLen
        assert 0 < buffered < len(expected)  # some went at once, the rest waits
        assert transport in reactor.getWriters()
        await deferLater(reactor, 0.05, lambda: None)
        reader.transport.resumeProducing()  # type: ignore[attr-defined]
        assert await wait(reader.done, 30) == expected
    finally:
        transport.loseConnection()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_once_the_connection_is_gone_a_write_is_dropped_quietly() -> None:
    """After the connection is lost, a write raises nothing and sends nothing."""
    made: Deferred[Any] = Deferred()
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        Factory.forProtocol(lambda: _Server(made)))
    reader = _Reader(1)
    await TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port).connect(
        Factory.forProtocol(lambda: reader))
    server = await wait(made)
    try:
        write = write_through(server.transport)
        server.transport.loseConnection()
        await wait(server.lost)
        write(b"late")
        await deferLater(reactor, 0.05, lambda: None)
        assert bytes(reader.received) == b""
    finally:
        await port.stopListening()


def test_other_transports_get_their_own_write() -> None:
    """Anything but a plain TCP socket (a test's transport, TLS) has no write-through:
    it is written with its own ``write``."""
    assert write_through(StringTransport()) is None
