"""Tests for blackjack.cards: ranks, suits, the wire form and the display form."""

from __future__ import annotations

import pytest

from blackjack import Card, InvalidCardError, Rank, Suit, full_deck, parse_cards


def test_every_card_round_trips_through_its_wire_form() -> None:
    """str(card) is two characters and Card.parse reads it back to the same card."""
    for card in full_deck():
        text = str(card)
        assert len(text) == 2
        assert Card.parse(text) == card


def test_wire_forms_looked_up_read_as_the_spelled_out_ones() -> None:
    """Card.parse of an exact wire form (looked up) gives the card that reading the same
    text spelled otherwise, letter by letter, gives; and each card's points and wire form
    (read off tables) follow from its rank and suit."""
    for rank in Rank:
        for suit in Suit:
            card = Card(rank, suit)
            wire = rank.symbol + suit.value
            assert str(card) == wire
            assert Card.parse(wire) == Card.parse(f" {wire.lower()} ") == card
            assert card.points == rank.points == min(int(rank), 10)
            assert type(card.points) is int


def test_repr_rebuilds_the_card() -> None:
    """repr(card) is an expression that evaluates to an equal card."""
    card = Card(Rank.TEN, Suit.DIAMONDS)
    assert repr(card) == "Card.parse('TD')"
    assert eval(repr(card)) == card


@pytest.mark.parametrize("text, expected", [
    ("AS", Card(Rank.ACE, Suit.SPADES)),
    ("td", Card(Rank.TEN, Suit.DIAMONDS)),
    ("10H", Card(Rank.TEN, Suit.HEARTS)),
    (" 9c ", Card(Rank.NINE, Suit.CLUBS)),
    ("KD", Card(Rank.KING, Suit.DIAMONDS)),
])
def test_parse_accepts_case_whitespace_and_10(text: str, expected: Card) -> None:
    """Parsing ignores case and surrounding space and reads 10 as T."""
    assert Card.parse(text) == expected


@pytest.mark.parametrize("text, why", [
    ("", "expected rank then suit"),
    ("A", "expected rank then suit"),
    ("ASD", "expected rank then suit"),
    ("10", "expected rank then suit"),
    ("1S", "rank must be one of"),
    ("ZS", "rank must be one of"),
    ("AX", "suit must be one of"),
])
def test_parse_rejects_bad_text_saying_why(text: str, why: str) -> None:
    """Unparseable text raises InvalidCardError (a ValueError) naming the text and the problem."""
    with pytest.raises(InvalidCardError) as info:
        Card.parse(text)
    assert isinstance(info.value, ValueError)
    assert repr(text) in str(info.value)
    assert why in str(info.value)


def test_display_uses_suit_symbols_and_10() -> None:
    """The display form is rank plus unicode suit, with the ten shown as 10."""
    assert Card.parse("AS").display() == "A\u2660"
    assert Card.parse("TH").display() == "10\u2665"
    assert Card.parse("QD").display() == "Q\u2666"
    assert Card.parse("2C").display() == "2\u2663"


def test_display_ascii_fallback_is_the_wire_form() -> None:
    """With unicode off the display form is the plain wire form."""
    for card in full_deck():
        assert card.display(unicode=False) == str(card)
        assert card.display(unicode=False).isascii()


def test_points_count_faces_as_ten_and_ace_as_one() -> None:
    """Card points are the rank up to ten, faces ten, the ace one."""
    points = {rank: Card(rank, Suit.SPADES).points for rank in Rank}
    assert points[Rank.ACE] == 1
    assert [points[r] for r in (Rank.TWO, Rank.NINE)] == [2, 9]
    assert {points[r] for r in (Rank.TEN, Rank.JACK, Rank.QUEEN, Rank.KING)} == {10}


def test_rank_symbols_are_the_wire_symbols() -> None:
    """Each rank has a one-character symbol, together A23456789TJQK."""
    assert "".join(rank.symbol for rank in Rank) == "A23456789TJQK"


def test_full_deck_is_52_distinct_cards() -> None:
    """A deck holds each of the 13 ranks in each of the 4 suits exactly once."""
    deck = full_deck()
    assert len(deck) == 52
    assert len(set(deck)) == 52
    assert {c.suit for c in deck} == set(Suit)
    assert {c.rank for c in deck} == set(Rank)


def test_cards_are_frozen_values() -> None:
    """Cards compare and hash by rank and suit and cannot be changed."""
    assert Card.parse("AS") == Card(Rank.ACE, Suit.SPADES)
    assert len({Card.parse("AS"), Card.parse("as"), Card.parse("AH")}) == 2
    with pytest.raises(AttributeError):
        Card.parse("AS").rank = Rank.TWO  # type: ignore[misc]


def test_parse_cards_reads_text_or_an_iterable() -> None:
    """parse_cards takes space-separated text or a list of wire forms, keeping order."""
    expected = [Card.parse("AS"), Card.parse("KD"), Card.parse("9H")]
    assert parse_cards("AS KD 9H") == expected
    assert parse_cards(["AS", "KD", "9H"]) == expected
    with pytest.raises(InvalidCardError):
        parse_cards("AS XX")
