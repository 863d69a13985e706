"""blackjack.client: calls, pipelining, refusals, events, timeouts and the bot, over loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, DeferredList, ensureDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from blackjack.actions import Action
from blackjack.cards import Card
from blackjack.client import (
    EVERY, Bot, Client, ConnectionClosed, Message, ProtocolError, RequestRefused, TimedOut,
    basic_strategy, connect,
)
from blackjack.hand import Hand
from blackjack.rules import Rules
from blackjack.server.hosting.service import BlackjackService
from blackjack.strategy import advise

from conftest import conforms, load_script, start_service, wait

ROOT = Path(__file__).resolve().parent.parent


async def _connect(service: BlackjackService, **kwargs: Any) -> Client:
    from twisted.internet import reactor

    assert service.port is not None
    return await wait(connect(reactor, "127.0.0.1", service.port.getHost().port, **kwargs))


def _offline(timeout: float | None = 30.0) -> tuple[Client, StringTransport, Clock]:
    """A client on a StringTransport with a fake clock: what it writes, and time by hand."""
    clock = Clock()
    client = Client(clock, timeout)
    transport = StringTransport()
    client.makeConnection(transport)
    return client, transport, clock


# -- against the real server -----------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_calls_fire_with_results_and_refusals_carry_their_code(tmp_path: Path) -> None:
    """A call fires with its reply's result (None or an event); a refusal raises RequestRefused
    with the protocol's code."""
    service = start_service(tmp_path / "bj.sqlite3")
    try:
        client = await _connect(service)
        assert client.server is not None and client.server["protocol"] == 1
        login = await wait(client.register("alice", "pw-alice-long"))
        assert (login["event"], login["balance"], client.name) == ("login", 1000, "alice")
        assert await wait(client.balance()) == 1000
        cases = [(client.act(Action.HIT), "not_at_table"),
                 (client.join("nowhere"), "no_such_table"),
                 (client.call("bet", amount="ten"), "bad_request"),
                 (client.call("fold"), "bad_request")]
        for d, code in cases:
            with pytest.raises(RequestRefused) as refused:
                await wait(d)
            assert refused.value.code == code and refused.value.message
        assert await wait(client.join("main")) is None
        with pytest.raises(RequestRefused) as refused:
            await wait(client.bet(5000))
        assert refused.value.code == "bet_out_of_range" and refused.value.cmd == "bet"
        await wait(client.close())
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_pipelined_calls_fire_in_order_each_after_the_events_it_caused(
        tmp_path: Path) -> None:
    """register, join, bet and balance sent at once: the Deferreds fire in that order, each
    after the events of its request, with the right results."""
    service = start_service(tmp_path / "bj.sqlite3")
    try:
        client = await _connect(service)
        seen: list[str] = []
        settled: list[int] = []

        def note(event: Message) -> None:
            seen.append(conforms(event)["event"])
            if event["event"] == "result" and "reply balance" not in seen:
                settled.append(sum(event["net"].values()))
        client.on(EVERY, note)
        calls = [client.register("bob", "pw-bob-long-enough"), client.join("main"),
                 client.bet(10), client.balance()]
        for name, d in zip(["register", "join", "bet", "balance"], calls):
            d.addCallback(lambda result, name=name: seen.append(f"reply {name}") or result)
        assert client.pending == 4
        results = [await wait(d) for d in calls]
        # A lone bet deals at once; a natural (either side's) settles the round before the
        # balance is answered, and the balance then shows the round's net.
        expected = 1000 + settled[0] if settled else 990
        assert results[0]["name"] == "bob" and results[1:] == [None, None, expected]
        assert seen.index("reply register") < seen.index("joined") < seen.index("reply join")
        assert seen.index("reply join") < seen.index("bet") < seen.index("reply bet")
        assert seen.index("reply bet") < seen.index("reply balance")
        assert client.pending == 0
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_every_request_over_the_rate_is_refused_with_its_own_id(tmp_path: Path) -> None:
    """30 requests at once against a rate of 5 a second, burst 20: the burst is answered, then
    each of the rest is refused with rate_limited and its own id (none goes unanswered)."""
    service = start_service(tmp_path / "bj.sqlite3", "--rate", "5", "--burst", "20")
    try:
        client = await _connect(service, timeout=10)
        refused_ids: list[Any] = []
        original = client.message_received

        def note(message: Message) -> None:
            if message.get("ok") is False:
                refused_ids.append(message["id"])
            original(message)
        client.message_received = note  # type: ignore[method-assign]
        outcomes = await wait(DeferredList([client.call("help", command="hit")
                                            for _ in range(30)], consumeErrors=True), 10)
        answered = [ok for ok, _ in outcomes]
        # The hello took a token (and a moment may have given one back).
        ok = answered.count(True)
        assert ok in (19, 20) and answered == [True] * ok + [False] * (30 - ok)
        assert {getattr(f.value, "code", repr(f.value)) for good, f in outcomes
                if not good} == {"rate_limited"}
        assert refused_ids == list(range(2 + ok, 32))  # ids 2..31; the hello was 1
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_events_reach_listeners_by_kind_and_next_event_waits_for_one(
        tmp_path: Path) -> None:
    """on(kind) gets every event of that kind, on(EVERY) every event, off() stops them,
    and next_event fires with the next one of a kind."""
    service = start_service(tmp_path / "bj.sqlite3")
    try:
        client = await _connect(service)
        await wait(client.register("carol", "pw-carol-long"))
        betting: list[Message] = []
        everything: list[str] = []
        client.on("betting", betting.append)
        client.on(EVERY, lambda event: everything.append(event["event"]))
        joined = client.next_event("joined", timeout=5)
        await wait(client.join("main"))
        assert (await wait(joined))["player"] == "carol"
        assert [e["table"] for e in betting] == ["main"]
        assert everything[:3] == ["joined", "table", "betting"]
        client.off("betting", betting.append)
        dealt = client.next_event("deal", timeout=5)
        await wait(client.bet(10))
        assert (await wait(dealt))["player"] == "carol"
        assert len(betting) == 1 and "bet" in everything
        with pytest.raises(TimedOut):
            await wait(client.next_event("shutdown", timeout=0.05))
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_a_closed_connection_fails_what_waits_and_close_says_quit(tmp_path: Path) -> None:
    """close() says quit and the server hangs up; when the server goes, calls and event waits
    still open fail with ConnectionClosed, and later calls fail at once."""
    service = start_service(tmp_path / "bj.sqlite3")
    try:
        client = await _connect(service)
        await wait(client.close())
        assert client.transport.disconnected
        other = await _connect(service)
        await wait(other.register("dave", "pw-dave-long"))
        waiting = other.next_event("prompt")
        closed = other.when_closed()
        other.transport.loseConnection()
        late = other.call("balance")
        await wait(closed)
        for d in (waiting, late):
            with pytest.raises(ConnectionClosed):
                await wait(d)
        with pytest.raises(ConnectionClosed):
            await wait(other.call("balance"))
    finally:
        await wait(service.stopService(), 15)


