"""The event catalogue: every message the card room sends, one constructor per kind.

An event is a JSON-ready mapping with an ``"event"`` member naming its kind,
made only by calling that kind's :class:`Kind` (``events.BET(table="main",
seat=3, player="alice", amount=10)``).  A kind knows its fields, their JSON
Schema and what each means, and whom the event goes to; calling it with a
field missing or unknown raises :class:`TypeError`, so no event can leave the
core with a shape the catalogue does not describe.  The protocol schema
(:mod:`blackjack.server.frontends.schema`) and the tables in
``docs/protocol.md`` are generated from, and tested against, :data:`KINDS`.

Events are shared: one table event object goes to every seat and spectator,
and front ends may cache their encoding of it on the object (``encoded``), so
nobody may change an event once made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "Field", "Kind", "KINDS", "DEFS", "kind"]

Schema = Mapping[str, Any]


class Event(dict[str, Any]):
    """One event as sent: read-only by convention once made (it is shared)."""

    __slots__ = ("encoded",)

    encoded: bytes
    """A front end's encoding of this event, cached on first use (unset until then)."""

    @property
    def kind(self) -> str:
        """The kind's name (the ``"event"`` member)."""
        return str(self["event"])


@dataclass(frozen=True)
class Field:
    """One member of an event: its name, JSON Schema and meaning."""

    name: str
    schema: Schema
    doc: str


