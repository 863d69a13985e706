"""Fuzzing the protocol: random and adversarial bytes from one client never hurt the others.

One card room, two well-behaved players (alice seated, bob watching) and,
per example, a fresh hostile connection (logged in or not) fed Hypothesis
chunks mixed with hand-picked nasties: IAC sequences, ESC and OSC escapes,
invalid UTF-8, NUL, CR without LF, bidi overrides, over-long lines, bets
like ``1e9``.  After each example: nothing raised, nothing was logged as an
error, alice and bob received no ESC, C1, bidi or raw 0xFF, and a ``say`` and
a ``who`` still go round.

The examples are drawn by Hypothesis first and then replayed with the reactor
running between them, as it runs between packets in production: database
work queued by one example (bets, leaving) finishes before the next, instead
of thousands of table operations piling up behind a reactor the test would
otherwise block.  The price is no shrinking; a failure names its example.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from blackjack.rules import Rules
from blackjack.server.core.accounts import Accounts
from blackjack.server.frontends.limits import Limits
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.frontends.telnet.protocol import BlackjackFactory
from blackjack.server.core.table import Table, Timers

from conftest import wait
from test_server_protocol import Conn as Client

ADVERSARIAL = [
    b"\xff", b"\xff\xff", b"\xff\xfb\x01", b"\xff\xfd\x18", b"\xff\xfa\x18\x00xterm",
    b"\xff\xfa" + b"A" * 5000, b"\xff\xf0", b"\xff\xec", b"\xff\xf4\xff\xfd\x06",
    b"\x1b[2J\x1b[H", b"\x1b]0;owned\x07", b"\x1bP+q\x1b\\", b"\xc2\x9b31m", b"\x9b",
    b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xef\xbb\xbf", b"\x00", b"\r",
    b"\n", b"\r\x00", b"\r\n", b"\x08\x7f", "\u202e\u2066\u2028".encode(),
    b"x" * 1500, b"say ", b"say \x1b[31mred\r\n", "say \u202eevil\n".encode(),
    b"say \xff\xff\xc3\xbf\n", b"bet 1e9\n", b"bet -5\n", b"bet 0x10\n",
    b"bet 99999999999999999999\n", b"bet 10\n", b"join main\n", b"join main \xc2\xb2\n",
    b"history \xc2\xb2\n", b"watch main\n", b"leave\n", b"json on\n", b"ascii on\n",
    b"who\n", b"help\n", b"hint\n", b"h\n", b"login\n", b"register\n", b"tables\n",
]

chunks = st.lists(st.one_of(st.binary(max_size=48), st.sampled_from(ADVERSARIAL)),
                  max_size=16)


def assert_clean(received: bytes) -> None:
    """Nothing in ``received`` can drive a terminal or reorder text."""
    assert b"\x1b" not in received
    assert b"\xff" not in received
    text = received.decode("utf-8")
    assert not any(0x80 <= ord(c) <= 0x9F for c in text)
    assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert all(c in "\r\n" or ord(c) >= 0x20 for c in text)


@pytest_twisted.ensureDeferred
async def test_hostile_bytes_never_hurt_other_clients(storage: Any) -> None:
    """No byte sequence raises, logs an error, leaks escapes to others or stops their chat."""
    errors: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_failure") is not None or \
                getattr(event.get("log_level"), "name", "") in ("error", "critical"):
            errors.append(event)

    clock = Clock()
    table = Table("main", Rules(decks=1), storage, Clock(), Timers())
    factory = BlackjackFactory(Lobby([table]), Accounts(storage, clock, hasher=FAST_INSECURE),
                               storage, Limits(), clock)
    accounts = {name: await wait(storage.create_account(name, "unused", 1000))
                for name in ("alice", "bob", "mallory")}
    alice, bob = Client(factory, "10.0.0.1"), Client(factory, "10.0.0.2")
    for client, name in ((alice, "alice"), (bob, "bob")):
        # Attached directly, as a login would, to keep password work out of the loop.
        client.proto.conversation.session.enter(accounts[name])
    alice.send(b"join main\r\n")
    bob.send(b"watch main\r\n")
    drawn: list[tuple[bool, list[bytes]]] = []

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(logged_in=st.booleans(), packets=chunks)
    @example(logged_in=True, packets=[b"join main\n", b"say \x1b[2Jhi\xc2\x9b\r", b"\n"])
    @example(logged_in=True, packets=[b"say ", b"\xe2\x80\xae", b"gnp.exe\n"])
    @example(logged_in=False, packets=[b"\xff\xfa\x18", b"\x00" * 5000])
    @example(logged_in=True, packets=[b"who\n" * 3000])
    def draw(logged_in: bool, packets: list[bytes]) -> None:
        drawn.append((logged_in, packets))

    def run(n: int, logged_in: bool, packets: list[bytes]) -> None:
        clock.advance(10)  # refill everyone's rate buckets between examples
        alice.transport.clear()
        bob.transport.clear()
        mallory = Client(factory, "10.6.6.6")
        if logged_in:
            mallory.proto.conversation.session.enter(accounts["mallory"])
        for packet in packets:
            if not mallory.transport.connected:
                break
            mallory.send(packet)
        mallory.transport.loseConnection()
        alice.send(f"say ping {n}\r\n".encode())
        bob.send(b"who\r\n")
        assert f"[main] alice: ping {n}" in bob.transport.value().decode()
        assert "alice" in bob.transport.value().decode().split("online:")[-1]
        assert_clean(alice.transport.value())
        assert_clean(bob.transport.value())
        assert alice.transport.connected and bob.transport.connected

    draw()
    globalLogPublisher.addObserver(observe)
    try:
        for n, (logged_in, packets) in enumerate(drawn):
            try:
                run(n, logged_in, packets)
                # Let the reactor run the database work this example queued.
                await wait(storage.balance(accounts["alice"].id))
                assert not errors, errors
            except BaseException as e:
                e.add_note(f"example {n}: logged_in={logged_in}, packets={packets!r}")
                raise
    finally:
        globalLogPublisher.removeObserver(observe)
    assert factory.connections.total == 2
