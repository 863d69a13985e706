"""The WebSocket front end over real loopback sockets: a round, and every limit of telnet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock, LoopingCall
from wsproto.events import TextMessage

from blackjack.rules import Rules
from blackjack.server.core.accounts import Accounts
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.core.table import Table, Timers
from blackjack.server.frontends.limits import ConnectionCounter, Limits
from blackjack.server.frontends.web import WebFrontEnd
from blackjack.server.frontends.web.connection import (
    CLOSE_NOT_TEXT,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_LATER,
    text_frame,
)
from blackjack.testing import StackedShoe

from conftest import wait
from web_client import WSClient, open_socket

Start = Callable[..., Any]


@pytest_twisted.async_yield_fixture
async def start(storage: Any) -> AsyncIterator[Start]:
    """Serve a card room's web front end on 127.0.0.1 port 0: ``await start(limits)``."""
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ServerEndpoint

    ports: list[Any] = []

    async def serve(limits: Limits = Limits(), clock: Any = None, **options: Any
                    ) -> tuple[WebFrontEnd, int]:
        table = Table("main", Rules(decks=1), storage, Clock(), Timers(),
                      shoe=StackedShoe("TS 6H 9C TD 8S"))
        accounts = Accounts(storage, Clock(), hasher=FAST_INSECURE)
        front = WebFrontEnd(Lobby([table]), accounts, storage, limits,
                            clock if clock is not None else reactor, **options)
        port = await wait(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
                          .listen(front.site))
        ports.append((port, front))
        return front, port.getHost().port

    yield serve
    for port, front in ports:
        await wait(port.stopListening())
        for client in list(front.clients):
            client.transport.abortConnection()
        await wait(front.all_gone())


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_our_frames_are_read_by_a_websocket_client(size: int) -> None:
    """Frames made from the encoded bytes are whole text messages to wsproto, at every length."""
    from wsproto.connection import Connection, ConnectionType

    client = Connection(ConnectionType.CLIENT)
    text = ("é" * size)[:size // 2] + "x" * (size - 2 * (size // 2))
    client.receive_data(text_frame(text.encode()) + text_frame(b"{}"))
    messages = [(e.data, e.message_finished) for e in client.events()]
    assert "".join(data for data, _ in messages[:-1]) == text and messages[-1] == ("{}", True)


@pytest_twisted.ensureDeferred
async def test_a_round_is_played_in_text_frames(start: Start) -> None:
    """Greeting, hello, register, join, bet, stand, result: every frame one JSON message."""
    front, port = await start()
    alice = await open_socket(port, hello=False)
    assert "Welcome to the Twisted Blackjack Room!" in await wait(alice.messages.get())
    assert (await alice.call("hello", protocol=1))["result"]["protocol"] == 1
    login = await alice.call("register", name="alice", password="pw-alice-long")
    assert login["result"]["balance"] == 1000
    assert (await alice.call("join", table="main"))["ok"]
    await alice.expect("betting", table="main")
    assert (await alice.call("bet", amount=10))["ok"]
    prompt = await alice.expect("prompt", player="alice")
    assert prompt["view"]["dealer"] == ["6H", "??"]
    assert (await alice.call("stand"))["ok"]
    result = await alice.expect("result")
    assert result["hands"][0]["cards"] == ["TS", "9C"] and result["net"] == {"1": 10}
    assert (await alice.expect("balance"))["balance"] == 1010
    assert len(front.clients) == 1


@pytest_twisted.ensureDeferred
async def test_without_hello_the_socket_speaks_text_like_telnet(start: Start) -> None:
    """A message that is not JSON is a typed command, answered in lines of text."""
    _front, port = await start()
    client = await open_socket(port, hello=False)
    client.send_text("help bet")
    while "bet N - bet N chips" not in (text := await wait(client.messages.get())):
        assert text
    client.send_text("frobnicate")
    while "unknown command 'frobnicate'" not in (text := await wait(client.messages.get())):
        assert text


@pytest.mark.parametrize("fragments", [1, 8])
@pytest_twisted.ensureDeferred
async def test_a_message_over_max_line_is_refused_and_the_socket_closed(
        start: Start, fragments: int) -> None:
    """Over --max-line bytes, whole or still arriving in fragments: bye, then close 1009."""
    _front, port = await start(Limits(max_line=200))
    client = await open_socket(port)
    assert (await client.call("tables"))["ok"]
    if fragments == 1:
        client.send_text("x" * 201)
    else:
        # Eight 60-byte frames of a message never finished: the server stops at 200.
        for _ in range(fragments):
            client.transport.write(client.ws.send(TextMessage(data="y" * 60,
                                                              message_finished=False)))
    bye = await client.expect("bye")
    assert bye["message"] == "Message too long (over 200 bytes); goodbye."
    await wait(client.lost)
    assert client.close_code == CLOSE_TOO_BIG


@pytest_twisted.ensureDeferred
async def test_a_binary_message_closes_the_socket(start: Start) -> None:
    """Binary frames carry nothing of the protocol: bye, then close 1003."""
    _front, port = await start()
    client = await open_socket(port)
    client.send_bytes(b"\x00\x01")
    assert "Send text" in (await client.expect("bye"))["message"]
    await wait(client.lost)
    assert client.close_code == CLOSE_NOT_TEXT


@pytest_twisted.ensureDeferred
async def test_over_the_rate_is_refused_and_a_flood_closes(start: Start) -> None:
    """The telnet command rate per message: a burst, rate_limited, then a flood's bye."""
    _front, port = await start(Limits(rate=1, burst=3))
    client = await open_socket(port)  # the hello took one
    replies = [client.request("who") for _ in range(4)]
    answers = [await wait(r) for r in replies]
    assert [a["ok"] for a in answers] == [True, True, False, False]
    assert {a["error"]["code"] for a in answers[2:]} == {"rate_limited"}  # each with its id
    for _ in range(80):
        client.send_text('{"cmd": "who"}')
    assert (await client.expect("bye"))["message"] == "Too many commands too fast; goodbye."
    await wait(client.lost)
    assert client.close_code == CLOSE_POLICY


@pytest_twisted.ensureDeferred
async def test_the_connection_caps_refuse_with_a_reason(start: Start) -> None:
    """Past the per-address cap a socket is told why and closed 1013; places come back."""
    counter = ConnectionCounter(max_total=100, max_per_host=2)
    front, port = await start(Limits(max_per_ip=2), connections=counter)
    first, second = await open_socket(port), await open_socket(port)
    third = await open_socket(port, hello=False)
    bye = await third.expect("bye")
    assert bye["message"].startswith("Too many connections from your address (at most 2)")
    await wait(third.lost)
    assert third.close_code == CLOSE_TRY_LATER and counter.total == 2
    first.transport.loseConnection()
    await wait(first.lost)
    fourth = await open_socket(port)
    assert (await fourth.call("who"))["ok"] and len(front.clients) == 2


@pytest.mark.parametrize("origin, allowed", [
    (None, True),  # a program, not a browser
    ("http://127.0.0.1:{port}", True),
    ("https://cards.example.org", True),  # allowed with --web-origin
    ("http://evil.example", False),
    ("http://127.0.0.1:1", False),
    ("https://127.0.0.1:{port}", False),  # another scheme is another origin
    ("null", False),
])
@pytest_twisted.ensureDeferred
async def test_only_pages_of_this_site_may_open_the_socket(
        start: Start, origin: str | None, allowed: bool) -> None:
    """A browser page from another origin is refused (403) before any WebSocket exists."""
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    front, port = await start(origins=["https://cards.example.org/"])
    client = WSClient(host=f"127.0.0.1:{port}",
                      origin=origin.format(port=port) if origin else None)
    await wait(connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), client))
    try:
        await wait(client.opened)
    except ConnectionError:
        pass
    assert (client.rejected is None) is allowed
    if not allowed:
        assert client.rejected == 403 and not front.clients
        client.transport.loseConnection()


