"""Scoring a blackjack hand: totals with soft aces, bust, naturals and pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from blackjack._checks import flag
from blackjack.cards import _CARDS, _POINTS, Card, _as_card, parse_cards
from blackjack.errors import InvalidArgumentError, InvalidCardError

__all__ = ["Hand", "score"]


def score(points: Iterable[int]) -> tuple[int, bool]:
    """Best total of cards worth ``points`` (ace = 1), and whether it is soft.

    A total is soft when an ace counts as 11 without busting the hand.
    Each of ``points`` is a card's points, a whole number from 1 to 10.
    """
    try:
        values = list(points)
    except TypeError:
        raise InvalidCardError(f"points must be an iterable of card points, not {points!r}") \
            from None
    for value in values:
        if type(value) is not int or not 1 <= value <= 10:
            raise InvalidCardError(f"points must be card points 1 to 10, not {value!r}")
    return _score(values)


def _score(points: Iterable[int]) -> tuple[int, bool]:
    # score() without the checks, for points read off Card values, which are
    # always right: this runs several times for every card dealt.
    total = 0
    has_ace = False
    for value in points:
        total += value
        if value == 1:
            has_ace = True
    if has_ace and total <= 11:
        return total + 10, True
    return total, False


def _card_score(cards: Iterable[Card]) -> tuple[int, bool]:
    """:func:`score` of :class:`Card` values, for the engine's own hands."""
    return _score([_POINTS[card.rank] for card in cards])  # Card.points, without its call


@dataclass(frozen=True, slots=True)
class Hand:
    """An immutable hand of cards; ``from_split`` marks hands made by splitting.

    A natural blackjack is only a two-card 21 that did not come from a split.
    ``cards`` may also be given as text (``"AS KD"``) or any iterable of
    cards and their wire forms; it is kept as a tuple of :class:`Card`.
    """

    cards: tuple[Card, ...] = ()
    from_split: bool = False

    def __post_init__(self) -> None:
        cards = self.cards
        if type(cards) is not tuple or not all(map(isinstance, cards, _CARDS)):
            object.__setattr__(self, "cards", tuple(parse_cards(cards)))
        flag("from_split", self.from_split, InvalidArgumentError)

    @classmethod
    def of(cls, *cards: Card | str, from_split: bool = False) -> Hand:
        """Build a hand from cards or their wire forms: ``Hand.of("AS", "KD")``."""
        return cls(tuple(parse_cards(cards)), from_split)

    def add(self, card: Card | str) -> Hand:
        """This hand with one more card (or its wire form)."""
        return Hand(self.cards + (_as_card("card", card),), self.from_split)

    @property
    def total(self) -> int:
        """The best total (soft aces counted as 11 where that does not bust)."""
        return _card_score(self.cards)[0]

    @property
    def is_soft(self) -> bool:
        """Whether an ace is counted as 11 in :attr:`total`."""
        return _card_score(self.cards)[1]

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
        total, soft = _card_score(self.cards)
        if total > 21:
            return f"bust ({total})"
        return f"{'soft' if soft else 'hard'} {total}"

    def __str__(self) -> str:
        return " ".join(str(card) for card in self.cards)
