"""Reading requests: parse_request accepts what the shipped schema accepts, as its plain
twin does; parse_text reads the words find() reads."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blackjack.server.core.commands import COMMANDS, find
from blackjack.server.errors import CommandError
from blackjack.server.frontends.requests import parse_request, parse_request_plain, parse_text
from blackjack.server.frontends.schema import schema
from blackjack.server.text import sanitise

_SCHEMA = schema()
_V1 = sorted(c.name for c in COMMANDS.values() if c.where != "text")
_NAMES = sorted({p.name for c in COMMANDS.values() for p in c.params} | {"seats", "amout"})
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.integers(),
                    st.sampled_from([9_999_999_999, 10_000_000_000, 0, 1, 50, 51]),
                    st.text(max_size=3), st.text(min_size=60, max_size=70),
                    st.floats(allow_nan=False), st.lists(st.integers(), max_size=2))


def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$defs": _SCHEMA["$defs"], "$ref": f"#/$defs/request.{name}"})


_VALIDATORS = {name: _validator(name) for name in _V1}


@settings(max_examples=400)
@given(cmd=st.sampled_from(_V1), rid=st.one_of(st.none(), st.integers(-1000, 1000),
                                               st.text(max_size=8)),
       params=st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=3))
def test_parse_request_accepts_exactly_what_the_schema_accepts(cmd: str, rid: Any,
                                                               params: dict[str, Any]) -> None:
    """For any command, id and parameters (right, wrong, missing, unknown, out of range),
    parse_request refuses with a CommandError exactly when the request's schema says no
    to it once its text is cleaned, and hands on the cleaned parameters."""
    message = {"id": rid, "cmd": cmd, **params}
    # Text others may read is cleaned first (a password is kept as sent).
    cleaned = {k: sanitise(v) if isinstance(v, str) and k != "password" else v
               for k, v in params.items()}
    valid = _VALIDATORS[cmd].is_valid({"id": rid, "cmd": cmd, **cleaned})
    try:
        request = parse_request(message)
    except CommandError:
        assert not valid, message
    else:
        assert valid, message
        assert (request.command.name, dict(request.params), request.id) == (cmd, cleaned, rid)


def _outcome(parse: Any, message: dict[str, Any]) -> Any:
    try:
        request = parse(message)
    except CommandError as error:
        return "refused", str(error)
    return request.command, dict(request.params), request.id, request.json


class _Str(str):
    """A string of a subclass (a Mapping handed in by Python code may hold one)."""


# Mostly right (so that most messages get as far as their parameters), sometimes not.
_ANY_CMD = st.sampled_from([*_V1, "HELP", "Bet", "h", "json", "", None, 7])
_ANY_ID = st.one_of(st.integers(-1000, 1000), st.sampled_from(
    [None, "", "a7", 2**53 - 1, 2**53, -2**53, 1 - 2**53, True, 1.0, "x" * 64, "x" * 65, [1]]))
_TEXT = st.text(alphabet=" \t\x1b\x08\u2028é\u202eaZ", max_size=70)
_PLAIN = st.sampled_from(["main", " hit ", "hit ", " a b", "", " ", "a\x1bb\x08", "é", "x" * 64,
                         "x" * 65])
_ANY_VALUE = st.one_of(_PLAIN, _PLAIN, _TEXT, st.integers(-10, 60), st.booleans(), _VALUES,
                       st.builds(_Str, st.text(max_size=3)),
                       st.sampled_from([2**53, -2**53, -9_999_999_999, 10 * 365 * 86400 + 1]))


_NEAR = {"string": st.one_of(_PLAIN, _PLAIN, _TEXT), "boolean": st.booleans(),
         "integer": st.one_of(st.integers(-2, 52), st.sampled_from(
             [2**53, 2**53 + 1, 9_999_999_999, 10_000_000_000, -9_999_999_999,
              -10_000_000_000]))}
"""Values of each type near the bounds the commands' schemas set."""


@settings(max_examples=1500)
@given(data=st.data(), cmd=_ANY_CMD, rid=_ANY_ID, has_id=st.booleans())
def test_parse_request_answers_as_its_plain_twin(data: Any, cmd: Any, rid: Any,
                                                 has_id: bool) -> None:
    """The fast parse_request gives the same request, or the same error message, as
    parse_request_plain (every parameter through the generic check) for any message."""
    command = COMMANDS.get(cmd) if isinstance(cmd, str) else None
    params: dict[str, Any] = {}
    # Mostly the command's own parameters with values of about the right kind, so
    # that most messages get as far as their bounds; sometimes anything.
    for param in command.params if command is not None else ():
        if data.draw(st.integers(0, 5)):
            near = _NEAR.get(param.schema.get("type", ""), _ANY_VALUE)
            params[param.name] = data.draw(st.one_of(near, near, near, _ANY_VALUE))
    params.update(data.draw(st.dictionaries(st.sampled_from(_NAMES), _ANY_VALUE, max_size=1)))
    message = {"cmd": cmd, **params, **({"id": rid} if has_id else {})}
    assert _outcome(parse_request, message) == _outcome(parse_request_plain, message)


def test_a_password_is_kept_as_sent_and_other_text_is_cleaned() -> None:
    """A v1 password keeps its spaces (and is not cleaned); a name is trimmed."""
    for parse in (parse_request, parse_request_plain):
        request = parse({"id": 1, "cmd": "login", "name": " ann ", "password": " pass word "})
        assert dict(request.params) == {"name": "ann", "password": " pass word "}


def test_a_typed_word_names_what_find_names() -> None:
    """parse_text reads every command word and alias, in any case, as find() does,
    except the protocol v1 handshake, which is no typed command."""
    words = {w for c in COMMANDS.values() for w in (c.name, *c.aliases)}
    for word in sorted(words):
        for typed in (word, word.upper(), word.capitalize()):
            command = find(typed)
            assert command is not None
            try:
                request = parse_text(f"{typed} 10" if command.name == "bet" else typed)
            except CommandError as error:
                assert command.where == "v1" or command.params or command.name == "tables"
                if command.where == "v1":
                    assert str(error).startswith(f"unknown command {word!r}")
            else:
                assert command.where != "v1"
                assert request.command is command or command.name.startswith("table")
    with pytest.raises(CommandError, match="unknown command 'nope'"):
        parse_text("NOPE now")
