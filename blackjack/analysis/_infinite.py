"""Exact infinite-deck expectations: the engine behind :mod:`blackjack.analysis`.

Cards are drawn with replacement (each rank 1/13, ten-valued cards 4/13), so
the value of a hand depends only on its total, whether it is soft, and which
decisions are still open (double and surrender on two cards, split on pairs).
That makes the total-dependent strategy derived here the optimal strategy
for the infinite deck, and lets every table be filled by one backward pass
over totals: drawing a card only ever raises the point sum.

All values are per unit of the hand's initial bet.  In a game where the
dealer peeks they are conditional on the dealer not holding a blackjack (the
peek has already happened when the player decides).  In the no-hole-card
game they are unconditional, with a dealer blackjack counted as a dealer
outcome that beats every hand the player has built, doubles and splits
included; that is how the European rule enters the strategy.

Late surrender without a peek is taken to be honoured only when the dealer
turns out not to have blackjack (the late-surrender convention), so it is
worth ``-0.5`` after a peek and ``-0.5 - 0.5 * P(blackjack)`` without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from blackjack.rules import DoubleRule, Rules

__all__ = ["CARD_PROBABILITIES", "DEALER_SLOTS", "PlayRules", "UpcardValues",
           "upcard_values", "blackjack_probability", "dealer_distribution",
           "opening_values", "game_value"]

CARD_PROBABILITIES: tuple[float, ...] = (0.0,) + (1 / 13,) * 9 + (4 / 13,)
"""Chance of drawing each point value 1..10 (index 0 unused)."""

_POINTS = range(1, 11)

DEALER_SLOTS = 7
"""Dealer outcome vectors: index 0 bust, 1..5 totals 17..21, 6 blackjack."""
_BUST = 0
_BLACKJACK = 6


@dataclass(frozen=True, slots=True)
class PlayRules:
    """The part of :class:`Rules` that changes expectations (not bets, decks).

    Keying the caches by this rather than by the full rules value means a
    table that only changes its limits reuses every computed table.
    """

    h17: bool
    payout: float
    double: DoubleRule
    das: bool
    max_split_hands: int
    resplit_aces: bool
    hit_split_aces: bool
    surrender: bool
    peek: bool

    @classmethod
    def of(cls, rules: Rules) -> PlayRules:
        """The play-relevant part of ``rules``."""
        return cls(rules.dealer_hits_soft_17, float(rules.blackjack_payout),
                   rules.double, rules.double_after_split, rules.max_split_hands,
                   rules.resplit_aces, rules.hit_split_aces, rules.surrender,
                   rules.dealer_peek)


def _total(points: int, ace: bool) -> tuple[int, bool]:
    """Best total and softness of a point sum that does or does not hold an ace."""
    if ace and points <= 11:
        return points + 10, True
    return points, False


def blackjack_probability(upcard: int) -> float:
    """Chance that the dealer's hole card makes a natural with ``upcard``."""
    if upcard == 1:
        return CARD_PROBABILITIES[10]
    if upcard == 10:
        return CARD_PROBABILITIES[1]
    return 0.0


@lru_cache(maxsize=None)
def _dealer_from(points: int, ace: bool, h17: bool) -> tuple[float, ...]:
    """Final-outcome vector of a dealer hand that is past its first two cards."""
    total, soft = _total(points, ace)
    result = [0.0] * DEALER_SLOTS
    if total > 21:
        result[_BUST] = 1.0
    elif total >= 18 or (total == 17 and not (soft and h17)):
        result[total - 16] = 1.0
    else:
        for card in _POINTS:
            sub = _dealer_from(points + card, ace or card == 1, h17)
            chance = CARD_PROBABILITIES[card]
            for slot in range(DEALER_SLOTS):
                result[slot] += chance * sub[slot]
    return tuple(result)


