"""End to end, over real loopback sockets: logins, registrations, names, chat and seats
as a hostile or careless client meets them.

Each test starts the real service (``makeService`` from the real options) on
127.0.0.1 port 0.  Clients that must come from different addresses bind to
other loopback addresses (127.0.0.2, 127.0.0.3...), which Linux routes to the
same host.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.defer import DeferredList, ensureDeferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

from blackjack.server.core.accounts import LoginFailedError
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.hosting.tap import Options, makeService
from blackjack.testing import StackedShoe

from conftest import wait
from test_server_e2e import Client
from test_sqlite import load_v1

PASSWORD = "correct-horse"
FAILED = LoginFailedError.MESSAGE


def start(db: Path, *extra: str) -> BlackjackService:
    """The service from the real options plus ``extra``, on a free loopback port."""
    from twisted.internet import reactor

    options = Options()
    options.parseOptions(["--listen", "tcp:0:interface=127.0.0.1", "--web", "none",
                          "--db", str(db), "--table", "main:decks=1", *extra])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    assert isinstance(service, BlackjackService)
    service.startService()
    return service


async def connect(service: BlackjackService, source: str = "127.0.0.1",
                  json_mode: bool = True) -> Client:
    """A client connected from the loopback address ``source``, in JSON mode unless not."""
    from twisted.internet import reactor

    assert service.port is not None
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", service.port.getHost().port,
                                  bindAddress=(source, 0))
    client: Client = await wait(connectProtocol(endpoint, Client()))
    await client.expect_text("Welcome")
    if json_mode:
        client.say("json on")
        await client.expect("mode", setting="json", on=True)
    return client


async def reply(client: Client, *kinds: str) -> dict[str, Any]:
    """The next JSON event of one of ``kinds``, errors included."""
    while True:
        line = await wait(client.queue.get())
        assert line or not client.closed, f"connection closed waiting for {kinds}"
        if line.startswith("{"):
            event = json.loads(line)
            if event["event"] in kinds:
                return event


async def register(service: BlackjackService, name: str, source: str = "127.0.0.1") -> Client:
    """A client registered as ``name`` (password twice on the line) and logged in."""
    client = await connect(service, source)
    client.say(f"register {name} {PASSWORD} {PASSWORD}")
    await client.expect("login", name=name)
    return client


async def login(client: Client, name: str, password: str) -> dict[str, Any]:
    """Try one login on ``client``; the ``login`` or ``error`` event it gets."""
    client.say(f"login {name} {password}")
    return await reply(client, "login", "error")


async def stop(service: BlackjackService, clients: list[Client]) -> None:
    for client in clients:
        if not client.closed:
            client.transport.loseConnection()
    if service.running:
        await wait(service.stopService(), 10)


# --- item 3: a stranger's failures cannot lock the owner out ------------------------------


@pytest_twisted.ensureDeferred
async def test_guessing_from_elsewhere_never_locks_the_owner_out(tmp_path: Path) -> None:
    """With the default limits: 5 wrong passwords and 10 more tries from one address, then
    one guess from each of 10 more, leave the owner free to log in from her own address;
    the guessers (right password or not) and new addresses are held back, with one message."""
    service = start(tmp_path / "bj.sqlite3")
    clients: list[Client] = []
    try:
        owner = await register(service, "alice")
        owner.say("quit")
        await owner.expect("bye")

        stranger = await connect(service, "127.0.0.2")
        clients.append(stranger)
        # 5 wrong passwords, then 9 more tries (within the default command burst)
        messages = [(await login(stranger, "alice", f"guess-{n}"))["message"]
                    for n in range(14)]
        messages.append((await login(stranger, "alice", PASSWORD))["message"])
        assert set(messages) == {FAILED}

        home = await connect(service, "127.0.0.1")
        clients.append(home)
        assert (await login(home, "alice", PASSWORD))["event"] == "login"
        home.transport.loseConnection()

        for n in range(10):  # a spread-out guess on the one name
            guesser = await connect(service, f"127.0.0.{10 + n}")
            clients.append(guesser)
            assert (await login(guesser, "alice", f"spread-{n}"))["message"] == FAILED
        newcomer = await connect(service, "127.0.0.99")
        clients.append(newcomer)
        assert (await login(newcomer, "alice", PASSWORD))["message"] == FAILED
        home = await connect(service, "127.0.0.1")
        clients.append(home)
        assert (await login(home, "alice", PASSWORD))["event"] == "login"
    finally:
        await stop(service, clients)


# --- item 4: the per-address registration limit holds under concurrency --------------------


@pytest_twisted.ensureDeferred
async def test_nineteen_registrations_at_once_make_exactly_ten_accounts(tmp_path: Path) -> None:
    """19 clients on one address send 'register' in the same instant; the limit is 10:
    10 accounts exist afterwards, and the other 9 were told why."""
    service = start(tmp_path / "bj.sqlite3", "--registrations-per-hour", "10")
    clients: list[Client] = []
    try:
        connected = await wait(DeferredList(
            [ensureDeferred(connect(service)) for _ in range(19)], fireOnOneErrback=True))
        clients = [client for _, client in connected]
        for n, client in enumerate(clients):
            client.say(f"register racer{n:02d} {PASSWORD} {PASSWORD}")
        replies = [await reply(client, "login", "error") for client in clients]
        assert sorted(r["event"] for r in replies) == ["error"] * 9 + ["login"] * 10
        assert {r["message"] for r in replies if r["event"] == "error"} == {
            "too many new accounts from your address; try again later"}
        made = [await wait(service.storage.get_account(f"racer{n:02d}")) for n in range(19)]
        assert sum(account is not None for account in made) == 10
        assert (await wait(service.storage.books())).issued == 10 * 1000
    finally:
        await stop(service, clients)


# --- item 5: silent seats free up; idle players are stood up ----------------------------------


@pytest_twisted.ensureDeferred
async def test_seven_silent_players_are_stood_up_and_the_table_frees(tmp_path: Path) -> None:
    """Seven players fill the table and never bet; a newcomer is told it is full; after
    --missed-rounds windows each is stood up (told why, chips untouched) and she sits."""
    service = start(tmp_path / "bj.sqlite3", "--bet-time", "2", "--missed-rounds", "2")
    clients: list[Client] = []
    try:
        silent = [await register(service, f"quiet{n}") for n in range(7)]
        clients += silent
        for client in silent:
            client.say("join main")
        for n, client in enumerate(silent):
            await client.expect("joined", player=f"quiet{n}")  # seats in order of arrival
        newcomer = await register(service, "newcomer")
        clients.append(newcomer)
        newcomer.say("join main")
        assert "table main is full" in (await reply(newcomer, "error"))["message"]
        newcomer.say("watch main")
        await newcomer.expect("watching")
        left = [await newcomer.expect("left", reason="missed rounds") for _ in silent]
        assert sorted(e["player"] for e in left) == [f"quiet{n}" for n in range(7)]
        for client in silent:
            told = await reply(client, "info")
            while "did not bet for 2 betting windows" not in told["message"]:
                told = await reply(client, "info")
        newcomer.say("leave")
        newcomer.say("join main")
        await newcomer.expect("joined", player="newcomer", seat=1)
        books = await wait(service.storage.books())
        assert books.balanced and books.escrow == 0 and books.balances == 8 * 1000
    finally:
        await stop(service, clients)


@pytest_twisted.ensureDeferred
async def test_an_idle_player_mid_hand_is_stood_up_and_paid_and_a_watcher_closed(
        tmp_path: Path) -> None:
    """Silent for --table-idle-timeout with a hand in play: the hand stands and is paid,
    then the connection closes with the reason; a silent watcher is closed too."""
    service = start(tmp_path / "bj.sqlite3", "--table-idle-timeout", "1",
                    "--bet-time", "30", "--turn-time", "30")
    clients: list[Client] = []
    try:
        alice = await register(service, "alice")
        carol = await register(service, "carol")
        clients += [alice, carol]
        carol.say("watch main")
        await carol.expect("watching")
        alice.say("join main")
        await alice.expect("betting")
        service.lobby.table("main").shoe = StackedShoe("TS 6H 9C TD 8S")
        alice.say("bet 10")
        await alice.expect("prompt", player="alice")  # 19 against a 6; then silence
        bye = await alice.expect("bye")
        assert bye["message"].startswith("Idle at table main for 1 seconds: you are stood up")
        assert (await carol.expect("bye"))["message"].startswith("Idle at table main")
        account = await wait(service.storage.get_account("alice"))
        assert account is not None and account.balance == 1010  # stood on 19; dealer busts
        books = await wait(service.storage.books())
        assert books.balanced and books.escrow == 0
        assert service.lobby.table("main").seats == {}
    finally:
        await stop(service, clients)


# --- item 7: names and chat cannot pass for the server or for someone else -------------------


@pytest_twisted.ensureDeferred
async def test_names_that_pose_as_the_server_or_another_player_are_refused(
        tmp_path: Path) -> None:
    """'Dealer', 'Y0u', 'Results' are kept for the server; 'aIice' is taken by 'alice'."""
    service = start(tmp_path / "bj.sqlite3")
    clients: list[Client] = []
    try:
        clients.append(await register(service, "alice"))
        client = await connect(service)
        clients.append(client)
        for name in ("Dealer", "Y0u", "Results", "SEAT"):
            client.say(f"register {name} {PASSWORD} {PASSWORD}")
            assert "kept for the server's own messages" in (await reply(client, "error"))[
                "message"]
        client.say(f"register aIice {PASSWORD} {PASSWORD}")
        assert (await reply(client, "error"))["message"] == (
            "the name 'aIice' looks too much like 'alice', which is taken; choose another")
        for name in ("Dealer", "aIice"):
            assert await wait(service.storage.get_account(name)) is None
    finally:
        await stop(service, clients)


@pytest_twisted.ensureDeferred
async def test_chat_reaches_others_with_nothing_hidden_stacked_or_padded(
        tmp_path: Path) -> None:
    """Bidi marks, zero-width and tag characters are gone, combining floods capped and
    space runs collapsed, in text and in JSON; a long line wraps with the speaker on
    every piece, so no chat line reads as the dealer's."""
    service = start(tmp_path / "bj.sqlite3")
    clients: list[Client] = []
    try:
        alice = await register(service, "alice")
        carol = await register(service, "carol")
        bob = await connect(service, json_mode=False)
        clients += [alice, carol, bob]
        bob.say(f"register bob {PASSWORD} {PASSWORD}")
        await bob.expect_text("Hello, bob")
        alice.say("join main")
        await alice.expect("joined", player="alice")
        carol.say("watch main")
        await carol.expect("watching")
        bob.say("watch main")
        await bob.expect_text("You are watching table main")

        alice.say("say gg\u200e\u200f\u061c\u200b\u2060\U000e0041\U000e007f"
                  + " " * 60 + "Dealer has blackjack")
        assert await bob.expect_text("[main] alice:") == "[main] alice: gg Dealer has blackjack"
        assert (await carol.expect("say"))["text"] == "gg Dealer has blackjack"

        alice.say("say Z" + "\u0336" * 40 + "algo\u3000\u3164\u00a0 text")
        assert await bob.expect_text("[main] alice:") == \
            "[main] alice: Z\u0336\u0336algo text"

        alice.say("say " + "x" * 66 + " Dealer has blackjack: A\u2660 K\u2660.")
        first = await bob.expect_text("[main] alice:")
        second = await bob.expect_text("Dealer has blackjack")
        assert first == "[main] alice: " + "x" * 65
        assert second == "[main] alice: x Dealer has blackjack: A\u2660 K\u2660."
    finally:
        await stop(service, clients)


