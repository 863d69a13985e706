"""Tests for blackjack.analysis: published infinite-deck figures, invariants, the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from blackjack.actions import Action
from blackjack.analysis import (DealerOutcome, _infinite, action_values,
                                dealer_probabilities, house_edge, opening_values)
from blackjack.analysis.__main__ import main
from blackjack.cards import Card
from blackjack.errors import IllegalActionError, InvalidCardError
from blackjack.hand import Hand
from blackjack.rules import Rules

WIZARD = Rules(dealer_hits_soft_17=False, double_after_split=True, max_split_hands=4,
               resplit_aces=False, blackjack_payout=Fraction(3, 2), dealer_peek=True)
"""Wizard of Odds blackjack appendix 1 game: S17, DAS, resplit to 4, no RSA, 3:2, peek."""

PLAYING = {Action.STAND, Action.HIT, Action.DOUBLE, Action.SPLIT, Action.SURRENDER}


def test_whole_game_expectation_is_the_published_figure():
    """The appendix-1 game is worth -0.511734% to the player, to the printed digits."""
    assert round(house_edge(WIZARD) * 100, 6) == -0.511734


@pytest.mark.parametrize("up,published", [("2H", -0.2928), ("7H", -0.4754),
                                          ("KH", -0.5404), ("AH", -0.6670)])
def test_standing_on_16_is_the_published_figure(up, published):
    """Standing on hard 16 has the published post-peek value against each upcard."""
    values = action_values(WIZARD, Hand.of("TS", "6D"), Card.parse(up))
    assert round(values[Action.STAND], 4) == published


def test_eights_against_a_ten_are_the_published_figures():
    """8,8 against a ten: stand -0.5404, hit -0.5398, double -1.0797, split -0.4807."""
    values = action_values(WIZARD, Hand.of("8S", "8D"), Card.parse("TH"))
    assert {action: round(value, 4) for action, value in values.items()} == {
        Action.STAND: -0.5404, Action.HIT: -0.5398,
        Action.DOUBLE: -1.0797, Action.SPLIT: -0.4807}


@pytest.mark.parametrize("h17", [False, True])
@pytest.mark.parametrize("up", range(1, 11))
def test_dealer_probabilities_sum_to_one(h17, up):
    """Before and after the peek the dealer's outcome chances sum to 1."""
    rules = Rules(dealer_hits_soft_17=h17)
    before = dealer_probabilities(rules, up)
    after = dealer_probabilities(rules, up, given_no_blackjack=True)
    assert set(before) == set(DealerOutcome)
    assert sum(before.values()) == pytest.approx(1.0, abs=1e-12)
    assert sum(after.values()) == pytest.approx(1.0, abs=1e-12)
    assert after[DealerOutcome.BLACKJACK] == 0.0


def test_dealer_blackjack_chances():
    """Only an ace (4/13) or a ten (1/13) upcard can make a natural."""
    chances = {up: dealer_probabilities(Rules(), up)[DealerOutcome.BLACKJACK]
               for up in range(1, 11)}
    assert chances[1] == pytest.approx(4 / 13)
    assert chances[10] == pytest.approx(1 / 13)
    assert all(chances[up] == 0.0 for up in range(2, 10))


def test_dealer_bust_chances_are_the_standard_table():
    """S17 infinite-deck bust chances by upcard match the standard table (ace includes naturals)."""
    published = {2: 0.3536, 3: 0.3739, 4: 0.3945, 5: 0.4164, 6: 0.4232,
                 7: 0.2623, 8: 0.2447, 9: 0.2284, 10: 0.2121, 1: 0.1153}
    for up, bust in published.items():
        assert round(dealer_probabilities(Rules(), up)[DealerOutcome.BUST], 4) == bust


def test_hitting_soft_17_changes_only_soft_17_paths():
    """H17 raises the dealer's bust chance under a 6 and leaves a 7-10 upcard unchanged."""
    s17, h17 = Rules(), Rules(dealer_hits_soft_17=True)
    assert dealer_probabilities(h17, 6)[DealerOutcome.BUST] > \
        dealer_probabilities(s17, 6)[DealerOutcome.BUST]
    for up in (7, 8, 9, 10):
        assert dealer_probabilities(h17, up) == dealer_probabilities(s17, up)


def test_h17_costs_about_a_fifth_of_a_percent():
    """Letting the dealer hit soft 17 costs the player about 0.2% of the bet."""
    cost = house_edge(WIZARD) - house_edge(Rules(dealer_hits_soft_17=True))
    assert 0.0018 < cost < 0.0025


