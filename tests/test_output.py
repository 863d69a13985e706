"""The output cap over a real loopback socket: a client that stops reading is dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest_twisted
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock, LoopingCall

from blackjack.rules import Rules
from blackjack.server.core.accounts import Accounts
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.core.table import Table
from blackjack.server.frontends.limits import Limits
from blackjack.server.frontends.output import OutputGuard
from blackjack.server.frontends.telnet.protocol import BlackjackFactory
from blackjack.server.frontends.web import WebFrontEnd

from conftest import wait
from test_server_protocol import until
from web_client import open_socket

CAP = 64 * 1024


def stop_reading_and_send(transport: Any, send: Callable[[], None], times: int) -> None:
    """Read nothing more, and ``send()`` a command a packet ``times`` times.

    One command a packet, so each answer is its own write, below the cap:
    only their sum, queued while the client is not reading, goes over it.
    """
    from twisted.internet import reactor

    transport.setTcpNoDelay(True)
    transport.pauseProducing()  # stop reading: the server's answers pile up
    left = [times]

    def once() -> None:
        left[0] -= 1
        if left[0] <= 0 or not transport.connected:
            loop.stop()
            return
        send()

    loop = LoopingCall(once)
    loop.clock = reactor
    loop.start(0.0005)


class Deaf(Protocol):
    """A telnet client that sends ``help`` a packet and never reads the answers."""

    def connectionMade(self) -> None:
        stop_reading_and_send(self.transport, lambda: self.transport.write(b"help\r\n"),
                              20_000)


def room(storage: Any) -> tuple[Lobby, Accounts]:
    """A lobby of one table, and accounts with cheap hashing."""
    lobby = Lobby([Table("main", Rules(), storage, Clock())])
    return lobby, Accounts(storage, Clock(), hasher=FAST_INSECURE)


def test_the_guard_counts_from_the_first_pause_not_the_latest() -> None:
    """Twisted pauses its producer again on every write while full; the count goes on."""
    dropped: list[bool] = []
    guard = OutputGuard(1000, lambda: dropped.append(True))
    for _ in range(20):
        guard.pauseProducing()
        if guard.admit(100):
            pass
    assert dropped
    guard.resumeProducing()
    assert guard.admit(10_000) and guard.queued == 0


@pytest_twisted.ensureDeferred
async def test_a_telnet_client_that_stops_reading_is_dropped(storage: Any) -> None:
    """Thousands of answers to a client that reads none: past the cap it is cut off."""
    from twisted.internet import reactor

    lobby, accounts = room(storage)
    factory = BlackjackFactory(lobby, accounts, storage, Limits(rate=0, output_cap=CAP),
                               reactor)
    port = await wait(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory))
    try:
        client = Deaf()
        await wait(connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1",
                                                      port.getHost().port), client))
        await until(lambda: bool(factory.clients))
        await wait(factory.all_gone(), 30)
        client.transport.abortConnection()
    finally:
        await wait(port.stopListening())


@pytest_twisted.ensureDeferred
async def test_a_websocket_that_stops_reading_is_dropped(storage: Any) -> None:
    """The same for the WebSocket front end: its guard hangs off the HTTP request."""
    from twisted.internet import reactor

    lobby, accounts = room(storage)
    front = WebFrontEnd(lobby, accounts, storage, Limits(rate=0, output_cap=CAP), reactor)
    port = await wait(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
                      .listen(front.site))
    try:
        client = await open_socket(port.getHost().port)
        stop_reading_and_send(client.transport, lambda: client.send_text('{"cmd":"help"}'),
                              20_000)
        await wait(front.all_gone(), 30)
        client.transport.abortConnection()
    finally:
        await wait(port.stopListening())
