"""The load test's WebSocket transport: any line client of ``loadtest.py``, over ``ws://``.

``connect(reactor, host, port, client, bind)`` opens a WebSocket to
``ws://host:port/ws`` (RFC 6455 through wsproto, as a browser speaks it) and
gives ``client`` (a ``loadtest`` bot, idler or piper, written for telnet
lines) a transport on which each line it writes goes out as one text
message, and each text message that comes in reaches it as one line.  The
lines of one read are handed over together, as TCP hands over a packet.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError

__all__ = ["connect", "WebSocketLines"]


class _LineTransport:
    """What a line client sees: writes of CR LF lines, each sent as one text message."""

    def __init__(self, carrier: WebSocketLines) -> None:
        self.carrier = carrier
        self.disconnecting = False

    def write(self, data: bytes) -> None:
        carrier = self.carrier
        if carrier.transport is None or self.disconnecting:
            return
        send = carrier.ws.send
        frames = [send(TextMessage(data=line.decode("utf-8")))
                  for line in data.split(b"\r\n") if line]
        carrier.transport.write(b"".join(frames))

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.carrier.transport.setTcpNoDelay(enabled)

    def loseConnection(self) -> None:
        if self.disconnecting or self.carrier.transport is None:
            return
        self.disconnecting = True
        try:
            self.carrier.transport.write(self.carrier.ws.send(CloseConnection(code=1000)))
        except LocalProtocolError:
            pass
        self.carrier.transport.loseConnection()

    def getPeer(self) -> Any:
        return self.carrier.transport.getPeer()

    def getHost(self) -> Any:
        return self.carrier.transport.getHost()


class WebSocketLines(Protocol):
    """A WebSocket connection that carries a line client."""

    def __init__(self, client: Protocol, host: str, path: str = "/ws") -> None:
        self.client = client
        self.host = host
        self.path = path
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.opened: Deferred[Protocol] = Deferred()
        self._partial = ""

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)
        self.transport.write(self.ws.send(Request(host=self.host, target=self.path)))

    def dataReceived(self, data: bytes) -> None:
        self.ws.receive_data(data)
        lines: list[bytes] = []
        for event in self.ws.events():
            if isinstance(event, TextMessage):
                if event.message_finished:
                    text, self._partial = self._partial + event.data, ""
                    lines.append(text.encode("utf-8") + b"\n")
                else:
                    self._partial += event.data
            elif isinstance(event, AcceptConnection):
                self.client.makeConnection(_LineTransport(self))  # type: ignore[arg-type]
                self.opened.callback(self.client)
            elif isinstance(event, Ping):
                self.transport.write(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                try:
                    self.transport.write(self.ws.send(event.response()))
                except LocalProtocolError:
                    pass
                self.transport.loseConnection()
            elif isinstance(event, RejectConnection):
                self.opened.errback(ConnectionError(f"upgrade refused: {event.status_code}"))
                self.transport.loseConnection()
        if lines:
            self.client.dataReceived(lines[0] if len(lines) == 1 else b"".join(lines))

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        if self.opened.called:
            self.client.connectionLost(reason)
        else:
            self.opened.errback(reason)


def connect(reactor: Any, host: str, port: int, client: Protocol,
            bind: str | None = None) -> Deferred[Protocol]:
    """Open ``ws://host:port/ws`` for ``client``; fires with it once the WebSocket is open."""
    endpoint = TCP4ClientEndpoint(reactor, host, port, timeout=30,
                                  bindAddress=(bind, 0) if bind else None)
    carrier = WebSocketLines(client, f"{host}:{port}")
    connected = connectProtocol(endpoint, carrier)
    connected.addCallback(lambda _: carrier.opened)
    return connected
