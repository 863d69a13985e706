"""Total-dependent basic strategy for a finite shoe: deriving the chart a table deserves.

A chart has one play per total, softness and upcard (and one per pair),
while the value of each play depends on the exact cards.  The best chart is
the one whose cells each maximise the game's expectation given the others:
for a cell, that is the probability-weighted sum, over every hand that
reaches it, of what the play is worth.  So, upcard by upcard (a cell only
affects hands against its own upcard):

1. start from the infinite-deck chart;
2. value every hand under the current chart, and weigh each composition by
   the chance of reaching it as a hand still to decide (dealt, then hit
   while the chart says hit);
3. set each hit/stand cell by the sign of ``sum(weight * (hit - stand))``,
   each two-card cell by the double or surrender sums, each pair by its
   split value;
4. repeat until no cell changes (two or three rounds).

Changing one cell changes the game by exactly its weighted sum, so the
chart that stops is one no single cell change improves.  Weights count
unsplit hands; split hands follow the chart but do not vote on it, as in
the published charts' derivations.  Cells no hand reaches keep the
infinite-deck play, and cells whose play no shoe changes (hit hard 11 or
less and soft 16 or less, stand on hard 18 and soft 20 or more) are not
re-derived.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from blackjack.analysis import _infinite
from blackjack.analysis._infinite import PlayRules
from blackjack.analysis._shoe import (
    SPLIT_CODES, STAND, HIT, Hands, Tables, Upcard, choose, deal_chances, hand_options,
    opening, upcard)

__all__ = ["derive", "derive_column", "infinite_tables", "with_column", "MAX_ROUNDS"]

MAX_ROUNDS = 8
"""Rounds of re-deriving a column before settling (it settles in two or three)."""

Column = tuple[dict[int, str], dict[int, str], dict[int, str]]
"""One upcard's cells: hard codes by total, soft codes by total, pair codes by card."""


def _contested(total: int, soft: bool) -> bool:
    """Whether hitting or standing this total can depend on the shoe."""
    return 17 <= total <= 19 if soft else 12 <= total <= 17


def _column(tables: Tables, up: int) -> Column:
    return ({total: tables.hard[up][total] for total in range(4, 22)},
            {total: tables.soft[up][total] for total in range(12, 22)},
            {card: tables.pairs[up][card] for card in range(1, 11)})


def with_column(tables: Tables, up: int, column: Column) -> Tables:
    """``tables`` with upcard ``up``'s cells replaced."""
    hard, soft, pairs = ([list(row) for row in table]
                         for table in (tables.hard, tables.soft, tables.pairs))
    for total, code in column[0].items():
        hard[up][total] = code
    for total, code in column[1].items():
        soft[up][total] = code
    for card, code in column[2].items():
        pairs[up][card] = code
    return Tables(tuple(map(tuple, hard)), tuple(map(tuple, soft)), tuple(map(tuple, pairs)))


def _first_action(tables: Tables, play: PlayRules, up: int, first: int, second: int) -> str:
    """What the chart does first with an unsplit two-card hand (no values needed)."""
    hard = first + second
    soft = 1 in (first, second) and hard <= 11
    total = hard + 10 if soft else hard
    code = tables.code(up, total, soft)
    if first == second:
        pair = tables.pairs[up][first]
        if pair in SPLIT_CODES and play.max_split_hands > 1:
            return "surrender" if pair == "Rp" and play.surrender else "split"
        if pair and pair not in SPLIT_CODES:
            code = pair
    if code[0] == "D" and play.double.allows(total, soft):
        return "double"
    if code[0] == "R" and play.surrender:
        return "surrender"
    return "play"


def _hit_sums(up: Upcard, play: PlayRules, tables: Tables, hands: Hands
              ) -> dict[tuple[bool, int], float]:
    """For each contested cell, sum(weight * (hit - stand)) over the hands that reach it."""
    base = list(hands.counts)
    level: dict[tuple[int, ...], float] = defaultdict(float)
    for first, second, chance in deal_chances(up.counts):
        if first + second == 11 and 1 in (first, second):
            continue
        if _first_action(tables, play, up.upcard, first, second) == "play":
            cards = [0] * 10
            cards[first - 1] += 1
            cards[second - 1] += 1
            level[tuple(cards)] += chance
    sums: dict[tuple[bool, int], float] = defaultdict(float)
    while level:
        following: dict[tuple[int, ...], float] = defaultdict(float)
        for held, weight in level.items():
            hands.hold(held)
            hard = sum(count * points for points, count in enumerate(held, start=1))
            ace = held[0] > 0
            soft = ace and hard <= 11
            total = hard + 10 if soft else hard
            if total >= 21:
                continue
            if _contested(total, soft):
                sums[(soft, total)] += weight * (hands.hit(hard, ace) - hands.stand(total))
            if not tables.hits(up.upcard, total, soft):
                continue
            size = hands.size
            for points in range(1, min(22 - hard, 11)):
                left = base[points - 1] - held[points - 1]
                if left > 0:
                    after = list(held)
                    after[points - 1] += 1
                    following[tuple(after)] += weight * left / size
        level = following
    return sums