# --- item 8: 'register John Smith', and passwords of at least 8 characters ---------------------


@pytest_twisted.ensureDeferred
async def test_register_with_a_spaced_name_makes_nothing_and_says_how(tmp_path: Path) -> None:
    """'register John Smith' makes no account and says what to type; 'register John' asks
    for the password twice, refusing one under 8 characters, then makes the account."""
    service = start(tmp_path / "bj.sqlite3")
    clients: list[Client] = []
    try:
        client = await connect(service)
        clients.append(client)
        client.say("register John Smith")
        message = (await reply(client, "error"))["message"]
        assert message.startswith("no account made: a name is one word")
        assert "register NAME PASSWORD PASSWORD" in message and "Smith" not in message
        assert await wait(service.storage.get_account("John")) is None

        client.say("register John")
        await client.expect("prompt_password", prompt="Choose a password:")
        client.say("Smith")
        await client.expect("prompt_password", prompt="Repeat the password:")
        client.say("Smith")
        assert (await reply(client, "error"))["message"] == \
            "a password is 8 to 72 characters"
        client.say("register John")
        await client.expect("prompt_password")
        client.say("Smith family")
        await client.expect("prompt_password")
        client.say("Smith family")
        await client.expect("login", name="John")
    finally:
        await stop(service, clients)


@pytest_twisted.ensureDeferred
async def test_a_database_from_the_first_release_works_with_its_short_passwords(
        tmp_path: Path) -> None:
    """A version 1 file (4-character passwords, 'alice' beside 'aIice') is upgraded at
    start; every account logs in with its old password; a new look-alike is refused."""
    db = tmp_path / "v1.sqlite3"
    load_v1(db)
    service = start(db)
    clients: list[Client] = []
    try:
        for name, password, balance in (("alice", "abcd", 1010), ("aIice", "efgh", 980),
                                        ("Dealer", "ijkl", 1000)):
            client = await connect(service)
            clients.append(client)
            event = await login(client, name, password)
            assert (event["event"], event.get("balance")) == ("login", balance), event
        newcomer = await connect(service)
        clients.append(newcomer)
        newcomer.say(f"register a1ice {PASSWORD} {PASSWORD}")
        assert "looks too much like 'alice'" in (await reply(newcomer, "error"))["message"]
    finally:
        await stop(service, clients)
