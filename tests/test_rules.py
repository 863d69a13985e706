"""Tests for blackjack.rules: validation, presets, the spec text form and payouts."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from blackjack import PRESETS, DoubleRule, Rules, RulesError
from engine_helpers import rules_values



@pytest.mark.parametrize("kwargs, message", [
    ({"decks": 0}, "decks must be 1 to 8"),
    ({"decks": 9}, "decks must be 1 to 8"),
    ({"decks": 2.5}, "decks must be a whole number"),
    ({"decks": True}, "decks must be a whole number"),
    ({"blackjack_payout": Fraction(4, 3)}, "not 4:3"),
    ({"max_split_hands": 0}, "split hands must be 1 to 8"),
    ({"max_split_hands": 9}, "split hands must be 1 to 8"),
    ({"min_bet": 0}, "minimum bet must be at least 1"),
    ({"min_bet": 10.5}, "min_bet must be a whole number"),
    ({"min_bet": 50, "max_bet": 20}, "maximum bet 20 is below the minimum 50"),
    ({"penetration": 0.05}, "penetration must be between"),
    ({"penetration": 1.0}, "penetration must be between"),
])
def test_inconsistent_rules_are_rejected_saying_why(kwargs: dict[str, object], message: str) -> None:
    """Out-of-range or ill-typed settings raise RulesError (a ValueError) with the reason."""
    with pytest.raises(RulesError, match=message) as info:
        Rules(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_defaults_are_the_common_six_deck_game() -> None:
    """Rules() is six decks, S17, 3:2, double any, DAS, split to 4, peek, 10-500."""
    assert Rules().describe() == "6D S17 3:2 DAS SP4 peek 10-500"
    assert Rules().blackjack_payout == Fraction(3, 2)
    assert Rules().can_split


def test_rules_are_frozen_and_hashable() -> None:
    """A Rules value cannot change and equal values hash alike, so they can key caches."""
    with pytest.raises(FrozenInstanceError):
        Rules().decks = 2  # type: ignore[misc]
    assert hash(Rules(decks=2)) == hash(Rules(decks=2))
    assert len({Rules(), Rules(), Rules(decks=2)}) == 2


def test_payout_given_as_text_or_float_is_normalised_to_a_fraction() -> None:
    """The blackjack payout is stored as a Fraction whatever numeric form it came in."""
    assert Rules(blackjack_payout=1.5).blackjack_payout == Fraction(3, 2)  # type: ignore[arg-type]
    assert Rules(blackjack_payout="6/5").blackjack_payout == Fraction(6, 5)  # type: ignore[arg-type]


def test_presets_are_the_tables_their_names_say() -> None:
    """Each preset has the defining rules of its table."""
    assert PRESETS["european"].dealer_peek is False
    assert PRESETS["european"].double is DoubleRule.NINE_TO_ELEVEN
    assert PRESETS["sixfive"].blackjack_payout == Fraction(6, 5)
    assert PRESETS["single"].decks == 1 and not PRESETS["single"].double_after_split
    assert PRESETS["downtown"].dealer_hits_soft_17
    assert PRESETS["vegas"].surrender and PRESETS["atlantic"].decks == 8


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_its_spec(name: str) -> None:
    """A preset written with to_spec reads back as the same rules, and its name works too."""
    preset = PRESETS[name]
    assert Rules.from_spec(preset.to_spec()) == preset
    assert Rules.from_spec(name) == preset


@settings(max_examples=150, deadline=None)
@given(rules_values())
def test_any_rules_round_trip_through_the_spec(rules: Rules) -> None:
    """from_spec(to_spec(r)) == r for every valid rules value."""
    assert Rules.from_spec(rules.to_spec()) == rules


def test_default_rules_have_an_empty_spec() -> None:
    """to_spec lists only the settings that differ from the defaults."""
    assert Rules().to_spec() == ""
    assert Rules(decks=2, dealer_hits_soft_17=True).to_spec() == "decks=2,h17=yes"


def test_from_spec_reads_flags_and_values() -> None:
    """The compact form used on the command line sets each named rule."""
    rules = Rules.from_spec("decks=2, h17, payout=6:5, double=10-11, ndas, split=2, "
                            "rsa, hsa, ls, noins, enhc, min=5, max=200, pen=0.6")
    assert rules == Rules(decks=2, dealer_hits_soft_17=True, blackjack_payout=Fraction(6, 5),
                          double=DoubleRule.TEN_ELEVEN, double_after_split=False,
                          max_split_hands=2, resplit_aces=True, hit_split_aces=True,
                          surrender=True, insurance=False, dealer_peek=False,
                          min_bet=5, max_bet=200, penetration=0.6)


def test_from_spec_applies_changes_on_top_of_a_leading_preset() -> None:
    """A preset name first, then changes: the changes win."""
    rules = Rules.from_spec("european,ls,min=25")
    assert rules == replace(PRESETS["european"], surrender=True, min_bet=25)


def test_from_spec_builds_on_a_given_base() -> None:
    """from_spec changes only the named rules of the base it is given."""
    base = Rules(decks=1, min_bet=1)
    assert Rules.from_spec("h17", base=base) == Rules(decks=1, min_bet=1, dealer_hits_soft_17=True)


@pytest.mark.parametrize("spec, message", [
    ("fast", "unknown rule 'fast'"),
    ("decks", "unknown rule 'decks'"),
    ("h17,vegas", "unknown rule 'vegas'"),
    ("decks=two", "bad value 'two' for decks"),
    ("payout=3", "bad value '3' for payout"),
    ("payout=3:0", "bad value '3:0' for payout"),
    ("double=8-11", "bad value '8-11' for double"),
    ("das=maybe", "bad value 'maybe' for das"),
    ("pen=lots", "bad value 'lots' for pen"),
    ("decks=12", "decks must be 1 to 8"),
    ("payout=5:4", "not 5:4"),
])
def test_from_spec_rejects_bad_text_saying_why(spec: str, message: str) -> None:
    """Unknown rules, bad values and out-of-range values raise RulesError naming the item."""
    with pytest.raises(RulesError, match=message):
        Rules.from_spec(spec)


def test_describe_names_every_variation() -> None:
    """describe() mentions each non-default rule in its short form."""
    rules = Rules(decks=2, dealer_hits_soft_17=True, blackjack_payout=Fraction(6, 5),
                  double=DoubleRule.NINE_TO_ELEVEN, double_after_split=False,
                  max_split_hands=1, resplit_aces=True, hit_split_aces=True, surrender=True,
                  insurance=False, dealer_peek=False, min_bet=5, max_bet=100)
    assert rules.describe() == "2D H17 6:5 D9-11 NDAS NOSPLIT RSA HSA LS NOINS ENHC 5-100"


@pytest.mark.parametrize("payout, bet, win", [
    (Fraction(3, 2), 10, 15),
    (Fraction(3, 2), 15, 22),   # 22.5 rounded down
    (Fraction(3, 2), 1, 1),     # 1.5 rounded down
    (Fraction(6, 5), 10, 12),
    (Fraction(6, 5), 7, 8),     # 8.4 rounded down
    (Fraction(1, 1), 13, 13),
    (Fraction(7, 5), 10, 14),
    (Fraction(2, 1), 9, 18),
])
def test_blackjack_win_rounds_down_to_whole_chips(payout: Fraction, bet: int, win: int) -> None:
    """A natural wins bet * payout, the fraction of a chip kept by the house."""
    assert Rules(blackjack_payout=payout, min_bet=1).blackjack_win(bet) == win


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([Fraction(3, 2), Fraction(6, 5), Fraction(7, 5)]), st.integers(1, 10_000))
def test_blackjack_win_is_the_floor_of_the_exact_payout(payout: Fraction, bet: int) -> None:
    """blackjack_win(bet) is the largest whole number not above bet * payout."""
    win = Rules(blackjack_payout=payout).blackjack_win(bet)
    assert win <= bet * payout < win + 1


@pytest.mark.parametrize("rule, total, soft, allowed", [
    (DoubleRule.ANY, 17, True, True),
    (DoubleRule.ANY, 4, False, True),
    (DoubleRule.NINE_TO_ELEVEN, 8, False, False),
    (DoubleRule.NINE_TO_ELEVEN, 9, False, True),
    (DoubleRule.NINE_TO_ELEVEN, 11, False, True),
    (DoubleRule.NINE_TO_ELEVEN, 12, False, False),
    (DoubleRule.NINE_TO_ELEVEN, 19, True, False),
    (DoubleRule.TEN_ELEVEN, 9, False, False),
    (DoubleRule.TEN_ELEVEN, 10, False, True),
    (DoubleRule.TEN_ELEVEN, 11, False, True),
])
def test_double_rule_allows_only_its_hard_totals(rule: DoubleRule, total: int, soft: bool,
                                                 allowed: bool) -> None:
    """9-11 and 10-11 allow only those hard totals; ANY allows every two cards."""
    assert rule.allows(total, soft) is allowed


def test_one_split_hand_means_no_splitting() -> None:
    """max_split_hands=1 turns splitting off."""
    assert not Rules(max_split_hands=1).can_split
    assert Rules(max_split_hands=2).can_split


def test_a_string_is_not_a_yes_or_no_setting() -> None:
    """dealer_hits_soft_17="no" is refused, naming the setting, rather than read as H17."""
    with pytest.raises(RulesError, match="dealer_hits_soft_17 must be True or False, not 'no'"):
        Rules(dealer_hits_soft_17="no")  # type: ignore[arg-type]


def test_the_double_rule_may_be_given_as_its_text() -> None:
    """Rules(double="any") is the DoubleRule.ANY game and describes itself; unknown text is refused."""
    assert Rules(double="any").describe() == Rules().describe()  # type: ignore[arg-type]
    assert Rules(double="10-11").double is DoubleRule.TEN_ELEVEN  # type: ignore[arg-type]
    with pytest.raises(RulesError, match="double must be any, 9-11 or 10-11, not '8-11'"):
        Rules(double="8-11")  # type: ignore[arg-type]


def test_penetration_as_text_is_the_rules_error() -> None:
    """Rules(penetration="0.5") raises RulesError naming penetration, not a TypeError."""
    with pytest.raises(RulesError, match="penetration must be a number, not '0.5'") as info:
        Rules(penetration="0.5")  # type: ignore[arg-type]
    assert not isinstance(info.value, TypeError)


def test_a_bool_is_not_a_payout() -> None:
    """blackjack_payout=True is refused rather than read as 1:1."""
    with pytest.raises(RulesError, match="blackjack_payout must be"):
        Rules(blackjack_payout=True)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(rules=rules_values())
def test_kept_texts_are_the_texts_made_anew(rules: Rules) -> None:
    """to_spec and describe (kept per rules value) give what building them afresh gives,
    and the spec still reads back as the same rules."""
    assert rules.to_spec() == rules._to_spec()
    assert rules.describe() == rules._describe()
    assert Rules.from_spec(rules.to_spec()) == rules
