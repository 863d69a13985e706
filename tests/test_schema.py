"""The protocol's schema and docs are made from the catalogues, and cannot drift from them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from blackjack.server.core import events
from blackjack.server.core.commands import COMMANDS
from blackjack.server.core.events import KINDS, Event, Kind
from blackjack.server.core.session import Session
from blackjack.server.errors import CODES, ServerError, TableError
from blackjack.server.frontends.conversation import Conversation
from blackjack.server.frontends.render import text_lines
from blackjack.server.frontends.schema import SCHEMA_FILE, docs_tables, schema, update_docs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "protocol.md"


def test_the_shipped_schema_is_the_generated_one() -> None:
    """protocol-v1.schema.json in the package equals what the catalogues give (rerun
    ``python -m blackjack.server.frontends.schema --write`` after changing them)."""
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == schema()
    Draft202012Validator.check_schema(schema())


def test_the_protocol_page_tables_are_the_catalogues() -> None:
    """docs/protocol.md's commands, events and error code tables are the generated ones."""
    text = DOCS.read_text(encoding="utf-8")
    for marker in docs_tables():
        assert f"<!-- {marker} -->" in text and f"<!-- /{marker} -->" in text
    assert update_docs(text) == text


def test_the_docs_check_can_fail() -> None:
    """A field missing from the page's events table is caught."""
    text = DOCS.read_text(encoding="utf-8")
    edited = text.replace("`dealer_total`: integer", "`dealer_total`: string", 1)
    assert edited != text and update_docs(edited) != edited


def test_an_event_with_a_field_missing_or_unknown_cannot_be_made() -> None:
    """A kind's constructor refuses any other set of fields than its catalogue entry."""
    assert events.BALANCE(balance=5) == {"event": "balance", "balance": 5}
    with pytest.raises(TypeError, match=r"missing \['balance'\], unknown \['chips'\]"):
        events.BALANCE(chips=5)
    with pytest.raises(ValueError, match="named 'event'"):
        Kind("x", "doc", "you", events.F("event", events.INT, "no"))


def test_every_kind_is_rendered_for_people() -> None:
    """Each event kind has its own text rendering (none falls back to raw JSON)."""
    from blackjack.server.frontends import render

    missing = [k for k in KINDS if not hasattr(render._Renderer, "ev_" + k)]
    assert missing == []


def test_every_command_has_someone_to_run_it() -> None:
    """Each command in the catalogue is run by the session, or by the front end itself."""
    for command in COMMANDS.values():
        runs = (hasattr(Session, "cmd_" + command.name)
                or hasattr(Conversation, "_own_" + command.name)
                or command.name in ("hit", "stand", "double", "split", "surrender",
                                    "insurance", "even", "no"))
        assert runs, command.name


def test_every_error_code_is_documented_and_enforced() -> None:
    """An error raised with a code the catalogue does not know is a bug, caught at once."""
    assert TableError("x", code="seat_taken").code == "seat_taken"
    with pytest.raises(ValueError, match="unknown error code"):
        ServerError("x", code="nope")
    assert all(re.fullmatch(r"[a-z_]+", code) for code in CODES)


def test_a_text_client_reads_the_same_event_a_program_gets() -> None:
    """Rendering never changes the shared event (it is sent to others as JSON too)."""
    event = events.DEAL(seat=1, hand=0, player="alice", card="TD", total=20)
    before = dict(event)
    assert text_lines(event, "alice") == ["You: 10♦  (20)"]
    assert text_lines(event, "bob", unicode=False) == ["alice: TD  (20)"]
    assert isinstance(event, Event) and event == before


def test_no_parameter_takes_the_name_of_the_request_envelope() -> None:
    """A parameter called id or cmd could not be sent beside a request's own id and cmd."""
    from blackjack.server.core.commands import Command, Param

    with pytest.raises(ValueError, match="may not be named"):
        Command("hand", "hand N", "doc", (Param("id", {"type": "integer"}, "no"),))