class Kind:
    """One kind of event: a constructor that checks its fields, and their description."""

    def __init__(self, name: str, doc: str, to: str, *fields: Field) -> None:
        self.name = name
        self.doc = doc
        self.to = to
        """Who receives it, in words (for the docs)."""
        self.fields = fields
        self._names = frozenset(f.name for f in fields)
        if "event" in self._names or len(self._names) != len(fields):
            raise ValueError(f"event {name}: a field is repeated or named 'event'")

    def __call__(self, **values: Any) -> Event:
        """The event with these fields; every field must be given, and no other."""
        if values.keys() != self._names:
            missing = sorted(self._names - values.keys())
            unknown = sorted(values.keys() - self._names)
            raise TypeError(f"event {self.name}: missing {missing}, unknown {unknown}")
        event = Event(event=self.name)
        event.update(values)
        return event

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind of event."""
        return {"type": "object", "description": self.doc,
                "properties": {"event": {"const": self.name},
                               **{f.name: {**f.schema, "description": f.doc}
                                  for f in self.fields}},
                "required": ["event", *(f.name for f in self.fields)],
                "additionalProperties": False}

    def __repr__(self) -> str:
        return f"<Kind {self.name}>"


KINDS: dict[str, Kind] = {}
"""Every kind of event, by name, in the order of the docs."""


def kind(name: str, doc: str, to: str, *fields: Field) -> Kind:
    """Make a kind and enter it in :data:`KINDS`."""
    if name in KINDS:
        raise ValueError(f"event {name} is defined twice")
    made = KINDS[name] = Kind(name, doc, to, *fields)
    return made


# --- the vocabulary ---------------------------------------------------------------

def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _list(schema: Schema) -> Schema:
    return {"type": "array", "items": schema}


def _map(schema: Schema) -> Schema:
    """An object from seat numbers written as strings (``"3"``) to values."""
    return {"type": "object", "propertyNames": {"pattern": "^[1-7]$"},
            "additionalProperties": schema}


INT: Schema = {"type": "integer"}
CHIPS: Schema = {"type": "integer", "minimum": 0}
TEXT: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
SECONDS: Schema = {"type": "integer", "minimum": 0}
SEAT: Schema = _ref("seat")
HAND: Schema = _ref("hand")
CARD: Schema = _ref("card")
CARDS: Schema = _list(_ref("card"))
NAME: Schema = _ref("name")
ACTION: Schema = _ref("action")
ACTIONS: Schema = _list(_ref("action"))

DEFS: dict[str, Schema] = {
    "card": {"type": "string", "pattern": "^([A2-9TJQK][SHDC]|\\?\\?)$",
             "description": "rank A 2-9 T J Q K and suit S H D C; '??' is the face-down hole card"},
    "seat": {"type": "integer", "minimum": 1, "maximum": 7,
             "description": "a seat, 1 to 7 from the dealer's left"},
    "hand": {"type": "integer", "minimum": 0, "maximum": 3,
             "description": "a hand of a seat, 0 to 3 (a split makes 1, 2, 3)"},
    "name": {"type": "string", "description": "an account name"},
    "action": {"enum": ["hit", "stand", "double", "split", "surrender",
                        "insurance", "even", "no"],
               "description": "a decision: play a hand, or answer the insurance offer"},
    "hand_view": {"type": "object", "description": "a hand as anyone may see it",
                  "properties": {"cards": CARDS, "total": INT, "soft": BOOL, "stake": CHIPS,
                                 "status": {"enum": ["playing", "done", "bust", "blackjack",
                                                     "surrendered", "even money",
                                                     "doubled"]}},
                  "required": ["cards", "total", "soft", "stake", "status"]},
    "seat_view": {"type": "object", "description": "a seat's hands as anyone may see them",
                  "properties": {"seat": SEAT, "bet": CHIPS, "insurance": _null(CHIPS),
                                 "hands": _list(_ref("hand_view"))},
                  "required": ["seat", "bet", "insurance", "hands"]},
    "view": {"type": "object",
             "description": "the round as anyone at the table may see it: never the hole card",
             "properties": {
                 "phase": {"enum": ["betting", "insurance", "playing", "finished"]},
                 "dealer": CARDS, "dealer_total": _null(INT),
                 "seats": _list(_ref("seat_view")),
                 "turn": _null({"type": "object", "properties": {"seat": SEAT, "hand": HAND},
                                "required": ["seat", "hand"]}),
                 "legal": ACTIONS},
             "required": ["phase", "dealer", "dealer_total", "seats", "turn", "legal"]},
    "table_summary": {
        "type": "object", "description": "a table as the lobby lists it",
        "properties": {"name": TEXT, "rules": TEXT, "min": CHIPS, "max": CHIPS,
                       "seats": _map(NAME), "taken": INT, "of": INT, "spectators": INT,
                       # "moving": run by no server of the room just now (its server
                       # left or is handing it over); back in a moment.
                       "phase": {"enum": ["idle", "betting", "playing", "closed",
                                          "moving"]}},
        "required": ["name", "rules", "min", "max", "seats", "taken", "of", "spectators",
                     "phase"]},
    "hand_result": {
        "type": "object", "description": "how one hand settled",
        "properties": {"seat": SEAT, "hand": HAND, "player": NAME, "cards": CARDS,
                       "total": INT, "stake": CHIPS,
                       "result": {"enum": ["win", "lose", "push", "blackjack", "bust",
                                           "surrender", "even money"]},
                       "payout": CHIPS, "net": INT},
        "required": ["seat", "hand", "player", "cards", "total", "stake", "result", "payout",
                     "net"]},
    "hex": {"type": "string", "pattern": "^[0-9a-f]{64}$",
            "description": "256 bits as 64 lowercase hex digits (a seed or a SHA-256)"},
    "shoe_commitment": {
        "type": "object",
        "description": "a provably fair shoe's public terms and commitment (docs/fairness.md)",
        "properties": {"shoe": TEXT, "scheme": {"const": "blackjack-fair/1"},
                       "decks": INT, "cut": INT, "burn": INT,
                       "commitment": {"$ref": "#/$defs/hex"}},
        "required": ["shoe", "scheme", "decks", "cut", "burn", "commitment"]},
    "decision": {
        "type": "object",
        "description": "one decision of a round: who made it, when, and what basic strategy "
                       "said (for the player's own decisions)",
        "properties": {"seat": SEAT, "hand": INT, "action": ACTION,
                       "at": {"type": ["number", "null"]},
                       "by": {"enum": ["player", "timer", "absent", "shutdown"]},
                       "best": ACTION, "values": {"type": "object",
                                                  "additionalProperties": {"type": "number"}},
                       "cost": {"type": "number"}, "stake": CHIPS},
        "required": ["seat", "hand", "action", "at", "by"]},
    "insurance_result": {
        "type": "object", "description": "how an insurance bet settled",
        "properties": {"seat": SEAT, "player": NAME, "stake": CHIPS, "payout": CHIPS,
                       "net": INT},
        "required": ["seat", "player", "stake", "payout", "net"]},
}
"""Shared shapes the event fields refer to (``$defs`` in the schema)."""


def F(name: str, schema: Schema, doc: str) -> Field:  # noqa: N802 - reads as a table
    """A field (short, so the catalogue below reads as a table)."""
    return Field(name, schema, doc)


_TABLE = F("table", TEXT, "the table's name")
_PLAYER = F("player", NAME, "the player of the seat")
_SEAT = F("seat", SEAT, "the seat")
_SECONDS = F("seconds", SECONDS, "seconds left before the timer decides")
_MESSAGE = F("message", TEXT, "what to tell a person")

YOU = "you"
TABLE = "everyone at the table, seated or watching"

# --- the connection and the lobby ----------------------------------------------------

WELCOME = kind("welcome", "The greeting, as a connection opens.", YOU,
               F("server", TEXT, "the card room's name"),
               F("protocol", INT, "the newest protocol version the server speaks"))
HELLO = kind("hello", "The answer to `hello`: protocol v1 is on.", YOU,
             F("protocol", INT, "the protocol version in use"),
             F("server", TEXT, "the card room's name"),
             F("version", TEXT, "the server's release"))
MODE = kind("mode", "A setting changed: text mode's `json` and `ascii`, or `trainer`.", YOU,
            F("setting", TEXT, "`json`, `ascii` or `trainer`"),
            F("on", BOOL, "whether it is now on"))
PROMPT_PASSWORD = kind("prompt_password", "Text mode asks for a password on the next line.",
                       YOU, F("prompt", TEXT, "what to ask"))
LOGIN = kind("login", "You are logged in (the answer to `login` and `register`).", YOU,
             F("name", NAME, "your account name, as registered"),
             F("balance", CHIPS, "your chips"),
             F("resumed", BOOL, "true when you are back in a seat held since you dropped"),
             F("table", _null(TEXT), "the table you sit at or watch, if any"),
             F("seat", _null(SEAT), "your seat there, if seated"))
TOKEN = kind("token", "A one-time token to log in again without the password (the answer "
             "to `token`).", YOU,
             F("token", TEXT, "send it in `resume`; it works once"),
             F("seconds", SECONDS, "how long it stays valid once this connection has closed"))
BALANCE = kind("balance", "Your chips, after every change and on `balance`.", YOU,
               F("balance", CHIPS, "your chips"))
TABLES = kind("tables", "Every table of the card room (the answer to `tables`).", YOU,
              F("tables", _list(_ref("table_summary")), "the tables"))
WHO = kind("who", "Who is online and where (the answer to `who`).", YOU,
           F("players", _list({"type": "object",
                               "properties": {"name": NAME, "table": _null(TEXT),
                                              "seat": _null(SEAT), "connected": BOOL,
                                              "address": TEXT},
                               "required": ["name", "table", "seat", "connected"]}),
             "everyone logged in or holding a seat, by name; an admin also sees each "
             "one's `address` (their last connection's)"))
HISTORY = kind("history", "Your latest settled rounds, newest first (the answer to `history`).",
               YOU,
               F("hands", _list({
                   "type": "object",
                   "properties": {"id": INT, "round": TEXT, "table": TEXT,
                                  "when": {"type": "number"},
                                  "staked": CHIPS, "payout": CHIPS, "net": INT,
                                  "dealer": CARDS, "mine": _list(_ref("hand_result"))},
                   "required": ["id", "round", "table", "when", "staked", "payout", "net",
                                "dealer", "mine"]}),
                 "one entry a round: `id` its number for `hand ID`, `when` a Unix time, "
                 "`mine` your hands in it"))
HAND_RECORD = kind(
    "hand", "One of your hands in full, with a step-by-step replay (the answer to `hand`).",
    YOU,
    F("id", INT, "the hand's number (as `history` lists it)"),
    F("round", TEXT, "the round's id"), F("table", TEXT, "the table"),
    F("when", {"type": "number"}, "when it was settled (Unix time)"),
    F("rules", TEXT, "the table's rules in short"),
    F("players", _map(NAME), "who played each seat"), F("bets", _map(CHIPS), "the bets"),
    F("dealer", CARDS, "the dealer's cards"),
    F("hands", _list(_ref("hand_result")), "every hand's result"),
    F("insurance", _list(_ref("insurance_result")), "insurance bets"),
    F("decisions", _list(_ref("decision")), "every decision, in order"),
    F("steps", _list({"type": "object", "properties": {
        "step": INT, "event": {"type": "object", "required": ["event"]},
        "at": {"type": ["number", "null"]},
        "by": {"type": ["string", "null"]}}, "required": ["step", "event", "at", "by"]}),
      "the round again, event by event as the table sent it, each play with when and by "
      "whom it was made"),
    F("staked", CHIPS, "what you staked"), F("net", INT, "what you won or lost"),
    F("shoe", _null({"type": "object", "properties": {
        "shoe": TEXT, "commitment": _ref("hex"), "first": INT,
        "retired": BOOL}, "required": ["shoe", "commitment", "first", "retired"]}),
      "the provably fair shoe it was dealt from, from card `first`; once `retired`, "
      "`shoe ID` gives the record to verify"))
SHOE_RECORD = kind(
    "shoe_record", "A provably fair shoe (the answer to `shoe`): once retired, its whole "
    "record, which `python -m blackjack.verify` checks card for card.", YOU,
    F("shoe", TEXT, "the shoe's id"), F("table", TEXT, "its table"),
    F("commitment", _ref("hex"), "its commitment"),
    F("retired", _null({"enum": ["cut card", "table closed", "server restarted"]}),
      "why it was retired, or null while it still deals (its seed stays secret)"),
    F("record", _null({"type": "object"}),
      "the record in the form of docs/fairness.md, or null while it still deals"))
SEED = kind("seed", "Your seed text for the shuffles at your table (the answer to `seed`).",
            YOU, F("seed", TEXT, "your seed text ('' if never set)"),
            F("next", _null(_ref("shoe_commitment")),
              "the shoe your seed goes into next, if you sit at a table"))
STATS = kind(
    "stats", "Your numbers over every hand you played (the answer to `stats`).", YOU,
    F("rounds", INT, "rounds played"), F("hands", INT, "hands played (splits count each)"),
    F("wins", INT, "hands won (blackjacks included)"), F("losses", INT, "hands lost"),
    F("pushes", INT, "hands pushed"), F("blackjacks", INT, "naturals paid"),
    F("net", INT, "chips won (or lost, below 0)"),
    F("biggest_win", INT, "the most won in one round"),
    F("decisions", INT, "decisions you made yourself"),
    F("matched", INT, "of those, the ones basic strategy would have made"),
    F("cost", {"type": "number"},
      "chips the other ones gave up in expected value, by the analyser's values"),
    F("model", TEXT, "how the values were computed"))
TRAINER = kind(
    "trainer", "Trainer: your decision was not basic strategy's (with `trainer on`).", YOU,
    _SEAT, F("hand", HAND, "the hand"), F("action", ACTION, "what you did"),
    F("best", ACTION, "what basic strategy plays"),
    F("cost", {"type": "number"}, "chips your choice gives up in expected value"),
    F("values", {"type": "object", "additionalProperties": {"type": "number"}},
      "expected return per chip bet of each choice you had"),
    F("model", TEXT, "how the values were computed"))
TOP = kind("top", "The leaderboard (the answer to `top`).", YOU,
           F("by_balance", _list({"type": "object",
                                  "properties": {"name": NAME, "balance": CHIPS},
                                  "required": ["name", "balance"]}),
             "the most chips, most first"),
           F("by_net", _list({"type": "object", "properties": {"name": NAME, "net": INT},
                              "required": ["name", "net"]}),
             "the most won at the tables over the last `days` days, most first"),
           F("days", INT, "the window of `by_net`"))
HELP = kind("help", "Help text (the answer to `help`).", YOU,
            F("lines", _list(TEXT), "the lines to show"))
HINT = kind("hint", "The best play for your hand, valued for the table's shoe (the answer "
            "to `hint`).", YOU,
            F("action", ACTION, "the best play for the exact cards in your hand"),
            F("values", {"type": "object", "additionalProperties": {"type": "number"}},
              "expected return per chip of the hand's bet, for each legal choice"),
            F("model", TEXT, "how the values were computed"))
INFO = kind("info", "Something for people to read; programs may ignore it.", YOU + " or " + TABLE,
            _MESSAGE)
ERROR = kind("error", "A refusal in text and older JSON mode, or a failure no request caused.",
             YOU + " or " + TABLE,
             F("code", TEXT, "the stable error code (see Error codes)"), _MESSAGE)
ANNOUNCE = kind("announce", "An admin's announcement.", "everyone logged in",
                F("admin", NAME, "who announces"),
                F("text", TEXT, "what they say, cleaned of control and format characters"))
ADMIN = kind("admin", "An admin command was carried out (the answer to every admin "
             "command); it is in the audit trail.", YOU,
             F("act", TEXT, "the command"),
             F("target", TEXT, "the player or table it was done to (empty for `announce`)"),
             _MESSAGE)
SHUTDOWN = kind("shutdown", "The server is stopping: hands in play stand and are paid.",
                "everyone connected", _MESSAGE)
BYE = kind("bye", "The server closes your connection, saying why.", YOU, _MESSAGE)

# --- seats ----------------------------------------------------------------------------

TABLE_SNAPSHOT = kind(
    "table", "The table as you arrive (join, watch, reconnect) or `look`.", YOU,
    F("name", TEXT, "the table's name"), F("rules", TEXT, "its rules in short"),
    F("min", CHIPS, "the smallest bet"), F("max", CHIPS, "the largest bet"),
    F("seats", _map(NAME), "who sits where"), F("taken", INT, "seats taken"),
    F("of", INT, "seats in all"), F("spectators", INT, "how many watch"),
    F("phase", {"enum": ["idle", "betting", "playing", "closed"]}, "what the table is doing"),
    F("bets", _map(CHIPS), "bets placed in the open betting window"),
    F("round", _null(_ref("view")), "the round in play, if any"),
    F("shoe", _null(_ref("shoe_commitment")), "the provably fair shoe dealing, if any"),
    F("next", _null(_ref("shoe_commitment")), "the shoe it deals next, already committed"))
JOINED = kind("joined", "A player sits down.", TABLE, _TABLE, _SEAT, _PLAYER)
WATCHING = kind("watching", "You are watching a table.", YOU, _TABLE, F("player", NAME, "you"))
LEFT = kind("left", "A player stands up or stops watching.", TABLE + " (and the one leaving)",
            _TABLE, F("seat", _null(SEAT), "the seat left, or null for a watcher"),
            F("player", NAME, "who left"),
            F("reason", {"enum": ["left", "timed out", "missed rounds", "idle", "kicked",
                                  "closed"]},
              "why: they left, their grace period ran out, they let rounds pass without "
              "betting, they were idle too long, an admin removed them, or the table "
              "closed"))
AWAY = kind("away", "A seated player's connection dropped; the seat is held.", TABLE,
            _TABLE, _SEAT, _PLAYER, F("grace", SECONDS, "seconds the seat is held"))
BACK = kind("back", "A player whose seat was held is back.", TABLE, _TABLE, _SEAT, _PLAYER)
SAY = kind("say", "Chat.", TABLE, _TABLE, F("player", NAME, "who speaks"),
           F("text", TEXT, "what they said, cleaned of control and format characters"))

# --- the round --------------------------------------------------------------------------

BETTING = kind("betting", "A betting window opens.", TABLE, _TABLE,
               F("round", TEXT, "the round's id"), _SECONDS,
               F("min", CHIPS, "the smallest bet"), F("max", CHIPS, "the largest bet"))
BET = kind("bet", "A bet is placed (its chips are already in escrow).", TABLE, _TABLE, _SEAT,
           _PLAYER, F("amount", CHIPS, "the bet"))
SHUFFLE = kind("shuffle", "The dealer shuffles the shoe before the round is dealt.", TABLE,
               _TABLE, F("decks", INT, "decks in the shoe"),
               F("shoe", _null(TEXT), "the provably fair shoe now dealing (null at a table "
                 "that deals from an ordinary shoe)"),
               F("commitment", _null(_ref("hex")), "its commitment, announced before"),
               F("client_seed", _null(_ref("hex")),
                 "the client seed it is shuffled with: the hash of `seeds`"),
               F("seeds", _list({"type": "object",
                                 "properties": {"player": NAME, "seed": TEXT},
                                 "required": ["player", "seed"]}),
                 "each seated player's seed text, in seat order"))
SHOE = kind("shoe", "The table commits to the shoe it deals next, before it is shuffled: its "
            "terms and the SHA-256 that binds its secret seed. A `seed` set now goes into "
            "that shuffle.", TABLE, _TABLE,
            F("next", _ref("shoe_commitment"), "the next shoe"))
SHOE_RETIRED = kind(
    "shoe_retired", "A shoe is done with: nobody can be dealt from it again, so its seed is "
    "revealed. `shoe ID` gives its record for `python -m blackjack.verify`.", TABLE, _TABLE,
    F("shoe", TEXT, "the shoe's id"),
    F("reason", {"enum": ["cut card", "table closed", "server restarted"]},
      "why: its cut card came out, or the table stopped dealing"),
    F("commitment", _ref("hex"), "its commitment"),
    F("server_seed", _ref("hex"), "its server seed, revealed"),
    F("client_seed", _ref("hex"), "its client seed"),
    F("rounds", INT, "rounds dealt from it"), F("cards", INT, "cards that left it"))
DEAL = kind("deal", "A card is dealt, to a seat's hand or to the dealer.", TABLE,
            F("seat", _null(SEAT), "the seat, or null for the dealer"),
            F("hand", _null(HAND), "the seat's hand, or null for the dealer"),
            F("player", _null(NAME), "the seat's player, or null for the dealer"),
            F("card", CARD, "the card; '??' for the dealer's face-down hole card"),
            F("total", _null(INT), "the hand's total after it; null after the hole card"))
INSURANCE = kind("insurance", "The dealer shows an ace: insurance (or even money) is offered.",
                 TABLE, F("seats", _list(SEAT), "the seats that may answer"))
DECIDE = kind("decide", "You are asked to answer the insurance offer.",
              "each player asked, alone",
              F("seats", _list(SEAT), "your seats that must answer"),
              F("players", _list(NAME), "you"),
              F("legal", ACTIONS, "the answers open: insurance, even, no"),
              _SECONDS, F("view", _ref("view"), "the round"))
DECISION = kind("decision", "A seat answered the insurance offer.", TABLE, _SEAT,
                F("hand", HAND, "always 0"), _PLAYER,
                F("action", {"enum": ["insurance", "even", "no"]}, "the answer"),
                F("stake", _null(CHIPS), "chips staked on insurance, if taken"))
PEEK = kind("peek", "The dealer checked the hole card for blackjack.", TABLE,
            F("blackjack", BOOL, "whether the dealer has it"))
TURN = kind("turn", "A hand's turn starts.", TABLE, _SEAT, F("hand", HAND, "the hand"),
            _PLAYER, F("total", INT, "the hand's total"), _SECONDS)
PROMPT = kind("prompt", "It is your move: one of `legal`, before the timer stands for you.",
              "the player to move, alone", _SEAT, F("hand", HAND, "the hand to play"),
              _PLAYER, _SECONDS, F("legal", ACTIONS, "the actions open"),
              F("view", _ref("view"), "the round"))
ACTION_TAKEN = kind("action", "A hand was played.", TABLE, _SEAT, F("hand", HAND, "the hand"),
                    _PLAYER, F("action", ACTION, "what was done"),
                    F("stake", _null(CHIPS), "the hand's whole stake after a double or split"))
TIMEOUT = kind("timeout", "A timer acted for a player who did not.", TABLE, _SEAT,
               F("hand", _null(HAND), "the hand, or null for an insurance answer"), _PLAYER,
               F("action", {"enum": ["stand", "no"]}, "what the timer did"))
REVEAL = kind("reveal", "The dealer turns the hole card over.", TABLE,
              F("card", CARD, "the hole card"), F("total", INT, "the dealer's total"))
DEALER = kind("dealer", "The dealer's final hand.", TABLE, F("cards", CARDS, "the cards"),
              F("total", INT, "the total"), F("blackjack", BOOL, "a natural"),
              F("bust", BOOL, "over 21"))
RESULT = kind("result", "The round is settled: every hand's result and payout.", TABLE,
              F("table", TEXT, "the table's name"), F("round", TEXT, "the round's id"),
              F("dealer", CARDS, "the dealer's cards"),
              F("dealer_total", INT, "the dealer's total"),
              F("hands", _list(_ref("hand_result")), "each hand, in seat order"),
              F("insurance", _list(_ref("insurance_result")), "each insurance bet"),
              F("net", _map(INT), "each seat's net for the round"),
              F("players", _map(NAME), "who played each seat"))
