"""Hostile clients over real loopback sockets: the wire limits hold against the real server.

Each test starts the real service (``makeService`` from parsed options) on
127.0.0.1 port 0 and talks to it with plain sockets, the way an attacker's
script would: a client that never reads (with a small receive buffer), a
flood of telnet commands, a 5,000-digit bet, a netcat-style and a
telnet-style password prompt read byte for byte, a command flood and one
connection too many.  Sockets are polled from
the reactor (``deferLater``), so the server runs between polls; every wait
has a deadline.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.conch.telnet import DO, ECHO, IAC, NOP, WILL, WONT
from twisted.logger import globalLogPublisher

from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.frontends.telnet.protocol import BlackjackProtocol
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.hosting.tap import Options, makeService


async def pause(seconds: float = 0.005) -> None:
    """Let the reactor run for a moment."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await deferLater(reactor, seconds, lambda: None)


async def until(condition: Callable[[], Any], what: str, seconds: float = 10.0) -> Any:
    """Poll ``condition`` with the reactor running; its value, or fail saying ``what``."""
    from twisted.internet import reactor

    deadline = reactor.seconds() + seconds
    while True:
        value = condition()
        if value:
            return value
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pause()


@asynccontextmanager
async def server(tmp_path: Path, *argv: str) -> AsyncIterator[BlackjackService]:
    """The real service with these options on a free local port; stopped afterwards."""
    from twisted.internet import reactor

    options = Options()
    options.parseOptions(["--listen", "tcp:0:interface=127.0.0.1", "--web", "none",
                          "--db", str(tmp_path / "bj.sqlite3"), *argv])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    assert isinstance(service, BlackjackService)
    service.startService()
    try:
        yield service
    finally:
        await service.stopService().addTimeout(10, reactor)


class Raw:
    """A plain non-blocking socket client: sends what it is told, reads only when asked."""

    def __init__(self, service: BlackjackService, receive_buffer: int | None = None) -> None:
        assert service.port is not None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            # Before connect, so the small window is what the server is offered.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect(("127.0.0.1", service.port.getHost().port))
        self.sock.setblocking(False)
        self.received = b""
        self.eof = False

    @property
    def port(self) -> int:
        """This client's own port, as the server sees it."""
        return int(self.sock.getsockname()[1])

    def send(self, data: bytes) -> bool:
        """Send what the socket takes now; False once the server has closed it."""
        try:
            self.sock.send(data)
        except BlockingIOError:
            pass
        except OSError:
            return False
        return True

    def read(self) -> bytes:
        """Everything received so far (reading what has arrived)."""
        while not self.eof:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self.received += data
        return self.received

    async def expect(self, fragment: bytes) -> bytes:
        """Everything received up to and including ``fragment``, once it has come."""
        def arrived() -> bool:
            return fragment in self.read() or self.eof
        await until(arrived, f"{fragment!r}")
        assert fragment in self.received, (fragment, self.received[-500:])
        return self.received[:self.received.index(fragment) + len(fragment)]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def server_side(service: BlackjackService, client: Raw) -> BlackjackProtocol | None:
    """The server's protocol for ``client``, while the connection is open."""
    for proto in service.factory.clients:
        if proto.transport.getPeer().port == client.port:
            return proto
    return None


def unsent(tcp: Any) -> int:
    """Bytes waiting in a Twisted socket transport's write buffer."""
    return len(tcp.dataBuffer) - tcp.offset + tcp._tempDataLen


class WriteSpy:
    """Records, after every write to a server-side socket, how much it holds unsent."""

    def __init__(self, tcp: Any) -> None:
        self.peak = 0
        self.largest_write = 0
        self.writes = 0
        original = tcp.write

        def write(data: bytes) -> None:
            original(data)
            self.writes += 1
            self.largest_write = max(self.largest_write, len(data))
            self.peak = max(self.peak, unsent(tcp))
        tcp.write = write


class LogSpy:
    """Collects the structured log events of one kind (``logevents``) for one limit."""

    def __init__(self, kind: str, limit: str) -> None:
        self.kind = kind
        self.limit = limit
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == self.kind and event.get("limit") == self.limit:
            self.events.append(event)

    def __enter__(self) -> LogSpy:
        globalLogPublisher.addObserver(self)
        return self

    def __exit__(self, *exc: object) -> None:
        globalLogPublisher.removeObserver(self)


@pytest_twisted.ensureDeferred
async def test_a_client_that_never_reads_is_dropped_at_the_output_cap(tmp_path: Path) -> None:
    """A reader with a 4 kB window that sends ``help`` in a loop is dropped once 16 kB are
    queued for it, and never has more than that plus one write queued; the drop is logged
    with its address."""
    cap = 16 * 1024
    async with server(tmp_path, "--output-cap", "16k", "--rate", "0") as service:
        with LogSpy("limit_tripped", "output_cap") as log:
            with Raw(service, receive_buffer=4096) as client:
                proto = await until(lambda: server_side(service, client), "the connection")
                spy = WriteSpy(proto.transport.transport)
                for _ in range(5000):
                    client.send(b"help\r\n" * 5)
                    await pause(0.003)
                    if proto not in service.factory.clients:
                        break
                assert proto not in service.factory.clients, "the non-reader was never dropped"
                assert cap < spy.peak <= cap + spy.largest_write, (spy.peak, spy.largest_write)
                (event,) = log.events
                assert (event["peer"], event["action"]) == ("127.0.0.1", "closed")


