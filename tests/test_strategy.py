"""Tests for blackjack.strategy: published charts per deck count, fallbacks, advice, hints.

Published charts (each transcribed row by row, columns 2..10, A):

* Wizard of Odds, "4-Deck to 8-Deck Blackjack Strategy" (S17 and H17, with
  late surrender; DAS and no-DAS pair rows).
* Wizard of Odds, "Double-Deck Blackjack Strategy", dealer hits soft 17,
  with late surrender (``Ph``: split if DAS, else hit), as transcribed in
  two public repositories that agree cell for cell.
* Wizard of Odds, "Single-Deck Blackjack Strategy", dealer stands on soft 17,
  DAS, no surrender, as transcribed in two public repositories that agree.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from blackjack.actions import Action
from blackjack.analysis import action_values
from blackjack.cards import Card, Rank, Suit
from blackjack.errors import BlackjackError, IllegalActionError
from blackjack.hand import Hand
from blackjack.rules import Rules
from blackjack.strategy import Chart, Hint, advise, chart, hint

COLUMNS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 1)
"""Dealer upcards in the order the published charts print them."""

# 4-8 decks, late surrender allowed.  Rows not listed are all "H" (hard 4-8)
# or all "S" (hard 17+ S17, soft 19+).
PUBLISHED_HARD_S17 = {
    9: "H  Dh Dh Dh Dh H  H  H  H  H",
    10: "Dh Dh Dh Dh Dh Dh Dh Dh H  H",
    11: "Dh Dh Dh Dh Dh Dh Dh Dh Dh H",
    12: "H  H  S  S  S  H  H  H  H  H",
    13: "S  S  S  S  S  H  H  H  H  H",
    14: "S  S  S  S  S  H  H  H  H  H",
    15: "S  S  S  S  S  H  H  H  Rh H",
    16: "S  S  S  S  S  H  H  Rh Rh Rh",
}
PUBLISHED_HARD_H17 = PUBLISHED_HARD_S17 | {
    11: "Dh Dh Dh Dh Dh Dh Dh Dh Dh Dh",
    15: "S  S  S  S  S  H  H  H  Rh Rh",
    17: "S  S  S  S  S  S  S  S  S  Rs",
}
PUBLISHED_SOFT_S17 = {
    13: "H  H  H  Dh Dh H  H  H  H  H",
    14: "H  H  H  Dh Dh H  H  H  H  H",
    15: "H  H  Dh Dh Dh H  H  H  H  H",
    16: "H  H  Dh Dh Dh H  H  H  H  H",
    17: "H  Dh Dh Dh Dh H  H  H  H  H",
    18: "S  Ds Ds Ds Ds S  S  H  H  H",
}
PUBLISHED_SOFT_H17 = PUBLISHED_SOFT_S17 | {
    18: "Ds Ds Ds Ds Ds S  S  H  H  H",
    19: "S  S  S  S  Ds S  S  S  S  S",
}
# Pairs: "P" split, "-" play the total.
PUBLISHED_PAIRS_DAS = {
    2: "P  P  P  P  P  P  -  -  -  -",
    3: "P  P  P  P  P  P  -  -  -  -",
    4: "-  -  -  P  P  -  -  -  -  -",
    5: "-  -  -  -  -  -  -  -  -  -",
    6: "P  P  P  P  P  -  -  -  -  -",
    7: "P  P  P  P  P  P  -  -  -  -",
    8: "P  P  P  P  P  P  P  P  P  P",
    9: "P  P  P  P  P  -  P  P  -  -",
    10: "-  -  -  -  -  -  -  -  -  -",
    1: "P  P  P  P  P  P  P  P  P  P",
}
PUBLISHED_PAIRS_NDAS = PUBLISHED_PAIRS_DAS | {
    2: "-  -  P  P  P  P  -  -  -  -",
    3: "-  -  P  P  P  P  -  -  -  -",
    4: "-  -  -  -  -  -  -  -  -  -",
    6: "-  P  P  P  P  -  -  -  -  -",
}
H17_SURRENDER_EIGHTS = "P  P  P  P  P  P  P  P  P  Rp"

# Two decks, dealer hits soft 17, late surrender allowed.
TWO_DECK_H17 = {
    "hard": {9: "Dh Dh Dh Dh Dh H  H  H  H  H", 10: "Dh Dh Dh Dh Dh Dh Dh Dh H  H",
             11: "Dh", 12: "H  H  S  S  S  H  H  H  H  H", 13: "S  S  S  S  S  H  H  H  H  H",
             14: "S  S  S  S  S  H  H  H  H  H", 15: "S  S  S  S  S  H  H  H  Rh Rh",
             16: "S  S  S  S  S  H  H  H  Rh Rh", 17: "S  S  S  S  S  S  S  S  S  Rs"},
    "soft": {13: "H  H  H  Dh Dh H  H  H  H  H", 14: "H  H  Dh Dh Dh H  H  H  H  H",
             15: "H  H  Dh Dh Dh H  H  H  H  H", 16: "H  H  Dh Dh Dh H  H  H  H  H",
             17: "H  Dh Dh Dh Dh H  H  H  H  H", 18: "Ds Ds Ds Ds Ds S  S  H  H  H",
             19: "S  S  S  S  Ds S  S  S  S  S"},
    "pairs": {2: "Ph Ph P  P  P  P  -  -  -  -", 3: "Ph Ph P  P  P  P  -  -  -  -",
              4: "-  -  -  Ph Ph -  -  -  -  -", 5: "-", 6: "P  P  P  P  P  Ph -  -  -  -",
              7: "P  P  P  P  P  P  Ph -  -  -", 8: "P  P  P  P  P  P  P  P  P  Rp",
              9: "P  P  P  P  P  -  P  P  -  -", 10: "-", 1: "P"},
}
# One deck, dealer stands on soft 17, DAS, no surrender.  In the pairs rows
# a play other than "-" or P is the pair's own (7,7 v 10 stands).
ONE_DECK_S17_DAS = {
    "hard": {8: "H  H  H  Dh Dh H  H  H  H  H", 9: "Dh Dh Dh Dh Dh H  H  H  H  H",
             10: "Dh Dh Dh Dh Dh Dh Dh Dh H  H", 11: "Dh", 12: "H  H  S  S  S  H  H  H  H  H",
             13: "S  S  S  S  S  H  H  H  H  H", 14: "S  S  S  S  S  H  H  H  H  H",
             15: "S  S  S  S  S  H  H  H  H  H", 16: "S  S  S  S  S  H  H  H  H  H"},
    "soft": {13: "H  H  Dh Dh Dh H  H  H  H  H", 14: "H  H  Dh Dh Dh H  H  H  H  H",
             15: "H  H  Dh Dh Dh H  H  H  H  H", 16: "H  H  Dh Dh Dh H  H  H  H  H",
             17: "Dh Dh Dh Dh Dh H  H  H  H  H", 18: "S  Ds Ds Ds Ds S  S  H  H  S",
             19: "S  S  S  S  Ds S  S  S  S  S"},
    "pairs": {2: "P  P  P  P  P  P  -  -  -  -", 3: "P  P  P  P  P  P  P  -  -  -",
              4: "-  -  P  P  P  -  -  -  -  -", 5: "-", 6: "P  P  P  P  P  P  -  -  -  -",
              7: "P  P  P  P  P  P  P  -  S  -", 8: "P", 9: "P  P  P  P  P  -  P  P  -  -",
              10: "-", 1: "P"},
}


def _full(chart_rows: dict[str, dict[int, str]]) -> dict[str, dict[int, str]]:
    """A published chart with the rows it leaves out: hit hard 4-8 and soft 13-, stand the rest."""
    hard = {total: "S" if total >= 17 else "H" for total in range(4, 22)}
    soft = {total: "S" if total >= 19 else "H" for total in range(13, 22)}
    return {"hard": hard | chart_rows["hard"], "soft": soft | chart_rows["soft"],
            "pairs": dict(chart_rows["pairs"])}

NO_SURRENDER = {"Rh": "H", "Rs": "S", "Rp": "P"}
"""Without surrender the published charts play each R cell's fallback."""

