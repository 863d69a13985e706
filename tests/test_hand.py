"""Tests for blackjack.hand: totals, soft aces, busts, naturals and pairs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from blackjack import Card, Hand, full_deck, score

cards = st.sampled_from(full_deck())


def _brute_force_total(points: list[int]) -> int:
    """Try every ace as 1 or 11: the best total not over 21, else the smallest."""
    aces = points.count(1)
    base = sum(points)
    totals = {base + 10 * elevens for elevens in range(aces + 1)}
    fitting = [t for t in totals if t <= 21]
    return max(fitting) if fitting else min(totals)


@settings(max_examples=300, deadline=None)
@given(st.lists(cards, min_size=1, max_size=11))
def test_total_matches_brute_force_over_every_ace_choice(hand_cards: list[Card]) -> None:
    """The hand total equals the best of all 1-or-11 choices for its aces."""
    hand = Hand(tuple(hand_cards))
    points = [c.points for c in hand_cards]
    assert hand.total == _brute_force_total(points)
    # Soft means an ace is really being counted as 11.
    assert hand.is_soft == (hand.total == sum(points) + 10)
    assert hand.is_bust == (hand.total > 21)


def test_score_of_every_two_card_hand_matches_brute_force() -> None:
    """score() agrees with brute force on every pair of card values."""
    for a, b in itertools.product(range(1, 11), repeat=2):
        total, soft = score([a, b])
        assert total == _brute_force_total([a, b])
        assert soft == (1 in (a, b) and a + b <= 11)


@pytest.mark.parametrize("cards_text, total, soft", [
    (("AS", "6D"), 17, True),
    (("AS", "6D", "TC"), 17, False),
    (("AS", "AD"), 12, True),
    (("AS", "AD", "9C"), 21, True),
    (("AS", "AD", "AC", "AH"), 14, True),
    (("TS", "7D"), 17, False),
    (("5S", "AD", "5C"), 21, True),
    (("9S", "AD", "AC", "KH"), 21, False),
])
def test_soft_and_hard_totals(cards_text: tuple[str, ...], total: int, soft: bool) -> None:
    """An ace counts 11 only while that does not bust the hand, which is then soft."""
    hand = Hand.of(*cards_text)
    assert (hand.total, hand.is_soft) == (total, soft)


def test_bust_is_over_21_and_never_soft() -> None:
    """A hand over 21 is bust, counts its aces as 1 and is not soft."""
    hand = Hand.of("KS", "QD", "AC", "2H")
    assert hand.is_bust and hand.total == 23 and not hand.is_soft
    assert not Hand.of("KS", "AD", "TC").is_bust


def test_natural_is_a_two_card_21_not_from_a_split() -> None:
    """Ace and ten-card is blackjack; the same cards after a split, or 21 in three, are not."""
    assert Hand.of("AS", "KD").is_blackjack
    assert Hand.of("TC", "AH").is_blackjack
    assert not Hand.of("AS", "KD", from_split=True).is_blackjack
    assert Hand.of("AS", "KD", from_split=True).total == 21
    assert not Hand.of("7S", "7D", "7C").is_blackjack


@pytest.mark.parametrize("cards_text, pair", [
    (("8S", "8D"), True),
    (("KS", "QD"), True),
    (("TS", "JD"), True),
    (("AS", "AD"), True),
    (("AS", "KD"), False),
    (("9S", "8D"), False),
    (("8S", "8D", "8C"), False),
])
def test_pair_is_two_cards_of_equal_points(cards_text: tuple[str, ...], pair: bool) -> None:
    """Two cards of the same points are a pair (any two tens), three cards never."""
    assert Hand.of(*cards_text).is_pair is pair


@pytest.mark.parametrize("hand, text", [
    (Hand.of("AS", "KD"), "blackjack"),
    (Hand.of("AS", "KD", from_split=True), "soft 21"),
    (Hand.of("AS", "6D"), "soft 17"),
    (Hand.of("TS", "6D"), "hard 16"),
    (Hand.of("TS", "6D", "8C"), "bust (24)"),
])
def test_describe_says_soft_hard_blackjack_or_bust(hand: Hand, text: str) -> None:
    """describe() gives the player-facing summary of the hand."""
    assert hand.describe() == text


def test_add_returns_a_new_hand_keeping_the_split_mark() -> None:
    """Hands are immutable: add() returns a longer hand and leaves the old one alone."""
    hand = Hand.of("8S", from_split=True)
    longer = hand.add(Card.parse("3D"))
    assert hand.cards == (Card.parse("8S"),)
    assert longer.cards == (Card.parse("8S"), Card.parse("3D"))
    assert longer.from_split


def test_str_is_the_cards_wire_forms() -> None:
    """str(hand) lists the cards' wire forms separated by spaces."""
    assert str(Hand.of("AS", "TD", "9h")) == "AS TD 9H"
