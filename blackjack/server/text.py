"""What text a client may show to others: clean lines, clean chat, honest names.

One player's words reach other players' screens in two ways, as chat and as
a name in every line that talks about them.  This module holds the rules that
keep both from passing for something else:

* :func:`sanitise` runs on every input line: backspaces applied, control
  characters (ESC among them) and bidi overrides dropped.
* :func:`clean_chat` runs on chat: no invisible format characters, at most
  :data:`MAX_MARKS` combining marks on a letter, whitespace runs as one space.
  :func:`chat_lines` lays chat out for a terminal so that every line it takes
  starts with who said it, and no wrapped tail can pose as a server line.
* :func:`look_alike_key` folds a name to its look-alike form (``aIice`` and
  ``alice`` share one), and :func:`reserved_word` says whether a name is, or
  looks like, a word the server speaks with (``Dealer``, ``You``, ``Seat``).

Pure functions of strings; nothing here imports Twisted.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "TABLE_NAME",
    "sanitise",
    "clean_chat",
    "chat_lines",
    "display_width",
    "look_alike_key",
    "reserved_word",
    "MAX_MARKS",
    "CHAT_MAX",
    "CHAT_WIDTH",
    "LOOK_ALIKE_LETTERS",
    "LOOK_ALIKE_PAIRS",
    "NAME_SEPARATORS",
    "RESERVED_NAMES",
]

# --- every input line ------------------------------------------------------------

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
    two UTF-8 bytes that contain no 0xFF.  (Passwords pass through here too,
    so this must not drop more than it always has, or old passwords break;
    chat gets the stricter :func:`clean_chat`.)
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


# --- chat ----------------------------------------------------------------------------

MAX_MARKS = 2
"""Combining marks kept on one base character (more is "Zalgo" text that spills
over the lines above and below).  Counted after NFC composition, so é or ệ
typed as separate marks keeps all of them."""

TABLE_NAME = re.compile(r"[A-Za-z0-9_-]{1,16}")
"""A table's name, as ``--table`` and an admin's ``tables add`` take it."""

CHAT_MAX = 300
"""Characters of chat kept from one ``say``."""

CHAT_WIDTH = 79
"""Columns a chat line may take on a text client's screen, prefix included: one
less than the classic 80, so a terminal never wraps it by itself."""

# Letters and symbols that draw nothing (Hangul fillers, the blank braille
# pattern): not whitespace to Unicode, but blank on screen, so a run of them
# pads a line as well as spaces do.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# Dropped from chat: format characters (Cf: bidi marks U+200E/U+200F/U+061C,
# zero-width space and joiners, word joiner, BOM, soft hyphen, the tag
# characters U+E0000-U+E007F...), controls (Cc), surrogates (Cs) and code
# points not yet assigned (Cn), whose look a future font decides.  Private use
# (Co) stays: some terminals draw icons there, and it can pose as nothing.
_DROPPED = frozenset({"Cf", "Cc", "Cs", "Cn"})
_MARKS = frozenset({"Mn", "Mc", "Me"})


def clean_chat(text: str) -> str:
    """Chat as others will see it: nothing hidden, nothing stacked, no padding.

    After :func:`sanitise` (applied to every line), chat also loses every
    format character and unassigned code point, keeps at most
    :data:`MAX_MARKS` combining marks on each base character (and none with
    no base, at the start or after a space, where they would deface the
    speaker's name), turns every run of whitespace or blank-drawing
    characters into one space, and is cut to :data:`CHAT_MAX` characters.
    The result may be empty: there was nothing visible to say.
    """
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    marks = 0
    after_space = True  # the start counts as a space: no leading blanks or marks
    for ch in text:
        category = unicodedata.category(ch)
        if category in _DROPPED:
            continue
        if category[0] == "Z" or ch.isspace() or ch in _BLANKS:
            if not after_space:
                out.append(" ")
                after_space = True
            continue
        if category in _MARKS:
            if after_space or marks >= MAX_MARKS:
                continue
            marks += 1
        else:
            marks = 0
        out.append(ch)
        after_space = False
    return "".join(out[:CHAT_MAX]).rstrip(" ")


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK) characters two, marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in _MARKS:
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def chat_lines(prefix: str, text: str, width: int = CHAT_WIDTH) -> list[str]:
    """``text`` laid out in lines of at most ``width`` columns, each starting ``prefix``.

    A terminal wraps a long line at its edge, and the tail then starts a
    line of its own: ``say`` with just enough text before ``Dealer has
    blackjack`` would print what looks like the dealer's line.  So chat is
    wrapped here, at spaces where it can be, and every piece carries the
    ``[table] name:`` prefix.  (A terminal narrower than ``width`` still wraps.)
    """
    room = max(width - display_width(prefix), 20)
    lines: list[str] = []
    line, used = "", 0
    for word in text.split(" "):
        size = display_width(word)
        if line and used + 1 + size <= room:
            line, used = f"{line} {word}", used + 1 + size
            continue
        if line:
            lines.append(line)
        line, used = "", 0
        for ch in word:  # a word longer than the room is cut where it must be
            size = display_width(ch)
            if used + size > room:
                lines.append(line)
                line, used = "", 0
            line, used = line + ch, used + size
    lines.append(line)
    return [prefix + piece for piece in lines]


# --- names -------------------------------------------------------------------------------

NAME_SEPARATORS = "_-"
"""Left out of the look-alike form: ``a_lice`` and ``al-ice`` pass for ``alice``."""

LOOK_ALIKE_LETTERS = {"i": "l", "1": "l", "|": "l", "!": "l", "0": "o", "5": "s",
                      "8": "b", "2": "z"}
"""Characters that pass for one another in a name, each mapped to one
representative (applied after ``casefold()``, so ``I`` is ``i`` is ``l``)."""

LOOK_ALIKE_PAIRS = (("rn", "m"), ("vv", "w"))
"""Pairs of letters that pass for one letter, replaced after the letters above."""


def look_alike_key(name: str) -> str:
    """The form of ``name`` that names looking alike share.

    ``casefold()``; drop ``_`` and ``-``; map ``i l 1 | !`` to ``l``, ``0`` to
    ``o``, ``5`` to ``s``, ``8`` to ``b``, ``2`` to ``z``; then ``rn`` to
    ``m`` and ``vv`` to ``w``.  So ``aIice``, ``a1ice``, ``ALICE`` and
    ``al_ice`` all have the key ``allce``, and ``Dearner`` has ``deamer``.
    Two accounts may not share a key: on screen they would be one person.
    """
    key = "".join(LOOK_ALIKE_LETTERS.get(ch, ch) for ch in name.casefold()
                  if ch not in NAME_SEPARATORS)
    for pair, single in LOOK_ALIKE_PAIRS:
        key = key.replace(pair, single)
    return key


RESERVED_NAMES = frozenset({
    # The first words of the server's own lines (see render.py), which a
    # player's name also starts: "Dealer: 6♠ (6)" must be the dealer.
    "Dealer", "You", "Your", "Seat", "Results", "Balance", "Table", "Tables",
    "Insurance", "Place", "The", "Welcome", "Hello", "Type", "Basic", "Expected",
    "Recent", "Commands", "Choose", "Repeat", "Password", "Goodbye", "Idle",
    "Sorry", "Malformed", "Line",
    # Whom players would believe: staff and the house.
    "Server", "System", "Admin", "Administrator", "Moderator", "Operator", "Sysop",
    "Root", "Staff", "Support", "Host", "House", "Casino", "Croupier", "Pitboss",
    "Cashier", "Banker", "Twisted", "Blackjack",
    # Words that read as a notice, or as nobody in particular.
    "Info", "Notice", "Warning", "Error", "Help", "Everyone", "Nobody",
    "Player", "Players", "Spectator", "Spectators", "Anonymous", "None", "Null",
})
"""Names nobody may register: words the server speaks with, and roles players trust."""

_RESERVED_KEYS = {look_alike_key(word): word for word in RESERVED_NAMES}


def reserved_word(name: str) -> str | None:
    """The reserved word that ``name`` is, looks like, or is with a number added.

    ``Dealer``, ``DEALER``, ``Dea1er``, ``Dealer2`` and ``Seat_3`` all give
    a word; ``Dealerfan`` does not.
    """
    bare = name.rstrip("0123456789" + NAME_SEPARATORS)
    for form in (name, bare):
        word = _RESERVED_KEYS.get(look_alike_key(form))
        if word is not None:
            return word
    return None
