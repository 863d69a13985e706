"""Text a client typed, made safe to show to other people: :func:`sanitise`.

Every front end hands what a person typed (a telnet line, a WebSocket
message, a string inside a protocol v1 request) through :func:`sanitise`
before anyone else may see it, so no player can move another player's
cursor, retitle their terminal or reorder the text on their screen.
"""

from __future__ import annotations

import unicodedata

__all__ = ["sanitise"]

_BACKSPACES = frozenset("\b\x7f")

# Bidirectional embedding, override and isolate controls.  They are not
# terminal escapes, but a chat line holding them can reorder the text that
# follows it on the reader's screen ("Trojan Source", CVE-2021-42574), making
# one player's words appear to say something else or to come from someone
# else.  Nobody needs them to chat in a card room.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# LINE and PARAGRAPH SEPARATOR are line breaks to many programs (Python's
# str.splitlines among them), so one chat line would become two in a JSON
# client's reader.  They become plain spaces.
_LINE_BREAKS = frozenset("\u2028\u2029")


def sanitise(text: str) -> str:
    """Apply backspaces and drop control characters; trim surrounding spaces.

    C0 controls (ESC among them), DEL and C1 controls never survive, so a
    player cannot move another player's cursor or retitle their terminal; an
    ESC sequence loses its ESC and is left as harmless text.  Bidi override
    characters are dropped too.  Tabs and Unicode line separators become
    spaces.  Printable non-ASCII (``ÿ``, ``é``, ``♠``) is kept: a raw 0xFF
    byte (telnet IAC) cannot come out of UTF-8 decoding, and U+00FF is sent as
    two UTF-8 bytes that contain no 0xFF.
    """
    if text.isascii() and text.isprintable():
        # Nearly every line: nothing to apply or drop, so skip the scan.
        return text.strip()
    out: list[str] = []
    for ch in text:
        if ch in _BACKSPACES:
            if out:
                out.pop()
        elif ch == "\t" or ch in _LINE_BREAKS:
            out.append(" ")
        elif ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out).strip()
