"""Scoring a blackjack hand: totals with soft aces, bust, naturals and pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from blackjack.cards import Card

__all__ = ["Hand", "score"]


def score(points: Iterable[int]) -> tuple[int, bool]:
    """Best total of cards worth ``points`` (ace = 1), and whether it is soft.

    A total is soft when an ace counts as 11 without busting the hand.
    """
    total = 0
    has_ace = False
    for value in points:
        total += value
        if value == 1:
            has_ace = True
    if has_ace and total <= 11:
        return total + 10, True
    return total, False


@dataclass(frozen=True, slots=True)
class Hand:
    """An immutable hand of cards; ``from_split`` marks hands made by splitting.

    A natural blackjack is only a two-card 21 that did not come from a split.
    """

    cards: tuple[Card, ...] = ()
    from_split: bool = False

    @classmethod
    def of(cls, *cards: Card | str, from_split: bool = False) -> Hand:
        """Build a hand from cards or their wire forms: ``Hand.of("AS", "KD")``."""
        return cls(tuple(c if isinstance(c, Card) else Card.parse(c) for c in cards),
                   from_split)

    def add(self, card: Card) -> Hand:
        """This hand with one more card."""
        return Hand(self.cards + (card,), self.from_split)

    @property
    def total(self) -> int:
        """The best total (soft aces counted as 11 where that does not bust)."""
        return score(card.points for card in self.cards)[0]

    @property
    def is_soft(self) -> bool:
        """Whether an ace is counted as 11 in :attr:`total`."""
        return score(card.points for card in self.cards)[1]

    @property
    def is_bust(self) -> bool:
        """Whether the total is over 21."""
        return self.total > 21

    @property
    def is_blackjack(self) -> bool:
        """A two-card 21 not made by splitting."""
        return len(self.cards) == 2 and not self.from_split and self.total == 21

    @property
    def is_pair(self) -> bool:
        """Two cards of equal points (any two ten-valued cards form a pair)."""
        return len(self.cards) == 2 and self.cards[0].points == self.cards[1].points

    def describe(self) -> str:
        """``soft 17``, ``hard 12``, ``blackjack`` or ``bust (24)``."""
        if self.is_blackjack:
            return "blackjack"
        total, soft = score(card.points for card in self.cards)
        if total > 21:
            return f"bust ({total})"
        return f"{'soft' if soft else 'hard'} {total}"

    def __str__(self) -> str:
        return " ".join(str(card) for card in self.cards)
