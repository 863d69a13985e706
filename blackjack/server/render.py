"""Turning events into what a connection sends: JSON lines, or text for people.

Every message the server sends is first an event: a JSON-ready dict with an
``"event"`` key (engine events from :meth:`blackjack.round.Event.to_dict`,
plus the server's own).  A connection in JSON mode sends ``json_wire(event)``;
otherwise ``text_lines(event, me, unicode)`` renders it for a person, with
"you" for the viewer's own seat and unicode suits unless ``ascii on``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from blackjack.cards import Card
from blackjack.server.text import chat_lines

__all__ = ["json_line", "json_wire", "text_lines", "card_text", "Broadcast"]


# The fallback encoder: compact separators, UTF-8 text kept as is.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _stdlib_wire(event: Any) -> bytes:
    """An event as sent: compact UTF-8 JSON and CR LF, by the standard library."""
    return (_encode(event) + "\r\n").encode("utf-8")


def _orjson_wire(event: Any) -> bytes:
    """The same bytes as :func:`_stdlib_wire`, by orjson (about 8 times faster).

    Encoding was the largest single cost of a command.  A value orjson
    refuses (an integer beyond 64 bits) falls back to the standard library.
    """
    try:
        return _orjson_dumps(event, option=_ORJSON_OPTIONS) + b"\r\n"
    except TypeError:  # orjson.JSONEncodeError
        return _stdlib_wire(event)


try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; this is a spare
    _wire = _stdlib_wire
else:
    _orjson_dumps = orjson.dumps
    # Integer keys become strings, as the json module writes them.
    _ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS
    _wire = _orjson_wire


class Broadcast(dict):  # type: ignore[type-arg]
    """An event sent to everyone at a table: encoded to JSON once, not per reader.

    Readers must treat it as read-only (they all share it).  A prompt
    carries the whole round view, and encoding it once per seat and
    spectator was a third of the reactor's time under load.
    """

    __slots__ = ("_wire",)

    def wire(self) -> bytes:
        """The JSON line as sent, computed on first use."""
        try:
            return self._wire  # type: ignore[no-any-return]
        except AttributeError:
            self._wire: bytes = _wire(self)
            return self._wire


def json_wire(event: dict[str, Any]) -> bytes:
    """One event as sent to a JSON-mode client: compact UTF-8 JSON, then CR LF.

    JSON escapes every control character, so the line holds no other line
    break (U+2028 and U+2029 stay as text, as they are legal in JSON).
    """
    if type(event) is Broadcast:
        return event.wire()
    return _wire(event)


def json_line(event: dict[str, Any]) -> str:
    """One event as one line of compact JSON (text, without the line end)."""
    return json_wire(event)[:-2].decode("utf-8")


def card_text(card: str, unicode: bool = True) -> str:
    """A card's wire form (``"TS"``, ``"??"``) as shown to people (``"10♠"``)."""
    if card == "??":
        return "??"
    return Card.parse(card).display(unicode=unicode)


def _cards(cards: Iterable[str], unicode: bool) -> str:
    return " ".join(card_text(c, unicode) for c in cards)


def _who(event: dict[str, Any], me: str | None) -> str:
    name = event.get("player")
    if name is not None and name == me:
        return "You"
    return str(name) if name is not None else f"Seat {event.get('seat')}"


#: Why a player left a seat, as others are told it (``left`` event ``reason``).
_LEFT_BECAUSE = {"timed out": " (disconnected)", "missed rounds": " (no bets for a while)",
                 "idle": " (idle)"}


def _hand_label(event: dict[str, Any]) -> str:
    hand = event.get("hand")
    return f" (hand {hand + 1})" if isinstance(hand, int) and hand > 0 else ""


