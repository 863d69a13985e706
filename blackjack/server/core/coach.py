"""The best play for a decision at the table, and what each choice is worth.

One place answers "what should this seat do now, and what does each legal
choice return?": ``hint`` asks it before a decision, the trainer and the
player's statistics after one, so all three say the same.  A playing
decision is the engine's :func:`blackjack.strategy.hint` (:func:`_engine`,
the one call to change should the engine's answer change): the best play for
the exact cards in the hand, valued by the exact analyser for the table's
shoe.  That is basic strategy for the table's shoe; it differs from the
printed chart only where the cards in the hand make the difference.

Values are expected returns per chip of the hand's bet, conditional on no
dealer blackjack where the dealer peeks (the player decides after the peek).
For an insurance decision they are what the side bet (or even money) adds:
declining is worth 0, insurance ``half the bet x (3p - 1)`` per chip bet,
and for a natural even money is worth 1 against ``payout x (1 - p)`` for
declining, with ``p`` the chance of a dealer blackjack under the ace.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from collections.abc import Container

from blackjack import analysis, strategy
from blackjack.actions import Action
from blackjack.analysis import DealerOutcome, dealer_probabilities
from blackjack.cards import Card
from blackjack.hand import Hand
from blackjack.round import Phase, Round
from blackjack.rules import Rules
from blackjack.strategy import advise

__all__ = ["MODEL", "Advice", "advice"]

MODEL = "exact, for each table's shoe"
"""How the values behind a player's statistics are computed, as players are told."""


def _engine(rules: Rules, hand: Hand, upcard: Card, legal: Container[Action],
            splits_done: int) -> strategy.Hint:
    """The engine's best play and values for a playing decision: the one call to swap."""
    return strategy.hint(rules, hand, upcard, legal, splits_done=splits_done)


@dataclass(frozen=True)
class Advice:
    """Basic strategy's play for one decision, and the value of each legal choice."""

    best: Action
    """The best play (basic strategy for the table's shoe and the exact cards)."""
    values: dict[Action, float]
    """Expected return per chip of the hand's bet, for each legal choice."""
    model: str = MODEL

    def cost(self, action: Action) -> float:
        """What choosing ``action`` instead of :attr:`best` gives up, per chip bet.

        Zero for the best play itself, and where the values do not cover the
        choice (a decision no value was found for).
        """
        if action is self.best or action not in self.values or self.best not in self.values:
            return 0.0
        return self.values[self.best] - self.values[action]

    def rounded(self) -> dict[str, float]:
        """:attr:`values` by action name, to four places (for events)."""
        return {action.value: round(value, 4) for action, value in self.values.items()}


def advice(rules: Rules, rnd: Round, seat: int) -> Advice | None:
    """The advice for the decision ``seat`` faces in ``rnd`` now, or ``None`` if none."""
    upcard = rnd.dealer_upcard
    if upcard is None or rnd.phase not in (Phase.INSURANCE, Phase.PLAYING):
        return None
    legal = rnd.legal_actions(seat)
    if not legal:
        return None
    if rnd.phase is Phase.INSURANCE:
        hand = rnd.hands(seat)[0]
        return Advice(advise(rules, hand, upcard, legal),
                      _insurance_values(rules, hand, rnd.bets[seat], legal),
                      analysis.model(rules))
    turn = rnd.turn
    if turn is None or turn.seat != seat:
        return None
    hands = rnd.hands(seat)
    hand = hands[turn.hand]
    # Both answers depend on the cards' points, not their suits: a table asks
    # the same few hundred questions over and over, so they are kept.
    key = (rules, tuple(sorted(card.points for card in hand.cards)), hand.from_split,
           upcard.points, len(hands) - 1, legal)
    found = _ASKED.get(key)
    if found is None:
        engine = _engine(rules, hand, upcard, legal, len(hands) - 1)
        found = Advice(engine.action, dict(engine.values), engine.model)
        if len(_ASKED) >= _MOST_ASKED:
            _ASKED.clear()
        _ASKED[key] = found
    return found


_ASKED: dict[tuple[object, ...], Advice] = {}
"""Advice already worked out, by rules, card points, split, upcard and legal actions."""
_MOST_ASKED = 50_000
"""Kept answers before the cache starts again (a few MB at most)."""


@lru_cache(maxsize=64)
def _blackjack_under_ace(rules: Rules) -> float:
    """The chance of a dealer blackjack under an ace, off the table's full shoe.

    Kept: the exact sum takes tens of milliseconds, and a table asks it at
    every insurance offer with the same rules."""
    return dealer_probabilities(rules, 1)[DealerOutcome.BLACKJACK]


def _insurance_values(rules: Rules, hand: Hand, bet: int,
                      legal: frozenset[Action]) -> dict[Action, float]:
    blackjack = _blackjack_under_ace(rules)
    if hand.is_blackjack:
        found = {Action.EVEN_MONEY: 1.0,
                 Action.NO_INSURANCE: float(rules.blackjack_payout) * (1.0 - blackjack)}
    else:
        found = {Action.NO_INSURANCE: 0.0,
                 Action.INSURANCE: (bet // 2) / bet * (3.0 * blackjack - 1.0)}
    return {action: value for action, value in found.items() if action in legal}
