"""The dealing shoe: 1-8 shuffled decks, a cut card, and a discard tray.

Shuffling uses an injected random source.  The default is the operating
system's CSPRNG (:class:`secrets.SystemRandom`), because in blackjack nearly
every card is shown, so a predictable generator would give the shoe away.
A ``seed`` makes a reproducible shoe (a seeded :class:`random.Random`) for
tests, replays and simulation; never use one at a real table.

Every card is always in exactly one of three places: the shoe, the discard
tray, or out on the table (dealt and not yet discarded).
"""

from __future__ import annotations

import random
import secrets
from typing import Iterable, Protocol

from blackjack._checks import whole_number
from blackjack.cards import Card, full_deck, parse_cards
from blackjack.errors import InvalidArgumentError, ShoeExhaustedError
from blackjack.rules import _check_decks, _check_penetration

__all__ = ["RandomSource", "Shoe"]


class RandomSource(Protocol):
    """What a shoe needs from a random generator."""

    def shuffle(self, x: list[Card]) -> None: ...


class Shoe:
    """A shuffled multi-deck shoe with a cut card.

    ``decks`` (1-8) and ``penetration`` (0.1-0.95) are checked as
    :class:`~blackjack.rules.Rules` checks them, raising
    :class:`~blackjack.errors.RulesError`; ``rng`` is anything with a
    ``shuffle(list)`` method and ``seed`` a whole number, at most one of the two.

    :meth:`draw` deals the next card.  When the cut card has come out,
    :attr:`needs_shuffle` turns true and the table calls :meth:`shuffle`
    between rounds; the round in progress is finished from the same shoe.
    Should a round ever empty the shoe itself, the discards are shuffled
    back in so the round can finish, as a dealer would.
    """

    def __init__(self, decks: int = 6, penetration: float = 0.75, *,
                 rng: RandomSource | None = None, seed: int | None = None) -> None:
        self.decks = _check_decks(decks)
        self.penetration = _check_penetration(penetration)
        if rng is not None and not callable(getattr(rng, "shuffle", None)):
            raise InvalidArgumentError(
                f"rng must have a shuffle(list) method, like random.Random, not {rng!r}")
        if seed is not None:
            seed = whole_number("seed", seed, InvalidArgumentError)
            if rng is not None:
                raise InvalidArgumentError("give either rng or seed, not both")
        self._rng: RandomSource = (
            rng if rng is not None
            else random.Random(seed) if seed is not None
            else secrets.SystemRandom())
        self._cards: list[Card] = []
        self._discards: list[Card] = full_deck() * self.decks
        self._cut = 0
        self.shuffles = 0
        self.shuffle()

    @property
    def size(self) -> int:
        """How many cards the shoe holds in all (52 per deck)."""
        return 52 * self.decks

    @property
    def remaining(self) -> int:
        """Cards still to be dealt before a reshuffle."""
        return len(self._cards)

    @property
    def discarded(self) -> int:
        """Cards in the discard tray."""
        return len(self._discards)

    @property
    def needs_shuffle(self) -> bool:
        """Whether the cut card has come out."""
        return self.size - len(self._cards) >= self._cut

    def shuffle(self) -> None:
        """Gather the discards, shuffle the whole shoe and place the cut card.

        Cards still out on the table stay there; they come back through
        :meth:`discard` when their round ends.
        """
        self._cards.extend(self._discards)
        self._discards.clear()
        self._rng.shuffle(self._cards)
        self._cut = int(self.size * self.penetration)
        self.shuffles += 1

    def draw(self) -> Card:
        """Deal the next card."""
        if not self._cards:
            if not self._discards:
                raise ShoeExhaustedError("every card is out on the table")
            self._cards = self._discards
            self._discards = []
            self._rng.shuffle(self._cards)
        return self._cards.pop()

    def discard(self, cards: Iterable[Card | str]) -> None:
        """Put cards from a finished round into the discard tray."""
        self._discards.extend(parse_cards(cards))

    def __repr__(self) -> str:
        return (f"<Shoe decks={self.decks} remaining={self.remaining} "
                f"discarded={self.discarded}>")
