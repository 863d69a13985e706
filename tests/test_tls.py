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


async def play_a_round(client: V1Client | WSClient, name: str) -> None:
    """hello, register, join, bet 10, stand on 19: the dealer busts and the bet is won."""
    assert (await client.call("hello", protocol=1))["ok"]
    assert (await client.call("register", name=name, password=f"pw-{name}-long"))["ok"]
    await client.call("join", table="main")
    await client.call("bet", amount=10)
    await client.expect("prompt", player=name)
    await client.call("stand")
    result = await client.expect("result")
    assert result["net"] == {"1": 10} and result["dealer"] == ["6H", "TD", "8S"]


@pytest.mark.parametrize("door", ["telnet", "websocket"])
@pytest_twisted.ensureDeferred
async def test_a_round_over_tls(tmp_path: Path, door: str) -> None:
    """A client verifying the test's CA and the name localhost plays a round: telnet on an
    ssl: endpoint, or a WebSocket over wss:// (the page's port on TLS)."""
    from twisted.internet import reactor

    service, ca = start(tmp_path)
    try:
        port = service.port if door == "telnet" else service.web_port
        assert port is not None
        endpoint = SSL4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port,
                                      optionsForClientTLS("localhost", trustRoot=ca))
        client: V1Client | WSClient
        if door == "telnet":
            client = await wait(connectProtocol(endpoint, V1Client()))
        else:
            client = await wait(connectProtocol(endpoint, WSClient(host="localhost")))
            await wait(client.opened)
        await play_a_round(client, "alice")
        client.transport.loseConnection()
    finally:
        await wait(service.stopService(), 15)
