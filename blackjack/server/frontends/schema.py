"""The JSON Schema of protocol v1, and the tables of ``docs/protocol.md``, made from the catalogues.

Both are generated from :data:`~blackjack.server.core.commands.COMMANDS`,
:data:`~blackjack.server.core.events.KINDS` and
:data:`~blackjack.server.errors.CODES`, so they cannot drift from what the
server does.  The schema ships in the package as ``protocol-v1.schema.json``
(a test checks it equals :func:`schema`); its ``$defs`` name every shape:
``request``, ``reply``, ``event``, and one ``event.KIND``, ``request.CMD``
and ``reply.CMD`` each.

    python -m blackjack.server.frontends.schema            # print the schema
    python -m blackjack.server.frontends.schema --write    # rewrite the shipped file and the docs tables
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from blackjack.server.core.commands import COMMANDS, PROTOCOL_VERSIONS, Command
from blackjack.server.core.events import DEFS, KINDS
from blackjack.server.errors import CODES

__all__ = ["schema", "SCHEMA_FILE", "docs_tables", "update_docs"]

SCHEMA_FILE = Path(__file__).with_name(f"protocol-v{PROTOCOL_VERSIONS[-1]}.schema.json")
"""Where the schema ships in the package."""

_ID = {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 64}, {"type": "null"}],
       "description": "the request's id, echoed in its reply"}


def _v1_commands() -> list[Command]:
    return [c for c in COMMANDS.values() if c.where != "text"]


def _request(command: Command) -> dict[str, Any]:
    return {"type": "object", "description": command.doc,
            "properties": {"id": _ID, "cmd": {"const": command.name},
                           **{p.name: {**p.schema, "description": p.doc}
                              for p in command.params}},
            "required": ["cmd", *(p.name for p in command.params if p.required)],
            "additionalProperties": False}


def _reply(command: Command) -> dict[str, Any]:
    result = ({"type": "null"} if command.result is None
              else {"$ref": f"#/$defs/event.{command.result.name}"})
    return {"anyOf": [
        {"type": "object", "properties": {"id": _ID, "ok": {"const": True}, "result": result},
         "required": ["id", "ok", "result"], "additionalProperties": False},
        {"$ref": "#/$defs/refusal"}]}


def schema() -> dict[str, Any]:
    """The whole protocol v1 schema: every request, reply and event."""
    defs: dict[str, Any] = dict(DEFS)
    commands = _v1_commands()
    for kind in KINDS.values():
        defs[f"event.{kind.name}"] = kind.schema()
    for command in commands:
        defs[f"request.{command.name}"] = _request(command)
        defs[f"reply.{command.name}"] = _reply(command)
    defs["refusal"] = {
        "type": "object", "description": "a refused request",
        "properties": {"id": _ID, "ok": {"const": False}, "error": {
            "type": "object",
            "properties": {"code": {"enum": list(CODES)}, "message": {"type": "string"}},
            "required": ["code", "message"], "additionalProperties": False}},
        "required": ["id", "ok", "error"], "additionalProperties": False}
    defs["event"] = {"oneOf": [{"$ref": f"#/$defs/event.{k}"} for k in KINDS]}
    defs["request"] = {"oneOf": [{"$ref": f"#/$defs/request.{c.name}"} for c in commands]}
    defs["reply"] = {"anyOf": [{"$ref": f"#/$defs/reply.{c.name}"} for c in commands]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://blackjack.invalid/protocol-v{PROTOCOL_VERSIONS[-1]}.schema.json",
        "title": f"Blackjack card room protocol v{PROTOCOL_VERSIONS[-1]}",
        "description": "One JSON object per line: requests from the client, replies and "
                       "events from the server. See docs/protocol.md.",
        "anyOf": [{"$ref": "#/$defs/request"}, {"$ref": "#/$defs/reply"},
                  {"$ref": "#/$defs/event"}],
        "$defs": defs,
    }


def _type(spec: Any) -> str:
    """A schema fragment in a few words, for the docs tables."""
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    if "enum" in spec:
        return " / ".join(f"`{v}`" for v in spec["enum"])
    if spec.get("type") == "array":
        return f"list of {_type(spec['items'])}"
    if spec.get("type") == "object" and "additionalProperties" in spec:
        return f"seat → {_type(spec['additionalProperties'])}"
    return str(spec.get("type", "object"))


def docs_tables() -> dict[str, str]:
    """The commands, events and error codes tables of ``docs/protocol.md``, by marker."""
    commands = ["| command | parameters | result | what it does |", "|---|---|---|---|"]
    for c in _v1_commands():
        params = ", ".join(f"`{p.name}`{'' if p.required else '?'}: {_type(p.schema)}"
                           for p in c.params) or "—"
        result = f"`{c.result.name}`" if c.result is not None else "null"
        login = " (admins only)" if c.admin else "" if c.anonymous else " (logged in)"
        commands.append(f"| `{c.name}` | {params} | {result} | {c.doc}{login} |")
    kinds = ["| event | fields | to whom | when |", "|---|---|---|---|"]
    for k in KINDS.values():
        fields = "<br>".join(f"`{f.name}`: {_type(f.schema)}: {f.doc}" for f in k.fields)
        kinds.append(f"| `{k.name}` | {fields or '—'} | {k.to} | {k.doc} |")
    codes = ["| code | meaning |", "|---|---|"]
    codes += [f"| `{code}` | {meaning} |" for code, meaning in CODES.items()]
    return {"commands": "\n".join(commands), "events": "\n".join(kinds),
            "errors": "\n".join(codes)}


def update_docs(text: str) -> str:
    """``text`` (the protocol page) with every marked table replaced by the generated one."""
    for marker, table in docs_tables().items():
        text = re.sub(rf"(<!-- {marker} -->\n).*?(<!-- /{marker} -->)",
                      lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Print the schema, or (``--write``) rewrite the shipped schema and the docs tables."""
    parser = argparse.ArgumentParser(prog="python -m blackjack.server.frontends.schema",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="rewrite the shipped schema file and docs/protocol.md's tables")
    parser.add_argument("--docs", default="docs/protocol.md", help="the protocol page")
    args = parser.parse_args(argv)
    text = json.dumps(schema(), indent=1, ensure_ascii=False) + "\n"
    if not args.write:
        sys.stdout.write(text)
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    docs = Path(args.docs)
    docs.write_text(update_docs(docs.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