class _Silent(Protocol):
    """A server that reads and never answers."""


@pytest_twisted.ensureDeferred
async def test_a_call_with_no_reply_times_out_over_a_real_socket() -> None:
    """Against a server that never answers, a call fails with TimedOut after the client's timeout."""
    from twisted.internet import reactor

    port = await wait(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        Factory.forProtocol(_Silent)))
    try:
        client = await wait(connect(reactor, "127.0.0.1", port.getHost().port, hello=False,
                                    timeout=0.2))
        with pytest.raises(TimedOut):
            await wait(client.call("tables"))
        client.transport.loseConnection()
        await wait(client.when_closed())
    finally:
        await wait(port.stopListening())


# -- the bot ------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_bots_play_basic_strategy_and_account_for_their_chips(tmp_path: Path) -> None:
    """Two basic-strategy bots asked for 10 hands play exactly 10 at one table with no refusal;
    each bot's net matches its change of balance, and every event they see fits the schema."""
    service = start_service(tmp_path / "bj.sqlite3", "--rate", "0")
    try:
        bots = []
        for name in ("erin", "finn"):
            client = await _connect(service)
            client.on(EVERY, conforms)
            await wait(client.register(name, f"pw-{name}-long"))
            bots.append(Bot(client, "main", bet=lambda: 10, hands=10))
        for bot in bots:
            await wait(bot.sit())
        await wait(DeferredList([bot.until(10) for bot in bots], fireOnOneErrback=True), 60)
        for bot in bots:
            bot.stop()
            assert (bot.hands, bot.bets) == (10, 10) and bot.rounds >= bot.hands
            assert bot.refusals == {}
            assert await wait(bot.client.balance()) == 1000 + bot.net
    finally:
        await wait(service.stopService(), 15)