SURRENDER_FALLBACK_16_V_10 = ("hard", 16, 10, "Rs", "Rh")
"""The one cell where the exact shoe chart and the published 4-8 deck chart differ.

With late surrender every two-card 16 against a ten surrenders, so the cell's
hit-or-stand is played only by hands of three or more cards (and split
hands); for those, standing is worth more in a shoe game (a three-card 16
holds small cards the hit needs).  The published charts print the
no-surrender play, Rh.  ``docs/analysis.md`` gives the values."""


def _rows(rows: dict[int, str], das: bool, surrender: bool) -> dict[int, dict[int, str]]:
    table: dict[int, dict[int, str]] = {}
    for row, text in rows.items():
        codes = text.split() if " " in text else [text] * 10
        cells = {}
        for up, code in zip(COLUMNS, codes):
            code = "" if code == "-" else code
            if code == "Ph":
                code = "P" if das else ""
            cells[up] = code if surrender else NO_SURRENDER.get(code, code)
        table[row] = cells
    return table


def published(h17: bool, das: bool, surrender: bool) -> dict[str, dict[int, dict[int, str]]]:
    """The published 4-8 deck chart for these rules, as table -> row -> upcard -> code."""
    hard = {total: "S" if total >= 17 else "H" for total in range(4, 22)}
    hard |= PUBLISHED_HARD_H17 if h17 else PUBLISHED_HARD_S17
    soft = {total: "S" if total >= 19 else "H" for total in range(13, 22)}
    soft |= PUBLISHED_SOFT_H17 if h17 else PUBLISHED_SOFT_S17
    pairs = dict(PUBLISHED_PAIRS_DAS if das else PUBLISHED_PAIRS_NDAS)
    if h17:
        pairs[8] = H17_SURRENDER_EIGHTS
    return {"hard": _rows(hard, das, surrender), "soft": _rows(soft, das, surrender),
            "pairs": _rows(pairs, das, surrender)}


