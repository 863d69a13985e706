"""The dealer's hand over a finite shoe: how it ends, and what standing is worth.

Every finite-shoe value rests on one question asked thousands of times per
analysis: with these cards left in the shoe, what is standing on a total
worth against this upcard?  The dealer draws without replacement, so the
answer depends on the exact composition of the shoe, and the dealer's own
draws change the odds of the next one.

The dealer's possible hands form a small graph per upcard: a node is the
multiset of cards drawn after the upcard while the dealer must still draw
(344 nodes at most, under a 2), and each of the ten cards leads to another
node or to a finished hand.  :func:`outcome_chances` walks it recursively,
the readable way.  :func:`stand_function` turns the same graph into one
straight-line Python function per upcard and standing total, compiled once:
a node becomes one line of arithmetic on the shoe's counts, so a whole
evaluation costs a few thousand float operations and no calls, lookups or
loops.  That is what makes an exact multi-deck analysis take seconds in
pure Python; the test suite holds the fast functions to the recursion.

Counts are ten integers, aces first and ten-valued cards last: the shoe the
dealer draws from, with the upcard and every known card already removed.
Values follow the analysis convention: after a peek they are *unnormalised*,
``E[result; no dealer blackjack]`` (the hole card cannot complete a natural,
as the player only acts once the peek has ruled it out), so dividing by the
chance of no blackjack gives the conditional value; without a peek a dealer
blackjack simply beats the standing hand.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence, cast

__all__ = ["TOTAL_CLASSES", "total_class", "outcome_chances", "stand_function",
           "blackjack_card", "graph_size"]

Counts = Sequence[int]
"""Cards left in the shoe by point value: index 0 aces, ..., index 9 ten-valued cards."""

TOTAL_CLASSES = (16, 17, 18, 19, 20, 21)
"""Standing totals that pay differently: 16 stands for every total of 16 or less."""

_BUST = 0
_BLACKJACK = 22
_HOLE = "hole"


def total_class(total: int) -> int:
    """Index in :data:`TOTAL_CLASSES` of a standing total (4..21)."""
    return 0 if total <= 16 else total - 16


def blackjack_card(upcard: int) -> int:
    """The hole card that would give the dealer a natural (0: none can)."""
    return 10 if upcard == 1 else 1 if upcard == 10 else 0


def _finished(upcard: int, drawn: tuple[int, ...], h17: bool) -> int | None:
    """The final total of a dealer hand (0 bust), or None while the dealer must draw."""
    if not sum(drawn):
        return None
    points = upcard + sum(count * (index + 1) for index, count in enumerate(drawn))
    ace = upcard == 1 or drawn[0] > 0
    soft = ace and points <= 11
    total = points + 10 if soft else points
    if total > 21:
        return _BUST
    if total >= 18 or (total == 17 and not (soft and h17)):
        return total
    return None


Child = tuple[str, int]
"""Where a card leads: ("node", index), ("final", total or 0 for bust) or ("hole", 0)."""


@lru_cache(maxsize=None)
def _graph(upcard: int, h17: bool) -> tuple[tuple[tuple[int, ...], tuple[Child, ...]], ...]:
    """The dealer's drawing nodes for an upcard, children before parents.

    Each entry is ``(drawn counts, children by card 1..10)``; the last entry
    is the root, where the hole card is drawn.  A hole card that would make
    a natural is marked ``("hole", 0)`` so callers can treat it by the rules.
    """
    index: dict[tuple[int, ...], int] = {}
    order: list[tuple[tuple[int, ...], tuple[Child, ...]]] = []
    natural = blackjack_card(upcard)

    def visit(drawn: tuple[int, ...]) -> int:
        found = index.get(drawn)
        if found is not None:
            return found
        children: list[Child] = []
        for card in range(1, 11):
            after = drawn[:card - 1] + (drawn[card - 1] + 1,) + drawn[card:]
            if not sum(drawn) and card == natural:
                children.append((_HOLE, 0))
                continue
            final = _finished(upcard, after, h17)
            if final is None:
                children.append(("node", visit(after)))
            else:
                children.append(("final", final))
        index[drawn] = len(order)
        order.append((drawn, tuple(children)))
        return index[drawn]

    visit((0,) * 10)
    return tuple(order)


def graph_size(upcard: int, h17: bool) -> int:
    """Drawing nodes in the dealer's graph for an upcard: the cost of one standing value."""
    return len(_graph(upcard, h17))