def test_basic_strategy_plays_what_advise_says() -> None:
    """The policy reads the prompt's hand and upcard and plays advise's choice; it declines
    insurance, and leaves a decision with nothing it knows to the timer."""
    rules = Rules()
    policy = basic_strategy(rules)
    view = {"dealer": ["6S", "??"], "seats": [
        {"seat": 2, "hands": [{"cards": ["8D", "8C"]}]},
        {"seat": 3, "hands": [{"cards": ["AS", "7H"]}, {"cards": ["AD", "5C"]}]}]}
    legal = ["hit", "stand", "double", "split"]
    prompt = {"event": "prompt", "seat": 3, "hand": 1, "legal": legal, "view": view}
    expected = advise(rules, Hand.of("AD", "5C", from_split=True), Card.parse("6S"),
                      {Action(a) for a in legal})
    assert policy(prompt) == expected.value == "double"
    assert policy({**prompt, "seat": 2, "hand": 0}) == "split"
    decide = {"event": "decide", "seats": [2], "legal": ["insurance", "no"],
              "view": {**view, "dealer": ["AS", "??"]}}
    assert policy(decide) == "no"
    assert policy({**prompt, "legal": ["fold"]}) is None


# -- the read path, held to its slow twin ------------------------------------------------------


def _record(client: Client) -> list[Any]:
    """Every event delivered to ``client`` and every call's outcome, in order."""
    log: list[Any] = []
    for kind in ("deal", "result", "prompt"):
        client.on(kind, lambda event: log.append(("event", event)))
    return log


_EVENTS = [
    {"event": "deal", "seat": 1, "hand": 0, "player": "alice", "card": "TD", "total": 10},
    {"event": "turn", "seat": 1, "hand": 0, "player": "alice", "total": 20, "seconds": 30},
    {"event": "result", "table": "main", "net": {"1": -10}, "players": {"1": "alice"}},
    {"event": "prompt", "seat": 1, "hand": 0, "legal": ["hit"], "view": {"text": "a \"quoted\" }"}},
]
_REPLIES = [
    {"id": 1, "ok": True, "result": None},
    {"id": 2, "ok": True, "result": {"event": "balance", "balance": 990}},
    {"id": 3, "ok": False, "error": {"code": "not_your_turn", "message": "not your turn"}},
    {"id": 4, "ok": True, "result": None},
    {"id": 5, "ok": "yes"},
]


def _outcomes(client: Client, count: int) -> list[Any]:
    outcomes: list[Any] = []
    for _ in range(count):
        d = client.call("hit")
        d.addCallbacks(lambda result: outcomes.append(("ok", result)),
                       lambda failure: outcomes.append(("failed", type(failure.value).__name__,
                                                         getattr(failure.value, "code", None))))
    return outcomes


@given(order=st.permutations(range(len(_EVENTS) + len(_REPLIES))),
       shuffle_keys=st.booleans(), spaces=st.booleans(), crlf=st.booleans(),
       cuts=st.lists(st.integers(min_value=1, max_value=2000), max_size=6))
