"""Test doubles that ship with the library: a stacked shoe that deals known cards.

Use it in tests, tutorials and bug reports, never at a real table::

    shoe = StackedShoe("TS 9H AD 7C KS 6D")   # dealt in this order
    round = Round(Rules(), shoe, bets={1: 10})
    round.deal()       # seat 1 gets TS, dealer 9H up, seat 1 AD, hole 7C

The deal order is the casino's: one card to each seat in seat order, one
card up to the dealer, a second card to each seat, then the dealer's hole
card (no hole card in the European game).
"""

from __future__ import annotations

from typing import Iterable

from blackjack.cards import Card, parse_cards
from blackjack.errors import ShoeExhaustedError
from blackjack.rules import _check_decks
from blackjack.shoe import Shoe

__all__ = ["StackedShoe"]


class StackedShoe(Shoe):
    """A shoe that deals exactly the given cards, first card first."""

    def __init__(self, cards: str | Iterable[str | Card], decks: int = 1) -> None:
        self._stack = parse_cards(cards)
        self._stack.reverse()
        self.decks = _check_decks(decks)
        self.penetration = 0.75
        self._cards = list(self._stack)
        self._discards = []
        self._cut = len(self._cards) + 1
        self.shuffles = 0

    @property
    def size(self) -> int:
        """The number of cards stacked."""
        return len(self._stack)

    @property
    def needs_shuffle(self) -> bool:
        """A stacked shoe is never reshuffled."""
        return False

    def shuffle(self) -> None:
        """Does nothing: the order is the point of a stacked shoe."""

    def draw(self) -> Card:
        """Deal the next stacked card; running out is an error in the test."""
        if not self._cards:
            raise ShoeExhaustedError("the stacked shoe ran out of cards")
        return self._cards.pop()

    def push(self, cards: str | Iterable[str | Card]) -> None:
        """Add more cards to be dealt after the ones already stacked."""
        for card in parse_cards(cards):
            self._cards.insert(0, card)
            self._stack.insert(0, card)
