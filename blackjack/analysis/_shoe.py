"""Exact expectations off the top of a finite shoe: the engine behind the 1-8 deck analysis.

A hand's value here depends on its exact cards, not just its total: every
card the player holds, the upcard, and (after a split) the other split
cards are out of the shoe, and each card drawn changes the odds of the next.
:class:`Hands` walks every composition a hand can reach, depth first,
keeping the shoe's counts up to date as it adds and returns cards, and
memoises each composition's value.  Standing is valued by the compiled
dealer functions of :mod:`._dealer` and memoised per upcard by the cards
removed (:class:`Upcard`), so the same removal is never valued twice, across
strategies, rule variants and split contexts of one shoe.

Values are per unit bet and, after a peek, unnormalised: ``E[result; the
dealer has no natural]`` with the hole card treated as one more unseen card.
That makes every choice at one composition comparable as it stands (all
share the same denominator), lets a hit be valued as the plain average of
the hands it leads to, and makes the whole game simply ``sum(chance *
(value - P(dealer natural)))``.  :func:`conditional` divides the
denominator back out for display.  Without a peek a dealer natural is one
more way to lose, doubles and splits included.

Two strategies are played.  ``chart=None`` is composition-dependent: every
decision takes the best value for the exact cards.  A :class:`Tables` value
is total-dependent: one decision per total, softness and upcard, as a
basic-strategy chart has it.

Splits use the standard approximation of the reference programs, named as
such in the documentation: each split hand is valued from the shoe less the
upcard and as many pair cards as there are split hands at that point, not
the other cards those hands drew; the number of hands (resplits up to the
rules' limit) is tracked exactly.  Without resplitting, and for a strategy
that looks only at a hand's own cards, this is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from blackjack.analysis._dealer import (
    TOTAL_CLASSES, blackjack_card, graph_size, stand_function, total_class)
from blackjack.analysis._infinite import PlayRules

__all__ = ["ONE_DECK", "HIT", "STAND", "Upcard", "upcard", "Tables", "Hands", "Opening",
           "hand_options", "choose", "split_value", "opening", "initial_value", "upcard_value",
           "game_value",
           "conditional", "deal_chances", "hand_values", "natural_chance", "SUBTREE",
           "BUDGET", "DEPTH", "SPLIT_CODES"]

ONE_DECK = (4, 4, 4, 4, 4, 4, 4, 4, 4, 16)
"""Cards of each point value (aces first, tens last) in one deck."""

_SHIFT = (0, 0, 6, 12, 18, 24, 30, 36, 42, 48, 54)
"""Bit offset of each point value's count in a removal key (index = points)."""
_STEP = tuple(1 << shift for shift in _SHIFT)
"""What dealing one card of each point value adds to a removal key."""


def _key(counts: Sequence[int]) -> int:
    """The removal key of cards given by counts (aces first)."""
    return sum(count << (6 * index) for index, count in enumerate(counts))


class Upcard:
    """Standing values against one upcard of one shoe, memoised by the cards removed.

    ``counts`` is the shoe once the upcard is out.  A removal key identifies
    the other cards out of the shoe (player cards, split cards); with the
    standing total's class it identifies the value.
    """

    __slots__ = ("upcard", "decks", "peek", "h17", "counts", "natural", "_functions", "_cache")

    def __init__(self, decks: int, h17: bool, peek: bool, upcard: int) -> None:
        self.upcard = upcard
        self.decks = decks
        self.peek = peek
        self.h17 = h17
        counts = [count * decks for count in ONE_DECK]
        counts[upcard - 1] -= 1
        self.counts: tuple[int, ...] = tuple(counts)
        self.natural = blackjack_card(upcard)
        """The hole card that would make a dealer natural, 0 if none can."""
        # Compiled on first use: a hint needs only a class or two.
        self._functions: list[Callable[[Sequence[int]], float] | None] = [None] * len(
            TOTAL_CLASSES)
        self._cache: tuple[dict[int, float], ...] = tuple({} for _ in TOTAL_CLASSES)

    def stand(self, key: int, counts: Sequence[int], total: int) -> float:
        """Value of standing on ``total`` with the shoe at ``counts`` (removal ``key``)."""
        index = total_class(total)
        cache = self._cache[index]
        value = cache.get(key)
        if value is None:
            function = self._functions[index]
            if function is None:
                function = self._functions[index] = stand_function(
                    self.upcard, self.h17, self.peek, TOTAL_CLASSES[index])
            value = cache[key] = function(counts)
        return value

    def compile(self) -> None:
        """Compile every standing total's function now rather than on first use."""
        for index, player in enumerate(TOTAL_CLASSES):
            if self._functions[index] is None:
                self._functions[index] = stand_function(self.upcard, self.h17, self.peek, player)

    def cached_stand(self, key: int, index: int) -> float | None:
        """The memoised value for a removal key and total class, if computed."""
        return self._cache[index].get(key)

    @property
    def cached(self) -> int:
        """How many standing values have been computed (for measurements)."""
        return sum(len(cache) for cache in self._cache)


