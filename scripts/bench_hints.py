"""Benchmark: CPU of the exact hints a table meets first, from a cold process.

The coach values every decision it has not met before with the exact
analyser for the table's shoe (:func:`blackjack.strategy.hint`).  This asks,
in one fresh process, what a new server's tables ask in their first hours:
every two-card hand against every upcard, then every three-card hand under
21 (hit and stand), then every pair after one split, and prints the CPU of
each group.  Run it in two checkouts to compare them::

    python scripts/bench_hints.py [--rules SPEC]
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import combinations_with_replacement
from pathlib import Path

# Run from a checkout without installing: scripts/ is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from blackjack import strategy  # noqa: E402
from blackjack.actions import Action  # noqa: E402
from blackjack.cards import Card  # noqa: E402
from blackjack.hand import Hand  # noqa: E402
from blackjack.rules import Rules  # noqa: E402

RANKS = "23456789TA"
SUITS = "HDC"


def _hand(ranks: tuple[str, ...]) -> Hand:
    return Hand([Card.parse(rank + suit) for rank, suit in zip(ranks, SUITS)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="", help="a rules spec (default: the defaults)")
    args = parser.parse_args(argv)
    rules = Rules.from_spec(args.rules) if args.rules else Rules()
    strategy.prepare(rules)
    upcards = [Card.parse(rank + "S") for rank in RANKS]
    every = frozenset(Action) - {Action.INSURANCE, Action.NO_INSURANCE, Action.EVEN_MONEY}
    hit_stand = frozenset({Action.HIT, Action.STAND})
    pairs = [_hand(ranks) for ranks in combinations_with_replacement(RANKS, 2)]
    threes = [hand for hand in map(_hand, combinations_with_replacement(RANKS, 3))
              if hand.total < 21]
    groups = [
        (f"{len(pairs) * len(upcards)} two-card hands", pairs, every, 0),
        (f"{len(threes) * len(upcards)} three-card hands", threes, hit_stand, 0),
        (f"{len(RANKS) * len(upcards)} pairs after a split",
         [_hand((rank, rank)) for rank in RANKS], every, 1),
    ]
    print(rules.describe())
    for label, hands, legal, splits in groups:
        started = time.process_time()
        for hand in hands:
            for upcard in upcards:
                strategy.hint(rules, hand, upcard, legal, splits_done=splits)
        print(f"  {label}: {time.process_time() - started:.2f} s of CPU")


if __name__ == "__main__":
    main()
