"""TLS: a round over telnet on an ssl: endpoint, and over WSS, with a certificate made here."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet.endpoints import SSL4ClientEndpoint, connectProtocol
from twisted.internet.ssl import Certificate, optionsForClientTLS

from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.hosting.tap import Options, makeService
from blackjack.testing import StackedShoe

from certificates import make_certificate
from conftest import wait
from test_protocol_v1 import V1Client
from web_client import WSClient

# Twisted's ssl: endpoint still hands pyOpenSSL its own certificate objects.
pytestmark = pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")


def start(folder: Path) -> tuple[BlackjackService, Certificate]:
    """The service with telnet and the page both on TLS only; the CA to trust."""
    from twisted.internet import reactor

    ca, cert, key = make_certificate(folder)
    tls = f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    options = Options()
    options.parseOptions(["--listen", tls, "--web", tls, "--db", str(folder / "bj.sqlite3"),
                          "--table", "main:decks=1"])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    assert isinstance(service, BlackjackService)
    service.startService()
    service.lobby.table("main").shoe = StackedShoe("TS 6H 9C TD 8S")
    return service, Certificate.loadPEM(ca.read_bytes())


@pytest_twisted.ensureDeferred
async def test_a_round_over_telnet_on_tls(tmp_path: Path) -> None:
    """A verifying TLS client (the test's CA, the name localhost) plays a round in protocol v1."""
    from twisted.internet import reactor

    service, ca = start(tmp_path)
    try:
        assert service.port is not None
        endpoint = SSL4ClientEndpoint(reactor, "127.0.0.1", service.port.getHost().port,
                                      optionsForClientTLS("localhost", trustRoot=ca))
        client = await wait(connectProtocol(endpoint, V1Client()))
        assert (await client.call("hello", protocol=1))["ok"]
        await client.call("register", name="alice", password="pw-alice-long")
        await client.call("join", table="main")
        await client.call("bet", amount=10)
        await client.expect("prompt", player="alice")
        await client.call("stand")
        result = await client.expect("result")
        assert result["net"] == {"1": 10} and result["dealer"] == ["6H", "TD", "8S"]
        client.transport.loseConnection()
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_a_round_over_wss(tmp_path: Path) -> None:
    """A WebSocket client verifying the certificate plays a round over wss://."""
    from twisted.internet import reactor

    service, ca = start(tmp_path)
    try:
        assert service.web_port is not None
        endpoint = SSL4ClientEndpoint(reactor, "127.0.0.1", service.web_port.getHost().port,
                                      optionsForClientTLS("localhost", trustRoot=ca))
        client = await wait(connectProtocol(endpoint, WSClient(host="localhost")))
        await wait(client.opened)
        assert (await client.call("hello", protocol=1))["ok"]
        await client.call("register", name="bob", password="pw-bob-long")
        await client.call("join", table="main")
        await client.call("bet", amount=10)
        await client.expect("prompt", player="bob")
        await client.call("stand")
        result = await client.expect("result")
        assert result["net"] == {"1": 10} and result["dealer"] == ["6H", "TD", "8S"]
    finally:
        await wait(service.stopService(), 15)
