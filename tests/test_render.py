"""Tests for blackjack.server.render: JSON lines, and broadcasts encoded once."""

from __future__ import annotations

import json
from typing import Any


import pytest
from hypothesis import given
from hypothesis import strategies as st

from blackjack.server import render
from blackjack.server.render import Broadcast, json_line, json_wire


def test_json_line_is_compact_utf8_json() -> None:
    """An event becomes one line of compact JSON that keeps non-ASCII text as is."""
    line = json_line({"event": "say", "player": "zoë", "text": "10♠"})
    assert line == '{"event":"say","player":"zoë","text":"10♠"}'


def test_a_broadcast_is_encoded_once_for_every_reader(monkeypatch: Any) -> None:
    """However many clients read a broadcast, it is encoded to JSON one time, to the same line."""
    calls: list[object] = []
    encode = render._wire

    def counting(value: object) -> bytes:
        calls.append(value)
        return encode(value)

    monkeypatch.setattr(render, "_wire", counting)
    event = {"event": "prompt", "seat": 3, "view": {"dealer": ["TS", "??"]}}
    shared = Broadcast(event)
    lines = {json_line(shared) for _ in range(7)}
    assert len(calls) == 1
    assert lines == {json_line(dict(event))}
    assert json.loads(lines.pop()) == event
    assert shared == event  # still reads as the plain dict it was made from


_scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
            | st.text() | st.floats(allow_nan=False, allow_infinity=False))
_values = st.recursive(
    _scalars,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text() | st.integers(0, 9), children, max_size=4)),
    max_leaves=12)


@given(st.dictionaries(st.text(), _values, max_size=6))
def test_orjson_and_the_standard_library_send_the_same_event(event: dict[str, Any]) -> None:
    """Whichever encoder is installed, a client reads the same event (byte for byte without floats)."""
    fast, slow = render._orjson_wire(event), render._stdlib_wire(event)
    assert fast.endswith(b"\r\n") and fast.count(b"\n") == 1
    assert json.loads(fast) == json.loads(slow)
    if not _has_float(event):  # floats may differ in exponent style: 1e+16 and 1e16
        assert fast == slow


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return isinstance(value, list) and any(_has_float(v) for v in value)


def test_a_number_too_big_for_orjson_is_still_sent() -> None:
    """An integer beyond 64 bits falls back to the standard library instead of failing."""
    assert render._orjson_wire({"balance": 2**70}) == b'{"balance":1180591620717411303424}\r\n'


@pytest.mark.parametrize("text", ["line\u2028break", "cr\rlf\n", "tab\tnul\x00", "zoë ♠"])
def test_a_json_line_never_breaks_in_two(text: str) -> None:
    """Control characters are escaped, so one event is always exactly one line on the wire."""
    wire = json_wire({"event": "say", "text": text})
    assert wire.count(b"\n") == 1 and b"\r" not in wire[:-2]
    assert json.loads(wire)["text"] == text


def test_long_chat_is_wrapped_with_the_speaker_on_every_line() -> None:
    """In text mode a long chat line is split by the server, each piece naming the speaker."""
    from blackjack.server.render import text_lines

    say = {"event": "say", "table": "main", "player": "bob",
           "text": "gg " + "x" * 64 + " Dealer has blackjack: A♠ K♠."}
    lines = text_lines(say, "alice")
    assert len(lines) == 2 and all(line.startswith("[main] bob: ") for line in lines)
    assert lines[1] == "[main] bob: Dealer has blackjack: A♠ K♠."


@pytest.mark.parametrize("reason, shown", [
    ("left", "bob leaves seat 2."), ("timed out", "bob leaves seat 2 (disconnected)."),
    ("missed rounds", "bob leaves seat 2 (no bets for a while)."),
    ("idle", "bob leaves seat 2 (idle)."),
])
def test_others_are_told_why_a_player_left(reason: str, shown: str) -> None:
    """The left event's reason shows as a few words for the others at the table."""
    from blackjack.server.render import text_lines

    event = {"event": "left", "table": "main", "seat": 2, "player": "bob", "reason": reason}
    assert text_lines(event, "alice") == [shown]
