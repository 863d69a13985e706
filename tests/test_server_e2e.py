"""End to end: the real service on 127.0.0.1 port 0, real TCP clients, full rounds, restart."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest_twisted
from twisted.internet.defer import DeferredQueue
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.protocols.basic import LineReceiver

from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.hosting.tap import Options, makeService
from blackjack.testing import StackedShoe

from conftest import conforms, wait
from web_client import open_socket


class Client(LineReceiver):
    """A test client: records every byte and line, and waits for events."""

    delimiter = b"\r\n"

    def __init__(self) -> None:
        self.raw = bytearray()
        self.lines: list[str] = []
        self.queue: DeferredQueue[str] = DeferredQueue()
        self.closed = False

    def dataReceived(self, data: bytes) -> None:
        self.raw += data
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        text = line.decode("utf-8")
        if text.startswith("{"):
            conforms(json.loads(text))  # every event sent, whether a test awaits it or not
        self.lines.append(text)
        self.queue.put(text)

    def connectionLost(self, reason: Any = None) -> None:
        self.closed = True
        self.queue.put("")

    def say(self, text: str) -> None:
        self.sendLine(text.encode("utf-8"))

    async def expect(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next JSON event of this kind whose fields match (others are skipped)."""
        while True:
            line = await wait(self.queue.get())
            assert line or not self.closed, f"connection closed waiting for {kind} {fields}"
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            if event["event"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event
            assert event["event"] != "error" or kind == "error", event

    async def expect_text(self, fragment: str) -> str:
        """The next text line containing ``fragment``."""
        while True:
            line = await wait(self.queue.get())
            assert line or not self.closed, f"connection closed waiting for {fragment!r}"
            if fragment in line:
                return line


def start(db: str, table: str = "main:decks=1,ls", turn_time: str = "1.5") -> BlackjackService:
    """The service from the real options, on a free local port, with cheap hashing."""
    from twisted.internet import reactor

    options = Options()
    options.parseOptions(["--listen", "tcp:0:interface=127.0.0.1",
                          "--web", "tcp:0:interface=127.0.0.1", "--db", db,
                          "--table", table, "--bet-time", "5",
                          "--turn-time", turn_time, "--insurance-time", "5"])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    assert isinstance(service, BlackjackService)
    service.startService()
    return service


async def connect(service: BlackjackService) -> Client:
    """A client connected to the service."""
    from twisted.internet import reactor

    assert service.port is not None
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", service.port.getHost().port)
    return await wait(connectProtocol(endpoint, Client()))


async def enter(service: BlackjackService, verb: str, name: str, json_mode: bool = True) -> Client:
    """A client that has registered or logged in (and turned JSON on)."""
    client = await connect(service)
    await client.expect_text("Welcome")
    if json_mode:
        client.say("json on")
        await client.expect("mode", setting="json", on=True)
    password = f"secret-{name}"
    client.say(f"{verb} {name} {password}" + (f" {password}" if verb == "register" else ""))
    if json_mode:
        await client.expect("login", name=name)
    else:
        await client.expect_text(f"Hello, {name}")
    return client


def hole_card_hidden(lines: list[str], card: str, revealed: str) -> None:
    """``card`` appears in no line before the first line containing ``revealed``."""
    first = next(i for i, line in enumerate(lines) if revealed in line)
    assert not any(card in line for line in lines[:first]), (card, lines[:first])


@pytest_twisted.ensureDeferred
async def test_full_rounds_shutdown_and_restart_keep_every_chip(server_database: str) -> None:
    """Two players and a spectator play split, double, insurance, surrender and a timeout;
    a shutdown mid-round settles it; a restarted server has the same balances."""
    db = server_database
    service = start(db)
    clients: list[Client] = []
    try:
        alice = await enter(service, "register", "alice")
        bob = await enter(service, "register", "bob")
        carol = await enter(service, "register", "carol", json_mode=False)
        clients += [alice, bob, carol]
        table = service.lobby.table("main")
        carol.say("watch main")
        await carol.expect_text("You are watching table main")
        alice.say("join main")
        await alice.expect("betting")
        bob.say("join main")
        await bob.expect("joined", player="bob")

        # Round 1: dealer ace; alice insures, splits 8s and doubles; bob declines.
        table.shoe = StackedShoe("8S TS AH 8D 9C 7D 3C TC 9H")
        alice.say("bet 10")
        await alice.expect("bet", player="alice")
        bob.say("bet 10")
        await alice.expect("decide")
        alice.say("insurance")
        await bob.expect("decision", player="alice", action="insurance")
        bob.say("no")
        await alice.expect("prompt", player="alice", hand=0)
        alice.say("p")
        await alice.expect("prompt", player="alice", hand=0)
        alice.say("double")
        await alice.expect("prompt", player="alice", hand=1)
        alice.say("stand")
        await bob.expect("prompt", player="bob")
        bob.say("s")
        result = await alice.expect("result")
        assert result["net"] == {"1": 5, "2": 10}  # +20 -10 -5 insurance; 19 beats 18
        assert (await alice.expect("balance"))["balance"] == 1005
        assert (await bob.expect("balance"))["balance"] == 1010
        await carol.expect_text("Results:")

        # Round 2: alice surrenders a 20-chip bet; bob's turn times out and stands 16.
        await bob.expect("betting")
        table.shoe = StackedShoe("TS 9S 9D 6C 7H 8C")
        alice.say("bet 20")
        await alice.expect("bet", player="alice")
        bob.say("bet 10")
        await alice.expect("prompt", player="alice")
        alice.say("surrender")
        timeout = await bob.expect("timeout", player="bob")
        assert timeout["action"] == "stand"
        assert (await alice.expect("balance"))["balance"] == 995
        assert (await bob.expect("balance"))["balance"] == 1000
        await carol.expect_text("ran out of time")

        # No byte sent to anyone named a hole card before it was turned over.
        for client in (alice, bob):
            hole_card_hidden(client.lines, "7D", '"event":"reveal"')
            hole_card_hidden(client.lines, "8C", '"card":"8C","total":17')
        text = carol.raw.decode("utf-8")
        for card in ("7♦", "8♣"):
            assert text.index(card) == text.index(f"turns over {card}") + len("turns over ")

        # Round 3 is under way when the server stops: alice's hand stands and is paid.
        bob.say("quit")
        await bob.expect("bye")
        table.shoe = StackedShoe("TS 6H 9C TD 8S")
        alice.say("bet 10")
        await alice.expect("prompt", player="alice")
        stopping = service.stopService()
        await alice.expect("shutdown")
        assert (await alice.expect("balance"))["balance"] == 1005
        await alice.expect("bye")
        await wait(stopping, 10)
    finally:
        for client in clients:
            client.transport.loseConnection()
        if service.running:
            await wait(service.stopService(), 10)

    service = start(db)
    try:
        alice = await enter(service, "login", "alice")
        bob = await enter(service, "login", "bob")
        clients = [alice, bob]
        alice.say("balance")
        assert (await alice.expect("balance"))["balance"] == 1005
        bob.say("balance")
        assert (await bob.expect("balance"))["balance"] == 1000
        alice.say("history")
        history = await alice.expect("history")
        assert [h["net"] for h in history["hands"]] == [10, -10, 5]
        books = await wait(service.storage.books())
        assert books.balanced
    finally:
        for client in clients:
            client.transport.loseConnection()
        await wait(service.stopService(), 10)


@pytest_twisted.ensureDeferred
async def test_a_telnet_player_and_a_websocket_player_share_a_table_and_a_shutdown(
        tmp_path: Path) -> None:
    """Both front ends of one service: one round, the same cards, one shutdown for both."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        alice = await enter(service, "register", "alice")
        assert service.web_port is not None
        bob = await open_socket(service.web_port.getHost().port)
        await bob.call("register", name="bob", password="secret-bob")
        alice.say("join main")
        await alice.expect("betting")
        await bob.call("join", table="main")
        service.lobby.table("main").shoe = StackedShoe("TS 9H 6H 7C 9C 8D TD")
        alice.say("bet 10")
        await bob.call("bet", amount=10)
        await alice.expect("prompt", player="alice")
        alice.say("stand")
        await bob.expect("prompt", player="bob")
        await bob.call("stand")
        seen = [(await alice.expect("result"))["dealer"], (await bob.expect("result"))["dealer"]]
        assert seen == [["6H", "8D", "TD"], ["6H", "8D", "TD"]]
        stopping = service.stopService()
        await alice.expect("shutdown")
        await bob.expect("shutdown")
        await bob.expect("bye")
        await wait(bob.lost)
        await wait(stopping, 10)
        assert not service.web_front.clients and service.factory.connections.total == 0
    finally:
        if service.running:
            await wait(service.stopService(), 10)


async def _scripted_round(db: str, per_turn: bool) -> list[list[str]]:
    """Two players play one stacked round; each one's lines (less what differs by run:
    timers, round ids, balances)."""
    from blackjack.server.frontends.telnet.protocol import BlackjackProtocol

    saved = BlackjackProtocol.write_per_turn
    BlackjackProtocol.write_per_turn = per_turn
    service = start(db)
    clients: list[Client] = []
    try:
        alice = await enter(service, "register" if per_turn else "login", "alice")
        bob = await enter(service, "register" if per_turn else "login", "bob")
        clients += [alice, bob]
        table = service.lobby.table("main")
        table.shoe = StackedShoe("TS 6H 9C 5D 8S TD 3C")
        alice.say("join main")
        await alice.expect("betting")
        bob.say("join main")
        await bob.expect("joined", player="bob")
        alice.say("bet 10")
        await alice.expect("bet", player="alice")
        bob.say("bet 10")
        await alice.expect("prompt", player="alice")
        alice.say("hit")
        await bob.expect("prompt", player="bob")
        bob.say("stand")
        await alice.expect("result")
        await bob.expect("result")
        await alice.expect("betting")  # after the settlement's commit, as the balances
        await bob.expect("betting")
        alice.say("quit")
        bob.say("quit")
        await alice.expect("bye")
        await bob.expect("bye")
    finally:
        BlackjackProtocol.write_per_turn = saved
        for client in clients:
            client.transport.loseConnection()
        await wait(service.stopService(), 10)

    def plain(line: str) -> str:
        if not line.startswith("{"):
            return line
        event = json.loads(line)
        for differs in ("seconds", "round", "balance"):  # a timer; the second run's own
            event.pop(differs, None)
        return json.dumps(event, sort_keys=True)
    return [[plain(line) for line in client.lines] for client in clients]


@pytest_twisted.ensureDeferred
async def test_output_written_once_a_turn_is_what_writing_at_once_sends(
        server_database: str) -> None:
    """Holding a connection's output to the end of the reactor's turn sends every client
    the same lines, in the same order, as writing each event at once."""
    per_turn = await _scripted_round(server_database, True)
    at_once = await _scripted_round(server_database, False)
    for mine, theirs in zip(per_turn, at_once):
        assert mine == theirs, "\n".join(difflib.unified_diff(theirs, mine, lineterm=""))
    assert any('"event": "result"' in line for line in per_turn[0])
