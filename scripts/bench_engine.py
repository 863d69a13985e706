"""Benchmark: the simulator's speed as a ratio to a stripped loop, and the analysis times.

Measures, in one process and alternating so that both see the same machine:

* the simulator's fast path (what ``python -m blackjack.simulate`` runs),
  playing each table's own basic-strategy chart with every rule;
* a stripped loop on the same shoe: the player hits below 17 and stands,
  no doubles, splits, surrender or naturals, the dealer stands on 17.
  It is the floor of what dealing and settling a round costs in pure
  Python, so the ratio says how much the full rules and strategy cost;
* full rounds through the object-rich :class:`blackjack.Round` with the
  advisor (what the server runs), in rounds per second.

With ``--analysis`` it also times the exact analysis of each deck count.
Run by hand::

    python scripts/bench_engine.py [--hands 400000] [--passes 3] [--analysis]

Targets: the simulator at least 0.5x the stripped loop (issue 16); at
least 100,000 hands/s on one core (issue 2).  Figures: the README's
performance table and docs/analysis.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from typing import Callable

from blackjack import Phase, Round, Rules, Shoe
from blackjack.analysis import analyse
from blackjack.simulate import _ShoeDraws, play_chunk
from blackjack.strategy import advise, chart


def stripped_chunk(rules: Rules, hands: int, seed: int) -> float:
    """Hands per second of the stripped hit-below-17 loop on the simulator's shoe."""
    draws = _ShoeDraws(rules, random.Random(seed), False, False)
    started = time.perf_counter()
    total = 0.0
    for _ in range(hands):
        draws.before_round(1)
        pop: Callable[[], int] = draws.pop
        first = pop()
        up = pop()
        second = pop()
        hole = pop()
        player = first + second
        ace = first == 1 or second == 1
        while (player + 10 if ace and player <= 11 else player) < 17:
            card = pop()
            player += card
            ace = ace or card == 1
        mine = player + 10 if ace and player <= 11 else player
        if mine > 21:
            total -= 1.0
            continue
        dealer = up + hole
        dealer_ace = up == 1 or hole == 1
        while (dealer + 10 if dealer_ace and dealer <= 11 else dealer) < 17:
            card = pop()
            dealer += card
            dealer_ace = dealer_ace or card == 1
        theirs = dealer + 10 if dealer_ace and dealer <= 11 else dealer
        if theirs > 21 or mine > theirs:
            total += 1.0
        elif mine < theirs:
            total -= 1.0
    return hands / (time.perf_counter() - started)


def simulator_chunk(rules: Rules, hands: int, seed: int) -> float:
    """Hands per second of the simulator's kernel, one seat, the table's own chart."""
    started = time.perf_counter()
    play_chunk(rules, hands, seed)
    return hands / (time.perf_counter() - started)


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
            assert turn is not None
            hand = game.hands(turn.seat)[turn.hand]
            upcard = game.dealer_upcard
            assert upcard is not None
            game.act(advise(rules, hand, upcard, game.legal_actions()), seat=turn.seat)
    return rounds / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", type=int, default=400_000, help="hands per timed pass")
    parser.add_argument("--passes", type=int, default=3, help="alternating passes per game")
    parser.add_argument("--rounds", type=int, default=20_000, help="Round+advise rounds")
    parser.add_argument("--analysis", action="store_true", help="also time the analysis")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, one core")
    for spec in ("", "decks=1,h17,ndas", "h17,ls,rsa", "enhc,double=9-11,split=2"):
        rules = Rules.from_spec(spec)
        chart(rules)  # derive the strategy before timing
        ratios = []
        fast = []
        for index in range(args.passes):
            base = stripped_chunk(rules, args.hands, seed=index)
            full = simulator_chunk(rules, args.hands, seed=index)
            ratios.append(full / base)
            fast.append(full)
        ratios.sort()
        print(f"simulator  {rules.describe():<36} {max(fast):>9,.0f} hands/s   "
              f"ratio to the stripped loop {ratios[len(ratios) // 2]:.2f} "
              f"(passes {', '.join(f'{r:.2f}' for r in ratios)})")
    rules = Rules()
    print(f"Round+advise {rules.describe():<34} {bench_round(rules, args.rounds):>9,.0f} rounds/s")
    if args.analysis:
        for decks in (1, 2, 4, 6, 8):
            started = time.process_time()
            found = analyse(Rules(decks=decks))
            print(f"analysis {decks} deck(s) S17 DAS: basic {-found.basic:+.4%}, "
                  f"composition {-found.composition:+.4%}; {found.seconds_basic:.1f} s "
                  f"+ {found.seconds_composition:.1f} s wall, "
                  f"{time.process_time() - started:.1f} s CPU")


if __name__ == "__main__":
    main()
