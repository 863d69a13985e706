"""Events as text for people: what a terminal shows of each event in the catalogue.

``text_lines(event, me, unicode)`` renders one event as zero or more lines,
with "You" for the viewer's own seat (``me`` is the viewer's name) and
unicode suits unless ``ascii on``.  Programs read the same events as JSON
(:mod:`blackjack.server.frontends.encoding`); nothing here decides anything
about the game.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from blackjack.cards import Card
from blackjack.server.text import chat_lines
from blackjack.server.frontends.encoding import encode_event

__all__ = ["text_lines", "card_text"]

Event = Mapping[str, Any]

# What a person does, in the second and third person: "You stand" / "bob stands".
_VERBS = {
    "hit": ("hit", "hits"), "stand": ("stand", "stands"), "double": ("double", "doubles"),
    "split": ("split", "splits"), "surrender": ("surrender", "surrenders"),
    "insurance": ("take insurance", "takes insurance"),
    "even": ("take even money", "takes even money"),
    "no": ("decline insurance", "declines insurance"),
}


#: Why a player left a seat, as others are told it (``left`` event ``reason``).
_LEFT_BECAUSE = {"timed out": " (disconnected)", "missed rounds": " (no bets for a while)",
                 "idle": " (idle)"}


def card_text(card: str, unicode: bool = True) -> str:
    """A card's wire form (``"TS"``, ``"??"``) as shown to people (``"10♠"``)."""
    if card == "??":
        return "??"
    return Card.parse(card).display(unicode=unicode)


def _cards(cards: Iterable[str], unicode: bool) -> str:
    return " ".join(card_text(c, unicode) for c in cards)


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _hand_label(event: Event) -> str:
    hand = event.get("hand")
    return f" (hand {hand + 1})" if isinstance(hand, int) and hand > 0 else ""