def derive_column(up: Upcard, play: PlayRules, start: Tables) -> Tables:
    """``start`` with upcard ``up``'s column re-derived for this shoe (see the module docstring)."""
    tables = start
    upcard = up.upcard
    for _ in range(MAX_ROUNDS):
        hard, soft, pairs = _column(tables, upcard)
        hands = Hands(up, play, chart=tables)
        hits = {cell: value > 0 for cell, value in _hit_sums(up, play, tables, hands).items()}
        for (is_soft, total), hit in hits.items():
            row = soft if is_soft else hard
            row[total] = HIT if hit else STAND
        # Two-card cells: double or surrender where that beats the cell's play.
        cells: dict[tuple[bool, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for first, second, chance in deal_chances(up.counts):
            if first + second == 11 and 1 in (first, second):
                continue
            if first == second and tables.pairs[upcard][first]:
                continue  # a pair with a cell of its own does not vote on its total
            hands.hold_pair(first, second)
            values = hand_options(hands, first, second, split_hand=False, split_aces=False)
            hard_points = first + second
            is_soft = 1 in (first, second) and hard_points <= 11
            total = hard_points + 10 if is_soft else hard_points
            for action, value in values.items():
                cells[(is_soft, total)][action] += chance * value
        for (is_soft, total), sums in cells.items():
            row = soft if is_soft else hard
            plain = row[total][-1].upper()
            fallback = "hit" if plain == HIT else "stand"
            best = max((action for action in (fallback, "double", "surrender") if action in sums),
                       key=sums.__getitem__)
            prefix = {"double": "D", "surrender": "R"}.get(best, "")
            row[total] = prefix + plain.lower() if prefix else plain
        # Pairs: split where that beats playing the pair; else the pair's own
        # play where it differs from its total's cell (7,7 v 10 in one deck).
        for card in range(1, 11):
            if up.counts[card - 1] < 2:
                continue
            hands.hold([0] * 10)
            found = opening(up, play, card, card, tables, hands=hands)
            is_soft = card == 1
            total = 12 if is_soft else 2 * card
            row = soft if is_soft else hard
            own = _total_code({action: value for action, value in found.values.items()
                               if action != "split"})
            pair_code = "" if own == row[total] else own
            split = found.values.get("split")
            playable = {action: value for action, value in found.values.items()
                        if action not in ("split", "surrender")}
            played = playable[choose(playable, tables, upcard, total, is_soft, pair_code)]
            if split is not None and split > played:
                surrender = found.values.get("surrender")
                pair_code = "Rp" if surrender is not None and surrender > split else "P"
            pairs[card] = pair_code
        derived = with_column(tables, upcard, (hard, soft, pairs))
        if derived == tables:
            return derived
        tables = derived
    return tables


def _total_code(values: dict[str, float]) -> str:
    """A cell's code from its values: the best play, then the better of hit and stand."""
    plain = STAND if values["stand"] >= values["hit"] else HIT
    best = max(values, key=values.__getitem__)
    if best == "double":
        return "D" + plain.lower()
    if best == "surrender":
        return "R" + plain.lower()
    return plain


def _pair_code(values: dict[str, float]) -> str:
    """A pair's code: split, surrender else split, or play the total."""
    split = values.get("split")
    if split is None:
        return ""
    if split <= max(value for action, value in values.items()
                    if action not in ("split", "surrender")):
        return ""
    surrender = values.get("surrender")
    return "Rp" if surrender is not None and surrender > split else "P"


def infinite_tables(play: PlayRules) -> Tables:
    """The optimal chart for an infinite deck: where the finite derivation starts."""
    hard: list[list[str]] = [[""] * 22 for _ in range(11)]
    soft: list[list[str]] = [[""] * 22 for _ in range(11)]
    pairs: list[list[str]] = [[""] * 11 for _ in range(11)]
    for up in range(1, 11):
        values = _infinite.upcard_values(play, up)
        for total in range(4, 21):
            hard[up][total] = _total_code(_infinite.opening_values(play, values, total, False))
        hard[up][21] = STAND
        for total in range(12, 22):
            soft[up][total] = _total_code(_infinite.opening_values(play, values, total - 10, True))
        for card in range(1, 11):
            pairs[up][card] = _pair_code(_infinite.opening_values(
                play, values, 2 * card, True if card == 1 else False, pair_card=card))
    return Tables(tuple(map(tuple, hard)), tuple(map(tuple, soft)), tuple(map(tuple, pairs)))


@lru_cache(maxsize=64)
def derive(play: PlayRules, decks: int) -> Tables:
    """The total-dependent basic strategy for ``play`` off the top of a ``decks``-deck shoe."""
    tables = infinite_tables(play)
    for points in range(1, 11):
        tables = derive_column(upcard(decks, play.h17, play.peek, points), play, tables)
    return tables