def mismatches(got: Chart, want: dict[str, dict[int, dict[int, str]]]) -> list[tuple]:
    """Every cell where ``got`` differs from ``want``, as (table, row, up, got, want)."""
    found = []
    for name, rows in want.items():
        table = getattr(got, name)
        for row, cells in rows.items():
            for up, code in cells.items():
                if table[row][up] != code:
                    found.append((name, row, up, table[row][up], code))
    return found


def card(points: int) -> Card:
    """A card worth ``points`` (10 is a king, so tens and faces are exercised)."""
    return Card(Rank.KING if points == 10 else Rank(points), Suit.SPADES)


GAMES = [(h17, das, ls) for h17 in (False, True) for das in (True, False)
         for ls in (True, False)]
SHOE_GAMES = [(6, h17, das, ls) for h17, das, ls in GAMES] + [
    (4, False, True, True), (8, True, False, False)]


@pytest.mark.parametrize("decks,h17,das,surrender", SHOE_GAMES)
def test_shoe_chart_is_the_published_chart(decks, h17, das, surrender):
    """For 4-8 decks every cell is the published cell, but the surrender fallback of 16 v 10."""
    rules = Rules(decks=decks, dealer_hits_soft_17=h17, double_after_split=das,
                  surrender=surrender)
    expected = [SURRENDER_FALLBACK_16_V_10] if surrender else []
    assert mismatches(chart(rules), published(h17, das, surrender)) == expected


@pytest.mark.parametrize("das,surrender", [(True, True), (False, False)])
def test_two_deck_chart_is_the_published_chart(das, surrender):
    """Two decks H17: published cells, but 16 v 10's fallback and 8,8 v A with surrender."""
    rules = Rules(decks=2, dealer_hits_soft_17=True, double_after_split=das,
                  surrender=surrender)
    want = {name: _rows(rows, das, surrender) for name, rows in _full(TWO_DECK_H17).items()}
    # With surrender, splitting 8s against an ace is worth -0.4934 here and
    # surrendering -0.5; the published chart surrenders (Rp).
    expected = [SURRENDER_FALLBACK_16_V_10, ("pairs", 8, 1, "P", "Rp")] if surrender else []
    assert mismatches(chart(rules), want) == expected


def test_one_deck_chart_is_the_published_chart():
    """One deck S17 DAS: every published cell, including 7,7 v 10 (stand) and soft 18 v A (stand)."""
    rules = Rules(decks=1, dealer_hits_soft_17=False)
    want = {name: _rows(rows, True, False) for name, rows in _full(ONE_DECK_S17_DAS).items()}
    assert mismatches(chart(rules), want) == []