@lru_cache(maxsize=40)
def upcard(decks: int, h17: bool, peek: bool, upcard_points: int) -> Upcard:
    """The shared standing-value memo for an upcard of a shoe (kept for reuse)."""
    return Upcard(decks, h17, peek, upcard_points)


# Chart codes, as lists indexed [upcard][total] for speed: what a total does.
HIT, STAND = "H", "S"


@dataclass(frozen=True, slots=True)
class Tables:
    """A total-dependent strategy as lookup tables, upcard by upcard.

    ``hard[up][total]`` and ``soft[up][total]`` hold a chart code (``H S
    Dh Ds Rh Rs``); ``pairs[up][card]`` holds ``P``, ``Rp`` or ``""``.
    Indexes are upcard points 1..10 and totals 0..21 (card points for pairs).
    """

    hard: tuple[tuple[str, ...], ...]
    soft: tuple[tuple[str, ...], ...]
    pairs: tuple[tuple[str, ...], ...]

    def code(self, up: int, total: int, soft: bool) -> str:
        """The code for a total: soft totals below 12 cannot occur and hit."""
        if soft:
            return self.soft[up][total] if total >= 12 else HIT
        return self.hard[up][max(total, 4)]

    def hits(self, up: int, total: int, soft: bool) -> bool:
        """Whether a hand that may only hit or stand hits this total."""
        return self.code(up, total, soft)[-1].upper() == HIT