def outcome_chances(counts: Counts, upcard: int, h17: bool) -> dict[int, float]:
    """Chance of each final dealer total (0 bust, 17..21, 22 blackjack), before any peek.

    The readable recursion over the shoe; :func:`stand_function` must agree with it.
    """
    memo: dict[tuple[int, ...], dict[int, float]] = {}

    def walk(drawn: tuple[int, ...]) -> dict[int, float]:
        found = memo.get(drawn)
        if found is not None:
            return found
        left = [count - taken for count, taken in zip(counts, drawn)]
        size = sum(left)
        result: dict[int, float] = {}
        for card in range(1, 11):
            if left[card - 1] <= 0:
                continue
            chance = left[card - 1] / size
            after = drawn[:card - 1] + (drawn[card - 1] + 1,) + drawn[card:]
            if not sum(drawn) and card == blackjack_card(upcard):
                result[_BLACKJACK] = result.get(_BLACKJACK, 0.0) + chance
                continue
            final = _finished(upcard, after, h17)
            if final is not None:
                result[final] = result.get(final, 0.0) + chance
                continue
            for outcome, sub in walk(after).items():
                result[outcome] = result.get(outcome, 0.0) + chance * sub
        memo[drawn] = result
        return result

    return walk((0,) * 10)


def _payoff(final: int, player: int) -> int:
    """What a standing total of ``player`` (16: 16 or less) wins against a final dealer total."""
    if final == _BUST or player > final:
        return 1
    return 0 if player == final else -1


@lru_cache(maxsize=None)
def stand_function(upcard: int, h17: bool, peek: bool, player: int
                   ) -> Callable[[Counts], float]:
    """The value of standing on ``player`` (a :data:`TOTAL_CLASSES` entry), as a compiled function.

    The function takes the shoe's counts and returns the expected result of
    standing, per unit bet, in the convention of the module docstring.
    Compiling takes milliseconds and happens once per upcard, rule and total.
    """
    if player not in TOTAL_CLASSES:
        raise ValueError(f"no standing total class {player!r}")
    graph = _graph(upcard, h17)
    locals_needed: set[tuple[int, int]] = set()
    draws_needed: set[int] = set()
    body: list[str] = []
    for position, (drawn, children) in enumerate(graph):
        draws = sum(drawn)
        draws_needed.add(draws)
        products: list[str] = []
        wins: list[str] = []
        losses: list[str] = []
        for card, (kind, value) in enumerate(children, start=1):
            taken = drawn[card - 1]
            name = f"a{card}" if not taken else f"a{card}_{taken}"
            if taken:
                locals_needed.add((card, taken))
            if kind == "node":
                products.append(f"{name}*v{value}")
            elif kind == _HOLE:
                if not peek:
                    losses.append(name)
            else:
                result = _payoff(value, player)
                if result > 0:
                    wins.append(name)
                elif result < 0:
                    losses.append(name)
        total = "+".join(products + wins) or "0"
        if losses:
            total = f"{total}-" + "-".join(losses)
        body.append(f"    v{position} = ({total})*r{draws}")
    lines = [f"def stand(counts):",
             "    a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = counts",
             "    size = a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10"]
    lines += [f"    a{card}_{taken} = a{card} - {taken}" for card, taken in sorted(locals_needed)]
    lines += [f"    r{draws} = 1.0 / (size - {draws})" for draws in sorted(draws_needed)]
    lines += body
    lines.append(f"    return v{len(graph) - 1}")
    namespace: dict[str, object] = {}
    source = "\n".join(lines)
    exec(compile(source, f"<dealer {upcard} {'h17' if h17 else 's17'} "
                         f"{'peek' if peek else 'enhc'} {player}>", "exec"), namespace)
    return cast(Callable[[Counts], float], namespace["stand"])
