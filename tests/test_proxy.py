"""Behind a load balancer: the PROXY header's client address is what limits and sessions see.

Real loopback sockets play the balancer: each connection first sends a PROXY
header (v2, as HAProxy's ``send-proxy-v2``, or v1) naming a made-up client.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from blackjack.server.hosting import proxy
from blackjack.server.hosting.service import BlackjackService

from test_hostile_wire import Raw, pause, server, until

BEHIND = "haproxy:tcp:0:interface=127.0.0.1"


def v2_header(client: str, port: int = 40000) -> bytes:
    """A PROXY protocol v2 header for a TCP/IPv4 connection from ``client``."""
    body = (socket.inet_aton(client) + socket.inet_aton("127.0.0.1")
            + struct.pack("!HH", port, 8023))
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def v1_header(client: str) -> bytes:
    """A PROXY protocol v1 (text) header."""
    return f"PROXY TCP4 {client} 127.0.0.1 40000 8023\r\n".encode()


class Proxied(Raw):
    """A raw client of the service's PROXY port (its second telnet port)."""

    def __init__(self, service: BlackjackService, header: bytes = b"") -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", service.ports[1].getHost().port), timeout=5)
        self.sock.setblocking(False)
        self.received = b""
        self.eof = False
        if header:
            self.send(header)


def peers(service: BlackjackService) -> list[str]:
    """The address each live connection's session holds, sorted."""
    return sorted(c.conversation.session.peer for c in service.factory.clients
                  if c.conversation is not None)


@pytest_twisted.ensureDeferred
async def test_the_per_address_cap_counts_clients_not_the_balancer(tmp_path: Path) -> None:
    """With --max-per-ip 1, two clients through the balancer both get in; a second
    connection from one of them is refused; sessions hold the clients' addresses."""
    async with server(tmp_path, "--listen", BEHIND, "--max-per-ip", "1") as service:
        with Proxied(service, v2_header("203.0.113.7")) as ann, \
                Proxied(service, v2_header("198.51.100.9")) as bob:
            await ann.expect(b"Welcome")
            await bob.expect(b"Welcome")
            assert peers(service) == ["198.51.100.9", "203.0.113.7"]
            with Proxied(service, v2_header("203.0.113.7")) as again:
                await again.expect(b"Too many connections from your address (at most 1).")


@pytest_twisted.ensureDeferred
async def test_a_v1_header_split_over_packets_is_read(tmp_path: Path) -> None:
    """A text (v1) header arriving in pieces, with the first command behind it, works."""
    async with server(tmp_path, "--listen", BEHIND) as service:
        header = v1_header("192.0.2.44")
        with Proxied(service, header[:3]) as client:
            await pause(0.05)
            client.send(header[3:20])
            await pause(0.05)
            client.send(header[20:] + b"help hit\r\n")
            await client.expect(b"Welcome")
            await client.expect(b"hit (h) - take a card")
            assert peers(service) == ["192.0.2.44"]


@pytest_twisted.ensureDeferred
async def test_a_connection_without_a_header_is_dropped_unheard(tmp_path: Path) -> None:
    """Something that is not the balancer (no PROXY header) is closed without a word."""
    async with server(tmp_path, "--listen", BEHIND) as service:
        with Proxied(service, b"login alice secret\r\n") as stranger:
            await until(lambda: stranger.read() is not None and stranger.eof, "the close")
            assert stranger.received == b"" and peers(service) == []


@pytest_twisted.ensureDeferred
async def test_a_connection_that_never_sends_its_header_is_dropped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection that stays silent is closed when the header's time is up."""
    monkeypatch.setattr(proxy.ProxyHeaderFactory, "timeout", 0.2)
    async with server(tmp_path, "--listen", BEHIND) as service:
        with Proxied(service) as silent:
            await until(lambda: silent.read() is not None and silent.eof, "the close")
            assert silent.received == b""


@pytest_twisted.ensureDeferred
async def test_the_web_page_is_served_behind_the_balancer(tmp_path: Path) -> None:
    """``--web haproxy:...`` serves the page once the header is read."""
    from twisted.internet import reactor

    from blackjack.server.core.passwords import FAST_INSECURE
    from blackjack.server.hosting.tap import Options, makeService

    options = Options()
    options.parseOptions(["--listen", "none", "--web", BEHIND,
                          "--db", str(tmp_path / "bj.sqlite3")])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    assert isinstance(service, BlackjackService)
    service.startService()
    try:
        client: Any = Raw.__new__(Raw)
        client.sock = socket.create_connection(
            ("127.0.0.1", service.web_ports[0].getHost().port), timeout=5)
        client.sock.setblocking(False)
        client.received, client.eof = b"", False
        client.send(v2_header("203.0.113.50")
                    + b"GET / HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n")
        head = await client.expect(b"\r\n\r\n")
        client.close()
        assert head.startswith(b"HTTP/1.1 200"), head
    finally:
        await service.stopService().addTimeout(10, reactor)
