"""The node link's wire: values past AMP's 64 KiB limit, and no command before trust."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.protocols import amp
from twisted.test import iosim

from blackjack.server.room import wire
from blackjack.server.room.link import NodeLink, RoomSecret


class Echo(amp.Command):
    arguments = [(b"value", wire.JSON()), (b"raw", wire.Chunked(optional=True))]
    response = [(b"value", wire.JSON()), (b"raw", wire.Chunked(optional=True))]


class EchoServer(amp.AMP):
    @Echo.responder
    def echo(self, value: Any, raw: bytes | None) -> dict[str, Any]:
        return {"value": value, "raw": raw}


def test_values_past_amps_limit_are_split_and_joined() -> None:
    """A 300 KiB JSON value and 200 KiB of bytes cross one AMP call and back intact."""
    assert amp.MAX_VALUE_LENGTH == 0xFFFF
    client, server, pump = iosim.connectedServerAndClient(EchoServer, amp.AMP)
    big = {"tables": [{"name": f"t{i}", "seats": {"1": "x" * 60}} for i in range(4000)]}
    raw = bytes(range(256)) * 800
    answers: list[Any] = []
    client.callRemote(Echo, value=big, raw=raw).addCallback(answers.append)
    pump.flush()
    assert answers == [{"value": big, "raw": raw}]
    assert len(wire.JSON().toBytes(big)) > 4 * amp.MAX_VALUE_LENGTH


def test_an_optional_chunked_value_may_be_left_out() -> None:
    """An optional chunked argument given as None arrives as None."""
    client, server, pump = iosim.connectedServerAndClient(EchoServer, amp.AMP)
    answers: list[Any] = []
    client.callRemote(Echo, value=[1, 2], raw=None).addCallback(answers.append)
    pump.flush()
    assert answers == [{"value": [1, 2], "raw": None}]


class Node:
    """The little a link asks of its node before trust, for a link that will refuse."""

    name = "n2"
    fingerprint = "room"
    secret = RoomSecret(b"sixteen bytes at least")
    clock: Any = None
    forwarded: list[Any] = []

    def on_forward(self, *args: Any) -> Any:
        self.forwarded.append(args)
        raise AssertionError("an untrusted link must not reach the node")


def test_an_untrusted_caller_gets_no_command_run() -> None:
    """A peer that never proved the secret is refused every command, and nothing runs."""
    node = Node()
    client, server, pump = iosim.connectedServerAndClient(
        lambda: NodeLink(node, calling=False), amp.AMP)  # type: ignore[arg-type]
    failures: list[Any] = []
    client.callRemote(wire.Forward, account=1, name="ann", table="main", verb="bet",
                      params={"amount": 10}).addErrback(failures.append)
    pump.flush()
    assert len(failures) == 1 and failures[0].check(wire.NotTrusted)
    assert node.forwarded == []


def test_a_proof_needs_the_secret() -> None:
    """A proof checks only with the same secret, role, nonces and names."""
    ours, theirs = RoomSecret(b"sixteen bytes at least"), RoomSecret(b"another secret, long")
    proof = ours.proof("accept", "n1", "n2", "a", "b")
    assert ours.check(proof, "accept", "n1", "n2", "a", "b")
    assert not theirs.check(proof, "accept", "n1", "n2", "a", "b")
    assert not ours.check(proof, "connect", "n1", "n2", "a", "b")
    assert not ours.check(proof, "accept", "n2", "n1", "a", "b")
    with pytest.raises(ValueError, match="16 bytes"):
        RoomSecret(b"short")


def test_a_batch_of_events_reads_back_in_order() -> None:
    """Events batched for one front come back in order, each with its table and players."""
    from blackjack.server.frontends.encoding import encode

    events = [("main", [3, 7, 12], encode({"event": "say", "text": "a b\\nc \u2028"})),
              ("side-2", [1], encode({"event": "balance", "balance": 10})),
              ("main", [3], encode({"event": "info", "message": " spaced "}))]
    batch = b"\n".join(wire.batch_line(*item) for item in events)
    assert wire.read_batch(batch) == events