class Hands:
    """Values of the hands built from one shoe against one upcard.

    ``removed`` are cards out of the shoe besides the hand itself (the other
    split cards).  The hand being valued lives in the object's state: cards
    are taken from ``counts`` as they are dealt to it and put back after.
    """

    __slots__ = ("up", "play", "chart", "counts", "size", "key", "_memo", "_natural",
                 "_removed", "_removed_key", "_shift", "_base", "_tail", "_tail_below",
                 "_hits")

    def __init__(self, up: Upcard, play: PlayRules, removed: Sequence[int] = (0,) * 10,
                 chart: Tables | None = None, *,
                 dealer_shift: Sequence[float] | None = None) -> None:
        self.up = up
        self.play = play
        self.chart = chart
        self.counts = [count - out for count, out in zip(up.counts, removed)]
        self.size = sum(self.counts)
        self.key = _key(removed)
        self._memo: dict[int, float] = {}
        self._natural = up.natural - 1
        self._removed = tuple(removed)
        self._removed_key = self.key
        self._shift = None if dealer_shift is None else tuple(dealer_shift)
        self._base = tuple(self.counts)
        self._tail: tuple[list[float], list[float]] | None = None
        self._tail_below = 0
        # Whether the chart hits each total, [soft][total], looked up once here.
        self._hits: tuple[tuple[bool, ...], tuple[bool, ...]] | None = None
        if chart is not None:
            self._hits = tuple(tuple(chart.hits(up.upcard, total, bool(soft)) for total in range(22))
                               for soft in (0, 1))  # type: ignore[assignment]

    # -- the hand in hand -------------------------------------------------------

    def take(self, card: int) -> None:
        """Deal ``card`` to the hand from the shoe."""
        self.counts[card - 1] -= 1
        self.size -= 1
        self.key += _STEP[card]

    def give_back(self, card: int) -> None:
        """Return ``card`` from the hand to the shoe."""
        self.counts[card - 1] += 1
        self.size += 1
        self.key -= _STEP[card]

    def hold(self, cards: Sequence[int]) -> None:
        """Make the hand in hand exactly ``cards`` (counts by point value, aces first)."""
        self.counts = [count - held for count, held in zip(self._base, cards)]
        self.size = sum(self.counts)
        self.key = self._removed_key + _key(cards)

    def hold_pair(self, first: int, second: int) -> None:
        """Make the hand in hand the two cards ``first`` and ``second``."""
        cards = [0] * 10
        cards[first - 1] += 1
        cards[second - 1] += 1
        self.hold(cards)

    def chance(self, card: int) -> float:
        """Chance that the next card dealt is ``card``."""
        return self.counts[card - 1] / self.size

    def natural_chance(self) -> float:
        """Chance that the dealer's hole card makes a natural, given the cards out."""
        if self._natural < 0:
            return 0.0
        return self.counts[self._natural] / self.size

    def unit(self) -> float:
        """What one unit of result is worth here: P(no natural) after a peek, else 1."""
        return 1.0 - self.natural_chance() if self.up.peek else 1.0

    # -- values of the hand in hand -------------------------------------------------

    def stand(self, total: int) -> float:
        """Value of standing on ``total``.

        With a ``dealer_shift`` the dealer's side ignores the ``removed``
        cards and the value is shifted by the class's measured effect of
        removing them (see :func:`split_value`); the player's draws still
        come from the shoe without them.
        """
        shift = self._shift
        if shift is None:
            return self.up.stand(self.key, self.counts, total)
        key = self.key - self._removed_key
        index = total_class(total)
        value = self.up.cached_stand(key, index)
        if value is None:
            value = self.up.stand(key, [count + out for count, out in
                                        zip(self.counts, self._removed)], total)
        return value + shift[index]

    def surrender(self) -> float:
        """Value of surrendering: half a bet, or the whole bet to a natural without a peek."""
        if self.up.peek:
            return -0.5 * self.unit()
        natural = self.natural_chance()
        return -0.5 * (1.0 - natural) - natural

    def _busts(self, hard: int) -> float:
        """Sum over the cards that bust ``hard`` of (cards left) * (unit once it is drawn).

        A bust loses one unit, worth P(no natural) with the bust card out.
        This runs for every hit of every composition, hence the plain loops.
        """
        counts = self.counts
        low = 22 - hard
        if low > 10:
            return 0.0
        busting = 0
        for index in range(low - 1, 10):
            busting += counts[index]
        if not self.up.peek or self._natural < 0:
            return float(busting)
        rest = self.size - 1
        natural = counts[self._natural]
        total = busting * (1.0 - natural / rest)
        if self._natural == 9:
            # A busting ten is itself a natural card: one fewer left for the hole.
            total += natural / rest
        return total

    def hit(self, hard: int, ace: bool) -> float:
        """Value of taking one card, then playing on by the strategy."""
        counts = self.counts
        size = self.size
        key = self.key
        memo = self._memo
        value = -self._busts(hard)
        for card in range(1, min(22 - hard, 11)):
            left = counts[card - 1]
            if not left:
                continue
            child = key + _STEP[card]
            found = memo.get(child)
            if found is None:
                counts[card - 1] = left - 1
                self.size = size - 1
                self.key = child
                found = self.play_on(hard + card, ace or card == 1)
                counts[card - 1] = left
                self.size = size
                self.key = key
            value += left * found
        return value / size

    def double(self, hard: int, ace: bool) -> float:
        """Value of doubling: twice the value of standing on one more card."""
        counts = self.counts
        size = self.size
        key = self.key
        value = -self._busts(hard)
        for card in range(1, min(22 - hard, 11)):
            left = counts[card - 1]
            if not left:
                continue
            counts[card - 1] = left - 1
            self.size = size - 1
            self.key = key + _STEP[card]
            after = hard + card
            has_ace = ace or card == 1
            value += left * self.stand(after + 10 if has_ace and after <= 11 else after)
            counts[card - 1] = left
            self.size = size
            self.key = key
        return 2.0 * value / size

    def limit_depth(self, cards: int) -> None:
        """Value exactly only ``cards`` more cards from the hand now held, then approximately.

        Beyond that depth a hand is valued by :meth:`fixed_shoe` of the shoe
        as it is now: its draws are treated as coming, with replacement,
        from the shoe at this point.  This bounds the work for one hand.
        """
        self._tail = self.fixed_shoe()
        self._tail_below = self.size - cards

    def fixed_shoe(self) -> tuple[list[float], list[float]]:
        """Playing-on values by hard points, ``[ace][points]``, drawing from the shoe as it is now.

        The dealer's side is exact for the current shoe; the player's later
        draws are taken with the current odds, as if each card were put back.
        """
        counts, size = self.counts, self.size
        stands = [self.up.stand(self.key, counts, player) for player in TOTAL_CLASSES]
        lose = -self.unit()
        chances = [count / size for count in counts]
        best: tuple[list[float], list[float]] = ([0.0] * 23, [0.0] * 23)
        for hard in range(21, 1, -1):
            for ace in (0, 1):
                soft = bool(ace) and hard <= 11
                total = hard + 10 if soft else hard
                stand = stands[total_class(total)]
                if total == 21:
                    best[ace][hard] = stand
                    continue
                hit = 0.0
                for card in range(1, 11):
                    after = hard + card
                    hit += chances[card - 1] * (
                        lose if after > 21 else best[1 if card == 1 else ace][after])
                if self.chart is not None:
                    best[ace][hard] = hit if self.chart.hits(self.up.upcard, total, soft) else stand
                else:
                    best[ace][hard] = max(stand, hit)
        return best

    def play_on(self, hard: int, ace: bool) -> float:
        """Value of the hand when only hitting and standing remain (memoised)."""
        tail = self._tail
        if tail is not None and self.size < self._tail_below:
            return tail[1 if ace else 0][hard]
        key = self.key
        found = self._memo.get(key)
        if found is not None:
            return found
        soft = ace and hard <= 11
        total = hard + 10 if soft else hard
        if total == 21:
            value = self.stand(21)
        elif self._hits is not None:
            if self._hits[soft][total]:
                value = self.hit(hard, ace)
            else:
                value = self.stand(total)
        elif total <= (16 if soft else 11):
            # Hitting cannot bust and leaves a total no worse against any
            # dealer hand, on average over the shoe: it beats standing.
            value = self.hit(hard, ace)
        else:
            value = max(self.stand(total), self.hit(hard, ace))
        self._memo[key] = value
        return value


