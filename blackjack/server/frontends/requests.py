"""What a client sends, read into a command and its parameters.

Two forms reach the same :class:`~blackjack.server.core.commands.Command`:

* a **text line** typed by a person (``bet 10``, ``join main 3``, ``h``),
  read by :func:`parse_text`; and
* a **protocol v1 request**, one JSON object (``{"id": 7, "cmd": "bet",
  "amount": 10}``), read by :func:`parse_request` and checked against the
  command's parameters.

Both raise :class:`~blackjack.server.errors.CommandError` with one line that
says what was wrong and what to type instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from blackjack.server.core.commands import COMMANDS, Command, Param, find
from blackjack.server.errors import CommandError
from blackjack.server.frontends.encoding import decode
from blackjack.server.text import sanitise

__all__ = ["Request", "parse_text", "read_message", "request_id", "parse_request", "parse_bet",
           "parse_duration", "MISSING_PASSWORD", "NOT_A_REQUEST", "parse_request_plain"]

_BET = re.compile(r"[1-9][0-9]{0,9}")
_BET_USAGE = "usage: bet N, a whole number of chips, e.g. bet 10"
_SETTINGS = {"on": True, "off": False, "yes": True, "no": False, "1": True, "0": False}
_DURATION = re.compile(r"([1-9][0-9]{0,5})([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_MAX_SECONDS = 10 * 365 * 86400
MAX_ID = 64
"""The longest request id a client may choose (as a string)."""

MISSING_PASSWORD = object()
"""The ``password`` of a text ``login``/``register`` typed without one: ask for it."""


class Request:
    """A command with its parameters, and the id the client gave it (v1 only).

    A plain class with slots rather than a named tuple or a frozen dataclass:
    one is made and read for every command, and on Python 3.11 this is the
    cheapest to make (a named tuple costs 1.7 times as much, its fields 2.5
    times as much to read).  Read-only by convention.
    """

    __slots__ = ("command", "params", "id", "json")

    def __init__(self, command: Command, params: Mapping[str, Any], id: Any = None,  # noqa: A002
                 json: bool = False) -> None:
        self.command = command
        self.params = params
        self.id = id
        self.json = json
        """Whether it came as a protocol v1 JSON object (and is answered with a reply)."""

    def __repr__(self) -> str:
        return (f"Request({self.command.name!r}, {dict(self.params)!r}, id={self.id!r}, "
                f"json={self.json!r})")


def _digits(text: str) -> bool:
    # str.isdigit() alone accepts "²" and "٣", which int() then refuses.
    return text.isascii() and text.isdigit()


def parse_bet(text: str) -> int:
    """A bet typed by a player, as chips: ASCII digits, 1 to 9,999,999,999.

    Anything else (empty, "0", "-5", "10.5", "1e9", "0x10", "NaN", "010",
    or a number too long to be a bet) raises :class:`CommandError` with one
    line saying what was wrong.  The table then checks its own minimum,
    maximum and the player's balance.
    """
    if _BET.fullmatch(text):
        return int(text)
    shown = text if len(text) <= 20 else text[:20] + "..."
    if not text:
        raise CommandError(_BET_USAGE)
    if _digits(text):
        if not text.strip("0"):
            raise CommandError("a bet must be at least 1 chip, e.g. bet 10")
        if text[0] == "0":
            raise CommandError(f"write the bet without leading zeros, e.g. bet {int(text)}")
        raise CommandError(f"{shown} chips is far more than any table takes; "
                           "type 'tables' to see the bet limits")
    if text[0] == "-" and _digits(text[1:]):
        raise CommandError("a bet must be a positive number of chips, e.g. bet 10")
    raise CommandError(f"{shown!r} is not a whole number of chips: "
                       "use digits only, e.g. bet 10")


def parse_duration(text: str) -> int | None:
    """A duration typed by an admin (``90s``, ``30m``, ``2h``, ``7d``, ``2w``) in seconds;
    ``None`` if the word is not one.  A bare number is refused: minutes or days?"""
    match = _DURATION.fullmatch(text.lower())
    if match is None:
        if _digits(text):
            raise CommandError(f"give {text} a unit: {text}m, {text}h or {text}d")
        return None
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > _MAX_SECONDS:
        raise CommandError("at most ten years; leave the duration out for until lifted")
    return seconds


# --- text lines ------------------------------------------------------------------------

def _login(rest: str) -> dict[str, Any]:
    name, _, password = rest.partition(" ")
    if not name:
        raise CommandError("usage: login NAME [PASSWORD]")
    return {"name": name, "password": password.strip() or MISSING_PASSWORD}


def _register(rest: str) -> dict[str, Any]:
    name, _, password = rest.partition(" ")
    if not name:
        raise CommandError("usage: register NAME")
    password = password.strip()
    return {"name": name,
            "password": _inline_password(name, password) if password else MISSING_PASSWORD}


def _inline_password(name: str, rest: str) -> str:
    """The password given on the ``register`` line: the same text twice, or refused.

    ``register John Smith`` must not quietly make the account ``John`` with
    the password ``Smith``: a name has no spaces, so that was someone's full
    name.  Asking for the password twice on the line, as the prompts ask
    twice, leaves no reading of it that a person types by mistake, and checks
    a script's password for typos as the prompts do.
    """
    half = len(rest) // 2
    if len(rest) % 2 and rest[half] == " " and rest[:half] == rest[half + 1:]:
        return rest[:half]
    # The words typed are not repeated back: they may hold a password.
    raise CommandError(
        "no account made: a name is one word, and a password given on the same line "
        "must come twice (register NAME PASSWORD PASSWORD). Type "
        f"'register {name[:16]}' to be asked for it instead.")


def _join(rest: str) -> dict[str, Any]:
    parts = rest.split()
    if not parts or len(parts) > 2 or (len(parts) == 2 and not _digits(parts[1])):
        raise CommandError("usage: join TABLE [SEAT], e.g. join main or join main 3")
    return {"table": parts[0], "seat": int(parts[1]) if len(parts) == 2 else None}


def _required(verb: str, param: str, example: str) -> Callable[[str], dict[str, Any]]:
    def parse(rest: str) -> dict[str, Any]:
        if not rest:
            raise CommandError(f"usage: {verb} {param.upper()}, e.g. {verb} {example}")
        return {param: rest}
    return parse


def _player(verb: str, then: str = "") -> Callable[[str], dict[str, Any]]:
    """``verb NAME [DURATION] [REASON]``: ``then`` says what may follow the name."""
    def parse(rest: str) -> dict[str, Any]:
        name, _, more = rest.partition(" ")
        if not name:
            raise CommandError(f"usage: {verb} NAME{then}")
        params: dict[str, Any] = {"name": name}
        more = more.strip()
        if "DURATION" in then:
            word, _, after = more.partition(" ")
            seconds = parse_duration(word) if word else None
            if seconds is not None:
                params["seconds"], more = seconds, after.strip()
        if "REASON" in then and more:
            params["reason"] = more
        elif more:
            raise CommandError(f"usage: {verb} NAME{then}")
        return params
    return parse


def _grant(rest: str) -> dict[str, Any]:
    name, amount, reason = (rest.split(" ", 2) + ["", ""])[:3]
    number = amount[1:] if amount[:1] in ("-", "+") else amount
    if not (name and _digits(number) and reason.strip()) or len(number) > 10:
        raise CommandError("usage: grant NAME AMOUNT REASON, e.g. grant ann 500 lost in "
                           "the crash (a negative amount takes chips back)")
    return {"name": name, "amount": int(amount), "reason": reason.strip()}


def _tables(rest: str) -> Request:
    """``tables``, ``tables add NAME [RULES]`` or ``tables close NAME``."""
    words = rest.split()
    if not words:
        return Request(COMMAND_TABLES, {})
    what = words[0].lower()
    if what == "add" and len(words) in (2, 3):
        return Request(_find("table_add"), {"table": words[1],
                                            "rules": words[2] if len(words) == 3 else ""})
    if what == "close" and len(words) == 2:
        return Request(_find("table_close"), {"table": words[1]})
    raise CommandError("usage: tables, tables add NAME RULES (e.g. tables add high "
                       "decks=8,min=100), or tables close NAME")


def _find(name: str) -> Command:
    command = find(name)
    assert command is not None, name
    return command


COMMAND_TABLES = _find("tables")


def _history(rest: str) -> dict[str, Any]:
    # A limit that is not a number from 1 to 50 gives the default list.
    limit = int(rest) if _digits(rest) and 0 < int(rest) <= 50 else 10
    return {"limit": limit}


def _hand(rest: str) -> dict[str, Any]:
    number = rest.lstrip("#")
    if not (_digits(number) and 0 < int(number) <= 2**53):
        raise CommandError("usage: hand ID, the number history shows, e.g. hand 12")
    return {"number": int(number)}


def _seed(rest: str) -> dict[str, Any]:
    if len(rest) > 64:
        raise CommandError("a seed is at most 64 characters")
    return {"seed": rest} if rest else {}


def _setting(verb: str) -> Callable[[str], dict[str, Any]]:
    def parse(rest: str) -> dict[str, Any]:
        value = _SETTINGS.get(rest.lower())
        if value is None:
            raise CommandError(f"usage: {verb} on, or {verb} off")
        return {"on": value}
    return parse


_TEXT_PARSERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "register": _register,
    "login": _login,
    "join": _join,
    "watch": _required("watch", "table", "main"),
    "say": _required("say", "text", "good luck"),
    "bet": lambda rest: {"amount": parse_bet(rest)},
    "history": _history,
    "hand": _hand,
    "seed": _seed,
    "shoe": _required("shoe", "shoe", "main-0123456789ab"),
    "trainer": _setting("trainer"),
    "help": lambda rest: {"command": rest or None},
    "json": _setting("json"),
    "ascii": _setting("ascii"),
    "announce": _required("announce", "text", "the room closes at midnight"),
    "kick": _player("kick", " [REASON]"),
    "ban": _player("ban", " [DURATION] [REASON]"),
    "unban": _player("unban"),
    "mute": _player("mute", " [DURATION] [REASON]"),
    "unmute": _player("unmute"),
    "grant": _grant,
}


def parse_text(line: str) -> Request:
    """A line a person typed (``verb`` and its words) as a request."""
    verb, _, rest = line.partition(" ")
    found = _TYPED.get(verb) or _TYPED.get(verb.lower())
    if found is None:
        raise CommandError(f"unknown command {verb.lower()!r}; "
                           "type 'help' for the list of commands")
    command, parse = found
    if parse is not None:
        return Request(command, parse(rest.strip()))
    if command is COMMAND_TABLES:
        return _tables(rest.strip())
    if command.name.startswith("table_"):  # typed by its protocol name: table_add high ...
        return _tables(command.name[len("table_"):] + " " + rest.strip())
    return Request(command, {})


_TYPED: dict[str, tuple[Command, Callable[[str], dict[str, Any]] | None]] = {
    word: (command, _TEXT_PARSERS.get(command.name))
    for command in COMMANDS.values() if command.where != "v1"
    for word in (command.name, *command.aliases)}
"""What a typed word names (lower case), with the parser of the rest of its line: the
commands a person may type (not the v1 handshake), as :func:`find` reads them."""


# --- protocol v1 ---------------------------------------------------------------------

def _check(command: Command, param: Param, value: Any) -> None:
    """Refuse a parameter value its schema does not allow (the schema's few keywords).

    Written out branch by branch, and the error text made only on an error:
    every v1 request's parameters pass through here.
    """
    schema = param.schema
    kind = schema.get("type")
    if kind == "integer":
        ok = type(value) is int
    elif kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    else:
        ok = True
    if not ok:
        raise CommandError(f"{command.name}: {param.name} must be "
                           f"{'an' if kind == 'integer' else 'a'} {kind}, "
                           f"not {type(value).__name__}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise CommandError(f"{command.name}: {param.name} must not be empty")
        if len(value) > schema.get("maxLength", len(value)):
            raise CommandError(f"{command.name}: {param.name} is longer than "
                               f"{schema['maxLength']} characters")
    elif kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise CommandError(f"{command.name}: {param.name} must be from {low} to {high}, "
                               f"not {value}")


def request_id(message: Mapping[str, Any]) -> Any:
    """The id a request carries, if it is a usable one (else ``None``)."""
    value = message.get("id")
    if (type(value) is int and abs(value) < 2 ** 53) or \
            (isinstance(value, str) and len(value) <= MAX_ID):
        return value
    return None


NOT_A_REQUEST = "a request is one JSON object on one line"


def read_message(line: str | bytes) -> dict[str, Any]:
    """One protocol v1 line as the JSON object it must be."""
    try:
        message = decode(line)
    except ValueError:
        raise CommandError(NOT_A_REQUEST) from None
    if not isinstance(message, dict):
        raise CommandError(NOT_A_REQUEST)
    return message


def parse_request_plain(message: Mapping[str, Any]) -> Request:
    """:func:`parse_request`'s plain twin: the rules of a v1 request, written out.

    Every parameter goes through :func:`_check`, in the message's order, so
    the first thing wrong is the one named.  :func:`parse_request` hands
    over every request that is not plainly right.
    """
    rid = request_id(message)
    if "id" in message and rid is None and message["id"] is not None:
        raise CommandError(_BAD_ID)
    command = _v1_command(message.get("cmd"))
    params: dict[str, Any] = {}
    by_name = _PARAMS[command.name]
    for key, value in message.items():
        if key == "id" or key == "cmd":
            continue
        param = by_name.get(key)
        if param is None:
            raise CommandError(f"{command.name} takes no parameter {key[:40]!r}")
        if isinstance(value, str) and key != "password":
            # JSON escapes (\u001b) get past the wire's cleaning of the line;
            # what others may read is cleaned here.  A password is kept exact
            # (its own rules refuse control characters).
            value = sanitise(value)
        _check(command, param, value)
        params[key] = value
    _check_required(command, params)
    return Request(command, params, rid, json=True)


def parse_request(message: Mapping[str, Any]) -> Request:
    """A protocol v1 request (a decoded JSON object); ``CommandError`` names what is wrong.

    Every v1 request comes through here, so the request that is plainly right
    takes a short cut: the command found by its exact name, a small integer
    id or none, each parameter's type and bounds checked against limits
    worked out once per command (:class:`_Bounds`), plain ASCII strings.
    Anything else (an error, a string to clean, a name in capitals) is
    handed to :func:`parse_request_plain`, which says exactly what is
    wrong; ``tests/test_requests.py`` holds the two to the same answers.
    """
    rid = message.get("id")
    name = message.get("cmd")
    found = _V1_BY_NAME.get(name) if type(name) is str else None
    if found is None or not (rid is None or (type(rid) is int and -_ID_LIMIT < rid < _ID_LIMIT)):
        return parse_request_plain(message)
    command, bounds = found
    params: dict[str, Any] = {}
    for key, limits in bounds.items():  # the command's few parameters, not the message
        value = message.get(key, _ABSENT)
        if value is _ABSENT:
            if limits.required:
                return parse_request_plain(message)
            continue
        kind = type(value)
        if kind is str:
            if limits.kind is not str:
                return parse_request_plain(message)
            if limits.clean:  # sanitise keeps plain ASCII but for its ends
                if not (value.isascii() and value.isprintable()):
                    return parse_request_plain(message)
                value = value.strip()
            if not limits.low <= len(value) <= limits.high:
                return parse_request_plain(message)
        elif kind is not limits.kind or (kind is int and not limits.low <= value <= limits.high):
            return parse_request_plain(message)
        params[key] = value
    if len(message) != len(params) + 1 + ("id" in message):  # a member it does not take
        return parse_request_plain(message)
    return Request(command, params, rid, True)


_ABSENT = object()
_BAD_ID = f"id must be an integer or a string of at most {MAX_ID} characters"
_ID_LIMIT = 2 ** 53
"""An integer id must be smaller than this in size (JSON numbers beyond are not exact)."""


def _v1_command(name: Any) -> Command:
    """The command a v1 request names, or the error that says it has none."""
    if not isinstance(name, str):
        raise CommandError('a request names its command: {"id": 1, "cmd": "tables"}')
    command = find(name)
    if command is None or command.name != name.lower() or command.where == "text":
        raise CommandError(f"no command {name[:40]!r}; see docs/protocol.md")
    return command


def _check_required(command: Command, params: Mapping[str, Any]) -> None:
    for param in command.params:
        if param.required and param.name not in params:
            raise CommandError(f"{command.name} needs its parameter {param.name!r}")


class _Bounds:
    """What a parameter's schema allows, in the form :func:`parse_request` checks fastest
    (a class with slots: its fields are read for every parameter of every request)."""

    __slots__ = ("required", "kind", "low", "high", "clean")

    def __init__(self, param: Param) -> None:
        schema = param.schema
        self.required = param.required
        self.kind: type | None = {"string": str, "integer": int,
                                  "boolean": bool}.get(schema.get("type", ""))
        """The Python type of an allowed value (``None``: any)."""
        self.low: float
        """The least length of a string, or the least integer."""
        self.high: float
        """The greatest length of a string, or the greatest integer."""
        if self.kind is str:
            self.low, self.high = schema.get("minLength", 0), schema.get("maxLength", math.inf)
        else:
            self.low = schema.get("minimum", -math.inf)
            self.high = schema.get("maximum", math.inf)
        self.clean = param.name != "password"
        """Whether a string is sanitised (all but a password, which is kept exact)."""


_PARAMS: dict[str, dict[str, Param]] = {
    command.name: {param.name: param for param in command.params}
    for command in COMMANDS.values()}
"""Each command's parameters by name."""

_BOUNDS: dict[str, dict[str, _Bounds]] = {
    command.name: {param.name: _Bounds(param) for param in command.params}
    for command in COMMANDS.values()}
"""Each command's parameters by name, as :class:`_Bounds`."""

_V1_BY_NAME: dict[str, tuple[Command, dict[str, _Bounds]]] = {
    command.name: (command, _BOUNDS[command.name])
    for command in COMMANDS.values() if command.where != "text"}
"""The commands of protocol v1 by their exact names, with their parameters' bounds."""
