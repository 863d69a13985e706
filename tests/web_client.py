"""A WebSocket client for the tests, on wsproto, with full control of headers and frames.

Twisted's own client sends no ``Origin`` and never fragments a message;
these tests need both, so this client speaks RFC 6455 through wsproto over a
plain Twisted protocol.  It matches protocol v1 replies to their requests by
id, like ``tests/test_protocol_v1.py``'s line client, and checks every JSON
message against the protocol schema.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from conftest import conforms, wait


class WSClient(Protocol):
    """One WebSocket connection: text messages queued, v1 replies matched by id."""

    def __init__(self, path: str = "/ws", host: str = "127.0.0.1",
                 origin: str | None = None) -> None:
        self.path = path
        self.host = host
        self.origin = origin
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.opened: Deferred[None] = Deferred()
        self.rejected: int | None = None
        """The HTTP status of a refused upgrade."""
        self.messages: DeferredQueue[str] = DeferredQueue()
        self.texts: list[str] = []
        """Every text message received, in order."""
        self.waiting: dict[Any, tuple[str, Deferred[dict[str, Any]]]] = {}
        self.next_id = 0
        self.close_code: int | None = None
        self.lost: Deferred[None] = Deferred()
        self._partial = ""

    def connectionMade(self) -> None:
        headers = [(b"origin", self.origin.encode())] if self.origin else []
        self.transport.write(self.ws.send(Request(host=self.host, target=self.path,
                                                  extra_headers=headers)))

    def dataReceived(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.opened.callback(None)
            elif isinstance(event, RejectConnection):
                self.rejected = event.status_code
                if not self.opened.called:
                    self.opened.errback(ConnectionError(f"refused: {event.status_code}"))
            elif isinstance(event, RejectData):
                pass
            elif isinstance(event, TextMessage):
                self._partial += event.data
                if event.message_finished:
                    text, self._partial = self._partial, ""
                    self._received(text)
            elif isinstance(event, BytesMessage):
                raise AssertionError("the server sent a binary message")
            elif isinstance(event, Ping):
                self.transport.write(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                try:
                    self.transport.write(self.ws.send(event.response()))
                except Exception:
                    pass
                self.transport.loseConnection()

    def _received(self, text: str) -> None:
        self.texts.append(text)
        if text.startswith("{"):
            message = json.loads(text)
            if "event" not in message and message.get("id") in self.waiting:
                cmd, d = self.waiting.pop(message["id"])
                d.callback(conforms(message, f"reply.{cmd}"))
                return
            conforms(message)
        self.messages.put(text)

    def connectionLost(self, reason: Any = None) -> None:
        self.messages.put("")
        if not self.opened.called:
            self.opened.errback(ConnectionError("closed before the upgrade"))
        self.lost.callback(None)

    # -- sending --------------------------------------------------------------------

    def send_text(self, text: str, fragments: int = 1) -> None:
        """One text message, in ``fragments`` frames."""
        size = max(1, -(-len(text) // fragments))
        chunks = [text[i:i + size] for i in range(0, len(text), size)] or [""]
        data = b"".join(self.ws.send(TextMessage(data=chunk,
                                                 message_finished=i == len(chunks) - 1))
                        for i, chunk in enumerate(chunks))
        self.transport.write(data)

    def send_bytes(self, data: bytes) -> None:
        """One binary message."""
        self.transport.write(self.ws.send(BytesMessage(data=data)))

    def request(self, cmd: str, **params: Any) -> Deferred[dict[str, Any]]:
        """Send a v1 request; its reply, matched by id."""
        self.next_id += 1
        d: Deferred[dict[str, Any]] = Deferred()
        self.waiting[self.next_id] = (cmd, d)
        self.send_text(json.dumps({"id": self.next_id, "cmd": cmd, **params}))
        return d

    async def call(self, cmd: str, **params: Any) -> dict[str, Any]:
        """One request, and its reply."""
        return await wait(self.request(cmd, **params))

    async def expect(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next event of a kind whose fields match (others are skipped)."""
        while True:
            text = await wait(self.messages.get())
            assert text, f"connection closed waiting for {kind} {fields}"
            if not text.startswith("{"):
                continue
            event = json.loads(text)
            if event.get("event") == kind and all(event.get(k) == v
                                                  for k, v in fields.items()):
                return event


async def open_socket(port: int, hello: bool = True, **options: Any) -> WSClient:
    """A WebSocket to ``ws://127.0.0.1:port/ws`` (past ``hello`` unless told not)."""
    from twisted.internet import reactor

    client = WSClient(**options)
    await wait(connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), client))
    await wait(client.opened)
    if hello:
        reply = await client.call("hello", protocol=1)
        assert reply["ok"], reply
    return client