@dataclass(frozen=True, slots=True)
class Opening:
    """The first decision on a two-card hand: what each choice is worth."""

    values: dict[str, float]
    """Unnormalised values by action word (stand, hit, double, surrender, split)."""
    unit: float
    """P(no dealer natural) given the cards out, after a peek; else 1."""
    natural: float
    """Chance of a dealer natural given the cards out (before any peek)."""


def hand_options(hands: Hands, first: int, second: int, *, split_hand: bool,
                  split_aces: bool) -> dict[str, float]:
    """Stand, hit, double and surrender values of the two-card hand held in ``hands``."""
    play = hands.play
    hard = first + second
    ace = first == 1 or second == 1
    soft = ace and hard <= 11
    total = hard + 10 if soft else hard
    values = {"stand": hands.stand(total)}
    if split_aces and not play.hit_split_aces:
        return values
    values["hit"] = hands.hit(hard, ace)
    if play.double.allows(total, soft) and (play.das or not split_hand):
        values["double"] = hands.double(hard, ace)
    if play.surrender and not split_hand:
        values["surrender"] = hands.surrender()
    return values


SPLIT_CODES = ("P", "Rp")
"""Pair cells that split; any other non-empty pair cell is a total code for that pair."""


def choose(values: dict[str, float], chart: Tables | None, up: int, total: int, soft: bool,
           pair_code: str = "") -> str:
    """The action a strategy takes among ``values`` (best value, or the chart's play).

    ``pair_code`` is the pair's cell when the hand is a pair: a split code
    splits when splitting is open; a total code replaces the total's cell.
    """
    if chart is None:
        return max(values, key=values.__getitem__)
    order: tuple[str, ...] = ()
    if pair_code in SPLIT_CODES and "split" in values:
        order = ("surrender", "split") if pair_code == "Rp" else ("split",)
    code = pair_code if pair_code and pair_code not in SPLIT_CODES else chart.code(up, total, soft)
    fallback = "hit" if code[-1].upper() == HIT else "stand"
    if code[0] == "D":
        order += ("double",)
    elif code[0] == "R":
        order += ("surrender",)
    for action in (*order, fallback, "stand"):
        if action in values:
            return action
    raise AssertionError("unreachable: standing is always open")  # pragma: no cover


