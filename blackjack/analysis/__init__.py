"""Exact expected values of blackjack decisions, for any rules value.

The analysis deals from an infinite deck (cards drawn with replacement), where
it is exact: each value below is a sum over every way the cards can fall, not
a simulation.  It gives

* :func:`dealer_probabilities`: how the dealer finishes from each upcard;
* :func:`action_values`: what each decision open to a hand is worth;
* :func:`opening_values`: the same for a two-card total, as charts need;
* :func:`house_edge`: the whole-game player expectation of optimal play.

Values are per unit of the hand's initial bet.  When the dealer peeks they
are conditional on the dealer not having blackjack, because the player
decides after the peek; without a peek (the European no-hole-card game) they
are unconditional, and a dealer blackjack takes doubles and splits too.

The optimal strategy in an infinite deck depends only on the hand's total,
softness and open options, so these values define the total-dependent basic
strategy that :mod:`blackjack.strategy` turns into charts.  Splits are exact
to the rules' resplit limit: hands are independent with replacement, and the
shared limit on hands is tracked as a count.  The one approximation is in
:func:`action_values` for a resplit in mid-round (``splits_done > 0``): it
values the new hands as if no other split hand still waited for its card.

A full analysis of one rules set takes a few hundredths of a second; results
are memoised per play-relevant rules (bet limits and deck count do not
matter).  ``python -m blackjack.analysis`` prints the house edge and charts.
"""

from __future__ import annotations

import enum

from blackjack.actions import Action
from blackjack.analysis import _infinite
from blackjack.cards import Card
from blackjack.errors import IllegalActionError, InvalidCardError
from blackjack.hand import Hand
from blackjack.rules import Rules

__all__ = ["DealerOutcome", "dealer_probabilities", "action_values",
           "opening_values", "house_edge"]


class DealerOutcome(enum.IntEnum):
    """How the dealer's hand ends; equal to the final total where there is one."""

    BUST = 0
    """Over 21."""
    SEVENTEEN = 17
    """Stands on 17."""
    EIGHTEEN = 18
    """Stands on 18."""
    NINETEEN = 19
    """Stands on 19."""
    TWENTY = 20
    """Stands on 20."""
    TWENTY_ONE = 21
    """Stands on a 21 of three or more cards."""
    BLACKJACK = 22
    """A two-card 21: a natural."""


_OUTCOME_SLOTS = (DealerOutcome.BUST, DealerOutcome.SEVENTEEN, DealerOutcome.EIGHTEEN,
                  DealerOutcome.NINETEEN, DealerOutcome.TWENTY,
                  DealerOutcome.TWENTY_ONE, DealerOutcome.BLACKJACK)
_ACTIONS = {"stand": Action.STAND, "hit": Action.HIT, "double": Action.DOUBLE,
            "split": Action.SPLIT, "surrender": Action.SURRENDER}


def _check_upcard(upcard_points: int) -> int:
    if not isinstance(upcard_points, int) or not 1 <= upcard_points <= 10:
        raise InvalidCardError(
            f"dealer upcard points must be 1 (ace) to 10, not {upcard_points!r}")
    return upcard_points


def dealer_probabilities(rules: Rules, upcard_points: int, *,
                         given_no_blackjack: bool = False) -> dict[DealerOutcome, float]:
    """Chance of each way the dealer finishes from an upcard worth ``upcard_points``.

    Before the peek (the default) a ten or ace upcard gives a
    :attr:`DealerOutcome.BLACKJACK` chance; ``given_no_blackjack`` gives the
    chances once a natural is ruled out, which is what a player decides
    against after the peek.  The values sum to 1.
    """
    vector = _infinite.dealer_distribution(
        _check_upcard(upcard_points), rules.dealer_hits_soft_17, given_no_blackjack)
    return dict(zip(_OUTCOME_SLOTS, vector))


def opening_values(rules: Rules, total: int, soft: bool, upcard_points: int, *,
                   pair: bool = False) -> dict[Action, float]:
    """Value of each decision open to a two-card ``total`` before any split.

    With ``pair`` the hand is a pair (``total`` 4..20 hard, or soft 12 for
    aces) and splitting is offered where the rules allow it.
    """
    _check_upcard(upcard_points)
    if not (12 <= total <= 21 if soft else 4 <= total <= 20):
        raise IllegalActionError(f"no two-card {'soft' if soft else 'hard'} {total}")
    points = total - 10 if soft else total
    pair_card = None
    if pair:
        pair_card = 1 if soft else total // 2
        if (soft and total != 12) or (not soft and (total % 2 or not 2 <= pair_card <= 10)):
            raise IllegalActionError(f"{'soft' if soft else 'hard'} {total} is not a pair")
    play = _infinite.PlayRules.of(rules)
    values = _infinite.upcard_values(play, upcard_points)
    found = _infinite.opening_values(play, values, points, soft or pair_card == 1,
                                     pair_card=pair_card)
    return {_ACTIONS[word]: value for word, value in found.items()}


def action_values(rules: Rules, hand: Hand, upcard: Card, *,
                  splits_done: int = 0) -> dict[Action, float]:
    """Expected value of each decision open to ``hand`` against ``upcard``.

    Values are per unit of the hand's bet, conditional on no dealer
    blackjack in a game where the dealer peeks.  Doubling and surrender are
    offered on two cards as the rules allow (surrender not after a split),
    splitting on a pair while ``splits_done + 1`` hands are below the
    limit.  A natural has only :attr:`Action.STAND`, worth its payout.
    """
    cards = hand.cards
    if len(cards) < 2:
        raise IllegalActionError(f"a hand needs two cards to act on, not {len(cards)}")
    if hand.is_bust:
        raise IllegalActionError(f"no decision on a bust hand ({hand})")
    play = _infinite.PlayRules.of(rules)
    values = _infinite.upcard_values(play, upcard.points)
    if hand.is_blackjack:
        paid = play.payout if play.peek else play.payout * (1.0 - values.blackjack)
        return {Action.STAND: paid}
    points = sum(card.points for card in cards)
    ace = any(card.points == 1 for card in cards)
    if len(cards) > 2:
        index = int(ace)
        return {Action.STAND: values.stand[index][points],
                Action.HIT: values.hit[index][points]}
    found = _infinite.opening_values(
        play, values, points, ace,
        pair_card=cards[0].points if hand.is_pair else None,
        split_hand=hand.from_split,
        split_aces=hand.from_split and cards[0].points == 1,
        hands_out=splits_done + 1)
    return {_ACTIONS[word]: value for word, value in found.items()}


def house_edge(rules: Rules) -> float:
    """The whole-game player expectation per initial bet, as a fraction.

    Negative means the player loses: ``-0.005`` is a 0.5% house edge.  It
    counts naturals on both sides, plays every hand by the optimal
    infinite-deck strategy for ``rules``, and never takes insurance.
    """
    return _infinite.game_value(_infinite.PlayRules.of(rules))