@pytest_twisted.ensureDeferred
async def test_a_silent_socket_is_closed_when_idle(start: Start) -> None:
    """The conversation's idle timeout holds for WebSockets too."""
    clock = Clock()
    front, port = await start(Limits(idle_timeout=30), clock=clock)
    client = await open_socket(port)
    clock.advance(31)
    assert (await client.expect("bye"))["message"] == "Not logged in for 30 seconds; goodbye."
    await wait(client.lost)
    await wait(front.all_gone())


@pytest_twisted.ensureDeferred
async def test_a_socket_that_stops_reading_is_dropped_at_the_output_cap(start: Start) -> None:
    """Thousands of answers to a client that reads none: past --output-cap it is cut off."""
    from twisted.internet import reactor

    front, port = await start(Limits(rate=0, output_cap=64 * 1024))
    client = await open_socket(port)
    client.transport.setTcpNoDelay(True)
    client.transport.pauseProducing()  # read nothing more: the answers pile up
    sent = [0]

    def one_more() -> None:
        # One request a packet, so each answer is its own write, far below the cap.
        sent[0] += 1
        if sent[0] > 20_000 or not client.transport.connected:
            loop.stop()
            return
        client.send_text('{"cmd":"help"}')

    loop = LoopingCall(one_more)
    loop.clock = reactor
    loop.start(0.0005)
    await wait(front.all_gone(), 30)
    assert sent[0] < 20_000
    client.transport.abortConnection()