def test_shoe_chart_corrects_the_infinite_deck_where_the_shoe_matters():
    """Six decks S17 depart from the infinite-deck chart exactly at soft 13 v 5 and soft 15 v 4."""
    rules = Rules(decks=6)
    shoe, endless = chart(rules), chart(rules, infinite=True)
    differences = [(name, row, up, getattr(endless, name)[row][up], getattr(shoe, name)[row][up])
                   for name, rows in (("hard", range(4, 22)), ("soft", range(12, 22)),
                                      ("pairs", range(1, 11)))
                   for row in rows for up in range(1, 11)
                   if getattr(shoe, name)[row][up] != getattr(endless, name)[row][up]]
    assert differences == [("soft", 13, 5, "H", "Dh"), ("soft", 15, 4, "H", "Dh")]


def test_surrender_cells():
    """Late surrender gives up hard 16 against 9-A, 15 against a ten, 8,8 only under H17 aces."""
    s17 = Rules(surrender=True)
    h17 = Rules(surrender=True, dealer_hits_soft_17=True)
    everything = set(Action) - {Action.INSURANCE, Action.EVEN_MONEY, Action.NO_INSURANCE}
    for up in ("9H", "TH", "AH"):
        assert advise(s17, Hand.of("TS", "6D"), Card.parse(up), everything) is Action.SURRENDER
    assert advise(s17, Hand.of("TS", "5D"), Card.parse("TH"), everything) is Action.SURRENDER
    assert advise(s17, Hand.of("TS", "5D"), Card.parse("AH"), everything) is Action.HIT
    assert advise(h17, Hand.of("TS", "5D"), Card.parse("AH"), everything) is Action.SURRENDER
    assert advise(h17, Hand.of("TS", "7D"), Card.parse("AH"), everything) is Action.SURRENDER
    assert advise(s17, Hand.of("8S", "8D"), Card.parse("AH"), everything) is Action.SPLIT
    assert advise(h17, Hand.of("8S", "8D"), Card.parse("AH"), everything) is Action.SURRENDER


def test_fallbacks_when_double_is_not_legal():
    """Without double, Dh hits and Ds stands."""
    rules = Rules()
    assert advise(rules, Hand.of("5S", "6D"), Card.parse("6H"),
                  {Action.HIT, Action.STAND, Action.DOUBLE}) is Action.DOUBLE
    assert advise(rules, Hand.of("2S", "4C", "5D"), Card.parse("6H"),
                  {Action.HIT, Action.STAND}) is Action.HIT
    assert advise(rules, Hand.of("AS", "7D"), Card.parse("4H"),
                  {Action.HIT, Action.STAND, Action.DOUBLE}) is Action.DOUBLE
    assert advise(rules, Hand.of("AS", "3C", "4D"), Card.parse("4H"),
                  {Action.HIT, Action.STAND}) is Action.STAND


def test_fallbacks_when_surrender_is_not_legal():
    """Without surrender, Rh hits, Rs stands and Rp splits (16 v 10 with surrender is Rs)."""
    h17 = Rules(surrender=True, dealer_hits_soft_17=True)
    play = {Action.HIT, Action.STAND, Action.DOUBLE, Action.SPLIT}
    assert advise(h17, Hand.of("TS", "5D"), Card.parse("TH"), play) is Action.HIT
    assert advise(h17, Hand.of("TS", "6D"), Card.parse("TH"), play) is Action.STAND
    assert advise(h17, Hand.of("TS", "7D"), Card.parse("AH"), play) is Action.STAND
    assert advise(h17, Hand.of("8S", "8D"), Card.parse("AH"), play) is Action.SPLIT


def test_pair_at_the_split_limit_plays_its_total():
    """A pair that may not be split again is played as its hard or soft total."""
    rules = Rules(surrender=True)
    no_split = {Action.HIT, Action.STAND, Action.DOUBLE, Action.SURRENDER}
    assert advise(rules, Hand.of("8S", "8D"), Card.parse("TH"), no_split) is Action.SURRENDER
    assert advise(rules, Hand.of("8S", "8D"), Card.parse("6H"), no_split) is Action.STAND
    assert advise(rules, Hand.of("AS", "AD"), Card.parse("5H"), {Action.HIT, Action.STAND}) \
        is Action.HIT
    assert advise(rules, Hand.of("5S", "5D"), Card.parse("9H"),
                  {Action.HIT, Action.STAND, Action.DOUBLE, Action.SPLIT}) is Action.DOUBLE


