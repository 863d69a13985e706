"""The connection protocol over StringTransport: login prompts, dispatch, JSON mode, takeover."""

from __future__ import annotations

import re

import json
from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransportWithDisconnection

from blackjack.rules import Rules
from blackjack.server.core.accounts import Accounts
from blackjack.server.frontends.limits import Limits
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.core.session import Session
from blackjack.server.errors import CommandError
from blackjack.server.frontends.requests import parse_bet
from blackjack.server.frontends.telnet.protocol import BlackjackFactory, BlackjackProtocol
from blackjack.server.core.table import Table, Timers
from blackjack.server.frontends.telnet.wire import TelnetWire
from blackjack.testing import StackedShoe

from conftest import wait



class Conn:
    """One client connection on a string transport."""

    def __init__(self, factory: BlackjackFactory, host: str = "10.0.0.1") -> None:
        self.transport = StringTransportWithDisconnection(
            peerAddress=IPv4Address("TCP", host, 40000))
        self.wire = factory.buildProtocol(self.transport.getPeer())
        self.transport.protocol = self.wire
        self.wire.makeConnection(self.transport)
        proto = self.wire.protocol
        assert isinstance(proto, BlackjackProtocol)
        self.proto = proto

    def send(self, data: bytes | str) -> None:
        self.wire.dataReceived(data if isinstance(data, bytes) else data.encode() + b"\r\n")

    def text(self) -> str:
        return self.transport.value().decode("utf-8", "replace")


def make_factory(storage: Any, limits: Limits = Limits(),
                 timers: Timers = Timers()) -> BlackjackFactory:
    """A card room with one single-deck table on a fake clock and cheap password hashing.

    The table's timers and the connections' limits run on separate Clocks, so
    advancing ``factory.clock`` (idle and rate limits) deals no cards.
    """
    table = Table("main", Rules(decks=1), storage, Clock(), timers,
                  shoe=StackedShoe("TS 6H 9C TD 8S"))
    accounts = Accounts(storage, Clock(), hasher=FAST_INSECURE)
    return BlackjackFactory(Lobby([table]), accounts, storage, limits, Clock())


@pytest.fixture
def factory(storage: Any) -> BlackjackFactory:
    """A card room with the default limits."""
    return make_factory(storage)


