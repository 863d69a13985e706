"""Basic strategy for any rules value: charts, and advice among legal actions.

The chart for a rules value is derived, cell by cell, from the exact
infinite-deck expectations of :mod:`blackjack.analysis`: each cell names the
best opening decision for that total against that upcard, and what to do
when that decision is not allowed.  An infinite deck's optimal strategy is
total-dependent, which is what a chart can express, so this is the basic
strategy of the rules in the strict sense.

Shoe games of four or more decks are what the published charts (Wizard of
Odds, "4-Deck to 8-Deck Blackjack Strategy") describe, and players know them
by heart; where such a chart and the infinite-deck optimum disagree, the
published cell wins for those games.  :data:`SHOE_OVERRIDES` lists the
cells, both marginal (the two choices differ by under 0.01 of a bet).  One-
and two-deck games get the infinite-deck chart as it is.

The chart alphabet: ``H`` hit, ``S`` stand, ``Dh``/``Ds`` double else hit or
stand, ``Rh``/``Rs``/``Rp`` surrender else hit, stand or split; in the pairs
chart ``P`` split and ``""`` do not split (play the total).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Callable, Container, Mapping

from blackjack.actions import Action
from blackjack.analysis import opening_values
from blackjack.cards import Card
from blackjack.errors import IllegalActionError
from blackjack.hand import Hand, score
from blackjack.rules import DoubleRule, Rules

__all__ = ["Chart", "SHOE_OVERRIDES", "chart", "advise"]

UPCARDS = range(1, 11)
"""Dealer upcard points; 1 is the ace."""
_COLUMNS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 1)
"""Upcards in the order charts print them."""

Row = tuple[str, ...]
"""One chart row, indexed by upcard points 1..10 (index 0 is unused)."""


@dataclass(frozen=True, slots=True)
class Chart:
    """A basic-strategy chart: ``hard[total][up]``, ``soft[total][up]``, ``pairs[card][up]``.

    Each table is a tuple indexed directly by the player's total (hard
    4..21, soft 12..21) or pair card points (1..10, 1 = aces), holding a row
    indexed by dealer upcard points (1..10, 1 = ace).  Tuples rather than
    dicts keep the value hashable and immutable while staying as fast to
    index in a simulator's inner loop; impossible totals hold empty rows.
    """

    hard: tuple[Row, ...]
    soft: tuple[Row, ...]
    pairs: tuple[Row, ...]

    def code(self, hand: Hand, upcard: Card, *, may_split: bool = True) -> str:
        """The chart code for ``hand``: its pair cell, else its total's cell."""
        up = upcard.points
        if may_split and hand.is_pair:
            code = self.pairs[hand.cards[0].points][up]
            if code:
                return code
        total, soft = score(card.points for card in hand.cards)
        if total > 21:
            return "S"
        if soft:
            # Only a lone ace is soft below 12; it can only improve by drawing.
            return self.soft[total][up] if total >= 12 else "H"
        return self.hard[max(total, 4)][up]

    def render(self) -> str:
        """The familiar hard, soft and pairs charts as text, columns 2..10, A."""
        header = "       " + " ".join(f"{_label(up):>3}" for up in _COLUMNS)
        lines = ["Hard", header]
        lines += [f"  {total:>2}   " + _cells(self.hard[total]) for total in range(4, 22)]
        lines += ["", "Soft", header]
        lines += [f"  {_soft_label(total):<5}" + _cells(self.soft[total])
                  for total in range(12, 22)]
        lines += ["", "Pairs", header]
        lines += [f"  {_pair_label(card):<5}" + _cells(self.pairs[card])
                  for card in (*range(2, 11), 1)]
        lines.append("")
        lines.append("H hit  S stand  Dh/Ds double else hit/stand  "
                     "Rh/Rs/Rp surrender else hit/stand/split  P split  - play the total")
        return "\n".join(lines)


def _label(points: int) -> str:
    return "A" if points == 1 else str(points)


def _soft_label(total: int) -> str:
    return "A," + "A23456789T"[total - 12]


def _pair_label(card: int) -> str:
    symbol = "A23456789T"[card - 1]
    return f"{symbol},{symbol}"


def _cells(row: Row) -> str:
    return " ".join(f"{row[up] or '-':>3}" for up in _COLUMNS)


SHOE_OVERRIDES: Mapping[tuple[str, int, int], str] = MappingProxyType({
    # Soft 13 (A,2) against a 5: with replacement hitting is worth +0.1334
    # and doubling +0.1260 (S17); the published 4-8 deck charts, computed
    # without replacement, double.
    ("soft", 13, 5): "Dh",
    # Soft 15 (A,4) against a 4: hit +0.0593, double +0.0584 (S17), so
    # close that the finite shoe tips it; H17 doubles here even with
    # replacement.
    ("soft", 15, 4): "Dh",
})
"""Cells ``(table, total, upcard points) -> code`` where charts for games of
:data:`SHOE_DECKS` or more decks keep the published 4-8 deck play instead of
the infinite-deck optimum.  They apply when any two cards may be doubled and
the dealer peeks, the games those published charts are for."""

SHOE_DECKS = 4
"""Fewest decks for which :data:`SHOE_OVERRIDES` apply."""