class _Renderer:
    def __init__(self, me: str | None, unicode: bool) -> None:
        self.me = me
        self.unicode = unicode

    def render(self, event: Event) -> list[str]:
        method: Callable[[Event], list[str]] = getattr(
            self, "ev_" + str(event.get("event")), self.ev_unknown)
        return method(event)

    def _who(self, event: Event) -> str:
        name = event.get("player")
        if name is not None and name == self.me:
            return "You"
        return str(name) if name is not None else f"Seat {event.get('seat')}"

    def _does(self, event: Event, action: str) -> str:
        """"You stand" or "bob stands": the actor and the verb in agreement."""
        who = self._who(event)
        you, they = _VERBS.get(action, (action, action))
        return f"{who}{_hand_label(event)} {you if who == 'You' else they}"

    def ev_unknown(self, e: Event) -> list[str]:
        return [encode_event(dict(e)).decode("utf-8")]

    def ev_welcome(self, e: Event) -> list[str]:
        return [f"Welcome to {e['server']}!",
                "Type 'register NAME' to make an account, 'login NAME' to log in, "
                "'help' for every command."]

    def ev_hello(self, e: Event) -> list[str]:
        return [f"* Protocol v{e['protocol']} on ({e['server']} {e['version']})."]

    def ev_login(self, e: Event) -> list[str]:
        lines = [f"Hello, {e['name']}. You have {e['balance']} chips."]
        if e.get("resumed"):
            lines.append(f"You are back at table {e['table']}, seat {e['seat']}.")
        else:
            lines.append("Type 'tables' to see the tables, 'join TABLE' to sit down.")
        return lines

    def ev_token(self, e: Event) -> list[str]:
        return [f"* Resume token, for one login within {e['seconds']} s of leaving: "
                f"{e['token']}"]

    def ev_prompt_password(self, e: Event) -> list[str]:
        return [e["prompt"]]

    def ev_tables(self, e: Event) -> list[str]:
        lines = ["Tables:"]
        for t in e["tables"]:
            players = ", ".join(f"{s}:{n}" for s, n in t["seats"].items()) or "empty"
            lines.append(f"  {t['name']:<10} {t['taken']}/{t['of']} seats  "
                         f"bets {t['min']}-{t['max']}  {_rules(t)}  [{players}]")
        return lines

    def ev_table(self, e: Event) -> list[str]:
        seats = ", ".join(f"{s}:{n}" for s, n in e["seats"].items()) or "nobody"
        lines = [f"Table {e['name']} ({_rules(e)}, bets {e['min']}-{e['max']}), "
                 f"seated: {seats}."]
        if e.get("round"):
            lines.extend(self._view(e["round"]))
        return lines

    def ev_joined(self, e: Event) -> list[str]:
        if e.get("player") == self.me:
            return [f"You sit down at table {e['table']}, seat {e['seat']}."]
        return [f"{e['player']} sits down in seat {e['seat']}."]

    def ev_watching(self, e: Event) -> list[str]:
        return [f"You are watching table {e['table']}. Type 'leave' to stop."]

    def ev_left(self, e: Event) -> list[str]:
        reason = e.get("reason")
        why = _LEFT_BECAUSE.get(str(reason), "")
        if e.get("player") == self.me:
            return [f"You leave table {e['table']}."]
        if e.get("seat") is None:
            return [f"{e['player']} stops watching."]
        return [f"{e['player']} leaves seat {e['seat']}{why}."]

    def ev_away(self, e: Event) -> list[str]:
        return [f"* {e['player']} disconnected; seat {e['seat']} is held for "
                f"{e['grace']} seconds."]

    def ev_back(self, e: Event) -> list[str]:
        return [f"* {e['player']} is back."]

    def ev_betting(self, e: Event) -> list[str]:
        return [f"Place your bets: 'bet N' ({e['min']}-{e['max']}), "
                f"{e['seconds']} seconds."]

    def ev_bet(self, e: Event) -> list[str]:
        who = self._who(e)
        return [f"{who} bet{'' if who == 'You' else 's'} {e['amount']} (seat {e['seat']})."]

    def ev_shuffle(self, e: Event) -> list[str]:
        return ["* The dealer shuffles the shoe."]

    def ev_deal(self, e: Event) -> list[str]:
        card = card_text(e["card"], self.unicode)
        if e.get("seat") is None:
            if e["card"] == "??":
                return ["Dealer: one card face down."]
            total = e.get("total")
            return [f"Dealer: {card}" + (f"  ({total})" if total is not None else "")]
        return [f"{self._who(e)}{_hand_label(e)}: {card}  ({e['total']})"]

    def ev_insurance(self, e: Event) -> list[str]:
        return ["The dealer shows an ace: insurance is offered."]

    def ev_decide(self, e: Event) -> list[str]:
        answers = {"insurance": "'insurance'", "even": "'even'", "no": "'no'"}
        offered = " or ".join(answers[a] for a in e["legal"] if a in answers)
        return [f"Insurance? Type {offered}; {e['seconds']} seconds."]

    def ev_decision(self, e: Event) -> list[str]:
        stake = f" ({e['stake']})" if e.get("stake") else ""
        return [f"{self._does(e, str(e['action']))}{stake}."]

    def ev_peek(self, e: Event) -> list[str]:
        return ["The dealer peeks: blackjack!" if e.get("blackjack")
                else "The dealer peeks: no blackjack."]

    def ev_action(self, e: Event) -> list[str]:
        stake = f" (stake {e['stake']})" if e.get("stake") else ""
        return [f"{self._does(e, str(e['action']))}{stake}."]

    def ev_turn(self, e: Event) -> list[str]:
        if e.get("player") == self.me:
            return []  # the prompt that follows says it, with the table
        return [f"{e['player']}{_hand_label(e)} to play."]

    def ev_prompt(self, e: Event) -> list[str]:
        lines = self._view(e["view"])
        lines.append(f"Your move{_hand_label(e)} ({e['seconds']}s): "
                     + ", ".join(e["legal"]) + " >")
        return lines

    def ev_timeout(self, e: Event) -> list[str]:
        who = self._who(e)
        action = str(e.get("action"))
        you, they = _VERBS.get(action, (action, action))
        if who == "You":
            return [f"You ran out of time: you {you}."]
        return [f"{who}{_hand_label(e)} ran out of time and {they}."]

    def ev_reveal(self, e: Event) -> list[str]:
        return [f"The dealer turns over {card_text(e['card'], self.unicode)}: {e['total']}."]

    def ev_dealer(self, e: Event) -> list[str]:
        cards = _cards(e.get("cards", ()), self.unicode)
        if e.get("blackjack"):
            return [f"Dealer has blackjack: {cards}."]
        if e.get("bust"):
            return [f"Dealer busts with {e['total']}: {cards}."]
        return [f"Dealer has {e['total']}: {cards}."]

    def ev_result(self, e: Event) -> list[str]:
        lines = ["Results:"]
        for h in e.get("hands", ()):
            who = "You" if h["player"] == self.me else h["player"]
            hand = f" hand {h['hand'] + 1}" if h["hand"] else ""
            lines.append(f"  {who}{hand}: {_cards(h['cards'], self.unicode)} ({h['total']}) "
                         f"{h['result']}, {_signed(h['net'])}")
        for i in e.get("insurance", ()):
            who = "You" if i["player"] == self.me else i["player"]
            lines.append(f"  {who}: insurance {_signed(i['net'])}")
        return lines

    def ev_balance(self, e: Event) -> list[str]:
        return [f"Balance: {e['balance']} chips."]

    def ev_say(self, e: Event) -> list[str]:
        # Wrapped by us, each piece naming the speaker: a line the terminal
        # wrapped could start with words that pass for the server's.
        return chat_lines(f"[{e['table']}] {e['player']}: ", str(e["text"]))

    def ev_who(self, e: Event) -> list[str]:
        lines = [f"{len(e['players'])} online:"]
        for p in e["players"]:
            where = (f"table {p['table']} seat {p['seat']}" if p.get("seat")
                     else f"watching {p['table']}" if p.get("table") else "lobby")
            away = " (disconnected)" if not p.get("connected", True) else ""
            lines.append(f"  {p['name']:<16} {where}{away}")
        return lines

    def ev_history(self, e: Event) -> list[str]:
        if not e["hands"]:
            return ["No hands played yet."]
        lines = ["Recent hands (newest first):"]
        for h in e["hands"]:
            lines.append(f"  {h['table']:<10} staked {h['staked']:>5}  "
                         f"{_signed(h['net'])}  {self._summary(h)}")
        return lines

    def _summary(self, entry: Event) -> str:
        """One line for my hands in a recorded round: cards and results, and the dealer's."""
        parts = [f"{_cards(h['cards'], self.unicode)} {h['result']}" for h in entry["mine"]]
        dealer = _cards(entry["dealer"], self.unicode)
        return "; ".join(parts) + (f" vs dealer {dealer}" if dealer else "")

    def ev_help(self, e: Event) -> list[str]:
        return list(e["lines"])

    def ev_hint(self, e: Event) -> list[str]:
        lines = [f"Best play: {e['action']}."]
        values = e.get("values") or {}
        if values:
            ranked = sorted(values.items(), key=lambda item: -item[1])
            lines.append("Expected return per chip bet: "
                         + ", ".join(f"{name} {value:+.3f}" for name, value in ranked)
                         + f" ({e['model']})")
        return lines

    def ev_info(self, e: Event) -> list[str]:
        return [f"* {e['message']}"]

    def ev_error(self, e: Event) -> list[str]:
        return [f"! {e['message']}"]

    def ev_mode(self, e: Event) -> list[str]:
        return [f"* {e['setting']} {'on' if e['on'] else 'off'}."]

    def ev_shutdown(self, e: Event) -> list[str]:
        return [f"*** {e['message']}"]

    def ev_bye(self, e: Event) -> list[str]:
        return [e["message"]]

    def _view(self, view: Event) -> list[str]:
        dealer = _cards(view["dealer"], self.unicode)
        total = view.get("dealer_total")
        lines = [f"  Dealer: {dealer}" + (f"  ({total})" if total else "")]
        turn = view.get("turn") or {}
        for seat in view["seats"]:
            for index, hand in enumerate(seat["hands"]):
                mark = ">" if (turn.get("seat"), turn.get("hand")) == (seat["seat"], index) \
                    else " "
                label = f"Seat {seat['seat']}" + (f" hand {index + 1}" if index else "")
                soft = "soft " if hand["soft"] and hand["total"] <= 21 else ""
                lines.append(f"{mark} {label}: {_cards(hand['cards'], self.unicode)}  "
                             f"({soft}{hand['total']}), bet {hand['stake']}, {hand['status']}")
        return lines


def _rules(table: Event) -> str:
    """A table's rules without the bet range, which is shown apart ("bets 10-500")."""
    rules = str(table["rules"])
    suffix = f" {table['min']}-{table['max']}"
    return rules[:-len(suffix)] if rules.endswith(suffix) else rules


def text_lines(event: Event, me: str | None = None, unicode: bool = True) -> list[str]:
    """An event as zero or more lines for a person; ``me`` names the viewer."""
    return _Renderer(me, unicode).render(event)