def test_the_fast_paths_agree_with_decoding_every_line(order: list[int], shuffle_keys: bool,
                                                       spaces: bool, crlf: bool,
                                                       cuts: list[int]) -> None:
    """Events and replies in the server's member order, in any other order, with spaces, CR LF,
    and cut into packets anywhere, are delivered exactly as by decoding each whole message."""
    messages = [(_EVENTS + _REPLIES)[i] for i in order]
    fast, _, _ = _offline()
    slow, _, _ = _offline()
    fast_log, slow_log = _record(fast), _record(slow)
    fast_calls, slow_calls = _outcomes(fast, len(_REPLIES)), _outcomes(slow, len(_REPLIES))

    def encode(message: dict[str, Any]) -> bytes:
        if shuffle_keys:
            message = dict(reversed(list(message.items())))
        text = orjson.dumps(message)
        if spaces:
            text = text.replace(b'":', b'" : ').replace(b"{", b"{ ")
        return text + (b"\r\n" if crlf else b"\n")

    stream = b"".join(encode(m) for m in messages)
    start = 0
    for cut in sorted(cuts) + [len(stream)]:
        fast.dataReceived(stream[start:cut])
        start = max(start, cut)
    for message in messages:
        slow.message_received(orjson.loads(orjson.dumps(message)))
    assert fast_log == slow_log and len(fast_log) == 3
    assert fast_calls == slow_calls
    assert sorted(fast_calls, key=str) == sorted([
        ("ok", None), ("ok", {"event": "balance", "balance": 990}),
        ("failed", "RequestRefused", "not_your_turn"), ("ok", None),
        ("failed", "ProtocolError", None)], key=str)


def test_an_event_nobody_listens_to_is_not_decoded() -> None:
    """A line of an unheard kind is dropped unread: even broken JSON after the kind costs nothing."""
    client, _, _ = _offline()
    heard: list[Message] = []
    client.on("deal", heard.append)
    client.dataReceived(b'{"event":"turn",broken\r\n{"event":"deal","card":"AS"}\r\n')
    assert heard == [{"event": "deal", "card": "AS"}]


def test_a_broken_listener_does_not_stop_the_others_or_the_connection() -> None:
    """A listener that raises is logged; later listeners and later lines still run."""
    from twisted.logger import globalLogPublisher

    client, transport, _ = _offline()
    heard: list[str] = []

    def broken(event: Message) -> None:
        raise RuntimeError("a bug in a bot")
    client.on("deal", broken)
    client.on("deal", lambda event: heard.append(event["card"]))
    logged: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(logged.append)
    try:
        client.dataReceived(b'{"event":"deal","card":"AS"}\n{"event":"deal","card":"KD"}\n')
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert heard == ["AS", "KD"] and not transport.disconnecting
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert [f.value.args for f in failures] == [("a bug in a bot",)] * 2


def test_timeouts_fail_the_oldest_first_and_a_late_reply_is_ignored() -> None:
    """Each call fails with TimedOut once it is ``timeout`` seconds old; one timer serves all,
    and a reply arriving after its call timed out is dropped."""
    client, transport, clock = _offline(timeout=5)
    failed: list[int] = []
    first = client.call("tables")
    first.addErrback(lambda f: failed.append(1) if f.check(TimedOut) else f)
    clock.advance(3)
    second = client.call("who")
    second.addErrback(lambda f: failed.append(2) if f.check(TimedOut) else f)
    clock.advance(2)
    assert failed == [1] and len(clock.getDelayedCalls()) == 1
    client.dataReceived(b'{"id":1,"ok":true,"result":null}\n')  # too late: ignored
    clock.advance(3)
    assert failed == [1, 2] and client.pending == 0 and not clock.getDelayedCalls()
    assert transport.value().count(b"\n") == 2