def test_six_to_five_costs_about_one_and_a_half_percent():
    """Paying naturals 6:5 costs 0.3 of a bet on each natural the dealer does not tie: ~1.35%."""
    cost = house_edge(WIZARD) - house_edge(Rules(blackjack_payout=Fraction(6, 5)))
    natural = 2 * (1 / 13) * (4 / 13)
    assert cost == pytest.approx(0.3 * natural * (1 - natural), abs=1e-12)
    assert 0.013 < cost < 0.014


def test_even_money_naturals_cost_half_a_bet_each():
    """1:1 naturals cost exactly half a bet on every untied player natural."""
    cost = house_edge(WIZARD) - house_edge(Rules(blackjack_payout=Fraction(1, 1)))
    natural = 2 * (1 / 13) * (4 / 13)
    assert cost == pytest.approx(0.5 * natural * (1 - natural), abs=1e-12)


def test_rule_variations_move_the_edge_the_right_way():
    """Surrender and resplitting aces help the player; no DAS, fewer splits and no peek hurt."""
    base = house_edge(WIZARD)
    assert house_edge(Rules(surrender=True)) > base
    assert house_edge(Rules(resplit_aces=True)) > base
    assert house_edge(Rules(hit_split_aces=True)) > base
    assert house_edge(Rules(double_after_split=False)) < base
    assert house_edge(Rules(max_split_hands=2)) < base
    assert house_edge(Rules(max_split_hands=1)) < house_edge(Rules(max_split_hands=2))
    assert house_edge(Rules(dealer_peek=False)) < base
    assert house_edge(Rules.from_spec("double=10-11")) < house_edge(Rules.from_spec("double=9-11")) < base


def test_no_peek_values_charge_dealer_blackjack_to_every_wager():
    """Without a peek a dealer natural takes the whole wager: one bet standing, two doubled."""
    peek, enhc = Rules(), Rules(dealer_peek=False)
    natural = 1 / 13
    hand, up = Hand.of("5S", "6D"), Card.parse("TH")
    after_peek = action_values(peek, hand, up)
    no_peek = action_values(enhc, hand, up)
    for action, wager in ((Action.STAND, 1), (Action.HIT, 1), (Action.DOUBLE, 2)):
        assert no_peek[action] == pytest.approx(
            (1 - natural) * after_peek[action] - natural * wager, abs=1e-12)


def test_no_peek_split_loses_both_bets_to_a_natural():
    """Without a peek, splitting 8,8 against an ace is worse than hitting (both bets are at risk)."""
    values = action_values(Rules(dealer_peek=False), Hand.of("8S", "8D"), Card.parse("AH"))
    assert values[Action.SPLIT] < values[Action.HIT]


def test_resplitting_is_worth_more_with_more_hands():
    """The value of splitting 8,8 against a 6 grows with the split limit, and stops at none left."""
    hand, up = Hand.of("8S", "8D"), Card.parse("6H")
    by_limit = [action_values(Rules(max_split_hands=limit), hand, up)[Action.SPLIT]
                for limit in (2, 3, 4, 8)]
    assert by_limit == sorted(by_limit) and by_limit[0] < by_limit[-1]
    at_limit = action_values(Rules(max_split_hands=4), Hand.of("8S", "8D", from_split=True),
                             up, splits_done=3)
    assert Action.SPLIT not in at_limit
    assert Action.SPLIT in action_values(Rules(max_split_hands=4),
                                         Hand.of("8S", "8D", from_split=True), up, splits_done=2)


def test_actions_offered_follow_the_rules():
    """Double, surrender and split are offered only where the rules and the hand allow them."""
    up = Card.parse("6H")
    assert set(action_values(Rules(), Hand.of("8S", "8D"), up)) == {
        Action.STAND, Action.HIT, Action.DOUBLE, Action.SPLIT}
    assert set(action_values(Rules(surrender=True), Hand.of("TS", "6D"), up)) == {
        Action.STAND, Action.HIT, Action.DOUBLE, Action.SURRENDER}
    assert set(action_values(Rules(surrender=True), Hand.of("2S", "4D", "TC"), up)) == {
        Action.STAND, Action.HIT}
    assert set(action_values(Rules(double_after_split=False, surrender=True),
                             Hand.of("5S", "6D", from_split=True), up, splits_done=1)) == {
        Action.STAND, Action.HIT}
    assert set(action_values(Rules.from_spec("double=10-11"), Hand.of("5S", "4D"), up)) == {
        Action.STAND, Action.HIT}
    assert set(action_values(Rules(max_split_hands=1), Hand.of("8S", "8D"), up)) == {
        Action.STAND, Action.HIT, Action.DOUBLE}


