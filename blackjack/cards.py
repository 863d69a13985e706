"""Cards, ranks and suits, with a wire form and a display form.

The wire form is two ASCII characters, rank then suit: ``AS``, ``TD``, ``9H``.
``str(card)`` gives it and :meth:`Card.parse` reads it back.  The display form
uses unicode suit symbols (``A♠``) with an ASCII fallback for terminals that
cannot show them.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from typing import Iterable

from blackjack._checks import flag, text as _text
from blackjack.errors import InvalidArgumentError, InvalidCardError

__all__ = ["Rank", "Suit", "Card", "full_deck", "parse_cards"]


class Rank(enum.IntEnum):
    """A card rank; the integer value is the rank's order, ace low."""

    ACE = 1
    TWO = 2
    THREE = 3
    FOUR = 4
    FIVE = 5
    SIX = 6
    SEVEN = 7
    EIGHT = 8
    NINE = 9
    TEN = 10
    JACK = 11
    QUEEN = 12
    KING = 13

    @classmethod
    def _missing_(cls, value: object) -> Rank:
        raise InvalidCardError(f"not a rank: {value!r} (1 to 13, ace low)")

    @property
    def symbol(self) -> str:
        """The one-character wire symbol: ``A 2 … 9 T J Q K``."""
        return _RANK_SYMBOLS[self]

    @property
    def points(self) -> int:
        """Blackjack points: ace 1 (a hand may count one ace as 11), faces 10."""
        return _POINTS[self]


class Suit(enum.Enum):
    """A card suit; the value is the one-letter wire symbol."""

    SPADES = "S"
    HEARTS = "H"
    DIAMONDS = "D"
    CLUBS = "C"

    @classmethod
    def _missing_(cls, value: object) -> Suit:
        raise InvalidCardError(f"not a suit: {value!r} (S, H, D or C)")

    @property
    def glyph(self) -> str:
        """The unicode suit symbol, e.g. ``♠``."""
        return _SUIT_GLYPHS[self]


_RANK_SYMBOLS = {
    Rank.ACE: "A", Rank.TWO: "2", Rank.THREE: "3", Rank.FOUR: "4",
    Rank.FIVE: "5", Rank.SIX: "6", Rank.SEVEN: "7", Rank.EIGHT: "8",
    Rank.NINE: "9", Rank.TEN: "T", Rank.JACK: "J", Rank.QUEEN: "Q",
    Rank.KING: "K",
}
_RANKS_BY_SYMBOL = {symbol: rank for rank, symbol in _RANK_SYMBOLS.items()}
_POINTS = (0,) + tuple(min(int(rank), 10) for rank in Rank)
"""A rank's points, indexed by the rank (an ``int``): a tuple lookup, no call."""
_SUIT_GLYPHS = {
    Suit.SPADES: "\u2660", Suit.HEARTS: "\u2665",
    Suit.DIAMONDS: "\u2666", Suit.CLUBS: "\u2663",
}


@dataclass(frozen=True, slots=True)
class Card:
    """One playing card.  Compare and hash by rank and suit.

    ``Card(Rank.ACE, Suit.SPADES)``; from text, :meth:`Card.parse`.
    """

    rank: Rank
    suit: Suit

    def __post_init__(self) -> None:
        if type(self.rank) is not Rank:
            raise InvalidCardError(f"rank must be a Rank, not {self.rank!r} "
                                   "(Card.parse reads text such as 'AS')")
        if type(self.suit) is not Suit:
            raise InvalidCardError(f"suit must be a Suit, not {self.suit!r} "
                                   "(Card.parse reads text such as 'AS')")

    @classmethod
    def parse(cls, text: str) -> Card:
        """Read a card's wire form (``"AS"``; ``"10S"`` is accepted for ``"TS"``)."""
        if type(text) is str and cls is Card:
            # The 52 exact wire forms, the engine's own and nearly all a
            # client sends, are looked up: cards are frozen, so one will do.
            card = _CARDS_BY_WIRE.get(text)
            if card is not None:
                return card
        cleaned = _text("text", text, InvalidCardError).strip().upper()
        if cleaned.startswith("10"):
            cleaned = "T" + cleaned[2:]
        if len(cleaned) != 2:
            raise InvalidCardError(
                f"not a card: {text!r} (expected rank then suit, like AS, TD or 9H)")
        rank = _RANKS_BY_SYMBOL.get(cleaned[0])
        if rank is None:
            raise InvalidCardError(
                f"not a card: {text!r} (rank must be one of A23456789TJQK)")
        try:
            suit = Suit(cleaned[1])
        except ValueError:
            raise InvalidCardError(
                f"not a card: {text!r} (suit must be one of S H D C)") from None
        return cls(rank, suit)

    @property
    def points(self) -> int:
        """Blackjack points of the card (ace 1, faces 10)."""
        return _POINTS[self.rank]

    def display(self, unicode: bool = True) -> str:
        """The card for people: ``A♠``, or ``AS`` when ``unicode`` is false."""
        if not flag("unicode", unicode, InvalidArgumentError):
            return str(self)
        rank = "10" if self.rank is Rank.TEN else self.rank.symbol
        return rank + self.suit.glyph

    def __str__(self) -> str:
        # Asked for every card a round deals, shows and settles: the table
        # and the suit's own value attribute, without the enum properties' calls.
        return _RANK_SYMBOLS[self.rank] + self.suit._value_

    def __repr__(self) -> str:
        return f"Card.parse({str(self)!r})"


def full_deck() -> list[Card]:
    """The 52 cards of one deck, in a fixed order."""
    return [Card(rank, suit) for suit in Suit for rank in Rank]


def parse_cards(text: str | Iterable[str | Card]) -> list[Card]:
    """Parse several cards given as ``"AS KD 9H"`` or as an iterable of strings.

    Cards already parsed may stand among the strings and are kept as they are.
    """
    if isinstance(text, str):
        return [Card.parse(word) for word in text.split()]
    try:
        items = list(text)
    except TypeError:
        raise InvalidCardError(
            f"cards must be text like 'AS KD' or an iterable of cards, not {text!r}") from None
    if all(map(isinstance, items, _CARDS)):  # cards already: the engine's own calls
        return items  # type: ignore[return-value]
    return [_as_card("card", item) for item in items]


_CARDS_BY_WIRE = {str(card): card for card in full_deck()}
"""Each card by its exact wire form, for :meth:`Card.parse`."""

_CARDS = itertools.repeat(Card)
"""``Card`` as often as asked: ``all(map(isinstance, cards, _CARDS))`` loops in C."""


def _as_card(name: str, value: object) -> Card:
    """``value`` if it is a card, parsed if it is text; else :class:`InvalidCardError`."""
    if type(value) is Card:
        return value
    if isinstance(value, str):
        return Card.parse(value)
    raise InvalidCardError(f"{name} must be a Card or text such as 'AS', not {value!r}")