@pytest_twisted.ensureDeferred
async def test_a_flood_of_telnet_commands_is_closed_and_costs_little(tmp_path: Path) -> None:
    """IAC NOP / WILL / DO from a client that never reads: closed past the budget, having had
    fewer replies queued than one per command, no option state kept, and others still served."""
    async with server(tmp_path, "--telnet-commands", "500") as service:
        with Raw(service, receive_buffer=4096) as flooder, Raw(service) as player:
            proto = await until(lambda: server_side(service, flooder), "the connection")
            wire = proto.transport
            spy = WriteSpy(wire.transport)
            commands = 0
            handle = wire.commandReceived

            def counted(command: bytes, argument: bytes | None) -> None:
                nonlocal commands
                commands += 1
                handle(command, argument)
            wire.commandReceived = counted
            options = 0
            storm = b"".join(IAC + NOP + IAC + WILL + bytes([o]) + IAC + DO + bytes([o])
                             for o in range(256))
            sent = 0
            while sent < 20_000_000 and flooder.send(storm):
                sent += len(storm)
                options = max(options, len(wire.options))
                await pause(0.001)
                if proto not in service.factory.clients:
                    break
            assert proto not in service.factory.clients, "the flooder was never closed"
            assert commands <= 500
            assert spy.peak <= 3 * 500 + 200  # a 3-byte answer each, and the goodbye
            assert options <= 1
            player.send(b"help\n")
            await player.expect(b"help [COMMAND]")


@pytest_twisted.ensureDeferred
async def test_a_telnet_flooder_that_reads_is_told_why(tmp_path: Path) -> None:
    """Past the telnet budget the client gets one line saying so, then the connection closes."""
    async with server(tmp_path) as service:
        with Raw(service) as client:
            client.send((IAC + NOP) * 3000)
            await client.expect(b"Too many telnet commands (at most 1000 an hour); goodbye.")
            await until(lambda: client.read() is not None and client.eof, "the close")


@pytest_twisted.ensureDeferred
async def test_a_five_thousand_digit_bet_is_refused_saying_the_limit(tmp_path: Path) -> None:
    """``bet`` and 5,000 digits gets an error naming the 1024-byte limit; the connection stays."""
    async with server(tmp_path) as service:
        with Raw(service) as client:
            await client.expect(b"Welcome")
            client.send(b"bet " + b"9" * 5000 + b"\r\n")
            reply = await client.expect(b"ignored\r\n")
            assert b"line too long: at most 1024 bytes a line" in reply
            assert b"goodbye" not in reply.lower()
            client.send(b"help bet\r\n")
            await client.expect(b"bet N - bet N chips")


PASSWORD = b"correct-horse-battery"


@pytest_twisted.ensureDeferred
async def test_netcat_sees_no_telnet_bytes_at_password_prompts(tmp_path: Path) -> None:
    """A client ending lines with LF gets both register prompts and the login prompt as plain
    text: no byte 0xFF anywhere."""
    async with server(tmp_path) as service:
        with Raw(service) as client:
            client.send(b"register alice\n")
            await client.expect(b"Choose a password: ")
            client.send(PASSWORD + b"\n")
            await client.expect(b"Repeat the password: ")
            client.send(PASSWORD + b"\n")
            await client.expect(b"Hello, alice")
            assert b"\xff" not in client.received
        with Raw(service) as client:
            client.send(b"login alice\n")
            await client.expect(b"Password: ")
            client.send(PASSWORD + b"\n")
            await client.expect(b"Hello, alice")
            assert b"\xff" not in client.received


@pytest_twisted.ensureDeferred
async def test_a_telnet_client_has_echo_off_from_the_first_prompt_to_the_login(
        tmp_path: Path) -> None:
    """A client that negotiates nothing but ends lines with CR LF is sent WILL ECHO before the
    first prompt, no WONT ECHO between the two, and WONT ECHO once the answer is in."""
    async with server(tmp_path) as service:
        with Raw(service) as client:
            client.send(b"register alice\r\n")
            first = await client.expect(b"Choose a password: ")
            assert first.endswith(IAC + WILL + ECHO + b"Choose a password: ")
            client.send(IAC + DO + ECHO + PASSWORD + b"\r\n")  # what telnet answers
            between = (await client.expect(b"Repeat the password: "))[len(first):]
            assert between == b"\r\nRepeat the password: "
            client.send(PASSWORD + b"\r\n")
            await client.expect(IAC + WONT + ECHO)
            await client.expect(b"Hello, alice")


@pytest_twisted.ensureDeferred
async def test_commands_over_the_rate_are_dropped_then_a_flood_is_closed(tmp_path: Path) -> None:
    """Past the burst one "slow down" and silence; thousands of lines at once are a flood,
    closed with a message."""
    async with server(tmp_path, "--rate", "5", "--burst", "20") as service:
        with Raw(service) as client:
            await client.expect(b"Welcome")
            client.send(b"who\n" * 30)
            await client.expect(b"slow down: at most 5 commands a second")
            await until(lambda: client.read().count(b"online") >= 20, "the burst's answers")
            assert client.received.count(b"slow down") == 1
            assert client.received.count(b"online") == 20
            client.send(b"who\n" * 5000)
            await client.expect(b"Too many commands too fast; goodbye.")
            await until(lambda: client.read() is not None and client.eof, "the close")


@pytest_twisted.ensureDeferred
async def test_connections_over_the_per_address_cap_are_told_why(tmp_path: Path) -> None:
    """The third connection from one address, with --max-per-ip 2, gets one line and EOF."""
    async with server(tmp_path, "--max-per-ip", "2") as service:
        with Raw(service) as first, Raw(service) as second, Raw(service) as third:
            await first.expect(b"Welcome")
            await second.expect(b"Welcome")
            await third.expect(b"Too many connections from your address (at most 2).")
            await until(lambda: third.read() is not None and third.eof, "the close")
            assert b"Welcome" not in third.received
