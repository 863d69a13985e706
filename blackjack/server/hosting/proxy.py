"""The PROXY protocol at the door: a connection is built once the balancer says whose it is.

Behind a load balancer (HAProxy with ``send-proxy-v2``) every connection
comes from the balancer, which first sends a PROXY header naming the real
client.  Twisted's ``haproxy:`` endpoint reads that header, but it builds
and starts the wrapped protocol as the TCP connection opens, before the
header has arrived: the factory's ``buildProtocol`` (where the per-address
connection cap is counted) and the protocol's ``connectionMade`` (where a
session notes its address for login throttles and logs) see the balancer's
address, so the whole room would share one address's limits.

:func:`server_endpoint` is :func:`~twisted.internet.endpoints.serverFromString`
except that for a ``haproxy:`` description it listens on the inner endpoint
with :class:`ProxyHeaderFactory`, which holds each connection until its
header is parsed (by Twisted's own parsers, v1 or v2), then builds the
protocol with the client's address and starts it, its transport answering
``getPeer()`` with that address.  A connection that sends no header within
:attr:`ProxyHeaderFactory.timeout` seconds, or a malformed one, is dropped.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import (
    IAddress,
    IProtocolFactory,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import Protocol
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory

# Twisted's own header parsers: the same ones its haproxy: endpoint uses.
from twisted.protocols.haproxy._exceptions import InvalidProxyHeader
from twisted.protocols.haproxy._v1parser import V1Parser
from twisted.protocols.haproxy._v2parser import V2Parser
from twisted.python.failure import Failure
from zope.interface import implementer, directlyProvides, providedBy

__all__ = ["server_endpoint", "ProxyHeaderFactory"]

_PREFIX = "haproxy:"


def server_endpoint(reactor: Any, description: str) -> IStreamServerEndpoint:
    """The endpoint a description names; ``haproxy:...`` reads the PROXY header first."""
    if description.startswith(_PREFIX):
        return _ProxyHeaderEndpoint(serverFromString(reactor, description[len(_PREFIX):]),
                                    reactor)
    endpoint: IStreamServerEndpoint = serverFromString(reactor, description)
    return endpoint


@implementer(IStreamServerEndpoint)
class _ProxyHeaderEndpoint:
    def __init__(self, inner: IStreamServerEndpoint, clock: IReactorTime) -> None:
        self._inner = inner
        self._clock = clock

    def listen(self, factory: IProtocolFactory) -> Any:
        listening: Any = self._inner.listen(ProxyHeaderFactory(factory, self._clock))
        return listening


class _HeaderFirst(ProtocolWrapper):
    """One connection: the PROXY header, then the wrapped protocol built for the client."""

    factory: ProxyHeaderFactory
    transport: Any

    def __init__(self, factory: ProxyHeaderFactory) -> None:
        super().__init__(factory, Protocol())  # a placeholder until the header is read
        self._parser: V1Parser | V2Parser | None = None
        self._buffer = b""
        self._client: IAddress | None = None
        self._started = False
        self._deadline: Any = None

    def makeConnection(self, transport: Any) -> None:
        # ProtocolWrapper.makeConnection, less starting the wrapped protocol.
        directlyProvides(self, providedBy(transport))
        Protocol.makeConnection(self, transport)
        self.factory.registerProtocol(self)
        self._deadline = self.factory.clock.callLater(self.factory.timeout,
                                                      self.transport.abortConnection)

    def dataReceived(self, data: bytes) -> None:
        if self._started:
            self.wrappedProtocol.dataReceived(data)
            return
        try:
            if self._parser is None:
                data, self._buffer = self._buffer + data, b""
                self._parser = _parser_for(data)
                if self._parser is None:
                    self._buffer = data  # too short to tell yet
                    return
            info, rest = self._parser.feed(data)
        except InvalidProxyHeader:
            # No PROXY header, or a broken one: not from the balancer.
            self.transport.loseConnection()
            return
        if info is not None:
            self._start(info.source, rest or b"")

    def _start(self, client: IAddress | None, rest: bytes) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        if client is None:
            # A LOCAL header: the balancer's own health check, not a player.
            self.transport.loseConnection()
            return
        self._client = client
        protocol = self.factory.wrappedFactory.buildProtocol(self.getPeer())
        if protocol is None:
            self.transport.loseConnection()
            return
        self.wrappedProtocol = protocol
        self._started = True
        protocol.makeConnection(self)
        if rest:
            protocol.dataReceived(rest)

    def getPeer(self) -> IAddress:
        if self._client is not None:
            return self._client
        peer: IAddress = self.transport.getPeer()
        return peer

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        if self._started:
            super().connectionLost(reason)
        else:
            self.factory.unregisterProtocol(self)


class ProxyHeaderFactory(WrappingFactory[_HeaderFirst]):
    """Wraps a server factory: each connection is built once its PROXY header is read."""

    protocol = _HeaderFirst  # type: ignore[assignment]
    timeout = 10.0
    """Seconds a connection may take to send its header (a balancer sends it at once)."""

    def __init__(self, wrappedFactory: IProtocolFactory, clock: IReactorTime) -> None:
        super().__init__(wrappedFactory)
        self.clock = clock

    def buildProtocol(self, addr: IAddress | None) -> _HeaderFirst:
        return _HeaderFirst(self)

    def logPrefix(self) -> str:
        return f"{self.wrappedFactory.__class__.__name__} (PROXY)"


def _parser_for(data: bytes) -> V1Parser | V2Parser | None:
    """The parser for a header starting with ``data``; ``None`` if too short to tell.

    Raises :class:`InvalidProxyHeader` if ``data`` starts no PROXY header.
    """
    if data[:12] == V2Parser.PREFIX and len(data) > 12:
        if data[12] & 0b11110000 != 0x20:
            raise InvalidProxyHeader()
        return V2Parser()
    if data[:6] == V1Parser.PROXYSTR + b" ":
        return V1Parser()
    if V2Parser.PREFIX.startswith(data[:12]) or (V1Parser.PROXYSTR + b" ").startswith(data[:6]):
        return None
    raise InvalidProxyHeader()
