"""Basic strategy for any rules and deck count: charts, advice, and hints with values.

The chart for a table is derived, cell by cell, from the exact expectations
of :mod:`blackjack.analysis` for *that table's shoe*: one deck, two, six or
eight each get their own (:func:`chart`).  Each cell names the best opening
decision for that total against that upcard, and what to do when that
decision is not allowed; the derivation weighs every hand that reaches the
cell, so the chart is total-dependent basic strategy in the strict sense.
``docs/analysis.md`` compares the charts with the published 1-, 2- and 4-8
deck charts cell by cell.

:func:`advise` plays the chart among the legal actions (what the
simulator's bots and the load-test bots do).  :func:`hint` is what a player
at a table asks for: the best legal play for the exact cards in the hand,
and what each legal choice is worth, from the table's shoe.

The chart alphabet: ``H`` hit, ``S`` stand, ``Dh``/``Ds`` double else hit or
stand, ``Rh``/``Rs``/``Rp`` surrender else hit, stand or split; in the pairs
chart ``P`` split, ``""`` play the total, or a total code where the pair is
played differently from its total (single deck: stand on 7,7 against a 10).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Container, Mapping

from blackjack.actions import Action
from blackjack.analysis import action_values, basic_strategy, model, prepare
from blackjack.cards import Card
from blackjack.errors import IllegalActionError
from blackjack.hand import Hand, score
from blackjack.rules import Rules

__all__ = ["Chart", "Hint", "chart", "advise", "hint", "prepare"]

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
    index in a simulator's inner loop; impossible totals hold rows of empty codes.
    """

    hard: tuple[Row, ...]
    soft: tuple[Row, ...]
    pairs: tuple[Row, ...]

    def code(self, hand: Hand, upcard: Card, *, may_split: bool = True) -> str:
        """The chart code for ``hand``: its pair cell, else its total's cell.

        A pair cell that splits applies while ``may_split``; one that holds a
        total code is that pair's play whether or not it may split.
        """
        up = upcard.points
        if hand.is_pair:
            code = self.pairs[hand.cards[0].points][up]
            if code and (may_split or code not in _SPLIT_CODES):
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


_SPLIT_CODES = ("P", "Rp")


_CHART_BASE = Rules()


@lru_cache(maxsize=64)
def _chart(key: Rules, infinite: bool) -> Chart:
    cells = basic_strategy(key, infinite=infinite)
    return Chart(cells.hard, cells.soft, cells.pairs)


def chart(rules: Rules, *, infinite: bool = False) -> Chart:
    """The basic-strategy chart for ``rules`` and its deck count (memoised).

    Only what changes a decision keys the memo: tables that differ in bet
    limits, payout or penetration share a chart.  Deriving one takes a
    second or two the first time; ``infinite`` gives the infinite-deck chart.
    """
    key = replace(_CHART_BASE, decks=1 if infinite else rules.decks,
                  dealer_hits_soft_17=rules.dealer_hits_soft_17, double=rules.double,
                  double_after_split=rules.double_after_split,
                  max_split_hands=rules.max_split_hands, resplit_aces=rules.resplit_aces,
                  hit_split_aces=rules.hit_split_aces, surrender=rules.surrender,
                  dealer_peek=rules.dealer_peek)
    return _chart(key, infinite)


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


def advise(rules: Rules, hand: Hand, upcard: Card, legal: Container[Action], *,
           using: Chart | None = None) -> Action:
    """The basic-strategy action for ``hand`` against ``upcard``, one of ``legal``.

    ``legal`` says what the hand may do now (doubling is absent on three
    cards, splitting at the split limit...); the chart's fallback is played
    when its first choice is absent.  ``using`` plays another chart than the
    rules' own.  Insurance and even money are always declined.  Raises
    :class:`IllegalActionError` when nothing is legal.
    """
    if not any(action in legal for action in Action):
        raise IllegalActionError(
            f"no legal action to advise for {hand} against {upcard}")
    if any(action.is_insurance_decision and action in legal for action in Action):
        # Insurance is a side bet that loses for a player who does not count cards.
        for action in (Action.NO_INSURANCE, Action.EVEN_MONEY, Action.INSURANCE):
            if action in legal:
                return action
    table = using if using is not None else chart(rules)
    choices: tuple[Action, ...] = ()
    if Action.SPLIT in legal:
        code = table.code(hand, upcard)
        choices = _CODE_ACTIONS[code]
    code = table.code(hand, upcard, may_split=False)
    # After the chart's own fallbacks, any legal action beats none; standing
    # first, as it is the one decision that can never bust a hand.
    candidates: tuple[Action, ...] = (*choices, *_CODE_ACTIONS[code], Action.STAND, *tuple(Action))
    for action in candidates:
        if action in legal:
            return action
    raise AssertionError("unreachable: some action is legal")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Hint:
    """What :func:`hint` advises for one hand, and what each legal choice is worth."""

    action: Action
    """The advised action, one of the legal ones."""
    values: Mapping[Action, float]
    """Expected result of each legal playing choice per unit of the hand's bet,
    given no dealer blackjack where the dealer peeks; empty for insurance."""
    model: str
    """The shoe the values are for, in words."""


def hint(rules: Rules, hand: Hand, upcard: Card, legal: Container[Action], *,
         splits_done: int = 0) -> Hint:
    """The best legal play for ``hand`` against ``upcard``, valued from the table's shoe.

    One call for a table's ``hint`` command: ``legal`` is what the hand may
    do now and ``splits_done`` how many splits the seat has made this round
    (its other split cards are out of the shoe).  Values are for the exact
    cards (:func:`blackjack.analysis.action_values`), for the rules' deck
    count, and the advice is the best of them; it differs from the chart
    only where the cards in the hand make the difference (a three-card 16
    against a ten stands in a shoe game).  Insurance and even money are
    declined, with no values.  A call takes a few milliseconds, under 30 at
    worst (a low pair against a 2 on a cold memo), once :func:`prepare` has
    run for the table's rules; without it the first call against an upcard
    also compiles that upcard's dealer functions.
    """
    if any(action.is_insurance_decision and action in legal for action in Action):
        return Hint(advise(rules, hand, upcard, legal), MappingProxyType({}), model(rules))
    if not any(action in legal for action in Action):
        raise IllegalActionError(f"no legal action to hint for {hand} against {upcard}")
    values = {action: value
              for action, value in action_values(rules, hand, upcard,
                                                 splits_done=splits_done).items()
              if action in legal}
    if not values:
        return Hint(advise(rules, hand, upcard, legal), MappingProxyType({}), model(rules))
    # Ties go to the first action in this order: standing never busts a hand.
    order = (Action.STAND, Action.HIT, Action.DOUBLE, Action.SPLIT, Action.SURRENDER)
    best = max(sorted(values, key=order.index), key=values.__getitem__)
    return Hint(best, MappingProxyType(values), model(rules))
