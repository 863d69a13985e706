"""Tests for blackjack.strategy: published charts, fallbacks and legal advice."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from blackjack.actions import Action
from blackjack.analysis import action_values
from blackjack.cards import Card, Rank, Suit
from blackjack.errors import BlackjackError, IllegalActionError
from blackjack.hand import Hand
from blackjack.rules import Rules
from blackjack.strategy import SHOE_OVERRIDES, Chart, advise, chart

COLUMNS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 1)
"""Dealer upcards in the order the published charts print them."""

# The Wizard of Odds "4-Deck to 8-Deck Blackjack Strategy" charts, late
# surrender allowed, transcribed row by row (columns 2..10, A).  Rows not
# listed are all "H" (hard 4-8) or all "S" (hard 17+ S17, soft 19+).
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

NO_SURRENDER = {"Rh": "H", "Rs": "S", "Rp": "P"}
"""Without surrender the published charts play each R cell's fallback."""


def published(h17: bool, das: bool, surrender: bool) -> dict[str, dict[int, dict[int, str]]]:
    """The published 4-8 deck chart for these rules, as table -> row -> upcard -> code."""
    hard = {total: "S" if total >= 17 else "H" for total in range(4, 22)}
    hard |= PUBLISHED_HARD_H17 if h17 else PUBLISHED_HARD_S17
    soft = {total: "S" if total >= 19 else "H" for total in range(13, 22)}
    soft |= PUBLISHED_SOFT_H17 if h17 else PUBLISHED_SOFT_S17
    pairs = dict(PUBLISHED_PAIRS_DAS if das else PUBLISHED_PAIRS_NDAS)
    if h17:
        pairs[8] = H17_SURRENDER_EIGHTS
    result: dict[str, dict[int, dict[int, str]]] = {}
    for name, rows in (("hard", hard), ("soft", soft), ("pairs", pairs)):
        table: dict[int, dict[int, str]] = {}
        for row, text in rows.items():
            codes = text.split() if " " in text else [text] * 10
            cells = {}
            for up, code in zip(COLUMNS, codes):
                code = "" if code == "-" else code
                cells[up] = code if surrender else NO_SURRENDER.get(code, code)
            table[row] = cells
        result[name] = table
    return result


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


@pytest.mark.parametrize("decks", [4, 6, 8])
@pytest.mark.parametrize("h17,das,surrender", GAMES)
def test_shoe_chart_is_the_published_chart(decks, h17, das, surrender):
    """For 4-8 decks every cell of the chart is the published basic-strategy cell."""
    rules = Rules(decks=decks, dealer_hits_soft_17=h17, double_after_split=das,
                  surrender=surrender)
    assert mismatches(chart(rules), published(h17, das, surrender)) == []


@pytest.mark.parametrize("h17,das,surrender", GAMES)
def test_infinite_deck_chart_differs_only_at_documented_cells(h17, das, surrender):
    """The unadjusted infinite-deck chart departs from the published one only at the overrides."""
    differences = mismatches(chart(Rules(decks=1, dealer_hits_soft_17=h17,
                                         double_after_split=das, surrender=surrender)),
                             published(h17, das, surrender))
    expected = [("soft", 13, 5, "H", "Dh")]
    if not h17:
        expected.append(("soft", 15, 4, "H", "Dh"))
    assert sorted(differences) == sorted(expected)
    assert {cell[:3] for cell in expected} <= set(SHOE_OVERRIDES)


def test_overrides_are_published_codes():
    """Each override restores the code the published S17 chart prints."""
    want = published(False, True, True)
    for (table, row, up), code in SHOE_OVERRIDES.items():
        assert want[table][row][up] == code


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
    """Without surrender, Rh hits, Rs stands and Rp splits."""
    h17 = Rules(surrender=True, dealer_hits_soft_17=True)
    play = {Action.HIT, Action.STAND, Action.DOUBLE, Action.SPLIT}
    assert advise(h17, Hand.of("TS", "6D"), Card.parse("TH"), play) is Action.HIT
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
    for spec in ("s17", "h17,ls", "european", "double=10-11,ndas,split=2", "enhc,ls,rsa,hsa"):
        table = chart(Rules.from_spec(spec))
        for total in range(4, 22):
            assert {table.hard[total][up] for up in range(1, 11)} <= totals
        for total in range(12, 22):
            assert {table.soft[total][up] for up in range(1, 11)} <= totals
        for points in range(1, 11):
            assert {table.pairs[points][up] for up in range(1, 11)} <= {"", "P", "Rp"}


def test_double_rule_restricts_the_chart():
    """With doubling on 10-11 only, hard 9 and soft hands never show a double."""
    table = chart(Rules.from_spec("double=10-11"))
    assert table.hard[9][5] == "H"
    assert table.soft[18][4] == "S"
    assert table.hard[10][5] == "Dh"


def test_no_split_rules_never_split():
    """With splitting forbidden, the pairs chart is empty."""
    table = chart(Rules(max_split_hands=1))
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
    assert "16 S S S S S H H Rh Rh Rh" in [" ".join(line.split()) for line in lines]
    assert "A,7 S Ds Ds Ds Ds S S H H H" in [" ".join(line.split()) for line in lines]
    assert "9,9 P P P P P - P P - -" in [" ".join(line.split()) for line in lines]


@pytest.mark.parametrize("spec", ["decks=1", "decks=1,h17,ls", "decks=2,ndas,enhc,ls"])
def test_advice_is_the_best_value_for_infinite_deck_charts(spec):
    """Where no override applies, advice on any opening hand is the highest-valued action."""
    rules = Rules.from_spec(spec)
    everything = {Action.HIT, Action.STAND, Action.DOUBLE, Action.SPLIT, Action.SURRENDER}
    for first in range(1, 11):
        for second in range(first, 11):
            hand = Hand((card(first), Card(card(second).rank, Suit.HEARTS)))
            if hand.is_blackjack:
                continue
            for up in range(1, 11):
                values = action_values(rules, hand, card(up))
                chosen = advise(rules, hand, card(up), set(values) & everything)
                assert values[chosen] == max(values.values()), (hand, up)


RULE_SETS = [Rules.from_spec(spec) for spec in (
    "", "h17,ls", "ndas", "european", "decks=1,double=9-11,split=2", "enhc,ls,rsa,hsa")]
PLAYING = [Action.HIT, Action.STAND, Action.DOUBLE, Action.SPLIT, Action.SURRENDER]


@given(rules=st.sampled_from(RULE_SETS),
       points=st.lists(st.integers(1, 10), min_size=2, max_size=6),
       up=st.integers(1, 10),
       legal=st.sets(st.sampled_from(PLAYING), min_size=1),
       from_split=st.booleans())
def test_advice_is_always_legal(rules, points, up, legal, from_split):
    """Whatever the hand and whichever actions are legal, the advice is one of them."""
    hand = Hand(tuple(card(value) for value in points), from_split)
    assert advise(rules, hand, card(up), legal) in legal