def test_split_aces_that_may_not_draw_stand():
    """A split ace offered only stand is told to stand, whatever the chart says."""
    hand = Hand.of("AS", "5D", from_split=True)
    assert advise(Rules(), hand, Card.parse("TH"), {Action.STAND}) is Action.STAND


@pytest.mark.parametrize("legal", [
    {Action.INSURANCE, Action.NO_INSURANCE},
    {Action.EVEN_MONEY, Action.NO_INSURANCE},
    (Action.INSURANCE, Action.NO_INSURANCE, Action.HIT, Action.STAND),
])
def test_insurance_and_even_money_are_declined(legal):
    """Basic strategy never insures, not even a natural."""
    assert advise(Rules(), Hand.of("AS", "KD"), Card.parse("AH"), legal) is Action.NO_INSURANCE


def test_empty_legal_set_is_an_error():
    """Advice with nothing legal raises a ValueError naming the hand."""
    with pytest.raises(IllegalActionError, match="no legal action") as raised:
        advise(Rules(), Hand.of("TS", "6D"), Card.parse("TH"), frozenset())
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, BlackjackError)


def test_chart_is_cached_per_play_rules():
    """Tables that differ only in limits or payout share one chart value."""
    assert chart(Rules()) is chart(Rules(min_bet=25, max_bet=1000, blackjack_payout=Fraction(6, 5)))
    assert chart(Rules()) is not chart(Rules(dealer_hits_soft_17=True))


def test_chart_is_a_hashable_frozen_value():
    """A chart hashes and refuses assignment, so simulations can share it."""
    table = chart(Rules())
    hash(table)
    with pytest.raises(AttributeError):
        table.hard = ()  # type: ignore[misc]


def test_chart_uses_only_the_chart_alphabet():
    """Every cell is one of the documented codes, for several very different rule sets."""
    totals = {"H", "S", "Dh", "Ds", "Rh", "Rs"}
    for spec in ("decks=1", "h17,ls", "european"):
        table = chart(Rules.from_spec(spec))
        for total in range(4, 22):
            assert {table.hard[total][up] for up in range(1, 11)} <= totals
        for total in range(12, 22):
            assert {table.soft[total][up] for up in range(1, 11)} <= totals
        for points in range(1, 11):
            assert {table.pairs[points][up] for up in range(1, 11)} <= {"", "P", "Rp"} | totals


def test_double_rule_restricts_the_chart():
    """With doubling on 10-11 only, hard 9 and soft hands never show a double."""
    table = chart(Rules.from_spec("double=10-11"), infinite=True)
    assert table.hard[9][5] == "H"
    assert table.soft[18][4] == "S"
    assert table.hard[10][5] == "Dh"


def test_no_split_rules_never_split():
    """With splitting forbidden, the pairs chart is empty."""
    table = chart(Rules(max_split_hands=1), infinite=True)
    assert all(table.pairs[points][up] == "" for points in range(1, 11) for up in range(1, 11))


def test_no_hole_card_chart_respects_dealer_blackjack():
    """Without a peek, 11 against a ten and 8,8 against a ten or ace are hit, not pressed."""
    table = chart(Rules.from_spec("enhc"))
    assert table.hard[11][10] == "H"
    assert table.pairs[8][10] == ""
    assert table.pairs[8][1] == ""
    assert table.hard[11][9] == "Dh"


def test_render_shows_the_familiar_rows():
    """The text chart prints hard, soft and pair rows under columns 2..10, A."""
    text = chart(Rules(surrender=True)).render()
    lines = text.splitlines()
    assert lines[0] == "Hard"
    assert lines[1].split() == ["2", "3", "4", "5", "6", "7", "8", "9", "10", "A"]
    assert "16 S S S S S H H Rh Rs Rh" in [" ".join(line.split()) for line in lines]
    assert "A,7 S Ds Ds Ds Ds S S H H H" in [" ".join(line.split()) for line in lines]
    assert "9,9 P P P P P - P P - -" in [" ".join(line.split()) for line in lines]


@pytest.mark.parametrize("spec", ["s17", "h17,ls", "ndas,enhc,ls"])
def test_infinite_deck_advice_is_the_best_value(spec):
    """With the infinite-deck chart, advice on any opening hand is its highest-valued action."""
    rules = Rules.from_spec(spec)
    table = chart(rules, infinite=True)
    everything = {Action.HIT, Action.STAND, Action.DOUBLE, Action.SPLIT, Action.SURRENDER}
    for first in range(1, 11):
        for second in range(first, 11):
            hand = Hand((card(first), Card(card(second).rank, Suit.HEARTS)))
            if hand.is_blackjack:
                continue
            for up in range(1, 11):
                values = action_values(rules, hand, card(up), infinite=True)
                chosen = advise(rules, hand, card(up), set(values) & everything, using=table)
                assert values[chosen] == max(values.values()), (hand, up)