@lru_cache(maxsize=None)
def dealer_distribution(upcard: int, h17: bool, given_no_blackjack: bool) -> tuple[float, ...]:
    """The dealer's outcome vector from ``upcard`` (see :data:`DEALER_SLOTS`).

    With ``given_no_blackjack`` the hole card is drawn from the cards that do
    not complete a natural, as it is after a peek.
    """
    natural = blackjack_probability(upcard)
    result = [0.0] * DEALER_SLOTS
    for hole in _POINTS:
        chance = CARD_PROBABILITIES[hole]
        if natural and upcard + hole == 11:
            if not given_no_blackjack:
                result[_BLACKJACK] += chance
            continue
        if given_no_blackjack:
            chance /= 1.0 - natural
        sub = _dealer_from(upcard + hole, upcard == 1 or hole == 1, h17)
        for slot in range(DEALER_SLOTS):
            result[slot] += chance * sub[slot]
    return tuple(result)


def _stand_values(dealer: tuple[float, ...]) -> tuple[float, ...]:
    """EV of standing on each total 0..21 (index) against a dealer vector."""
    values = []
    for total in range(22):
        win = dealer[_BUST]
        lose = dealer[_BLACKJACK]
        for slot in range(1, 6):
            final = slot + 16
            if final < total:
                win += dealer[slot]
            elif final > total:
                lose += dealer[slot]
        values.append(win - lose)
    return tuple(values)


@dataclass(frozen=True, slots=True)
class UpcardValues:
    """Every expectation the strategy needs against one dealer upcard.

    Tables indexed ``[ace][points]`` (``ace`` 0 or 1, ``points`` the card
    point sum 2..21) give the value of a hand holding those points, by what
    the player does next.  ``split[card]`` values splitting a pair of
    ``card``, indexed by how many hands the seat holds before the split (1
    for a first split); None where the rules allow no split.
    """

    upcard: int
    dealer: tuple[float, ...]
    """The dealer outcome vector the player's decisions face."""
    blackjack: float
    """Chance of a dealer natural before any peek."""
    stand: tuple[tuple[float, ...], tuple[float, ...]]
    hit: tuple[tuple[float, ...], tuple[float, ...]]
    """Hit once, then play on optimally (stand or hit)."""
    double: tuple[tuple[float, ...], tuple[float, ...]]
    best_drawn: tuple[tuple[float, ...], tuple[float, ...]]
    """Best of stand and hit: the value of a hand of three or more cards."""
    surrender: float
    split: tuple[tuple[float | None, ...] | None, ...]


def _vector(values: dict[tuple[bool, int], float], ace: bool) -> tuple[float, ...]:
    return tuple(values.get((ace, points), -1.0) for points in range(22))


@lru_cache(maxsize=None)
def upcard_values(play: PlayRules, upcard: int) -> UpcardValues:
    """All hand values against ``upcard`` under ``play`` (memoised)."""
    natural = blackjack_probability(upcard)
    dealer = dealer_distribution(upcard, play.h17, given_no_blackjack=play.peek)
    by_total = _stand_values(dealer)
    stand: dict[tuple[bool, int], float] = {}
    hit: dict[tuple[bool, int], float] = {}
    double: dict[tuple[bool, int], float] = {}
    best: dict[tuple[bool, int], float] = {}
    # Drawing only raises the point sum, so one pass from 21 down suffices.
    for points in range(21, 1, -1):
        for ace in (False, True):
            key = (ace, points)
            stand[key] = by_total[_total(points, ace)[0]]
            hit_value = 0.0
            double_value = 0.0
            for card in _POINTS:
                after = points + card
                chance = CARD_PROBABILITIES[card]
                if after > 21:
                    hit_value -= chance
                    double_value -= chance
                    continue
                next_key = (ace or card == 1, after)
                hit_value += chance * best[next_key]
                double_value += chance * stand[next_key]
            hit[key] = hit_value
            double[key] = 2.0 * double_value
            best[key] = max(stand[key], hit_value)
    tables = {}
    for name, values in (("stand", stand), ("hit", hit), ("double", double),
                         ("best_drawn", best)):
        tables[name] = (_vector(values, False), _vector(values, True))
    surrender = -0.5 if play.peek else -0.5 - 0.5 * natural
    split = tuple(_split_values(play, card, tables["stand"], tables["hit"],
                                tables["double"]) if card else None
                  for card in range(11))
    return UpcardValues(upcard, dealer, natural, tables["stand"], tables["hit"],
                        tables["double"], tables["best_drawn"], surrender, split)


