"""Exact expected values of blackjack decisions, off the top of a real shoe of 1 to 8 decks.

The analysis deals from the table's shoe (``rules.decks``): every card seen
(the hand, the upcard, the other split cards) is out of it, and each card
drawn changes the odds of the next.  Values are sums over every way the
cards can fall, not simulations.  It gives

* :func:`dealer_probabilities`: how the dealer finishes from each upcard;
* :func:`action_values`: what each decision open to a hand is worth, for
  its exact cards (the values :func:`blackjack.strategy.hint` shows);
* :func:`basic_strategy`: the total-dependent chart the rules and deck count
  deserve (:func:`blackjack.strategy.chart` renders it);
* :func:`house_edge`: the whole-game expectation, for basic strategy (one
  play per total) or composition-dependent strategy (the best play for the
  exact cards);
* :func:`analyse`: all of it for one rules value, with timings.

Every function takes ``infinite=True`` for the infinite deck (cards drawn
with replacement), where total- and composition-dependent play coincide.

Values are per unit of the hand's initial bet.  When the dealer peeks they
are conditional on the dealer not having blackjack, because the player
decides after the peek; without a peek (the European no-hole-card game) they
are unconditional, and a dealer blackjack takes doubles and splits too.
Insurance is never taken.

Splits use the standard approximation of the reference programs (Wizard of
Odds appendix 9: "for splitting values the program only considered how many
hands the player had already split, but not the other cards drawn in those
hands"); the number of hands is tracked exactly to the rules' limit.  It is
exact when resplitting is not allowed.  ``docs/analysis.md`` lists the
published figures this reproduces and how long each deck count takes.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from blackjack.actions import Action
from blackjack.analysis import _basic, _infinite, _shoe
from blackjack.analysis._dealer import outcome_chances
from blackjack.cards import Card
from blackjack.errors import IllegalActionError, InvalidCardError
from blackjack.hand import Hand
from blackjack.rules import Rules

__all__ = ["DealerOutcome", "Strategy", "Cells", "Analysis", "dealer_probabilities",
           "action_values", "basic_strategy", "house_edge", "analyse", "model", "prepare"]


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


class Strategy(enum.Enum):
    """How the player plays the hands whose value is summed into a house edge."""

    BASIC = "basic"
    """Total-dependent: one play per total, softness, pair and upcard (a chart)."""
    COMPOSITION = "composition"
    """Composition-dependent: the best play for the exact cards in the hand."""


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


def model(rules: Rules, *, infinite: bool = False) -> str:
    """The model behind a figure, in words: e.g. ``6-deck shoe, dealt off the top``."""
    if infinite:
        return "infinite deck (cards drawn with replacement)"
    decks = f"{rules.decks}-deck shoe" if rules.decks > 1 else "single deck"
    return f"{decks}, exact off the top (every card seen removed)"


def dealer_probabilities(rules: Rules, upcard_points: int, *, given_no_blackjack: bool = False,
                         infinite: bool = False) -> dict[DealerOutcome, float]:
    """Chance of each way the dealer finishes from an upcard worth ``upcard_points``.

    The shoe is the table's, less the upcard.  Before the peek (the default)
    a ten or ace upcard gives a :attr:`DealerOutcome.BLACKJACK` chance;
    ``given_no_blackjack`` gives the chances once a natural is ruled out.
    The values sum to 1.
    """
    _check_upcard(upcard_points)
    if infinite:
        vector = _infinite.dealer_distribution(
            upcard_points, rules.dealer_hits_soft_17, given_no_blackjack)
        return dict(zip(_OUTCOME_SLOTS, vector))
    counts = [count * rules.decks for count in _shoe.ONE_DECK]
    counts[upcard_points - 1] -= 1
    chances = outcome_chances(counts, upcard_points, rules.dealer_hits_soft_17)
    result = {outcome: chances.get(int(outcome), 0.0) for outcome in _OUTCOME_SLOTS}
    if given_no_blackjack:
        natural = result[DealerOutcome.BLACKJACK]
        result = {outcome: 0.0 if outcome is DealerOutcome.BLACKJACK else chance / (1 - natural)
                  for outcome, chance in result.items()}
    return result


def _hand_points(hand: Hand) -> list[int]:
    cards = hand.cards
    if len(cards) < 2:
        raise IllegalActionError(f"a hand needs two cards to act on, not {len(cards)}")
    if hand.is_bust:
        raise IllegalActionError(f"no decision on a bust hand ({hand})")
    return [card.points for card in cards]


def action_values(rules: Rules, hand: Hand, upcard: Card, *, splits_done: int = 0,
                  infinite: bool = False) -> dict[Action, float]:
    """Expected value of each decision open to ``hand`` against ``upcard``.

    Values are for the hand's exact cards, from the table's shoe less the
    hand, the upcard and (for a hand made by splitting) the ``splits_done``
    other split cards; per unit of the hand's bet, conditional on no dealer
    blackjack where the dealer peeks.  Doubling and surrender are offered
    on two cards as the rules allow (surrender not after a split), splitting
    on a pair while ``splits_done + 1`` hands are below the limit.  A
    natural has only :attr:`Action.STAND`, worth its payout.

    Stand, double and surrender are exact.  Hit and split are exact too
    unless valuing every card the hand could still draw would take more
    than a few tens of milliseconds (low hands against a small upcard);
    then the first cards are exact and the rest drawn from the shoe as it
    stands (see ``docs/analysis.md``).
    """
    points = _hand_points(hand)
    play = _infinite.PlayRules.of(rules)
    if infinite:
        return _infinite_action_values(play, hand, upcard, splits_done)
    up = _check_upcard(upcard.points)
    if hand.is_blackjack:
        # Paid unless the dealer has one too; after a peek that is ruled out.
        natural = 0.0 if play.peek else _shoe.natural_chance(rules.decks, up, points)
        return {Action.STAND: play.payout * (1.0 - natural)}
    values, unit, _ = _shoe.hand_values(play, rules.decks, points, up,
                                        from_split=hand.from_split, splits_done=splits_done)
    return {_ACTIONS[word]: value / unit for word, value in values.items()}


def prepare(rules: Rules) -> None:
    """Compile the dealer's functions the rules' hands are valued with, ahead of use.

    The first valuation against an upcard otherwise compiles them on the
    spot (a few milliseconds per standing total, tens for a small upcard);
    calling this when a table opens keeps every later call quick.
    """
    for points in range(1, 11):
        _shoe.upcard(rules.decks, rules.dealer_hits_soft_17, rules.dealer_peek, points).compile()


def _infinite_action_values(play: _infinite.PlayRules, hand: Hand, upcard: Card,
                            splits_done: int) -> dict[Action, float]:
    values = _infinite.upcard_values(play, _check_upcard(upcard.points))
    if hand.is_blackjack:
        paid = play.payout if play.peek else play.payout * (1.0 - values.blackjack)
        return {Action.STAND: paid}
    cards = hand.cards
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


@dataclass(frozen=True, slots=True)
class Cells:
    """A basic-strategy chart as cells: ``hard[total][up]``, ``soft[total][up]``, ``pairs[card][up]``.

    Totals index the tables directly (hard 4..21, soft 12..21, pair card
    points 1..10); upcards are points 1..10.  Codes: ``H S Dh Ds Rh Rs`` for
    totals; for pairs ``P`` split, ``Rp`` surrender else split, ``""`` play
    the total, or a total code where the pair plays differently from its
    total (single deck: stand on 7,7 against a ten).
    """

    hard: tuple[tuple[str, ...], ...]
    soft: tuple[tuple[str, ...], ...]
    pairs: tuple[tuple[str, ...], ...]


def _cells(tables: _shoe.Tables) -> Cells:
    def flip(table: tuple[tuple[str, ...], ...], width: int) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(table[up][row] if up else "" for up in range(11))
                     for row in range(width))
    return Cells(flip(tables.hard, 22), flip(tables.soft, 22), flip(tables.pairs, 11))


def basic_strategy(rules: Rules, *, infinite: bool = False) -> Cells:
    """The total-dependent basic strategy for ``rules`` and its deck count.

    Each cell is the play that maximises the game's expectation given the
    others, derived from the exact values of every hand that reaches it
    (``blackjack.analysis._basic`` explains how).  Memoised per play rules
    and deck count; a first derivation takes a second or two.
    """
    play = _infinite.PlayRules.of(rules)
    if infinite:
        return _cells(_basic.infinite_tables(play))
    return _cells(_basic.derive(play, rules.decks))


def house_edge(rules: Rules, *, strategy: Strategy = Strategy.BASIC,
               infinite: bool = False) -> float:
    """The whole-game player expectation per initial bet, as a fraction.

    Negative means the player loses: ``-0.005`` is a 0.5% house edge.  It
    counts naturals on both sides, deals every round off the top of a full
    shoe, plays ``strategy``, and never takes insurance.
    """
    play = _infinite.PlayRules.of(rules)
    if infinite:
        return _infinite.game_value(play)
    chart = _basic.derive(play, rules.decks) if strategy is Strategy.BASIC else None
    return _shoe.game_value(play, rules.decks, chart)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What :func:`analyse` found for one rules value, and how long it took."""

    rules: Rules
    model: str
    basic: float
    """Player expectation of basic (total-dependent) strategy."""
    composition: float
    """Player expectation of composition-dependent strategy."""
    infinite: float
    """Player expectation in an infinite deck, for comparison."""
    chart: Cells
    seconds_basic: float
    """Time to derive the chart and value it (the first analysis of a shoe
    also builds the dealer's tables)."""
    seconds_composition: float


def analyse(rules: Rules) -> Analysis:
    """House edges of both strategies and the basic-strategy chart, with timings."""
    play = _infinite.PlayRules.of(rules)
    started = time.perf_counter()
    tables = _basic.derive(play, rules.decks)
    basic = _shoe.game_value(play, rules.decks, tables)
    middle = time.perf_counter()
    composition = _shoe.game_value(play, rules.decks, None)
    finished = time.perf_counter()
    return Analysis(rules, model(rules), basic, composition, _infinite.game_value(play),
                    _cells(tables), middle - started, finished - middle)
