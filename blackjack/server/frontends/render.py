"""Events as text for people: what a terminal shows of each event in the catalogue.

``text_lines(event, me, unicode)`` renders one event as zero or more lines,
with "You" for the viewer's own seat (``me`` is the viewer's name) and
unicode suits unless ``ascii on``.  Programs read the same events as JSON
(:mod:`blackjack.server.frontends.encoding`); nothing here decides anything
about the game.
"""

from __future__ import annotations

import time
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
                 "idle": " (idle)", "kicked": " (removed by an admin)",
                 "closed": " (the table closed)"}


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
            if reason == "closed":
                return [f"Table {e['table']} is closed; you are back in the lobby."]
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
        if e.get("shoe") is None:
            return ["* The dealer shuffles the shoe."]
        seeds = ", ".join(s["player"] for s in e["seeds"]) or "nobody"
        return [f"* The dealer shuffles shoe {e['shoe']} (committed to as "
                f"{e['commitment']}),",
                f"  with the client seed {e['client_seed']}",
                f"  made from the seeds of {seeds}."]

    def ev_shoe(self, e: Event) -> list[str]:
        shoe = e["next"]
        return [f"* The next shoe, {shoe['shoe']}, is committed to: {shoe['commitment']}",
                f"  ({shoe['decks']} deck{'s' if shoe['decks'] > 1 else ''}, cut card at "
                f"card {shoe['cut']}, "
                f"{shoe['burn']} burnt). 'seed TEXT' puts your seed into its shuffle."]

    def ev_shoe_retired(self, e: Event) -> list[str]:
        return [*_retired(f"* Shoe {e['shoe']} is", e["reason"], e["rounds"], e["server_seed"]),
                f"  Type 'shoe {e['shoe']}' for its record, to check with "
                "python -m blackjack.verify."]

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
            address = f"  [{p['address']}]" if "address" in p else ""
            lines.append(f"  {p['name']:<16} {where}{away}{address}")
        return lines

    def ev_history(self, e: Event) -> list[str]:
        if not e["hands"]:
            return ["No hands played yet."]
        lines = ["Recent hands (newest first; 'hand ID' shows one in full):"]
        for h in e["hands"]:
            lines.append(f"  #{h['id']:<5} {h['table']:<10} staked {h['staked']:>5}  "
                         f"{_signed(h['net'])}  {self._summary(h)}")
        return lines

    def ev_hand(self, e: Event) -> list[str]:
        lines = [f"Hand #{e['id']} at table {e['table']} ({e['rules']}), round {e['round']},",
                 f"  settled {_when(e['when'])}."]
        shoe = e.get("shoe")
        if shoe is not None:
            lines.append(f"Dealt from shoe {shoe['shoe']} from card {shoe['first']}; "
                         + (f"retired: 'shoe {shoe['shoe']}' gives its record to verify."
                            if shoe["retired"] else "still dealing, so its seed is secret."))
        for step in e["steps"]:
            shown = self.render(step["event"])
            if not shown and step["event"].get("event") == "turn":
                # Live, the prompt said it was your move; a replay says it here.
                shown = [f"Your turn{_hand_label(step['event'])} ({step['event']['total']})."]
            if not shown:
                continue
            by = step.get("by")
            if by is not None and step.get("at") is not None:
                who = "" if by == "player" else f", {_BY.get(by, by)}"
                shown[-1] += f"  [{_when(step['at'], clock_only=True)}{who}]"
            lines.append(f"  {step['step']:>2}. {shown[0]}")
            lines.extend(f"      {line}" for line in shown[1:])
        if not e["steps"]:
            lines.extend(self.ev_result({"hands": e["hands"], "insurance": e["insurance"]}))
        mine = [d for d in e["decisions"] if "best" in d
                and e["players"].get(str(d["seat"])) == self.me]
        off = [d for d in mine if d["best"] != d["action"]]
        lines.append(f"You staked {e['staked']} and {'won' if e['net'] >= 0 else 'lost'} "
                     f"{abs(e['net'])}.")
        if mine:
            lines.append(f"Basic strategy agreed with {len(mine) - len(off)} of your "
                         f"{len(mine)} decisions"
                         + ("." if not off else ": " + "; ".join(
                             f"{d['action']} where it plays {d['best']} "
                             f"(cost {d['cost']:.2f} chips)" for d in off) + "."))
        return lines

    def ev_shoe_record(self, e: Event) -> list[str]:
        if e["record"] is None:
            return [f"Shoe {e['shoe']} at table {e['table']} is still dealing: its seed stays "
                    f"secret until it is retired. Commitment: {e['commitment']}"]
        record = e["record"]
        return [*_retired(f"Shoe {e['shoe']} at table {e['table']} is", e["retired"],
                          len(record["rounds"]), record["server_seed"]),
                f"  Its whole record is one line after 'json on' then 'shoe {e['shoe']}': "
                "save that line and check it with python -m blackjack.verify FILE."]

    def ev_seed(self, e: Event) -> list[str]:
        lines = [f"Your seed: {e['seed']!r}." if e["seed"] else
                 "You have no seed yet: 'seed TEXT' sets one."]
        shoe = e.get("next")
        if shoe is not None:
            lines.append(f"It goes into the shuffle of shoe {shoe['shoe']}, committed to as "
                         f"{shoe['commitment']}.")
        return lines

    def ev_stats(self, e: Event) -> list[str]:
        if not e["rounds"]:
            return ["No hands played yet."]
        lines = [f"{e['rounds']} rounds, {e['hands']} hands: {e['wins']} won "
                 f"({e['blackjacks']} blackjacks), {e['losses']} lost, {e['pushes']} pushed.",
                 f"Net {_signed(e['net'])} chips; biggest win {_signed(e['biggest_win'])}."]
        if e["decisions"]:
            share = 100 * e["matched"] / e["decisions"]
            lines.append(f"Basic strategy agreed with {e['matched']} of your "
                         f"{e['decisions']} decisions ({share:.1f}%); the others cost "
                         f"{e['cost']:.2f} chips in expected value ({e['model']}).")
        return lines

    def ev_trainer(self, e: Event) -> list[str]:
        values = e.get("values") or {}
        ranked = ", ".join(f"{name} {value:+.3f}"
                           for name, value in sorted(values.items(), key=lambda i: -i[1]))
        return [f"Trainer: basic strategy plays {e['best']} here, not {e['action']}; "
                f"yours cost {e['cost']:.2f} chips in expected value.",
                f"  Expected return per chip bet: {ranked}."]

    def ev_top(self, e: Event) -> list[str]:
        lines = ["Most chips:"]
        lines += [f"  {n:>2}. {r['name']:<16} {r['balance']:>8}"
                  for n, r in enumerate(e["by_balance"], 1)] or ["  nobody yet"]
        lines.append(f"Most won in the last {e['days']} days:")
        lines += [f"  {n:>2}. {r['name']:<16} {_signed(r['net']):>8}"
                  for n, r in enumerate(e["by_net"], 1)] or ["  nobody yet"]
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

    def ev_announce(self, e: Event) -> list[str]:
        # Each wrapped line names who announces, as chat does (see ev_say).
        return chat_lines(f"*** Announcement from {e['admin']}: ", str(e["text"]))

    def ev_admin(self, e: Event) -> list[str]:
        return [f"* Done: {e['message']}."]

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


def _retired(shoe: str, reason: str, rounds: int, seed: str) -> list[str]:
    """A retired shoe's first two lines: why, after how many rounds, and its seed."""
    return [f"{shoe} retired ({reason}) after {rounds} round{'s' if rounds != 1 else ''}; "
            "its server seed was", f"  {seed}"]


_BY = {"timer": "by the timer", "absent": "the player had left",
       "shutdown": "the server was stopping"}
"""Who made a decision other than the player, as a replay says it."""


def _when(seconds: float, clock_only: bool = False) -> str:
    """A Unix time as people read it, in UTC (the room's players are anywhere)."""
    moment = time.gmtime(seconds)
    return time.strftime("%H:%M:%S" if clock_only else "%Y-%m-%d %H:%M:%S UTC", moment)


def _rules(table: Event) -> str:
    """A table's rules without the bet range, which is shown apart ("bets 10-500")."""
    rules = str(table["rules"])
    suffix = f" {table['min']}-{table['max']}"
    return rules[:-len(suffix)] if rules.endswith(suffix) else rules


def text_lines(event: Event, me: str | None = None, unicode: bool = True) -> list[str]:
    """An event as zero or more lines for a person; ``me`` names the viewer."""
    return _Renderer(me, unicode).render(event)