def _total_code(values: dict[Action, float]) -> str:
    """The code for a total: best decision, then the best of hit and stand."""
    fallback = "S" if values[Action.STAND] >= values[Action.HIT] else "H"
    best = max(values, key=values.__getitem__)
    if best is Action.DOUBLE:
        return "D" + fallback.lower()
    if best is Action.SURRENDER:
        return "R" + fallback.lower()
    return fallback


def _pair_code(values: dict[Action, float]) -> str:
    """The code for a pair: split, surrender else split, or play the total."""
    split = values.get(Action.SPLIT)
    if split is None:
        return ""
    others = [value for action, value in values.items()
              if action not in (Action.SPLIT, Action.SURRENDER)]
    if split <= max(others):
        return ""
    surrender = values.get(Action.SURRENDER)
    if surrender is not None and surrender > split:
        return "Rp"
    return "P"


def _row(code_at: Callable[[int], str]) -> Row:
    return ("",) + tuple(code_at(up) for up in UPCARDS)


def _total_row(rules: Rules, total: int, soft: bool) -> Row:
    return _row(lambda up: _total_code(opening_values(rules, total, soft, up)))


def _pair_row(rules: Rules, card: int) -> Row:
    total, soft = (12, True) if card == 1 else (2 * card, False)
    return _row(lambda up: _pair_code(opening_values(rules, total, soft, up, pair=True)))


@lru_cache(maxsize=None)
def _derive(rules: Rules) -> Chart:
    empty: Row = ()
    hard = [empty] * 4 + [_total_row(rules, total, False) for total in range(4, 21)]
    # Hard 21 takes three cards, so it has no opening decision to value.
    hard.append(("",) + ("S",) * 10)
    soft = [empty] * 12 + [_total_row(rules, total, True) for total in range(12, 22)]
    pairs = [empty] + [_pair_row(rules, card) for card in UPCARDS]
    tables = {"hard": hard, "soft": soft, "pairs": pairs}
    if rules.decks >= SHOE_DECKS and rules.double is DoubleRule.ANY and rules.dealer_peek:
        for (table, row, up), code in SHOE_OVERRIDES.items():
            cells = list(tables[table][row])
            cells[up] = code
            tables[table][row] = tuple(cells)
    return Chart(tuple(hard), tuple(soft), tuple(pairs))


_CHART_BASE = Rules()


def chart(rules: Rules) -> Chart:
    """The basic-strategy chart for ``rules`` (cached per play-relevant rules)."""
    # Only the rules that change a decision key the cache: a table that
    # changes its limits, payout or shoe size (within the same class of
    # game) shares the chart.
    key = replace(_CHART_BASE, decks=SHOE_DECKS if rules.decks >= SHOE_DECKS else 1,
                  dealer_hits_soft_17=rules.dealer_hits_soft_17, double=rules.double,
                  double_after_split=rules.double_after_split,
                  max_split_hands=rules.max_split_hands, resplit_aces=rules.resplit_aces,
                  hit_split_aces=rules.hit_split_aces, surrender=rules.surrender,
                  dealer_peek=rules.dealer_peek)
    return _derive(key)


_CODE_ACTIONS: dict[str, tuple[Action, ...]] = {
    "H": (Action.HIT, Action.STAND),
    "S": (Action.STAND, Action.HIT),
    "Dh": (Action.DOUBLE, Action.HIT, Action.STAND),
    "Ds": (Action.DOUBLE, Action.STAND, Action.HIT),
    "Rh": (Action.SURRENDER, Action.HIT, Action.STAND),
    "Rs": (Action.SURRENDER, Action.STAND, Action.HIT),
    "P": (Action.SPLIT,),
    "Rp": (Action.SURRENDER, Action.SPLIT),
}
"""Each code's actions in order of preference; the first legal one is played."""


def advise(rules: Rules, hand: Hand, upcard: Card, legal: Container[Action]) -> Action:
    """The basic-strategy action for ``hand`` against ``upcard``, one of ``legal``.

    ``legal`` says what the hand may do now (doubling is absent on three
    cards, splitting at the split limit...); the chart's fallback is played
    when its first choice is absent.  Insurance and even money are always
    declined.  Raises :class:`IllegalActionError` when nothing is legal.
    """
    if not any(action in legal for action in Action):
        raise IllegalActionError(
            f"no legal action to advise for {hand} against {upcard}")
    if any(action.is_insurance_decision and action in legal for action in Action):
        # Insurance is a side bet that loses for a player who does not count cards.
        for action in (Action.NO_INSURANCE, Action.EVEN_MONEY, Action.INSURANCE):
            if action in legal:
                return action
    table = chart(rules)
    choices: tuple[Action, ...] = ()
    if Action.SPLIT in legal:
        code = table.code(hand, upcard)
        choices = _CODE_ACTIONS[code]
    code = table.code(hand, upcard, may_split=False)
    # After the chart's own fallbacks, any legal action beats none; standing
    # first, as it is the one decision that can never bust a hand.
    for action in (*choices, *_CODE_ACTIONS[code], Action.STAND, *Action):
        if action in legal:
            return action
    raise AssertionError("unreachable: some action is legal")  # pragma: no cover
