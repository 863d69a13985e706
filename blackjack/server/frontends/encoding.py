"""Events and replies as JSON messages: compact UTF-8, each encoded once.

A table event goes to every seat and spectator as one shared object; its
encoding is cached on it (:attr:`Event.encoded
<blackjack.server.core.events.Event.encoded>`), so a prompt carrying the
whole round view is encoded once, not once per reader (it was a third of the
reactor's time under load).  A reply wraps its result's cached bytes.

orjson encodes about 8 times faster than the standard library and is used
when installed; the standard library gives the same bytes otherwise.  JSON
escapes every control character, so a message never holds a line break
(U+2028 and U+2029 stay as text, as they are legal in JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from blackjack.server.core.events import Event

__all__ = ["encode", "encode_event", "reply_ok", "reply_error", "decode"]

_stdlib_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _stdlib(value: Any) -> bytes:
    return _stdlib_encode(value).encode("utf-8")


try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with the server; this is a spare
    encode: Callable[[Any], bytes] = _stdlib
    decode: Callable[[bytes | str], Any] = json.loads
else:
    # Integer keys become strings, as the json module writes them.
    _OPTIONS = orjson.OPT_NON_STR_KEYS
    _dumps = orjson.dumps

    def encode(value: Any) -> bytes:
        """``value`` as compact UTF-8 JSON."""
        try:
            return _dumps(value, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, say
            return _stdlib(value)

    decode = orjson.loads


def encode_event(event: Event | dict[str, Any]) -> bytes:
    """An event as JSON, computed once per event object and cached on it."""
    if type(event) is not Event:
        return encode(event)
    try:
        return event.encoded
    except AttributeError:
        data = event.encoded = encode(event)
        return data


def reply_ok(request_id: Any, result: Event | None) -> bytes:
    """A successful reply: ``{"id": ..., "ok": true, "result": ...}``."""
    if result is None:
        body = b"null"
    else:
        try:  # encode_event's cache, read here: every reply passes this way
            body = result.encoded
        except AttributeError:
            body = encode_event(result)
    # An integer id (what programs send) needs no encoder: %d writes its JSON.
    if type(request_id) is int:
        return b'{"id":%d,"ok":true,"result":%b}' % (request_id, body)
    rid = b"null" if request_id is None else encode(request_id)
    return b'{"id":%b,"ok":true,"result":%b}' % (rid, body)


def reply_error(request_id: Any, code: str, message: str) -> bytes:
    """A refusal: ``{"id": ..., "ok": false, "error": {"code": ..., "message": ...}}``."""
    return encode({"id": request_id, "ok": False,
                   "error": {"code": code, "message": message}})