def test_a_pair_with_its_own_play_is_played_so():
    """One deck: 7,7 v 10 stands (its own cell) though hard 14 v 10 hits, split open or not."""
    rules = Rules(decks=1)
    seven = Hand.of("7S", "7D")
    up = Card.parse("TH")
    assert chart(rules).pairs[7][10] == "S"
    assert advise(rules, seven, up, {Action.HIT, Action.STAND, Action.SPLIT}) is Action.STAND
    assert advise(rules, seven, up, {Action.HIT, Action.STAND}) is Action.STAND
    assert advise(rules, Hand.of("TS", "4D"), up, {Action.HIT, Action.STAND}) is Action.HIT


PLAYING = {Action.HIT, Action.STAND, Action.DOUBLE, Action.SPLIT, Action.SURRENDER}


def test_hint_is_the_best_legal_value_for_the_exact_cards():
    """hint advises the highest-valued legal play and values only legal choices."""
    rules = Rules(surrender=True)
    found = hint(rules, Hand.of("TS", "6D"), Card.parse("TH"), PLAYING)
    assert isinstance(found, Hint)
    assert found.action is Action.SURRENDER
    assert set(found.values) == {Action.STAND, Action.HIT, Action.DOUBLE, Action.SURRENDER}
    assert found.values[Action.SURRENDER] == -0.5
    assert found.model.startswith("6-deck shoe")
    assert hint(rules, Hand.of("TS", "6D"), Card.parse("TH"),
                {Action.HIT, Action.STAND}).action is Action.HIT


def test_hint_knows_a_three_card_sixteen():
    """Six decks: 10,2,4 v 10 stands, though the chart (for two-card 16s) hits."""
    three = Hand.of("TS", "2D", "4C")
    up = Card.parse("TH")
    assert advise(Rules(), three, up, {Action.HIT, Action.STAND}) is Action.HIT
    assert hint(Rules(), three, up, {Action.HIT, Action.STAND}).action is Action.STAND


def test_hint_uses_the_tables_deck_count():
    """11 v A: one deck doubles (H17 and S17 alike), six decks S17 hit."""
    eleven = Hand.of("5S", "6D")
    up = Card.parse("AH")
    legal = {Action.HIT, Action.STAND, Action.DOUBLE}
    assert hint(Rules(decks=1), eleven, up, legal).action is Action.DOUBLE
    assert hint(Rules(decks=6), eleven, up, legal).action is Action.HIT


def test_hint_after_a_split_counts_the_split_cards():
    """A split hand's values come with splits_done: 8,3 after splitting 8s doubles against a 6."""
    found = hint(Rules(decks=2), Hand.of("8S", "3D", from_split=True), Card.parse("6H"),
                 {Action.HIT, Action.STAND, Action.DOUBLE}, splits_done=1)
    assert found.action is Action.DOUBLE


def test_hint_declines_insurance_without_values():
    """With insurance on offer, the hint is to decline it, and it values nothing."""
    found = hint(Rules(), Hand.of("TS", "9D"), Card.parse("AH"),
                 {Action.INSURANCE, Action.NO_INSURANCE})
    assert found.action is Action.NO_INSURANCE and not found.values


RULE_SETS = [Rules.from_spec(spec) for spec in ("", "h17,ls", "ndas", "decks=1", "european")]


@settings(deadline=None)
@given(rules=st.sampled_from(RULE_SETS),
       points=st.lists(st.integers(1, 10), min_size=2, max_size=6),
       up=st.integers(1, 10),
       legal=st.sets(st.sampled_from(sorted(PLAYING, key=lambda a: a.value)), min_size=1),
       from_split=st.booleans())
def test_advice_is_always_legal(rules, points, up, legal, from_split):
    """Whatever the hand and whichever actions are legal, the advice is one of them."""
    hand = Hand(tuple(card(value) for value in points), from_split)
    assert advise(rules, hand, card(up), legal) in legal
