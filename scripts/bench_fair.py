"""Benchmark: what provably fair shoes and stored decisions cost a table, side by side.

Three runs of the same rounds (one seat, basic strategy through ``Round``),
in one process, so the ratios hold on any machine:

* a plain :class:`~blackjack.shoe.Shoe`, reshuffled at the cut card (the
  baseline, what the server dealt from before);
* a :class:`~blackjack.fair.FairShoe`, a new one committed, started and
  retired at every cut card (what a table does now);
* the fair shoe, with the server's advice for every decision
  (:func:`blackjack.server.core.coach.advice`, which the table computes to
  store what basic strategy said and to train).

Run by hand::

    python scripts/bench_fair.py [--rounds 20000]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

from blackjack import Phase, Round, Rules, Shoe
from blackjack.fair import FairShoe, ShoeTerms, client_seed
from blackjack.server.core.coach import advice
from blackjack.strategy import advise, chart

_CLIENT = client_seed([("bench", "")])


def _plain(rules: Rules) -> Callable[[], Shoe]:
    shoe = Shoe(rules.decks, rules.penetration, seed=1)

    def next_shoe() -> Shoe:
        if shoe.needs_shuffle:
            shoe.shuffle()
        return shoe
    return next_shoe


def _fair(rules: Rules) -> Callable[[], Shoe]:
    terms = ShoeTerms.of(rules.decks, rules.penetration)
    current: list[FairShoe] = []

    def next_shoe() -> Shoe:
        if not current or current[0].needs_shuffle:
            if current:
                current[0].retire()
            shoe = FairShoe(terms)
            shoe.start(_CLIENT)
            current[:] = [shoe]
        return current[0]
    return next_shoe


def rounds_per_second(rules: Rules, shoes: Callable[[], Shoe], rounds: int,
                      with_advice: bool) -> float:
    """Rounds per second, one seat playing basic strategy."""
    started = time.perf_counter()
    for _ in range(rounds):
        game = Round(rules, shoes(), bets={1: 10})
        game.deal()
        while game.phase is not Phase.FINISHED:
            turn = game.turn
            assert turn is not None and game.dealer_upcard is not None
            if with_advice:
                advice(rules, game, turn.seat)
            hand = game.hands(turn.seat)[turn.hand]
            game.act(advise(rules, hand, game.dealer_upcard, game.legal_actions()),
                     seat=turn.seat)
    return rounds / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    rules = Rules()
    chart(rules)
    print(f"python {platform.python_version()} on {platform.machine()}, one core, "
          f"{rules.describe()}, {args.rounds:,} rounds each")
    plain = rounds_per_second(rules, _plain(rules), args.rounds, False)
    fair = rounds_per_second(rules, _fair(rules), args.rounds, False)
    coached = rounds_per_second(rules, _fair(rules), args.rounds, True)
    print(f"plain shoe                  {plain:>9,.0f} rounds/s  1.00")
    print(f"fair shoe                   {fair:>9,.0f} rounds/s  {fair / plain:.2f}")
    print(f"fair shoe + advice stored   {coached:>9,.0f} rounds/s  {coached / plain:.2f}")


if __name__ == "__main__":
    main()