def _split_values(play: PlayRules, card: int,
                  stand: tuple[tuple[float, ...], tuple[float, ...]],
                  hit: tuple[tuple[float, ...], tuple[float, ...]],
                  double: tuple[tuple[float, ...], tuple[float, ...]],
                  ) -> tuple[float | None, ...]:
    """Value of splitting a pair of ``card``, by the number of hands already out.

    Hands are independent in an infinite deck, so a split is worth the sum of
    the expected values of the hands it ends with.  Only the number of hands
    couples them (resplits stop at the limit), so the count is tracked
    exactly: ``(hands, waiting)`` where ``waiting`` hands still hold one card.
    Each resplit chance is taken only when it beats playing the pair on.
    """
    limit = play.max_split_hands
    if card == 1 and not play.resplit_aces:
        limit = min(limit, 2)
    one_card_aces = card == 1 and not play.hit_split_aces

    def hand_value(second: int) -> float:
        points = card + second
        ace = card == 1 or second == 1
        index = int(ace)
        if one_card_aces:
            return stand[index][points]
        value = max(stand[index][points], hit[index][points])
        if play.das and play.double.allows(*_total(points, ace)):
            value = max(value, double[index][points])
        return value

    pair_draw = CARD_PROBABILITIES[card]
    unpaired = sum(CARD_PROBABILITIES[second] * hand_value(second)
                   for second in _POINTS if second != card)
    pair_kept = hand_value(card)

    @lru_cache(maxsize=None)
    def outcome(hands: int, waiting: int) -> float:
        if waiting == 0:
            return 0.0
        finish = outcome(hands, waiting - 1)
        value = unpaired + (1.0 - pair_draw) * finish
        keep = pair_kept + finish
        if hands < limit:
            return value + pair_draw * max(outcome(hands + 1, waiting + 1), keep)
        return value + pair_draw * keep

    if limit < 2:
        return (None,) * 9
    # Index = hands already on the table before this split (1 for the first).
    return tuple(outcome(hands + 1, 2) if 1 <= hands < limit else None
                 for hands in range(9))


def opening_values(play: PlayRules, values: UpcardValues, points: int, ace: bool, *,
                   pair_card: int | None = None, split_hand: bool = False,
                   split_aces: bool = False, hands_out: int = 1) -> dict[str, float]:
    """Value of each decision open to a two-card hand, keyed by action word.

    ``pair_card`` names the card of a pair, so splitting is open while
    ``hands_out`` (hands on the table, this one included) is below the
    limit.  ``split_hand`` marks a hand made by splitting: it may not
    surrender, and doubles only where the after-split rule permits.
    ``split_aces`` marks a hand made by splitting aces, which draws no more
    cards unless the rules say so.
    """
    index = int(ace)
    total, soft = _total(points, ace)
    result: dict[str, float] = {"stand": values.stand[index][points]}
    if not (split_aces and not play.hit_split_aces):
        result["hit"] = values.hit[index][points]
        if play.double.allows(total, soft) and (play.das or not split_hand):
            result["double"] = values.double[index][points]
        if play.surrender and not split_hand:
            result["surrender"] = values.surrender
    if pair_card is not None:
        table = values.split[pair_card]
        split = table[hands_out] if table is not None and hands_out < len(table) else None
        if split is not None:
            result["split"] = split
    return result


@lru_cache(maxsize=None)
def game_value(play: PlayRules) -> float:
    """Whole-game player expectation per initial bet, optimal strategy, no insurance."""
    result = 0.0
    for upcard in _POINTS:
        values = upcard_values(play, upcard)
        natural = values.blackjack
        per_upcard = 0.0
        for first in _POINTS:
            for second in _POINTS:
                chance = CARD_PROBABILITIES[first] * CARD_PROBABILITIES[second]
                if first + second == 11 and 1 in (first, second):
                    # A player natural pushes a dealer natural and is paid otherwise.
                    per_upcard += chance * (1.0 - natural) * play.payout
                    continue
                best = max(opening_values(
                    play, values, first + second, 1 in (first, second),
                    pair_card=first if first == second else None).values())
                if play.peek:
                    # The peek settles dealer naturals first: one bet lost.
                    best = -natural + (1.0 - natural) * best
                per_upcard += chance * best
        result += CARD_PROBABILITIES[upcard] * per_upcard
    return result
