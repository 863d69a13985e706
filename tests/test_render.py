"""Events as text for people: what a terminal shows, and what it never can be made to show."""

from __future__ import annotations

import pytest

from blackjack.server.core import events
from blackjack.server.frontends.render import text_lines


def test_long_chat_is_wrapped_with_the_speaker_on_every_line() -> None:
    """In text mode a long chat line is split by the server, each piece naming the speaker."""
    say = events.SAY(table="main", player="bob",
                     text="gg " + "x" * 64 + " Dealer has blackjack: A♠ K♠.")
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
    event = events.LEFT(table="main", seat=2, player="bob", reason=reason)
    assert text_lines(event, "alice") == [shown]
