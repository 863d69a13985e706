"""Benchmark: engine hands per second on one core.

Measures the simulator's fast path (what ``python -m blackjack.simulate``
runs) and, for comparison, full rounds through the object-rich
:class:`blackjack.Round` with the basic-strategy advisor (what the server
runs).  Run by hand::

    python scripts/bench_engine.py [--hands 2000000] [--rounds 50000]

Target (issue #2): at least 100,000 hands/s of full-rules basic strategy in
pure Python on one core.
"""

from __future__ import annotations

import argparse
import platform
import time

from blackjack import Phase, Round, Rules, Shoe
from blackjack.simulate import simulate
from blackjack.strategy import advise, chart


def bench_round(rules: Rules, rounds: int) -> float:
    """Rounds per second through Round + advise, one seat, seeded shoe."""
    shoe = Shoe(rules.decks, rules.penetration, seed=1)
    started = time.perf_counter()
    for _ in range(rounds):
        if shoe.needs_shuffle:
            shoe.shuffle()
        game = Round(rules, shoe, bets={1: 10})
        game.deal()
        while game.phase is not Phase.FINISHED:
            turn = game.turn
            hand = game.hands(turn.seat)[turn.hand]
            game.act(advise(rules, hand, game.dealer_upcard, game.legal_actions()), seat=turn.seat)
    return rounds / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=50_000)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, one core")
    for spec in ("", "h17,ls,rsa", "enhc,double=9-11,split=2"):
        rules = Rules.from_spec(spec)
        chart(rules)  # derive the strategy before timing
        result = simulate(rules, args.hands, seed=1)
        print(f"simulator  {rules.describe():<40} {result.hands_per_second:>10,.0f} hands/s"
              f"  (edge {result.house_edge:+.3%} \u00b1 {result.stderr:.3%}, {result.hands:,} hands)")
    rules = Rules()
    print(f"Round+advise {rules.describe():<38} {bench_round(rules, args.rounds):>10,.0f} rounds/s")


if __name__ == "__main__":
    main()
