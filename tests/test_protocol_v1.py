"""Protocol v1 over real sockets: hello, ids, replies in order, codes, and a bot from the docs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.protocols.basic import LineReceiver

from blackjack.server.hosting.service import BlackjackService

from conftest import conforms, start_service, wait


class V1Client(LineReceiver):
    """A program's connection: JSON requests out; replies matched by id, events queued."""

    delimiter = b"\n"

    def __init__(self) -> None:
        self.events: DeferredQueue[dict[str, Any]] = DeferredQueue()
        self.log: list[dict[str, Any]] = []
        """Every JSON message received, replies and events, in order."""
        self.waiting: dict[Any, tuple[str, Deferred[dict[str, Any]]]] = {}
        self.next_id = 0
        self.closed = False

    def lineReceived(self, line: bytes) -> None:
        line = line.rstrip(b"\r")
        if not line.startswith(b"{"):
            return  # the greeting for people, before our hello is answered
        message = json.loads(line)
        self.log.append(message)
        if "event" in message:
            conforms(message)
            self.events.put(message)
            return
        cmd, d = self.waiting.pop(message["id"])
        d.callback(conforms(message, f"reply.{cmd}"))

    def connectionLost(self, reason: Any = None) -> None:
        self.closed = True

    def send(self, *requests: dict[str, Any]) -> list[Deferred[dict[str, Any]]]:
        """Send requests in one write (pipelined); a Deferred for each one's reply."""
        replies = []
        for request in requests:
            self.next_id += 1
            d: Deferred[dict[str, Any]] = Deferred()
            self.waiting[self.next_id] = (request["cmd"], d)
            request["id"] = self.next_id
            replies.append(d)
        self.transport.write(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
        return replies

    async def call(self, cmd: str, **params: Any) -> dict[str, Any]:
        """One request, and its reply."""
        (reply,) = self.send({"cmd": cmd, **params})
        return await wait(reply)

    async def expect(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next event of a kind whose fields match (others are skipped)."""
        while True:
            event = await wait(self.events.get())
            if event["event"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event


def start(db: Path, *extra: str) -> BlackjackService:
    """The real service on a free local port with short timers and cheap hashing."""
    service = start_service(db, *extra)
    assert isinstance(service, BlackjackService)
    return service


async def connect(service: BlackjackService, hello: bool = True) -> V1Client:
    """A client connected to the service (and past ``hello``)."""
    from twisted.internet import reactor

    assert service.port is not None
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", service.port.getHost().port)
    client = await wait(connectProtocol(endpoint, V1Client()))
    if hello:
        reply = await client.call("hello", protocol=1)
        assert reply["ok"] and reply["result"]["protocol"] == 1
    return client


@pytest_twisted.ensureDeferred
async def test_hello_turns_protocol_v1_on_and_other_requests_wait_for_it(tmp_path: Path) -> None:
    """A request before hello gets hello_required; an unknown version unsupported_protocol."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        client = await connect(service, hello=False)
        early = await client.call("tables")
        assert early["error"]["code"] == "hello_required"
        wrong = await client.call("hello", protocol=9)
        assert wrong["error"]["code"] == "unsupported_protocol" and "1" in wrong["error"]["message"]
        hello = await client.call("hello", protocol=1)
        assert hello["result"]["event"] == "hello" and hello["result"]["version"]
        tables = await client.call("tables")
        assert [t["name"] for t in tables["result"]["tables"]] == ["main"]
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_pipelined_requests_are_answered_in_order_after_their_events(tmp_path: Path) -> None:
    """register, join, bet and balance sent in one packet: the join waits for the login,
    each reply carries its id and comes after the events its request caused."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        client = await connect(service)
        replies = client.send({"cmd": "register", "name": "alice", "password": "pw-alice-long"},
                              {"cmd": "join", "table": "main"},
                              {"cmd": "bet", "amount": 10},
                              {"cmd": "balance"})
        answers = [await wait(r) for r in replies]
        assert [a["ok"] for a in answers] == [True] * 4
        assert answers[0]["result"]["event"] == "login"
        assert answers[0]["result"]["resumed"] is False
        assert answers[1]["result"] is None and answers[2]["result"] is None
        # 990 after the bet; more if the deal settled the round at once (a natural).
        before = client.log[:client.log.index(answers[3])]
        last = [m["balance"] for m in before if m.get("event") == "balance"][-1]
        assert answers[3]["result"] == {"event": "balance", "balance": last}
        assert 990 in [m["balance"] for m in before if m.get("event") == "balance"]
        login, join, bet, balance = (f"reply {a['id']}" for a in answers)
        order = [m.get("event") or f"reply {m['id']}" for m in client.log]
        assert order.index(login) < order.index("joined") < order.index(join)
        assert order.index(join) < order.index("bet") < order.index(bet)
        assert order.index(bet) < order.index(balance)
        ids = [m["id"] for m in client.log if "id" in m]
        assert ids == sorted(ids)
        assert not any("id" in m for m in client.log if "event" in m)
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_refusals_carry_a_stable_code_and_name_the_parameter(tmp_path: Path) -> None:
    """Bad requests get bad_request naming what is wrong; game refusals their own codes."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        client = await connect(service)
        cases = [({"cmd": "bet", "amount": "10"}, "bad_request", "amount must be an integer"),
                 ({"cmd": "bet"}, "bad_request", "needs its parameter 'amount'"),
                 ({"cmd": "join", "table": "main", "seats": 2}, "bad_request",
                  "takes no parameter 'seats'"),
                 ({"cmd": "fold"}, "bad_request", "no command 'fold'"),
                 ({"cmd": "json", "on": True}, "bad_request", "no command 'json'"),
                 ({"cmd": "hit"}, "login_required", "log in first")]
        for request, code, words in cases:
            (d,) = client.send(request)
            reply = await wait(d)
            assert reply["error"]["code"] == code and words in reply["error"]["message"], reply
        await client.call("register", name="alice", password="pw-alice-long")
        assert (await client.call("join", table="nowhere"))["error"]["code"] == "no_such_table"
        assert (await client.call("hit"))["error"]["code"] == "not_at_table"
        await client.call("join", table="main")
        bet = await client.call("bet", amount=5000)
        assert bet["error"]["code"] == "bet_out_of_range"
        assert (await client.call("bet", amount=1))["error"]["code"] == "bet_out_of_range"
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_a_line_that_is_not_a_request_gets_a_reply_with_no_id(tmp_path: Path) -> None:
    """Broken JSON and text in v1 mode are answered with bad_request and a null id."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        client = await connect(service)
        unmatched: Deferred[dict[str, Any]] = Deferred()
        client.waiting[None] = ("hello", unmatched)
        client.transport.write(b"{not json\n")
        reply = await wait(unmatched)
        assert reply["error"]["code"] == "bad_request" and reply["id"] is None
        again: Deferred[dict[str, Any]] = Deferred()
        client.waiting[None] = ("hello", again)
        client.transport.write(b"tables\n")
        assert (await wait(again))["error"]["code"] == "bad_request"
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_chat_in_a_request_is_cleaned_like_a_typed_line(tmp_path: Path) -> None:
    """JSON escapes cannot smuggle ESC or bidi controls to readers; all-control text is refused."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        alice, bob = await connect(service), await connect(service)
        await alice.call("register", name="alice", password="pw-alice-long")
        await bob.call("register", name="bob", password="pw-bob-long")
        await alice.call("join", table="main")
        await bob.call("watch", table="main")
        sent = await alice.call("say", text="\u001b]0;pwned\u0007hi \u202eevil\u202c\u001b[2J")
        assert sent["ok"], sent
        said = await bob.expect("say", player="alice")
        assert said["text"] == "]0;pwnedhi evil[2J"
        refused = await alice.call("say", text="\u001b\u0007")
        assert refused["error"]["code"] == "bad_request", refused
    finally:
        await wait(service.stopService(), 15)


@pytest_twisted.ensureDeferred
async def test_a_resume_token_brings_a_new_connection_back_to_the_held_seat(
        tmp_path: Path) -> None:
    """token, drop, resume: back in the seat with no password; the token works once."""
    service = start(tmp_path / "bj.sqlite3")
    try:
        first = await connect(service)
        assert (await first.call("resume", token="x"))["error"]["code"] == "login_failed"
        assert (await first.call("token"))["error"]["code"] == "login_required"
        await first.call("register", name="alice", password="pw-alice-long")
        await first.call("join", table="main", seat=4)
        stale = (await first.call("token"))["result"]["token"]
        given = await first.call("token")
        assert given["result"]["seconds"] == 900
        token = given["result"]["token"]
        first.transport.loseConnection()
        second = await connect(service)
        assert (await second.call("resume", token=stale))["error"]["code"] == "login_failed"
        back = await second.call("resume", token=token)
        assert back["result"] == {"event": "login", "name": "alice", "balance": 1000,
                                  "resumed": True, "table": "main", "seat": 4}
        third = await connect(service)
        assert (await third.call("resume", token=token))["error"]["code"] == "login_failed"
        assert (await second.call("token"))["ok"]
    finally:
        await wait(service.stopService(), 15)


def _choose(prompt: dict[str, Any]) -> str:
    """A bot's play from nothing but the docs: hit below 17, else stand."""
    view, legal = prompt["view"], prompt["legal"]
    seat = next(s for s in view["seats"] if s["seat"] == prompt["seat"])
    total = seat["hands"][prompt["hand"]]["total"]
    return "hit" if total < 17 and "hit" in legal else "stand"


@pytest_twisted.ensureDeferred
async def test_a_bot_written_from_the_docs_plays_a_hundred_rounds(tmp_path: Path) -> None:
    """Two bots that know only docs/protocol.md play 100 rounds at one table, pipelining
    their bets with balance checks; every reply matches its request, in order."""
    # Bots that never pause go over the default 5 commands a second: no rate here.
    service = start(tmp_path / "bj.sqlite3", "--bankroll", "100000", "--rate", "0")
    bots = [await connect(service) for _ in range(2)]
    rounds = 0
    try:
        for i, bot in enumerate(bots):
            login, join = bot.send({"cmd": "register", "name": f"bot{i}",
                                    "password": "a long password"},
                                   {"cmd": "join", "table": "main"})
            assert (await wait(login))["ok"] and (await wait(join))["ok"]

        async def play(bot: V1Client, count: bool) -> None:
            nonlocal rounds
            while rounds < 100:
                event = await wait(bot.events.get(), 20)
                kind = event["event"]
                if kind == "betting":
                    bet, balance = bot.send({"cmd": "bet", "amount": 10}, {"cmd": "balance"})
                    bet.addCallback(lambda r: r["ok"] or pytest_fail(r))
                    balance.addCallback(lambda r: r["result"]["event"] == "balance" or
                                        pytest_fail(r))
                elif kind == "prompt":
                    (d,) = bot.send({"cmd": _choose(event)})
                    d.addCallback(lambda r: r["ok"] or pytest_fail(r))
                elif kind == "decide":
                    bot.send({"cmd": "no"})
                elif kind == "result" and count:
                    rounds += 1

        from twisted.internet.defer import DeferredList, ensureDeferred
        await wait(DeferredList([ensureDeferred(play(bot, i == 0)) for i, bot in
                                 enumerate(bots)], fireOnOneErrback=True, consumeErrors=True),
                   120)
        assert rounds >= 100
        for bot in bots:
            ids = [m["id"] for m in bot.log if "id" in m]
            assert ids == sorted(ids) and len(ids) == len(set(ids)), "replies out of order"
            assert [m for m in bot.log if "id" in m and not m["ok"]] == []
    finally:
        await wait(service.stopService(), 15)


def pytest_fail(reply: dict[str, Any]) -> bool:
    raise AssertionError(f"refused: {reply}")


@pytest_twisted.ensureDeferred
async def test_every_request_over_the_rate_is_answered_with_its_id(tmp_path: Path) -> None:
    """Past --burst, each pipelined request gets its own rate_limited reply, none is lost."""
    service = start(tmp_path / "bj.sqlite3", "--rate", "1", "--burst", "3")
    try:
        client = await connect(service)  # the hello took one of the three
        replies = [await wait(d) for d in client.send(*({"cmd": "tables"} for _ in range(6)))]
        codes = [r["ok"] or r["error"]["code"] for r in replies]
        assert codes == [True, True, "rate_limited", "rate_limited", "rate_limited",
                         "rate_limited"]
        assert [r["id"] for r in replies] == sorted(r["id"] for r in replies)
    finally:
        await wait(service.stopService(), 15)
