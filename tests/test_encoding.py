"""Tests for blackjack.server.frontends.encoding: compact JSON, each event encoded once."""

from __future__ import annotations

import json
from typing import Any


import pytest
from hypothesis import given
from hypothesis import strategies as st

from blackjack.server.core import events
from blackjack.server.frontends import encoding
from blackjack.server.frontends.encoding import encode_event, reply_error, reply_ok


def test_an_event_is_compact_utf8_json() -> None:
    """An event becomes compact JSON that keeps non-ASCII text as is."""
    event = events.SAY(table="main", player="zoë", text="10♠")
    assert encode_event(event) == '{"event":"say","table":"main","player":"zoë","text":"10♠"}'.encode()


def test_a_shared_event_is_encoded_once_for_every_reader(monkeypatch: Any) -> None:
    """However many clients read one event, it is encoded to JSON one time, to the same bytes."""
    calls: list[object] = []
    encode = encoding.encode

    def counting(value: object) -> bytes:
        calls.append(value)
        return encode(value)

    monkeypatch.setattr(encoding, "encode", counting)
    event = events.REVEAL(card="TS", total=17)
    lines = {encode_event(event) for _ in range(7)}
    assert len(calls) == 1
    assert json.loads(lines.pop()) == {"event": "reveal", "card": "TS", "total": 17}


def test_replies_carry_the_request_id_and_the_result() -> None:
    """A reply wraps its result event's bytes; a refusal carries its code and message."""
    result = events.BALANCE(balance=990)
    assert json.loads(reply_ok(7, result)) == {
        "id": 7, "ok": True, "result": {"event": "balance", "balance": 990}}
    assert json.loads(reply_ok("a", None)) == {"id": "a", "ok": True, "result": None}
    assert json.loads(reply_error(None, "bad_request", "no")) == {
        "id": None, "ok": False, "error": {"code": "bad_request", "message": "no"}}


@given(rid=st.none() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=64))
def test_a_reply_id_is_written_as_the_json_of_the_id(rid: Any) -> None:
    """Whatever the id (an integer written without the encoder, a string, none), the reply
    is the compact JSON of the whole reply object."""
    assert reply_ok(rid, None) == encoding.encode({"id": rid, "ok": True, "result": None})


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
    fast, slow = encoding.encode(event), encoding._stdlib(event)
    assert b"\n" not in fast
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
    assert encoding.encode({"balance": 2**70}) == b'{"balance":1180591620717411303424}'


@pytest.mark.parametrize("text", ["line\u2028break", "cr\rlf\n", "tab\tnul\x00", "zoë ♠"])
def test_a_json_line_never_breaks_in_two(text: str) -> None:
    """Control characters are escaped, so one event is always exactly one line on the wire."""
    wire = encode_event(events.SAY(table="main", player="zoë", text=text))
    assert b"\n" not in wire and b"\r" not in wire
    assert json.loads(wire)["text"] == text
