"""Reading protocol v1 requests: parse_request accepts what the shipped schema accepts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from blackjack.server.core.commands import COMMANDS
from blackjack.server.errors import CommandError
from blackjack.server.frontends.requests import parse_request
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