class _Renderer:
    def __init__(self, me: str | None, unicode: bool) -> None:
        self.me = me
        self.unicode = unicode

    def render(self, event: dict[str, Any]) -> list[str]:
        method: Callable[[dict[str, Any]], list[str]] = getattr(
            self, "ev_" + str(event.get("event")), self.ev_unknown)
        return method(event)

    def ev_unknown(self, e: dict[str, Any]) -> list[str]:
        return [json_line(e)]

    def ev_welcome(self, e: dict[str, Any]) -> list[str]:
        return [f"Welcome to {e['server']}!",
                "Type 'register NAME' to make an account, 'login NAME' to log in, "
                "'help' for every command."]

    def ev_login(self, e: dict[str, Any]) -> list[str]:
        lines = [f"Hello, {e['name']}. You have {e['balance']} chips."]
        if e.get("resumed"):
            lines.append(f"You are back at table {e['resumed']}.")
        else:
            lines.append("Type 'tables' to see the tables, 'join TABLE' to sit down.")
        return lines

    def ev_prompt_password(self, e: dict[str, Any]) -> list[str]:
        return [e["prompt"]]

    def ev_tables(self, e: dict[str, Any]) -> list[str]:
        lines = ["Tables:"]
        for t in e["tables"]:
            players = ", ".join(f"{s}:{n}" for s, n in t["seats"].items()) or "empty"
            lines.append(f"  {t['name']:<10} {t['taken']}/{t['of']} seats  "
                         f"bets {t['min']}-{t['max']}  {t['rules']}  [{players}]")
        return lines

    def ev_table(self, e: dict[str, Any]) -> list[str]:
        seats = ", ".join(f"{s}:{n}" for s, n in e["seats"].items()) or "nobody"
        lines = [f"Table {e['name']} ({e['rules']}), seated: {seats}."]
        if e.get("round"):
            lines.extend(self._view(e["round"]))
        return lines

    def ev_joined(self, e: dict[str, Any]) -> list[str]:
        if e.get("player") == self.me:
            return [f"You sit down at table {e['table']}, seat {e['seat']}."]
        return [f"{e['player']} sits down in seat {e['seat']}."]

    def ev_watching(self, e: dict[str, Any]) -> list[str]:
        return [f"You are watching table {e['table']}. Type 'leave' to stop."]

    def ev_left(self, e: dict[str, Any]) -> list[str]:
        if e.get("player") == self.me:
            return [f"You leave table {e['table']}."]
        why = _LEFT_BECAUSE.get(str(e.get("reason")), "")
        return [f"{e['player']} leaves seat {e.get('seat')}{why}."]

    def ev_betting(self, e: dict[str, Any]) -> list[str]:
        return [f"Place your bets: 'bet N' ({e['min']}-{e['max']}), "
                f"{e['seconds']} seconds."]

    def ev_bet(self, e: dict[str, Any]) -> list[str]:
        return [f"{_who(e, self.me)} bet{'' if _who(e, self.me) == 'You' else 's'} "
                f"{e['amount']} (seat {e['seat']})."]

    def ev_deal(self, e: dict[str, Any]) -> list[str]:
        card = card_text(e["card"], self.unicode)
        if e.get("seat") is None:
            if e["card"] == "??":
                return ["Dealer: one card face down."]
            return [f"Dealer: {card}" + (f"  ({e['total']})" if "total" in e else "")]
        return [f"{_who(e, self.me)}{_hand_label(e)}: {card}  ({e['total']})"]

    def ev_insurance(self, e: dict[str, Any]) -> list[str]:
        return ["The dealer shows an ace: insurance is offered."]

    def ev_decide(self, e: dict[str, Any]) -> list[str]:
        if self.me in e.get("players", ()):
            return ["Insurance? Type 'insurance', 'no' (or 'even' with a blackjack); "
                    f"{e['seconds']} seconds."]
        return []

    def ev_decision(self, e: dict[str, Any]) -> list[str]:
        said = {"insurance": f"takes insurance ({e.get('stake')})",
                "even": "takes even money", "no": "declines insurance"}
        return [f"{_who(e, self.me)} {said.get(str(e.get('action')), e.get('action'))}."]

    def ev_peek(self, e: dict[str, Any]) -> list[str]:
        return ["The dealer peeks: blackjack!" if e.get("blackjack")
                else "The dealer peeks: no blackjack."]

    def ev_action(self, e: dict[str, Any]) -> list[str]:
        verbs = {"hit": "hits", "stand": "stands", "double": "doubles",
                 "split": "splits", "surrender": "surrenders"}
        verb = str(e.get("action"))
        who = _who(e, self.me)
        word = verb if who == "You" else verbs.get(verb, verb)
        extra = f" (+{e['stake']})" if e.get("stake") else ""
        return [f"{who}{_hand_label(e)} {word}{extra}."]

    def ev_turn(self, e: dict[str, Any]) -> list[str]:
        return []  # the table's "prompt" event says it with the view

    def ev_prompt(self, e: dict[str, Any]) -> list[str]:
        if e.get("player") != self.me:
            return [f"{e['player']}{_hand_label(e)} to play."]
        lines = self._view(e["view"])
        lines.append(f"Your move{_hand_label(e)} ({e['seconds']}s): "
                     + ", ".join(e["legal"]) + " >")
        return lines

    def ev_timeout(self, e: dict[str, Any]) -> list[str]:
        what = "declines insurance" if e.get("action") == "no" else "stands"
        return [f"{_who(e, self.me)} ran out of time: {what}."]

    def ev_reveal(self, e: dict[str, Any]) -> list[str]:
        return [f"The dealer turns over {card_text(e['card'], self.unicode)}: {e['total']}."]

    def ev_dealer(self, e: dict[str, Any]) -> list[str]:
        cards = _cards(e.get("cards", ()), self.unicode)
        if e.get("blackjack"):
            return [f"Dealer has blackjack: {cards}."]
        if e.get("bust"):
            return [f"Dealer busts with {e['total']}: {cards}."]
        return [f"Dealer has {e['total']}: {cards}."]

    def ev_result(self, e: dict[str, Any]) -> list[str]:
        names = e.get("players", {})
        lines = []
        for h in e.get("hands", ()):
            who = names.get(str(h["seat"]), f"seat {h['seat']}")
            who = "You" if who == self.me else who
            hand = f" hand {h['hand'] + 1}" if h["hand"] else ""
            net = h["net"]
            lines.append(f"  {who}{hand}: {_cards(h['cards'], self.unicode)} ({h['total']}) "
                         f"{h['result']}, {'+' if net > 0 else ''}{net}")
        for i in e.get("insurance", ()):
            who = names.get(str(i["seat"]), f"seat {i['seat']}")
            who = "You" if who == self.me else who
            lines.append(f"  {who}: insurance {'+' if i['net'] > 0 else ''}{i['net']}")
        return ["Results:"] + lines

    def ev_balance(self, e: dict[str, Any]) -> list[str]:
        return [f"Balance: {e['balance']} chips."]

    def ev_say(self, e: dict[str, Any]) -> list[str]:
        # Wrapped by us, each piece naming the speaker: a line the terminal
        # wrapped could start with words that pass for the server's.
        return chat_lines(f"[{e['table']}] {e['player']}: ", str(e["text"]))

    def ev_who(self, e: dict[str, Any]) -> list[str]:
        lines = [f"{len(e['players'])} online:"]
        for p in e["players"]:
            where = (f"table {p['table']} seat {p['seat']}" if p.get("seat")
                     else f"watching {p['table']}" if p.get("table") else "lobby")
            away = " (disconnected)" if not p.get("connected", True) else ""
            lines.append(f"  {p['name']:<16} {where}{away}")
        return lines

    def ev_history(self, e: dict[str, Any]) -> list[str]:
        if not e["hands"]:
            return ["No hands played yet."]
        lines = ["Recent hands (newest first):"]
        for h in e["hands"]:
            net = h["net"]
            lines.append(f"  {h['table']:<10} staked {h['staked']:>5}  "
                         f"{'+' if net > 0 else ''}{net}  {h['summary']}")
        return lines

    def ev_help(self, e: dict[str, Any]) -> list[str]:
        return list(e["lines"])

    def ev_hint(self, e: dict[str, Any]) -> list[str]:
        lines = [f"Basic strategy says: {e['action']}."]
        values = e.get("values") or {}
        if values:
            ranked = sorted(values.items(), key=lambda item: -item[1])
            lines.append("Expected return per chip bet: "
                         + ", ".join(f"{name} {value:+.3f}" for name, value in ranked)
                         + " (exact, infinite deck)")
        return lines

    def ev_info(self, e: dict[str, Any]) -> list[str]:
        return [f"* {e['message']}"]

    def ev_error(self, e: dict[str, Any]) -> list[str]:
        return [f"! {e['message']}"]

    def ev_mode(self, e: dict[str, Any]) -> list[str]:
        return [f"* {e['setting']} {'on' if e['on'] else 'off'}."]

    def ev_shutdown(self, e: dict[str, Any]) -> list[str]:
        return [f"*** {e['message']}"]

    def ev_bye(self, e: dict[str, Any]) -> list[str]:
        return [e["message"]]

    def _view(self, view: dict[str, Any]) -> list[str]:
        dealer = _cards(view["dealer"], self.unicode)
        lines = [f"  Dealer: {dealer}"
                 + (f"  ({view['dealer_total']})" if view.get("dealer_total") else "")]
        turn = view.get("turn") or {}
        for seat in view["seats"]:
            for index, hand in enumerate(seat["hands"]):
                mark = ">" if (turn.get("seat"), turn.get("hand")) == (seat["seat"], index) \
                    else " "
                label = f"Seat {seat['seat']}" + (f" hand {index + 1}" if index else "")
                soft = " soft" if hand["soft"] and hand["total"] <= 21 else ""
                lines.append(f"{mark} {label}: {_cards(hand['cards'], self.unicode)}  "
                             f"({soft.strip() + ' ' if soft else ''}{hand['total']}), "
                             f"bet {hand['stake']}, {hand['status']}")
        return lines


def text_lines(event: dict[str, Any], me: str | None = None,
               unicode: bool = True) -> list[str]:
    """An event as zero or more lines for a person; ``me`` names the viewer."""
    return _Renderer(me, unicode).render(event)
