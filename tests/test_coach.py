"""Tests for blackjack.server.core.coach: the engine's best play and the analyser's values."""

from __future__ import annotations

import pytest

from blackjack import Action, Card, Hand, Phase, Round, Rules
from blackjack.analysis import DealerOutcome, action_values, dealer_probabilities
from blackjack.server.core import coach
from blackjack.strategy import hint
from blackjack.testing import StackedShoe


def _dealt(cards: str, rules: Rules = Rules(), bets: dict[int, int] | None = None) -> Round:
    rnd = Round(rules, StackedShoe(cards), bets or {1: 10})
    rnd.deal()
    return rnd


def test_a_playing_decision_gets_the_engines_hint_and_the_analysers_values() -> None:
    """Hard 16 against a ten: values are action_values' for the legal choices, the best play
    the engine's hint, the same as the table's ``hint`` command gives."""
    rules = Rules(surrender=True)
    rnd = _dealt("TS TD 6H 7C", rules)  # seat 1 T 6, dealer T up, 7 in the hole
    found = coach.advice(rules, rnd, 1)
    assert found is not None
    hand, up = Hand("TS 6H"), Card.parse("TD")
    legal = rnd.legal_actions(1)
    assert found.values == {a: v for a, v in action_values(rules, hand, up).items()
                            if a in legal}
    engine = hint(rules, hand, up, legal)
    assert found.best is engine.action is Action.SURRENDER and found.model == engine.model
    assert found.cost(Action.HIT) == pytest.approx(
        found.values[Action.SURRENDER] - found.values[Action.HIT])
    assert found.cost(Action.SURRENDER) == 0.0


def test_after_a_split_the_values_count_the_hands_already_split() -> None:
    """A split hand's values are action_values with splits_done = hands - 1."""
    rules = Rules()
    rnd = _dealt("8S 6D 8H TC 3C 2D", rules)
    rnd.act("split")
    found = coach.advice(rules, rnd, 1)
    assert found is not None
    hand = rnd.hands(1)[0]
    assert found.values == {a: v for a, v in action_values(
        rules, hand, Card.parse("6D"), splits_done=1).items() if a in rnd.legal_actions(1)}


def test_insurance_is_valued_by_the_chance_of_a_dealer_blackjack() -> None:
    """Insurance is worth half the bet times 3p - 1; declining is worth 0 and is basic strategy."""
    rules = Rules()
    rnd = _dealt("TS AD 9H 7C", rules, {1: 10})
    assert rnd.phase is Phase.INSURANCE
    found = coach.advice(rules, rnd, 1)
    assert found is not None
    p = dealer_probabilities(rules, 1)[DealerOutcome.BLACKJACK]
    assert found.values == {Action.NO_INSURANCE: 0.0,
                            Action.INSURANCE: pytest.approx(0.5 * (3 * p - 1))}
    assert found.best is Action.NO_INSURANCE
    assert found.cost(Action.INSURANCE) == pytest.approx(0.5 * (1 - 3 * p))


def test_even_money_is_worth_one_against_the_natural_left_to_ride() -> None:
    """For a natural, even money is worth 1 and declining payout x (1 - p)."""
    rules = Rules()
    rnd = _dealt("AS AD KH 7C", rules)
    found = coach.advice(rules, rnd, 1)
    assert found is not None
    p = dealer_probabilities(rules, 1)[DealerOutcome.BLACKJACK]
    assert found.values == {Action.EVEN_MONEY: 1.0,
                            Action.NO_INSURANCE: pytest.approx(1.5 * (1 - p))}
    assert found.best is Action.NO_INSURANCE


def test_no_advice_off_turn_or_when_the_round_is_over() -> None:
    """A seat that has no decision to make now gets no advice."""
    rules = Rules()
    rnd = _dealt("TS 9D 7H 8C 6S 6H 9C", rules, {1: 10, 2: 10})
    assert coach.advice(rules, rnd, 2) is None
    rnd.act("stand")
    rnd.act("stand")
    assert rnd.phase is Phase.FINISHED and coach.advice(rules, rnd, 1) is None