async def until(condition: Callable[[], bool]) -> None:
    """Wait (on the real reactor: hashing runs in threads) until ``condition`` holds."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    for _ in range(500):
        if condition():
            return
        await deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("condition never held")


def inline(verb: str, name: str) -> str:
    """``register``/``login`` with the password on the same line (twice to register)."""
    password = f"password-{name}"
    return f"{verb} {name} {password}" + (f" {password}" if verb == "register" else "")


async def logged_in(factory: BlackjackFactory, name: str, verb: str = "register") -> Conn:
    """A connection logged in as ``name`` (password on the same line)."""
    conn = Conn(factory)
    conn.send(inline(verb, name))
    await until(lambda: f"Hello, {name}" in conn.text())
    return conn


def test_welcome_and_unknown_command(factory: BlackjackFactory) -> None:
    """A new connection is greeted, and an unknown command gets one line saying what to type."""
    conn = Conn(factory)
    assert "Welcome" in conn.text()
    conn.transport.clear()
    conn.send("fold")
    assert conn.text() == "! unknown command 'fold'; type 'help' for the list of commands\r\n"


def test_game_commands_need_a_login(factory: BlackjackFactory) -> None:
    """Before logging in, game commands say how to log in."""
    conn = Conn(factory)
    conn.transport.clear()
    conn.send("h")
    assert "log in first: type 'login NAME' or 'register NAME'" in conn.text()


def test_help_for_one_command_shows_its_usage(factory: BlackjackFactory) -> None:
    """``help bet`` explains the bet command, and ``help`` lists every command."""
    conn = Conn(factory)
    conn.send("help bet")
    assert "bet N - bet N chips in the betting window" in conn.text()
    conn.send("help")
    for word in ("register", "join TABLE", "surrender (r)", "json on|off", "quit"):
        assert word in conn.text()


def test_kept_help_answers_are_what_help_says_afresh(factory: BlackjackFactory) -> None:
    """``help`` answers kept per words asked equal help_lines made anew, typed and in
    v1, for any words (and the kept answers stay bounded)."""
    from blackjack.server.core.session import help_lines
    from blackjack.server.frontends import conversation as module
    from blackjack.server.frontends.conversation import Mode

    conn = Conn(factory)
    talk = conn.proto.conversation
    assert talk is not None
    module._HELP.clear()
    for mode, where in ((Mode.TEXT, "text"), (Mode.V1, "v1")):
        talk.mode = mode
        for word in (None, "bet", "hit", "tables", "HIT extra words"):
            for _ in range(2):  # made, then kept
                assert talk._own_help(word)["lines"] == help_lines(word, where)
    for n in range(module._MOST_HELP + 10):
        talk._own_help(f"bet {n}")
    assert len(module._HELP) <= module._MOST_HELP


def test_json_mode_sends_one_object_per_line(factory: BlackjackFactory) -> None:
    """After ``json on`` every line is a JSON object, errors included."""
    conn = Conn(factory)
    conn.send("json on")
    conn.transport.clear()
    conn.send("tables")
    conn.send("bogus")
    lines = conn.text().split("\r\n")[:-1]
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == ["tables", "error"]
    assert events[0]["tables"][0]["name"] == "main"


@pytest_twisted.ensureDeferred
async def test_register_asks_for_the_password_with_echo_off_for_telnet(
        factory: BlackjackFactory) -> None:
    """A telnet client is asked twice for a new password with echo off, then logged in."""
    conn = Conn(factory)
    conn.send(b"\xff\xfb\x18")  # the client offers TERMINAL-TYPE: it speaks telnet
    conn.transport.clear()
    conn.send("register alice")
    assert conn.transport.value().endswith(b"\xff\xfb\x01Choose a password: ")
    conn.send(b"\xff\xfd\x01hunter22\r\n")
    assert conn.text().endswith("Repeat the password: ")
    conn.send("hunter22")
    await until(lambda: "Hello, alice. You have 1000 chips." in conn.text())
    assert b"\xff\xfc\x01" in conn.transport.value()  # WONT ECHO: echo is back on


def test_netcat_login_prompt_sends_no_telnet_bytes(factory: BlackjackFactory) -> None:
    """A client that never spoke telnet and ends lines with LF gets a plain prompt, no IAC bytes."""
    conn = Conn(factory)
    conn.send(b"login alice\n")
    assert conn.text().endswith("Password: ")
    assert b"\xff" not in conn.transport.value()


@pytest_twisted.ensureDeferred
async def test_a_wrong_password_gets_the_uniform_failure(factory: BlackjackFactory) -> None:
    """A bad password is refused with one error line and the connection stays usable."""
    (await logged_in(factory, "alice")).transport.loseConnection()
    conn = Conn(factory)
    conn.send("login alice wrong-password")
    await until(lambda: "! " in conn.text())
    assert conn.proto.player is None
    assert conn.transport.connected


@pytest_twisted.ensureDeferred
async def test_logging_in_again_takes_over_the_seat(factory: BlackjackFactory) -> None:
    """A second login closes the first connection with a reason and keeps the seat."""
    first = await logged_in(factory, "alice")
    first.send("join main")
    assert "You sit down at table main, seat 1." in first.text()
    second = await logged_in(factory, "alice", verb="login")
    assert "You logged in from another connection" in first.text()
    assert not first.transport.connected
    assert "You are back at table main, seat 1." in second.text()
    assert factory.lobby.table("main").seats[1].client is second.proto.conversation


@pytest_twisted.ensureDeferred
async def test_malformed_bets_and_joins_say_what_to_type(factory: BlackjackFactory) -> None:
    """A malformed bet or join gets its usage line."""
    conn = await logged_in(factory, "alice")
    conn.send("bet ten")
    assert "! 'ten' is not a whole number of chips: use digits only, e.g. bet 10" in conn.text()
    conn.send("join nowhere")
    assert "! no table 'nowhere'; tables: main" in conn.text()
    conn.send("hit")
    assert "! you are not at a table; type 'tables', then 'join TABLE'" in conn.text()


@pytest_twisted.ensureDeferred
async def test_a_text_round_shows_the_table_and_legal_moves(factory: BlackjackFactory) -> None:
    """On your turn the text view shows the hands and the moves; aliases play them."""
    conn = await logged_in(factory, "alice")
    conn.send("join main")
    conn.send("bet 10")
    await until(lambda: "Your move" in conn.text())
    assert "Dealer: 6♥ ??" in conn.text()
    assert "Your move (30s): hit, stand, double >" in conn.text()
    conn.send("ascii on")
    conn.send("s")
    await until(lambda: "Balance: 1010 chips." in conn.text())
    assert "The dealer turns over TD: 16." in conn.text()
    assert "You: TS 9C (19) win, +10" in conn.text()


@pytest_twisted.ensureDeferred
async def test_chat_reaches_the_table_without_escape_codes(factory: BlackjackFactory) -> None:
    """``say`` reaches everyone at the table, with terminal escapes stripped."""
    alice = await logged_in(factory, "alice")
    bob = await logged_in(factory, "bob")
    alice.send("join main")
    bob.send("watch main")
    alice.send(b"say hi \x1b[31mall\r\n")
    assert "[main] alice: hi [31mall" in bob.text()
    assert "\x1b" not in bob.text()


@pytest_twisted.ensureDeferred
async def test_dropping_the_connection_holds_the_seat(factory: BlackjackFactory) -> None:
    """A player whose connection drops keeps the seat, shown as disconnected in who."""
    alice = await logged_in(factory, "alice")
    alice.send("join main")
    alice.transport.loseConnection()
    bob = await logged_in(factory, "bob")
    bob.send("who")
    assert "alice            table main seat 1 (disconnected)" in bob.text()


def test_the_factory_wraps_connections_in_telnet(factory: BlackjackFactory) -> None:
    """Every connection is a TelnetWire around a BlackjackProtocol, tracked by the factory."""
    conn = Conn(factory)
    assert isinstance(conn.wire, TelnetWire)
    assert factory.clients == {conn.proto}
    conn.transport.loseConnection()
    assert factory.clients == set()


@pytest_twisted.ensureDeferred
async def test_hint_gives_the_basic_strategy_move(factory: BlackjackFactory) -> None:
    """``hint`` on your turn names the basic-strategy play (stand on 19 against a 6)."""
    conn = await logged_in(factory, "alice")
    conn.send("hint")
    assert "! you are not at a table" in conn.text()
    conn.send("join main")
    conn.send("bet 10")
    await until(lambda: "Your move" in conn.text())
    conn.send("hint")
    assert "Best play: stand." in conn.text()
    # 19 against a 6: standing is worth about +0.50 a chip, hitting far less.
    values = re.search(r"Expected return per chip bet: stand \+0\.(\d+), hit -0\.(\d+)", conn.text())
    assert values is not None, conn.text()
    assert 0.45 < float("0." + values.group(1)) < 0.55


@pytest.mark.parametrize("typed, message", [
    ("", "usage: bet N, a whole number of chips, e.g. bet 10"),
    ("0", "a bet must be at least 1 chip, e.g. bet 10"),
    ("000", "a bet must be at least 1 chip, e.g. bet 10"),
    ("-5", "a bet must be a positive number of chips, e.g. bet 10"),
    ("010", "write the bet without leading zeros, e.g. bet 10"),
    ("1e9", "'1e9' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("0x10", "'0x10' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("NaN", "'NaN' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("inf", "'inf' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("10.5", "'10.5' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("+10", "'+10' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("1_000", "'1_000' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("10 20", "'10 20' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("\u0663", "'\u0663' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("\u00b2", "'\u00b2' is not a whole number of chips: use digits only, e.g. bet 10"),
    ("12345678901", "12345678901 chips is far more than any table takes; "
                    "type 'tables' to see the bet limits"),
    ("9" * 5000, "99999999999999999999... chips is far more than any table takes; "
                 "type 'tables' to see the bet limits"),
])
def test_a_bad_bet_gets_one_clear_error(typed: str, message: str) -> None:
    """Only 1 to 10 ASCII digits without a leading zero are a bet; each bad form says why."""
    with pytest.raises(CommandError) as caught:
        parse_bet(typed)
    assert str(caught.value) == message


@pytest.mark.parametrize("typed, amount", [("1", 1), ("10", 10), ("9999999999", 9999999999)])
def test_a_good_bet_is_its_number(typed: str, amount: int) -> None:
    """Positive whole numbers of up to ten digits parse to themselves."""
    assert parse_bet(typed) == amount


@pytest_twisted.ensureDeferred
async def test_a_bad_bet_at_the_table_is_one_error_line(factory: BlackjackFactory) -> None:
    """Over the wire, ``bet 1e9`` is answered with exactly one error line."""
    conn = await logged_in(factory, "alice")
    conn.send("join main")
    conn.transport.clear()
    conn.send("bet 1e9")
    assert conn.text() == ("! '1e9' is not a whole number of chips: "
                           "use digits only, e.g. bet 10\r\n")


def refused(factory: BlackjackFactory, host: str) -> StringTransportWithDisconnection:
    """The transport of a connection the factory should refuse."""
    transport = StringTransportWithDisconnection(peerAddress=IPv4Address("TCP", host, 1))
    transport.protocol = factory.buildProtocol(transport.getPeer())
    transport.protocol.makeConnection(transport)
    return transport


def test_connections_over_the_per_ip_cap_are_told_and_closed(storage: Any) -> None:
    """The connection over --max-per-ip gets one line saying why; other addresses still get in."""
    factory = make_factory(storage, Limits(max_per_ip=2))
    first, second = Conn(factory), Conn(factory)
    third = refused(factory, "10.0.0.1")
    assert third.value() == (b"Too many connections from your address "
                             b"(at most 2). Close one and try again.\r\n")
    assert not third.connected
    assert "Welcome" in Conn(factory, host="10.0.0.2").text()
    first.transport.loseConnection()
    assert "Welcome" in Conn(factory).text()
    assert factory.connections.from_host("10.0.0.1") == 2
    second.transport.loseConnection()
    assert factory.connections.total == 2


def test_the_total_connection_cap_refuses_everyone_past_it(storage: Any) -> None:
    """Past --max-connections every new connection is told the room is full."""
    factory = make_factory(storage, Limits(max_connections=2, max_per_ip=0))
    Conn(factory, host="10.0.0.1")
    Conn(factory, host="10.0.0.2")
    transport = refused(factory, "10.0.0.3")
    assert transport.value() == b"Sorry, the card room is full. Please try again later.\r\n"
    assert factory.clients and len(factory.clients) == 2


def test_a_connection_that_never_logs_in_is_closed_when_idle(storage: Any) -> None:
    """Silence before login for --idle-timeout seconds closes the connection with a reason."""
    factory = make_factory(storage, Limits(idle_timeout=60))
    conn = Conn(factory)
    factory.clock.advance(59)
    conn.send("help")  # any line restarts the count
    factory.clock.advance(59)
    assert conn.transport.connected
    factory.clock.advance(2)
    assert "Not logged in for 60 seconds; goodbye." in conn.text()
    assert not conn.transport.connected
    assert factory.clients == set()


@pytest_twisted.ensureDeferred
async def test_idle_in_the_lobby_is_closed_but_at_a_table_is_not(storage: Any) -> None:
    """A logged-in player idle in the lobby is closed; seated and watching players stay
    (until the table's own, longer, idle timeout)."""
    factory = make_factory(storage, Limits(idle_timeout=60), Timers(idle=1800))
    lobby_idler = await logged_in(factory, "alice")
    seated = await logged_in(factory, "bob")
    seated.send("join main")
    watcher = await logged_in(factory, "carol")
    watcher.send("watch main")
    factory.clock.advance(61)
    assert "Idle in the lobby for 60 seconds; goodbye." in lobby_idler.text()
    assert not lobby_idler.transport.connected
    factory.clock.advance(600)
    assert seated.transport.connected and watcher.transport.connected


@pytest_twisted.ensureDeferred
async def test_idle_at_a_table_stands_up_and_closes(storage: Any) -> None:
    """Silent for --table-idle-timeout at a table: the seat frees, the watcher goes,
    both are told why and closed; a command in time restarts the count."""
    factory = make_factory(storage, Limits(idle_timeout=60), Timers(idle=120))
    seated = await logged_in(factory, "bob")
    seated.send("join main")
    watcher = await logged_in(factory, "carol")
    watcher.send("watch main")
    table = factory.lobby.table("main")
    factory.clock.advance(100)
    watcher.send("look")
    factory.clock.advance(21)
    await until(lambda: not seated.transport.connected)
    assert "Idle at table main for 120 seconds: you are stood up" in seated.text()
    assert "bob leaves seat 1 (idle)." in watcher.text()
    assert table.seats == {} and watcher.transport.connected
    factory.clock.advance(100)
    await until(lambda: not watcher.transport.connected)
    assert table.spectators == frozenset()
    assert factory.clients == set()


@pytest_twisted.ensureDeferred
async def test_an_idle_player_in_a_hand_is_stood_up_and_paid(storage: Any) -> None:
    """The idle timer never costs a hand: it stands, settles as on 'leave', then the goodbye."""
    factory = make_factory(storage, Limits(idle_timeout=0), Timers(idle=120))
    conn = await logged_in(factory, "alice")
    conn.send("join main")
    conn.send("bet 10")
    await until(lambda: "Your move" in conn.text())  # 19 against a 6
    factory.clock.advance(121)
    await until(lambda: not conn.transport.connected)
    assert "You leave table main." in conn.text()
    assert "Idle at table main for 120 seconds" in conn.text()
    account = await wait(storage.get_account("alice"))
    assert await wait(storage.balance(account.id)) == 1010  # dealer 16 draws 8 and busts
    assert (await wait(storage.books())).escrow == 0


@pytest_twisted.ensureDeferred
async def test_chat_has_its_own_tighter_rate(storage: Any) -> None:
    """Chat past --chat-burst is dropped with one "slow down"; a second later it flows again."""
    factory = make_factory(storage, Limits(chat_rate=1, chat_burst=3))
    alice = await logged_in(factory, "alice")
    bob = await logged_in(factory, "bob")
    alice.send("join main")
    bob.send("watch main")
    for i in range(6):
        alice.send(f"say line {i}")
    assert [f"line {i}" in bob.text() for i in range(6)] == [True] * 3 + [False] * 3
    assert alice.text().count("! slow down: at most 1 chat lines a second") == 1
    alice.send("who")
    assert "2 online:" in alice.text()  # other commands are not held back
    factory.clock.advance(1)
    alice.send("say line 6")
    assert "line 6" in bob.text()


def test_the_rate_warning_is_an_error_event_in_json_mode(storage: Any) -> None:
    """A JSON client over the rate gets a JSON error event, not a bare text line."""
    factory = make_factory(storage, Limits(rate=1, burst=2))
    conn = Conn(factory)
    conn.send("json on")
    conn.transport.clear()
    conn.send(b"who\nwho\nwho\n")
    events = [json.loads(line) for line in conn.text().split("\r\n")[:-1]]
    assert [e["event"] for e in events] == ["who", "error"]
    assert events[1]["message"].startswith("slow down")


def test_a_bug_in_a_command_is_answered_not_fatal(
        factory: BlackjackFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception in a command is logged and answered; the connection lives."""
    from twisted.logger import globalLogPublisher

    conn = Conn(factory)
    monkeypatch.setattr(Session, "cmd_who", lambda self: 1 / 0)
    logged: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(logged.append)
    try:
        conn.send("who")
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert "! something went wrong on the server; please try again" in conn.text()
    assert conn.transport.connected
    assert any(e.get("log_failure") is not None for e in logged)


def test_answers_to_a_pipelined_packet_go_out_in_one_write(factory: BlackjackFactory) -> None:
    """Commands that arrive in one packet are answered in order, with one write to the socket."""
    conn = Conn(factory)
    conn.send("json on")
    writes: list[bytes] = []
    write = conn.transport.write
    conn.transport.write = lambda data: (writes.append(data), write(data))  # type: ignore[method-assign]
    conn.wire.dataReceived(b"help hit\r\nhelp stand\r\nfold\r\n")
    assert len(writes) == 1
    events = [json.loads(line) for line in writes[0].decode().splitlines()]
    assert [e["event"] for e in events] == ["help", "help", "error"]
    assert events[0]["lines"][0].startswith("hit") and events[1]["lines"][0].startswith("stand")


def test_quit_in_a_pipelined_packet_says_goodbye_and_ignores_the_rest(factory: BlackjackFactory) -> None:
    """Output held back for the packet is sent before the hang-up; later lines are not run."""
    conn = Conn(factory)
    conn.transport.clear()
    conn.wire.dataReceived(b"help quit\r\nquit\r\nhelp hit\r\n")
    text = conn.text()
    assert text.index("quit - leave") < text.index("Goodbye!")
    assert "take a card" not in text
    assert not conn.transport.connected


@pytest_twisted.ensureDeferred
async def test_a_connection_makes_all_its_attributes_up_front(factory: BlackjackFactory) -> None:
    """No attribute is added to a connection after __init__, so every connection shares one key table."""
    made: list[set[str]] = []
    original = BlackjackProtocol.__init__

    def recording(self: BlackjackProtocol, *args: Any) -> None:
        original(self, *args)
        made.append(set(vars(self)))

    BlackjackProtocol.__init__ = recording  # type: ignore[method-assign]
    try:
        conn = await logged_in(factory, "alice")
    finally:
        BlackjackProtocol.__init__ = original  # type: ignore[method-assign]
    for line in ("json on", "help hit", "join main", "bet 10", "hint", "say hi", "leave", "bogus"):
        conn.send(line)
    conn.wire.dataReceived(b"\xff\xfb\x1fwho\r")
    assert set(vars(conn.proto)) <= made[0], set(vars(conn.proto)) - made[0]


@pytest_twisted.ensureDeferred
async def test_coming_back_mid_turn_shows_your_move(factory: BlackjackFactory) -> None:
    """A player who reconnects on their turn is shown the table and asked for their move."""
    alice = await logged_in(factory, "alice")
    alice.send("join main")
    alice.send("bet 10")
    await until(lambda: "Your move" in alice.text())
    alice.transport.loseConnection()
    again = await logged_in(factory, "alice", verb="login")
    await until(lambda: "Your move (30s): hit, stand, double >" in again.text())
    assert "You are back at table main, seat 1." in again.text()


@pytest_twisted.ensureDeferred
async def test_coming_back_in_an_open_betting_window_says_it_is_open(
        factory: BlackjackFactory) -> None:
    """A player who reconnects while bets are taken is told to place one."""
    alice = await logged_in(factory, "alice")
    alice.send("join main")
    alice.transport.loseConnection()
    again = await logged_in(factory, "alice", verb="login")
    await until(lambda: "Place your bets: 'bet N' (10-500)" in again.text())


def test_text_mode_says_you_and_they_in_agreement() -> None:
    """Decisions and timeouts read as English for the player and for the others."""
    from blackjack.server.core import events
    from blackjack.server.frontends.render import text_lines

    took = events.DECISION(seat=1, hand=0, player="alice", action="insurance", stake=5)
    declined = events.DECISION(seat=1, hand=0, player="alice", action="no", stake=None)
    timed_out = events.TIMEOUT(seat=1, hand=0, player="alice", action="stand")
    assert text_lines(took, "alice") == ["You take insurance (5)."]
    assert text_lines(took, "bob") == ["alice takes insurance (5)."]
    assert text_lines(declined, "alice") == ["You decline insurance."]
    assert text_lines(timed_out, "alice") == ["You ran out of time: you stand."]
    assert text_lines(timed_out, "bob") == ["alice ran out of time and stands."]


def test_tables_show_the_bet_range_once_and_help_shows_ascii_cards(
        factory: BlackjackFactory) -> None:
    """``tables`` names the bet range once; ``help ascii`` shows tens as they print (TS)."""
    conn = Conn(factory)
    conn.transport.clear()
    conn.send("tables")
    line = next(line for line in conn.text().splitlines() if line.startswith("  main"))
    assert line.count("10-500") == 1, line
    conn.send("help ascii")
    assert "(TS)" in conn.text() and "10S" not in conn.text()


@pytest_twisted.ensureDeferred
async def test_a_refusal_names_the_decision_in_words(factory: BlackjackFactory) -> None:
    """Answering an insurance offer that is not made says so in words, not 'cannot no'."""
    conn = await logged_in(factory, "alice")
    conn.send("join main")
    conn.send("bet 10")
    await until(lambda: "Your move" in conn.text())
    conn.send("no")
    await until(lambda: "! cannot decline insurance: insurance is not on offer" in conn.text())


def test_every_command_is_timed_for_a_meter_that_counts(storage: Any) -> None:
    """A meter that counts gets each command's name and latency, typed, refused or v1
    (the meter that counts nothing is skipped, so this pins that one that counts is not)."""
    from blackjack.server.meter import Meter

    class Counting(Meter):
        def __init__(self) -> None:
            self.done: list[tuple[str, float]] = []

        def command_done(self, command: str, seconds: float) -> None:
            self.done.append((command, seconds))

    factory = make_factory(storage)
    factory.meter = counting = Counting()
    conn = Conn(factory)
    conn.send("help hit")
    conn.send("balance")  # refused: not logged in
    conn.send('{"id": 1, "cmd": "hello", "protocol": 1}')
    conn.send('{"id": 2, "cmd": "help"}')
    assert [name for name, _ in counting.done] == ["help", "balance", "hello", "help"]
    assert all(seconds == 0.0 for _, seconds in counting.done)  # the clock stood still
