"""Text lines read into admin commands: names, durations, reasons, and the tables verbs."""

from __future__ import annotations

import pytest

from blackjack.server.errors import CommandError
from blackjack.server.frontends.requests import parse_duration, parse_text


def read(line: str) -> tuple[str, dict[str, object]]:
    request = parse_text(line)
    return request.command.name, dict(request.params)


def test_durations_need_a_unit() -> None:
    """30m, 2h, 7d and 2w are seconds; a bare number is refused naming the units; a word
    that is no duration is not one."""
    assert [parse_duration(d) for d in ("90s", "30m", "2h", "7d", "2w")] == [
        90, 1800, 7200, 604800, 1209600]
    assert parse_duration("spam") is None
    with pytest.raises(CommandError, match="give 10 a unit: 10m, 10h or 10d"):
        parse_duration("10")
    with pytest.raises(CommandError, match="at most ten years"):
        parse_duration("999999w")


def test_ban_and_mute_read_an_optional_duration_then_a_reason() -> None:
    """ban NAME, ban NAME 2h, ban NAME 2h REASON and ban NAME REASON all read as meant."""
    assert read("ban bob") == ("ban", {"name": "bob"})
    assert read("ban bob 2h") == ("ban", {"name": "bob", "seconds": 7200})
    assert read("mute bob 30m spamming the chat") == (
        "mute", {"name": "bob", "seconds": 1800, "reason": "spamming the chat"})
    assert read("ban bob cheating") == ("ban", {"name": "bob", "reason": "cheating"})
    assert read("kick bob be nice") == ("kick", {"name": "bob", "reason": "be nice"})
    with pytest.raises(CommandError, match="usage: unban NAME"):
        read("unban bob now")
    with pytest.raises(CommandError, match="usage: kick NAME"):
        read("kick")


def test_grant_needs_a_whole_amount_and_a_reason() -> None:
    """grant NAME AMOUNT REASON; a negative amount takes back; no reason, no grant."""
    assert read("grant ann 500 lost in the crash") == (
        "grant", {"name": "ann", "amount": 500, "reason": "lost in the crash"})
    assert read("grant ann -50 paid twice")[1]["amount"] == -50
    for bad in ("grant ann 500", "grant ann lots of chips", "grant ann 1.5 x", "grant"):
        with pytest.raises(CommandError, match="usage: grant NAME AMOUNT REASON"):
            read(bad)


def test_tables_lists_adds_and_closes() -> None:
    """'tables' lists; 'tables add NAME RULES' and 'tables close NAME' are the admin
    commands (by their protocol names too); anything else is a usage line."""
    assert read("tables") == ("tables", {})
    assert read("tables add high decks=8,min=100") == (
        "table_add", {"table": "high", "rules": "decks=8,min=100"})
    assert read("tables add plain") == ("table_add", {"table": "plain", "rules": ""})
    assert read("table_close high") == ("table_close", {"table": "high"})
    with pytest.raises(CommandError, match="usage: tables, tables add NAME RULES"):
        read("tables burn main")
