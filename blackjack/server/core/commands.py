"""The command catalogue: every request a client may make, its parameters and its answer.

A :class:`Command` is front-end neutral: a name, typed parameters (JSON
Schema, as protocol v1 sends them), the event kind of its answer (``None`` for
a command that acts rather than asks), the help text people read, whether
it needs a login, and whether only admins may use it (the session refuses
it to anyone else with ``admin_only``; help lists it only to admins).  Front ends parse their input (a text line, a JSON object)
into a command and its parameters; :class:`~blackjack.server.core.session.Session`
runs it.  The protocol schema and ``docs/protocol.md`` are generated from, and
tested against, :data:`COMMANDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from blackjack.actions import Action
from blackjack.server.core import events
from blackjack.server.core.events import Kind

__all__ = ["Param", "Command", "COMMANDS", "find", "PROTOCOL_VERSIONS", "ACTION_COMMANDS"]

PROTOCOL_VERSIONS = (1,)
"""The protocol versions the server speaks, oldest first."""


@dataclass(frozen=True)
class Param:
    """One parameter of a command."""

    name: str
    schema: Mapping[str, Any]
    doc: str
    required: bool = True


@dataclass(frozen=True)
class Command:
    """One command: what a client sends, and what it gets back."""

    name: str
    usage: str
    """How people type it (``bet N``)."""
    doc: str
    """What it does, in one line."""
    params: tuple[Param, ...] = ()
    result: Kind | None = None
    """The kind of event that answers it, or ``None`` for a command that acts."""
    anonymous: bool = False
    """Whether it works before logging in."""
    aliases: tuple[str, ...] = ()
    """Other words people may type for it (``h`` for ``hit``)."""
    where: str = "both"
    """``both``; ``text`` for text-mode settings; ``v1`` for the protocol handshake."""
    admin: bool = False
    """Whether only admins may use it (the role is given on the host's command line)."""

    def __post_init__(self) -> None:
        # A v1 request carries its parameters beside "id" and "cmd".
        clash = {p.name for p in self.params} & {"id", "cmd"}
        if clash:
            raise ValueError(f"command {self.name}: a parameter may not be named {clash}")

    @property
    def help(self) -> str:
        """The help line: usage, the shortest alias and what it does."""
        aliases = f" ({self.aliases[0]})" if self.aliases else ""
        return f"{self.usage}{aliases} - {self.doc}"

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, if any."""
        return next((p for p in self.params if p.name == name), None)


_NAME = Param("name", {"type": "string", "minLength": 1, "maxLength": 64}, "the account name")
_PASSWORD = Param("password", {"type": "string", "minLength": 1, "maxLength": 256},
                  "the password")
_TABLE = Param("table", {"type": "string", "minLength": 1, "maxLength": 64}, "a table's name")
_PLAYER = Param("name", {"type": "string", "minLength": 1, "maxLength": 64},
                "the player's account name")
_REASON = Param("reason", {"type": "string", "maxLength": 200},
                "why, for the audit trail (and, but for a grant, for the player)", required=False)
_SECONDS = Param("seconds", {"type": "integer", "minimum": 1, "maximum": 10 * 365 * 86400},
                 "how long; until lifted if not given (text: 30m, 2h, 7d)", required=False)

_ACTION_DOCS = {
    Action.HIT: "take a card",
    Action.STAND: "take no more cards",
    Action.DOUBLE: "double your bet, take one card and stand",
    Action.SPLIT: "split a pair into two hands (stakes another bet)",
    Action.SURRENDER: "give up half your bet (first decision only, where allowed)",
    Action.INSURANCE: "insure against a dealer blackjack for half your bet",
    Action.EVEN_MONEY: "with a blackjack under a dealer ace, take 1:1 now",
    Action.NO_INSURANCE: "decline insurance or even money",
}
_ACTION_ALIASES = {
    Action.HIT: ("h",), Action.STAND: ("s",), Action.DOUBLE: ("d", "dd"),
    Action.SPLIT: ("p",), Action.SURRENDER: ("r", "sur"),
    Action.INSURANCE: ("i", "ins", "insure", "y", "yes"), Action.EVEN_MONEY: ("evenmoney",),
    Action.NO_INSURANCE: ("n", "decline"),
}

ACTION_COMMANDS: dict[str, Action] = {action.value: action for action in Action}
"""The commands that play a decision, by name."""

COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("hello", "hello", "start protocol v1 (programs: see docs/protocol.md)",
            (Param("protocol", {"type": "integer"}, "the protocol version wanted: 1"),),
            events.HELLO, anonymous=True, where="v1"),
    Command("register", "register NAME", "make an account (asks for a password of 8 or "
            "more characters, twice)",
            (_NAME, _PASSWORD), events.LOGIN, anonymous=True),
    Command("login", "login NAME", "log in (asks for the password)",
            (_NAME, _PASSWORD), events.LOGIN, anonymous=True),
    Command("resume", "resume TOKEN",
            "log in with a token from `token`, once: after a reload or a dropped connection",
            (Param("token", {"type": "string", "minLength": 1, "maxLength": 128},
                   "the token"),), events.LOGIN, anonymous=True, where="v1"),
    Command("token", "token",
            "a one-time token for `resume`, to log in again without the password",
            result=events.TOKEN, where="v1"),
    Command("tables", "tables", "list the tables, their rules, bets and seats",
            result=events.TABLES, anonymous=True),
    Command("who", "who", "who is online, and where", result=events.WHO, anonymous=True),
    Command("join", "join TABLE [SEAT]",
            "sit down (the lowest free seat unless you name one)",
            (_TABLE, Param("seat", {"type": "integer", "minimum": 1, "maximum": 7},
                           "the seat wanted", required=False))),
    Command("watch", "watch TABLE", "watch a table without playing", (_TABLE,)),
    Command("leave", "leave", "stand up (a hand in play stands), or stop watching"),
    Command("look", "look", "show the table you are at", result=events.TABLE_SNAPSHOT),
    Command("say", "say TEXT", "talk to everyone at your table",
            (Param("text", {"type": "string", "minLength": 1, "maxLength": 1000},
                   "what to say (cleaned, and cut to 300 characters)"),)),
    Command("bet", "bet N", "bet N chips in the betting window",
            (Param("amount", {"type": "integer", "minimum": 1, "maximum": 9_999_999_999},
                   "the bet, in chips"),)),
    *(Command(action.value, action.value, _ACTION_DOCS[action],
              aliases=_ACTION_ALIASES[action]) for action in Action),
    Command("balance", "balance", "show your chips", result=events.BALANCE),
    Command("history", "history [N]", "your last N hands (default 10, at most 50)",
            (Param("limit", {"type": "integer", "minimum": 1, "maximum": 50},
                   "how many rounds", required=False),), events.HISTORY),
    Command("hand", "hand ID", "one of your hands in full, replayed step by step "
            "(ID from history)",
            (Param("number", {"type": "integer", "minimum": 1, "maximum": 2**53},
                   "the hand's number, as history lists it"),), events.HAND_RECORD),
    Command("stats", "stats", "your hands, wins, net, and how closely you played basic "
            "strategy", result=events.STATS),
    Command("hint", "hint",
            "the best play for your hand, and what each choice is worth at this table",
            result=events.HINT),
    Command("trainer", "trainer on|off", "after a play that is not basic strategy's, say "
            "the best play and what yours cost",
            (Param("on", {"type": "boolean"}, "on or off"),), events.MODE),
    Command("seed", "seed [TEXT]", "show, or set, your seed for the shuffles at your "
            "table (provably fair shoes)",
            (Param("seed", {"type": "string", "minLength": 1, "maxLength": 64},
                   "your new seed text", required=False),), events.SEED),
    Command("shoe", "shoe ID", "a shoe's commitment, and once it is retired its record "
            "to check with python -m blackjack.verify",
            (Param("shoe", {"type": "string", "minLength": 1, "maxLength": 80},
                   "the shoe's id"),), events.SHOE_RECORD),
    Command("rebuy", "rebuy", "when you are out of chips, take the starting bankroll "
            "again (once in a while)", result=events.BALANCE),
    Command("top", "top", "the leaderboard: the most chips, and the most won this week",
            result=events.TOP),
    Command("help", "help [COMMAND]", "list the commands, or explain one",
            (Param("command", {"type": "string", "maxLength": 64}, "a command",
                   required=False),), events.HELP, anonymous=True),
    Command("json", "json on|off", "one JSON object per line instead of text (older "
            "JSON mode; programs should use protocol v1)",
            (Param("on", {"type": "boolean"}, "on or off"),), events.MODE, anonymous=True,
            where="text"),
    Command("ascii", "ascii on|off", "show suits as letters (TS) instead of symbols (10♠)",
            (Param("on", {"type": "boolean"}, "on or off"),), events.MODE, anonymous=True,
            where="text"),
    Command("quit", "quit", "leave the card room (a seat in play is held for a while)",
            anonymous=True),
    # -- for admins (the host's command line gives the role) --
    Command("announce", "announce TEXT", "tell everyone logged in",
            (Param("text", {"type": "string", "minLength": 1, "maxLength": 1000},
                   "what to announce (cleaned, and cut to 300 characters)"),),
            events.ADMIN, admin=True),
    Command("kick", "kick NAME [REASON]",
            "stand a player up (a hand in play stands) and close their connection",
            (_PLAYER, _REASON), events.ADMIN, admin=True),
    Command("ban", "ban NAME [DURATION] [REASON]",
            "refuse a player's logins (until lifted, or for 30m, 2h, 7d...) and kick them",
            (_PLAYER, _SECONDS, _REASON), events.ADMIN, admin=True),
    Command("unban", "unban NAME", "lift a ban", (_PLAYER,), events.ADMIN, admin=True),
    Command("mute", "mute NAME [DURATION] [REASON]",
            "refuse a player's chat (until lifted, or for 30m, 2h, 7d...)",
            (_PLAYER, _SECONDS, _REASON), events.ADMIN, admin=True),
    Command("unmute", "unmute NAME", "lift a mute", (_PLAYER,), events.ADMIN, admin=True),
    Command("grant", "grant NAME AMOUNT REASON",
            "give a player chips (a negative amount takes some back), with the reason "
            "kept in the ledger",
            (_PLAYER, Param("amount", {"type": "integer", "minimum": -9_999_999_999,
                                       "maximum": 9_999_999_999},
                            "chips to give (not 0; negative to take back)"),
             Param("reason", {"type": "string", "minLength": 1, "maxLength": 200},
                   "why, kept in the ledger and the audit trail")),
            events.ADMIN, admin=True),
    Command("table_add", "tables add NAME RULES",
            "open a table, its rules as --table takes them (e.g. decks=8,h17,min=100)",
            (_TABLE, Param("rules", {"type": "string", "maxLength": 200},
                           "the rules, e.g. vegas,min=25 (empty: the default rules)")),
            events.ADMIN, admin=True),
    Command("table_close", "tables close NAME",
            "close a table once its round in play is over; everyone there is stood up",
            (_TABLE,), events.ADMIN, admin=True),
)}
"""Every command, by name, in the order ``help`` lists them."""

_BY_WORD: dict[str, Command] = {word: c for c in COMMANDS.values()
                                for word in (c.name, *c.aliases)}


def find(word: str) -> Command | None:
    """The command a word names (its name or an alias, any case), or ``None``."""
    return _BY_WORD.get(word.lower())
