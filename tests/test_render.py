"""Tests for blackjack.server.render: JSON lines, and broadcasts encoded once."""

from __future__ import annotations

import json
from typing import Any

from blackjack.server import render
from blackjack.server.render import Broadcast, json_line


def test_json_line_is_compact_utf8_json() -> None:
    """An event becomes one line of compact JSON that keeps non-ASCII text as is."""
    line = json_line({"event": "say", "player": "zoë", "text": "10♠"})
    assert line == '{"event":"say","player":"zoë","text":"10♠"}'


def test_a_broadcast_is_encoded_once_for_every_reader(monkeypatch: Any) -> None:
    """However many clients read a broadcast, it is encoded to JSON one time, to the same line."""
    calls: list[object] = []
    encode = render._encode

    def counting(value: object) -> str:
        calls.append(value)
        return encode(value)

    monkeypatch.setattr(render, "_encode", counting)
    event = {"event": "prompt", "seat": 3, "view": {"dealer": ["TS", "??"]}}
    shared = Broadcast(event)
    lines = {json_line(shared) for _ in range(7)}
    assert len(calls) == 1
    assert lines == {json_line(dict(event))}
    assert json.loads(lines.pop()) == event
    assert shared == event  # still reads as the plain dict it was made from