def _limit(play: PlayRules, pair: int) -> int:
    """Most hands a pair of ``pair`` may end in."""
    if pair == 1 and not play.resplit_aces:
        return min(play.max_split_hands, 2)
    return play.max_split_hands


def _pair_shift(up: Upcard, pair: int, extra: int) -> tuple[float, ...]:
    """How ``extra`` more pair cards out of the shoe change standing on each total class,
    measured on a hand holding one pair card."""
    alone = list(up.counts)
    alone[pair - 1] -= 1
    fewer = list(alone)
    fewer[pair - 1] -= extra
    key_alone = 1 << _SHIFT[pair]
    key_fewer = (1 + extra) << _SHIFT[pair]
    return tuple(up.stand(key_fewer, fewer, player) - up.stand(key_alone, alone, player)
                 for player in TOTAL_CLASSES)


def split_value(up: Upcard, play: PlayRules, pair: int, chart: Tables | None,
                hands_before: int = 1, *, depth: int | None = None,
                exact_removal: bool = False) -> float | None:
    """Unnormalised value of splitting a pair of ``pair``, or None where the rules forbid it.

    ``hands_before`` is how many hands the seat holds before this split (1
    for a first split).  See the module docstring for the approximation.
    Each split hand's later draws are valued from the shoe without the
    other pair cards, the dealer's standing values shifted by their measured
    effect (:func:`_pair_shift`); ``exact_removal`` takes them out of the
    dealer's shoe as well, which is slower and, in one deck, moves a split
    by up to a thousandth of a bet.  ``depth`` limits the exact valuation of
    each split hand as :meth:`Hands.limit_depth` does.
    """
    limit = _limit(play, pair)
    if hands_before >= limit:
        return None
    split_aces = pair == 1
    pair_code = chart.pairs[up.upcard][pair] if chart is not None else ""
    per_hands: dict[int, tuple[float, float, float]] = {}

    def hand_values(hands_out: int) -> tuple[float, float, float]:
        """(value of the unpaired second cards, chance of a pair card, value of keeping it)."""
        found = per_hands.get(hands_out)
        if found is not None:
            return found
        removed = [0] * 10
        removed[pair - 1] = hands_out - 1
        shift = None if exact_removal else _pair_shift(up, pair, hands_out - 1)
        hands = Hands(up, play, removed, chart, dealer_shift=shift)
        hands.take(pair)
        if depth is not None:
            hands.limit_depth(depth)
        unpaired = 0.0
        kept = 0.0
        paired = hands.chance(pair) if hands.counts[pair - 1] else 0.0
        for second in range(1, 11):
            left = hands.counts[second - 1]
            if not left:
                continue
            hands.take(second)
            options = hand_options(hands, pair, second, split_hand=True, split_aces=split_aces)
            hard = pair + second
            soft = (pair == 1 or second == 1) and hard <= 11
            value = options[choose(options, chart, up.upcard, hard + 10 if soft else hard, soft,
                                   pair_code if second == pair else "")]
            hands.give_back(second)
            if second == pair:
                kept = value
            else:
                unpaired += left * value
        result = (unpaired / hands.size, paired, kept)
        per_hands[hands_out] = result
        return result

    memo: dict[tuple[int, int], float] = {}

    def outcome(hands_out: int, waiting: int) -> float:
        """Value of the ``waiting`` hands still to get a second card, ``hands_out`` in all."""
        if not waiting:
            return 0.0
        found = memo.get((hands_out, waiting))
        if found is not None:
            return found
        unpaired, paired, kept = hand_values(hands_out)
        finish = outcome(hands_out, waiting - 1)
        keep = kept + finish
        if hands_out < limit:
            resplit = outcome(hands_out + 1, waiting + 1)
            if chart is None:
                keep = max(keep, resplit)
            elif pair_code in SPLIT_CODES:
                keep = resplit
        value = unpaired + (1.0 - paired) * finish + paired * keep
        memo[(hands_out, waiting)] = value
        return value

    return outcome(hands_before + 1, 2)