def test_requests_are_one_json_line_each_and_too_long_ones_are_refused_here() -> None:
    """call() writes {"id", "cmd", params} on one line; one over the server's line limit is
    refused locally with bad_request instead of being sent."""
    client, transport, _ = _offline()
    client.call("join", table="main", seat=3)
    assert transport.value() == b'{"id":1,"cmd":"join","table":"main","seat":3}\n'
    transport.clear()
    too_long = client.call("say", text="x" * 2000)
    failures: list[Any] = []
    too_long.addErrback(failures.append)
    assert failures[0].value.code == "bad_request" and transport.value() == b""
    with pytest.raises(ValueError):
        client.act("fold")
    assert not isinstance(ProtocolError("x"), RequestRefused)


def test_importing_the_client_leaves_the_server_out() -> None:
    """blackjack.client needs only the engine and Twisted, not the server package."""
    code = "import sys, blackjack.client; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    loaded = set(done.stdout.split())
    assert "blackjack.client" in loaded and "twisted.internet.defer" in loaded
    assert not {m for m in loaded if m.startswith("blackjack.server")}


# -- the example bot -----------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_the_example_bot_registers_plays_and_reports(tmp_path: Path,
                                                           capsys: Any) -> None:
    """scripts/example_bot.py registers a new name, plays the rounds asked and prints its net;
    run again with a wrong password it says so and fails."""
    from twisted.internet import reactor

    example = load_script("example_bot")
    service = start_service(tmp_path / "bj.sqlite3", "--rate", "0")
    try:
        assert service.port is not None
        where = f"127.0.0.1:{service.port.getHost().port}"
        args = example._parser().parse_args(["--connect", where, "--rounds", "3",
                                             "--pause", "0", "--name", "gina"])
        assert await wait(ensureDeferred(example.play(reactor, args)), 60) == 0
        out = capsys.readouterr().out
        assert "registered a new account, 'gina'" in out and "round 3: dealer" in out
        assert "played 3 rounds: net" in out
        args.password = "not the password"
        assert await wait(ensureDeferred(example.play(reactor, args)), 30) == 1
        assert "cannot log in" in capsys.readouterr().err
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_the_client_benchmark_replays_a_recorded_seat_in_step() -> None:
    """scripts/bench_client.py records a seat at a full table and replays it through a fresh
    client and bot, fast paths on or off, which make the same requests and play the same rounds."""
    from twisted.internet import reactor

    bench = load_script("bench_client")
    packets, first_id = await wait(ensureDeferred(bench.record(reactor, 3)), 60)
    fast, slow = bench.replay(packets, first_id, False), bench.replay(packets, first_id, True)
    assert fast.hands == slow.hands == 3 and fast.refusals == slow.refusals == {}
    assert fast.client.transport.value() == slow.client.transport.value() != b""


@pytest_twisted.ensureDeferred
async def test_the_package_docstring_example_plays_against_a_real_server(tmp_path: Path,
                                                                         capsys: Any) -> None:
    """blackjack.client's docstring example, pointed at a test server where alice exists,
    logs in, plays 10 hands, prints each result and closes."""
    import re
    import textwrap

    import blackjack.client
    from twisted.internet import reactor

    service = start_service(tmp_path / "bj.sqlite3", "--rate", "0")
    try:
        owner = await _connect(service)
        await wait(owner.register("alice", "correct horse battery"))
        await wait(owner.close())
        (code,) = re.findall(r"::\n\n(.*?)\n\n[A-Z]", blackjack.client.__doc__ or "", re.S)
        code = textwrap.dedent(code).replace("8023", str(service.port.getHost().port))
        program, react = code.rsplit("\n", 1)
        assert react.strip().startswith("task.react(")  # it would stop the test's reactor
        namespace: dict[str, Any] = {}
        exec(compile(program, "blackjack/client/__init__.py", "exec"), namespace)
        await wait(ensureDeferred(namespace["main"](reactor)), 60)
        printed = capsys.readouterr().out.splitlines()
        assert len(printed) >= 10 and all(line.startswith("{") for line in printed)
    finally:
        await wait(service.stopService(), 15)