def test_split_aces_stand_unless_the_rules_let_them_draw():
    """A split ace takes one card; with hit_split_aces it may hit and (DAS) double."""
    hand, up = Hand.of("AS", "6D", from_split=True), Card.parse("5H")
    assert set(action_values(Rules(), hand, up, splits_done=1)) == {Action.STAND}
    assert set(action_values(Rules(hit_split_aces=True), hand, up, splits_done=1)) == {
        Action.STAND, Action.HIT, Action.DOUBLE}
    aces = Hand.of("AS", "AD", from_split=True)
    assert set(action_values(Rules(), aces, up, splits_done=1)) == {Action.STAND}
    assert Action.SPLIT in action_values(Rules(resplit_aces=True), aces, up, splits_done=1)


def test_split_ace_twenty_one_is_not_a_natural():
    """Ace-ten after a split stands on 21 worth less than a natural's 1.5."""
    values = action_values(Rules(), Hand.of("AS", "KD", from_split=True), Card.parse("9H"),
                           splits_done=1)
    assert set(values) == {Action.STAND}
    assert 0.5 < values[Action.STAND] < 1.0
    natural = action_values(Rules(), Hand.of("AS", "KD"), Card.parse("9H"))
    assert natural == {Action.STAND: 1.5}


def test_opening_values_match_action_values():
    """The chart's two-card values are the values of any hand with that total."""
    assert opening_values(WIZARD, 16, False, 10, pair=True) == action_values(
        WIZARD, Hand.of("8S", "8D"), Card.parse("TH"))
    assert opening_values(WIZARD, 18, True, 4) == action_values(
        WIZARD, Hand.of("AS", "7D"), Card.parse("4H"))


def test_bad_inputs_are_refused():
    """Unknown upcards, bust hands, one-card hands and impossible totals raise ValueErrors."""
    with pytest.raises(InvalidCardError):
        dealer_probabilities(Rules(), 11)
    with pytest.raises(IllegalActionError, match="bust"):
        action_values(Rules(), Hand.of("TS", "6D", "9C"), Card.parse("TH"))
    with pytest.raises(IllegalActionError, match="two cards"):
        action_values(Rules(), Hand.of("TS"), Card.parse("TH"))
    with pytest.raises(IllegalActionError):
        opening_values(Rules(), 21, False, 5)
    with pytest.raises(IllegalActionError, match="not a pair"):
        opening_values(Rules(), 15, False, 5, pair=True)


def test_a_full_analysis_takes_well_under_a_second():
    """House edge and chart of an uncached rules set take milliseconds, not minutes."""
    for cached in (_infinite.upcard_values, _infinite.game_value, _infinite.dealer_distribution):
        cached.cache_clear()
    started = time.perf_counter()
    house_edge(Rules.from_spec("h17,ndas,ls,split=3,rsa"))
    assert time.perf_counter() - started < 1.0


def test_cli_prints_edge_and_charts():
    """The command prints the house edge to six places and the three charts."""
    out = io.StringIO()
    assert main(["--rules", "s17"], out) == 0
    text = out.getvalue()
    assert "House edge: 0.511734%" in text
    for heading in ("Hard", "Soft", "Pairs"):
        assert heading in text.splitlines()


def test_cli_json_parses_and_agrees():
    """--json gives one object whose figures are the library's."""
    out = io.StringIO()
    main(["--rules", "h17", "--surrender", "--decks", "2", "--json"], out)
    data = json.loads(out.getvalue())
    rules = Rules.from_spec("h17,ls,decks=2")
    assert data["player_expectation"] == house_edge(rules)
    assert data["house_edge"] == -house_edge(rules)
    assert data["strategy"]["hard"]["16"]["10"] == "Rh"
    assert data["strategy"]["pairs"]["A"]["A"] == "P"
    assert data["dealer_before_peek"]["A"]["blackjack"] == pytest.approx(4 / 13)
    assert data["published_cells_kept"] == []


def test_cli_reports_the_published_cells_it_keeps():
    """For a shoe game the command names the published cells kept over the optimum."""
    out = io.StringIO()
    main(["--json"], out)
    assert json.loads(out.getvalue())["published_cells_kept"] == [
        "soft 13 v 5: Dh", "soft 15 v 4: Dh"]


def test_cli_runs_as_a_module():
    """``python -m blackjack.analysis --json`` runs in a fresh interpreter and prints JSON."""
    done = subprocess.run([sys.executable, "-m", "blackjack.analysis", "--enhc", "--json"],
                          capture_output=True, text=True, timeout=60, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert json.loads(done.stdout)["description"].endswith("ENHC 10-500")


def test_cli_rejects_unknown_rules():
    """An unknown rule is a usage error (exit status 2) naming the rule."""
    with pytest.raises(SystemExit) as raised:
        main(["--rules", "bogus"], io.StringIO())
    assert raised.value.code == 2


def test_analysis_and_strategy_import_only_the_standard_library():
    """The analysis and the advisor load without Twisted, as the rules engine must."""
    code = ("import sys, blackjack.analysis, blackjack.strategy, blackjack.analysis.__main__; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'twisted'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True, cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "[]"