def opening(up: Upcard, play: PlayRules, first: int, second: int, chart: Tables | None,
            *, hands: Hands | None = None, exact_removal: bool = False) -> Opening:
    """The choices open to an unsplit two-card hand, valued (not a natural)."""
    hands = hands if hands is not None else Hands(up, play, chart=chart)
    hands.take(first)
    hands.take(second)
    values = hand_options(hands, first, second, split_hand=False, split_aces=False)
    unit, natural = hands.unit(), hands.natural_chance()
    hands.give_back(second)
    hands.give_back(first)
    if first == second and play.max_split_hands > 1:
        split = split_value(up, play, first, chart, exact_removal=exact_removal)
        if split is not None:
            values["split"] = split
    return Opening(values, unit, natural)


def deal_chances(counts: Sequence[int]) -> list[tuple[int, int, float]]:
    """Each unordered two-card hand ``(first, second)`` with its chance from ``counts``."""
    size = sum(counts)
    found = []
    for first in range(1, 11):
        for second in range(first, 11):
            a, b = counts[first - 1], counts[second - 1]
            ways = a * (a - 1) if first == second else 2 * a * b
            if ways > 0:
                found.append((first, second, ways / (size * (size - 1))))
    return found


def initial_value(up: Upcard, play: PlayRules, first: int, second: int, chart: Tables | None,
                  *, hands: Hands | None = None, exact_removal: bool = False) -> float:
    """Expected result of a round dealt ``first``, ``second`` against this upcard.

    Per initial bet, before any peek: dealer naturals, player naturals and
    the strategy's play of the hand all counted, insurance declined.
    """
    hands = hands if hands is not None else Hands(up, play, chart=chart)
    if first + second == 11 and 1 in (first, second):
        hands.take(first)
        hands.take(second)
        natural = hands.natural_chance()
        hands.give_back(second)
        hands.give_back(first)
        # A player natural pushes a dealer natural and is paid otherwise.
        return (1.0 - natural) * play.payout
    found = opening(up, play, first, second, chart, hands=hands, exact_removal=exact_removal)
    hard = first + second
    soft = 1 in (first, second) and hard <= 11
    pair_code = chart.pairs[up.upcard][first] if chart is not None and first == second else ""
    best = found.values[choose(found.values, chart, up.upcard, hard + 10 if soft else hard,
                               soft, pair_code)]
    # After a peek the values exclude dealer naturals, which take one bet.
    return best - found.natural if play.peek else best


def upcard_value(up: Upcard, play: PlayRules, chart: Tables | None) -> float:
    """Whole-hand expectation against this upcard, per initial bet, insurance declined."""
    hands = Hands(up, play, chart=chart)
    return sum(chance * initial_value(up, play, first, second, chart, hands=hands)
               for first, second, chance in deal_chances(up.counts))


def game_value(play: PlayRules, decks: int, chart: Tables | None,
               progress: Callable[[int], None] | None = None) -> float:
    """Whole-game expectation per initial bet off the top of a ``decks``-deck shoe."""
    counts = [count * decks for count in ONE_DECK]
    size = sum(counts)
    total = 0.0
    for points in range(1, 11):
        up = upcard(decks, play.h17, play.peek, points)
        total += counts[points - 1] / size * upcard_value(up, play, chart)
        if progress is not None:
            progress(points)
    return total


def conditional(value: float, unit: float) -> float:
    """An unnormalised value as the expectation given no dealer natural (after a peek)."""
    return value / unit


def _subtree_sizes() -> tuple[int, ...]:
    """How many card multisets add up to at most r points, for r = 0..21."""
    ways = [[0] * 22 for _ in range(11)]
    # ways[k][r]: multisets of cards valued <= k summing to exactly r.
    for k in range(11):
        ways[k][0] = 1
    for k in range(1, 11):
        for r in range(1, 22):
            ways[k][r] = ways[k - 1][r] + (ways[k][r - k] if r >= k else 0)
    sizes = []
    running = 0
    for r in range(22):
        running += ways[10][r]
        sizes.append(running)
    return tuple(sizes)


