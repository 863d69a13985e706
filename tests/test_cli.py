"""The engine's command lines share one set of rule options."""

from __future__ import annotations

import argparse

import pytest

from blackjack._cli import add_rules_arguments, rules_from_arguments
from blackjack.rules import DoubleRule, Rules
from blackjack.errors import RulesError


def _rules(*argv: str) -> Rules:
    parser = argparse.ArgumentParser()
    add_rules_arguments(parser, penetration=True)
    return rules_from_arguments(parser.parse_args(argv))


def test_each_option_sets_its_rule_on_top_of_the_spec() -> None:
    """Individual options apply after --rules, each to the rule it names."""
    rules = _rules("--rules", "sixfive", "--s17", "--decks", "2", "--double", "10-11", "--ndas",
                   "--split", "3", "--rsa", "--hsa", "--surrender", "--enhc", "--payout", "3:2",
                   "--penetration", "0.6")
    assert rules == Rules(decks=2, dealer_hits_soft_17=False, double=DoubleRule.TEN_ELEVEN,
                          double_after_split=False, max_split_hands=3, resplit_aces=True,
                          hit_split_aces=True, surrender=True, dealer_peek=False,
                          min_bet=5, penetration=0.6)


def test_no_options_mean_the_default_rules() -> None:
    """With no rule options the command uses the default game."""
    assert _rules() == Rules()


def test_a_bad_value_is_a_rules_error() -> None:
    """A value the rules refuse raises RulesError, which each command shows as a usage error."""
    with pytest.raises(RulesError, match="decks"):
        _rules("--decks", "9")