SUBTREE = _subtree_sizes()
"""Compositions a hand can still grow into, by the points it may still draw (0..21)."""

BUDGET = 60_000
"""Dealer-graph nodes one hand's values may evaluate from a cold memo (about 15 ms here).

Past it, hands are valued exactly for :data:`DEPTH` more cards and by the
fixed shoe after that (:meth:`Hands.limit_depth`)."""

DEPTH = 2
"""Cards valued exactly when a hand's full valuation would exceed :data:`BUDGET`."""


@lru_cache(maxsize=64)
def _shared_hands(up: Upcard, play: PlayRules, removed: tuple[int, ...]) -> Hands:
    """The :class:`Hands` of one shoe, upcard and set of cards out, kept between calls.

    Its memo holds the value of every composition it has played on, and that
    value depends on nothing else: a hand met later (the three-card hand
    after a hit, the same two cards at another seat) is then a few lookups
    instead of a new search.  :meth:`Hands.hold` sets the hand in hand anew
    for each call.
    """
    return Hands(up, play, removed)


@lru_cache(maxsize=256)
def _split_for_hand(up: Upcard, play: PlayRules, pair: int, hands_before: int,
                    depth: int | None) -> float | None:
    """:func:`split_value` for a hand's decision, kept: a pure function of its
    arguments, and the dearest part of valuing a pair (tens of milliseconds)."""
    return split_value(up, play, pair, None, hands_before, depth=depth)


def hand_values(play: PlayRules, decks: int, cards: Sequence[int], upcard_points: int, *,
                from_split: bool = False, splits_done: int = 0
                ) -> tuple[dict[str, float], float, bool]:
    """The choices open to a hand, valued for its exact cards: ``(values, unit, approximated)``.

    ``cards`` are point values (ace 1); a hand from a split has its pair
    card first, and ``splits_done`` more of that card are out in the seat's
    other hands.  Values are unnormalised (divide by ``unit`` for the value
    given no dealer natural).  ``approximated`` says whether some value used
    the bounded valuation (see :data:`BUDGET`).
    """
    up = upcard(decks, play.h17, play.peek, upcard_points)
    removed = [0] * 10
    if from_split:
        removed[cards[0] - 1] += splits_done
    out = [0] * 10
    for card in cards:
        out[card - 1] += 1
    if any(removed[index] + out[index] > up.counts[index] for index in range(10)):
        raise ValueError(f"{decks} deck(s) hold no such cards with a {upcard_points} up")
    hard = sum(cards)
    ace = 1 in cards
    soft = ace and hard <= 11
    total = hard + 10 if soft else hard
    nodes = graph_size(upcard_points, play.h17)
    approximated = SUBTREE[21 - hard] * nodes > BUDGET
    if approximated:
        # The bounded valuation's values are its own: a fresh memo.
        hands = Hands(up, play, removed)
        hands.hold(out)
        hands.limit_depth(DEPTH)
    else:
        hands = _shared_hands(up, play, tuple(removed))
        hands.hold(out)
    unit = hands.unit()
    if len(cards) > 2:
        return {"stand": hands.stand(total), "hit": hands.hit(hard, ace)}, unit, approximated
    values = hand_options(hands, cards[0], cards[1], split_hand=from_split,
                          split_aces=from_split and cards[0] == 1)
    if cards[0] == cards[1] and play.max_split_hands > 1:
        depth = None
        if SUBTREE[21 - cards[0]] * nodes > BUDGET:
            depth = DEPTH
            approximated = True
        split = _split_for_hand(up, play, cards[0], splits_done + 1, depth)
        if split is not None:
            values["split"] = split
    return values, unit, approximated


def natural_chance(decks: int, upcard_points: int, cards: Sequence[int]) -> float:
    """Chance of a dealer natural under ``upcard_points`` with ``cards`` (points) out."""
    natural = blackjack_card(upcard_points)
    if not natural:
        return 0.0
    counts = [count * decks for count in ONE_DECK]
    counts[upcard_points - 1] -= 1
    for card in cards:
        counts[card - 1] -= 1
    return counts[natural - 1] / sum(counts)
