"""Monte Carlo simulation of basic strategy: the house edge of any rules.

``python -m blackjack.simulate --hands 1000000 --rules h17,ls`` plays basic
strategy (:func:`blackjack.strategy.chart`, the chart for the rules' deck
count) for that many hands and prints the player's expected return per
initial bet, its standard error, the hands played and the speed.  ``--json``
prints one JSON object instead.

Speed matters here (millions of hands), so the simulator does not drive the
object-rich :class:`~blackjack.round.Round`.  It plays the same game on
integer card points in one tight loop: same deal order, same rules, same
decisions, same settlement.  ``tests/test_simulate.py`` holds the two to
each other hand by hand on identical shoes, so the fast path cannot drift
from the engine.

Results are in units of the initial bet with exact payouts (as with a bet
that is a multiple of the payout's denominator; the engine's round-down of
odd payouts is a chip-rounding matter, not part of the game's edge).
Insurance is never taken, as basic strategy says.  The run is cut into
chunks of :data:`CHUNK` hands, each with its own shoe seeded from ``seed``
and the chunk's index, so a seeded run gives the same figures whatever the
number of worker processes.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Callable, Iterator, Sequence

from blackjack._cli import add_rules_arguments, rules_from_arguments
from blackjack.rules import DoubleRule, Rules
from blackjack.strategy import Chart, chart as strategy_chart

__all__ = ["SimulationResult", "simulate", "play_chunk", "main", "CHUNK"]

CHUNK = 100_000
"""Hands per independently seeded chunk of a run."""

# Decision codes in the flat strategy tables.
_H, _S, _DH, _DS, _RH, _RS = range(6)
_CODES = {"H": _H, "S": _S, "Dh": _DH, "Ds": _DS, "Rh": _RH, "Rs": _RS}
# Pair table codes: split codes, or _OWN + a total code for a pair played its own way.
_NO_SPLIT, _SPLIT, _SURRENDER_ELSE_SPLIT, _OWN = 0, 1, 2, 10
_PAIR_CODES = {"": _NO_SPLIT, "P": _SPLIT, "Rp": _SURRENDER_ELSE_SPLIT}
_PAIR_CODES.update({code: _OWN + value for code, value in _CODES.items()})

_ONE_DECK = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10] * 4
_BUST = 0
_SURRENDERED = -1


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation measured.  ``house_edge`` > 0 means the house wins."""

    rules: str
    hands: int
    rounds: int
    seats: int
    player_return: float
    """Mean net result per initial bet (negative: the player loses)."""
    house_edge: float
    """``-player_return``: the fraction of each initial bet the house keeps."""
    stderr: float
    """Standard error of the mean (hands treated as independent)."""
    seconds: float
    hands_per_second: float
    seed: int | None
    workers: int

    def to_dict(self) -> dict[str, object]:
        """The result as plain JSON-ready data."""
        return asdict(self)


def _tables(chart: Chart) -> tuple[list[int], list[int], list[int]]:
    """The strategy chart as flat lists indexed ``total * 11 + upcard points``."""
    hard = [_S] * (32 * 11)
    soft = [_S] * (32 * 11)
    pairs = [_NO_SPLIT] * (11 * 11)
    for flat, table, codes in ((hard, chart.hard, _CODES), (soft, chart.soft, _CODES),
                               (pairs, chart.pairs, _PAIR_CODES)):
        for total, row in enumerate(table):
            for up in range(1, len(row)):
                if row[up] or table is chart.pairs:
                    flat[total * 11 + up] = codes[row[up]]
    return hard, soft, pairs


def play_chunk(rules: Rules, hands: int, seed: int | str | None, seats: int = 1,
               infinite: bool = False, reshuffle_every_round: bool = False,
               table: Chart | None = None) -> tuple[int, int, float, float]:
    """Play ``hands`` initial hands (``seats`` per round) of basic strategy.

    ``table`` is the chart to play, the rules' own by default.  Returns
    ``(hands, rounds, sum of net results, sum of squared net results)``, in
    units of the initial bet.
    """
    rng = random.Random(seed) if seed is not None else secrets.SystemRandom()
    draws = _ShoeDraws(rules, rng, infinite, reshuffle_every_round)
    if table is None:
        table = strategy_chart(rules, infinite=infinite)
    play, play_one = _kernels(rules, table)
    rounds = hands // seats + (1 if hands % seats else 0)
    played = 0
    total = 0.0
    squares = 0.0
    if seats == 1:
        before_round = draws.before_round
        for _ in range(rounds):
            before_round(1)
            net = play_one(draws.pop)
            total += net
            squares += net * net
        return rounds, rounds, total, squares
    for _ in range(rounds):
        n = min(seats, hands - played)
        draws.before_round(n)
        for net in play(n, draws.pop):
            total += net
            squares += net * net
        played += n
    return played, rounds, total, squares


class _ShoeDraws:
    """A shoe of card points for the kernel: ``pop()`` deals the next card."""

    def __init__(self, rules: Rules, rng: random.Random, infinite: bool,
                 reshuffle_every_round: bool) -> None:
        self._rng = rng
        self._infinite = infinite
        self._every_round = reshuffle_every_round
        self._full = _ONE_DECK * rules.decks
        # Cards left when the cut card comes out.
        self._cut_left = len(self._full) - int(len(self._full) * rules.penetration)
        self._cards: list[int] = []
        self._drawn: list[int] = []
        self.pop: Callable[[], int] = self._cards.pop
        self._shuffle()

    def _shuffle(self) -> None:
        if self._infinite:
            self._cards = self._rng.choices(_ONE_DECK, k=4096)
        else:
            self._cards = list(self._full)
            self._rng.shuffle(self._cards)
        self.pop = self._cards.pop

    def _draw_fresh(self) -> int:
        """Deal a card uniformly from those left: a shuffle done lazily, card by card.

        Cheaper than shuffling the whole shoe when it is reshuffled every
        round, and distributed exactly as the top of a full shuffle.
        """
        cards = self._cards
        j = int(self._rng.random() * len(cards))
        cards[j], cards[-1] = cards[-1], cards[j]
        card = cards.pop()
        self._drawn.append(card)
        return card

    def before_round(self, seats: int) -> None:
        """Reshuffle at the cut card; keep enough cards for any round."""
        if self._infinite:
            if len(self._cards) < 512:
                self._shuffle()
            return
        if self._every_round:
            if self.pop != self._draw_fresh:
                self._cards = list(self._full)
                self.pop = self._draw_fresh
            # Every card back in the shoe: the next round is off the top.
            self._cards.extend(self._drawn)
            self._drawn.clear()
        elif len(self._cards) <= self._cut_left:
            self._shuffle()
        elif len(self._cards) < 24 * seats:
            # A deep single-deck game could run dry mid-round: as a dealer
            # would, shuffle the discards in under the remaining cards.
            out = Counter(self._full)
            out.subtract(self._cards)
            discards = list(out.elements())
            self._rng.shuffle(discards)
            self._cards[:0] = discards


def _kernels(rules: Rules, chart: Chart) -> tuple[Callable[[int, Callable[[], int]], list[float]],
                                                  Callable[[Callable[[], int]], float]]:
    """Build the per-round play functions for ``rules``, playing ``chart``.

    Returns ``play(seats, pop)``, the nets of every seat, and ``play_one(pop)``,
    the net of a one-seat round without the lists (what most runs play).
    Everything the hot loop needs is bound to a local name of the closure.
    """
    hard, soft, pairs = _tables(chart)
    h17 = rules.dealer_hits_soft_17
    peek = rules.dealer_peek
    blackjack_pays = float(rules.blackjack_payout)
    das = rules.double_after_split
    max_hands = rules.max_split_hands if rules.can_split else 1
    rsa = rules.resplit_aces
    hsa = rules.hit_split_aces
    surrender = rules.surrender
    double_rule = rules.double
    double_any = double_rule is DoubleRule.ANY
    double_low = 9 if double_rule is DoubleRule.NINE_TO_ELEVEN else 10

    def may_double(t: int, ace: bool, from_split: bool, split_aces: bool) -> bool:
        if from_split and (not das or (split_aces and not hsa)):
            return False
        if double_any:
            return True
        # A soft hand (an ace counting 11) may not double under 9-11 / 10-11.
        return not (ace and t <= 11) and double_low <= t <= 11

    def play_hand(t: int, ace: bool, up: int, pop: Callable[[], int],
                  from_split: bool, split_aces: bool, own: int = -1) -> tuple[int, int]:
        """Play one two-card hand (not a pair being split) to the end.

        ``t`` is the hard total (aces as 1); ``own``, when not -1, is the
        code of a pair's own first play.  Returns (final total, stake
        multiple), the total being _BUST or _SURRENDERED where it applies.
        """
        if split_aces and not hsa:
            return (t + 10 if ace and t <= 11 else t), 1  # one card to each split ace
        first = True
        while True:
            if ace and t <= 11:
                if t + 10 == 21:
                    return 21, 1
                code = soft[(t + 10) * 11 + up]
            else:
                if t >= 21:
                    return (21, 1) if t == 21 else (_BUST, 1)
                code = hard[t * 11 + up]
            if own >= 0:
                code = own
                own = -1
            if code == _H:
                pass
            elif code == _S:
                return (t + 10 if ace and t <= 11 else t), 1
            elif code == _DH or code == _DS:
                if first and may_double(t, ace, from_split, split_aces):
                    card = pop()
                    t += card
                    ace = ace or card == 1
                    if t > 21:
                        return _BUST, 2
                    return (t + 10 if ace and t <= 11 else t), 2
                if code == _DS:
                    return (t + 10 if ace and t <= 11 else t), 1
            else:  # surrender codes
                if first and surrender and not from_split:
                    return _SURRENDERED, 1
                if code == _RS:
                    return (t + 10 if ace and t <= 11 else t), 1
            card = pop()
            t += card
            if card == 1:
                ace = True
            first = False

    def play_split(card: int, up: int, pop: Callable[[], int]) -> list[tuple[int, int]]:
        """Split a pair of ``card`` and play every resulting hand, in table order."""
        split_aces = card == 1
        n_hands = 2
        results: list[tuple[int, int]] = []
        pair_code = pairs[card * 11 + up]
        while len(results) < n_hands:
            second = pop()
            if second == card:
                if (n_hands < max_hands and (not split_aces or rsa)
                        and (pair_code == _SPLIT or pair_code == _SURRENDER_ELSE_SPLIT)):
                    # Resplit: the new hand plays right after this one, which
                    # draws a fresh second card.
                    n_hands += 1
                    continue
                if pair_code >= _OWN:
                    results.append(play_hand(card + second, split_aces, up, pop, True,
                                             split_aces, pair_code - _OWN))
                    continue
            ace = split_aces or second == 1
            results.append(play_hand(card + second, ace, up, pop, True, split_aces))
        return results

    def dealer_total(up: int, hole: int, pop: Callable[[], int]) -> int:
        """Draw to the dealer's hand; its final total (over 21 when bust)."""
        d = up + hole
        dealer_ace = up == 1 or hole == 1
        while True:
            if dealer_ace and d <= 11:
                soft_total = d + 10
                if soft_total > 17 or (soft_total == 17 and not h17):
                    return soft_total
            elif d >= 17:
                return d
            card = pop()
            d += card
            if card == 1:
                dealer_ace = True
            elif d > 21:
                return d

    def settle(hands: list[tuple[int, int]], d: int, dealer_blackjack: bool) -> float:
        """What a seat's hands win against a dealer total ``d``."""
        net = 0.0
        for total, stake in hands:
            if total == _SURRENDERED:
                net -= 1.0 if dealer_blackjack else 0.5
            elif total == _BUST or dealer_blackjack:
                net -= stake
            elif d > 21 or total > d:
                net += stake
            elif total < d:
                net -= stake
        return net

    def play_one(pop: Callable[[], int]) -> float:
        """One round with one seat: :func:`play_round` without the lists.

        Most simulated rounds have one seat, and per-round overhead is most
        of their cost; the test of the kernel against Round covers both.
        """
        a = pop()
        up = pop()
        b = pop()
        natural = a + b == 11 and (a == 1 or b == 1)
        hole = 0
        if peek:
            hole = pop()
            if up + hole == 11 and (up == 1 or hole == 1):
                return 0.0 if natural else -1.0
        if natural:
            if not peek:
                hole = pop()
                if up + hole == 11 and (up == 1 or hole == 1):
                    return 0.0
            return blackjack_pays
        hands = None
        if a == b and pairs[a * 11 + up] != _NO_SPLIT:
            code = pairs[a * 11 + up]
            if code >= _OWN:
                total, stake = play_hand(a + b, a == 1, up, pop, False, False, code - _OWN)
            elif max_hands < 2:
                total, stake = play_hand(a + b, a == 1, up, pop, False, False)
            elif code == _SURRENDER_ELSE_SPLIT and surrender:
                total, stake = _SURRENDERED, 1
            else:
                hands = play_split(a, up, pop)
                total, stake = 1, 0  # not used: the split hands settle below
        else:
            total, stake = play_hand(a + b, a == 1 or b == 1, up, pop, False, False)
        if not peek:
            hole = pop()
        dealer_blackjack = up + hole == 11 and (up == 1 or hole == 1)
        if hands is not None:
            live = not dealer_blackjack and any(played > 0 for played, _ in hands)
            d = dealer_total(up, hole, pop) if live else 0
            return settle(hands, d, dealer_blackjack)
        if total == _SURRENDERED:
            return -1.0 if dealer_blackjack else -0.5
        if total == _BUST or dealer_blackjack:
            return float(-stake)
        d = dealer_total(up, hole, pop)
        if d > 21 or total > d:
            return float(stake)
        return float(-stake) if total < d else 0.0

    def play_round(seats: int, pop: Callable[[], int]) -> list[float]:
        if seats == 1:
            return [play_one(pop)]
        firsts = [pop() for _ in range(seats)]
        up = pop()
        seconds = [pop() for _ in range(seats)]
        hole = pop() if peek else 0
        # The peek: a dealer blackjack ends the round before anyone plays.
        if peek and (up == 1 and hole == 10 or up == 10 and hole == 1):
            return [0.0 if (a == 1 and b == 10 or a == 10 and b == 1) else -1.0
                    for a, b in zip(firsts, seconds)]
        seat_hands: list[list[tuple[int, int]] | None] = []
        live = False
        for a, b in zip(firsts, seconds):
            if a == 1 and b == 10 or a == 10 and b == 1:
                seat_hands.append(None)  # a natural; settled below
                continue
            if a == b:
                code = pairs[a * 11 + up]
                if code >= _OWN:
                    hands = [play_hand(a + b, a == 1, up, pop, False, False, code - _OWN)]
                elif max_hands > 1 and code == _SURRENDER_ELSE_SPLIT and surrender:
                    hands = [(_SURRENDERED, 1)]
                elif max_hands > 1 and code != _NO_SPLIT:
                    hands = play_split(a, up, pop)
                else:
                    hands = [play_hand(a + b, a == 1, up, pop, False, False)]
            else:
                hands = [play_hand(a + b, a == 1 or b == 1, up, pop, False, False)]
            # Naturals, busts and surrenders are decided: the dealer draws only
            # when some hand still stands on a total.
            live = live or any(total > 0 for total, _ in hands)
            seat_hands.append(hands)
        if not peek:
            hole = pop()
        dealer_blackjack = up + hole == 11 and (up == 1 or hole == 1)
        if live and not dealer_blackjack:
            d = dealer_total(up, hole, pop)
        else:
            d = 0
        results = []
        for seat in seat_hands:
            if seat is None:
                results.append(0.0 if dealer_blackjack else blackjack_pays)
            else:
                results.append(settle(seat, d, dealer_blackjack))
        return results

    return play_round, play_one


def _kernel(rules: Rules, chart: Chart) -> Callable[[int, Callable[[], int]], list[float]]:
    """The per-round play function for ``rules`` and ``chart``: ``play(seats, pop)``."""
    return _kernels(rules, chart)[0]


def _chunks(hands: int) -> Iterator[tuple[int, int]]:
    index = 0
    while hands > 0:
        size = min(CHUNK, hands)
        yield index, size
        hands -= size
        index += 1


def _run_chunk(job: tuple[Rules, int, int, int | None, int, bool, bool, Chart]
               ) -> tuple[int, int, float, float]:
    rules, index, size, seed, seats, infinite, every_round, table = job
    chunk_seed = None if seed is None else f"{seed}:{index}"
    return play_chunk(rules, size, chunk_seed, seats, infinite, every_round, table)


def simulate(rules: Rules, hands: int, *, seed: int | None = None, seats: int = 1,
             workers: int = 1, infinite: bool = False, reshuffle_every_round: bool = False,
             progress: Callable[[int, int, float], None] | None = None) -> SimulationResult:
    """Play ``hands`` hands of basic strategy under ``rules`` and measure the edge.

    ``progress(done, total, elapsed_seconds)`` is called after each chunk.
    """
    if hands < 1:
        raise ValueError(f"hands must be at least 1, not {hands}")
    if not 1 <= seats <= 7:
        raise ValueError(f"seats must be 1 to 7, not {seats}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    # Derived once here, not once per worker: a shoe chart takes a second or two.
    table = strategy_chart(rules, infinite=infinite)
    jobs = [(rules, index, size, seed, seats, infinite, reshuffle_every_round, table)
            for index, size in _chunks(hands)]
    started = time.perf_counter()
    totals = [0, 0, 0.0, 0.0]

    def add(part: tuple[int, int, float, float]) -> None:
        for i, value in enumerate(part):
            totals[i] += value
        if progress is not None:
            progress(int(totals[0]), hands, time.perf_counter() - started)

    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            add(_run_chunk(job))
    else:
        import multiprocessing
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for part in pool.imap_unordered(_run_chunk, jobs):
                add(part)
    elapsed = time.perf_counter() - started
    played, rounds, total, squares = int(totals[0]), int(totals[1]), totals[2], totals[3]
    mean = total / played
    variance = max(squares / played - mean * mean, 0.0)
    return SimulationResult(
        rules=rules.describe(), hands=played, rounds=rounds, seats=seats,
        player_return=mean, house_edge=-mean,
        stderr=math.sqrt(variance / played), seconds=elapsed,
        hands_per_second=played / elapsed if elapsed > 0 else float("inf"),
        seed=seed, workers=workers)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blackjack.simulate",
        description="Play basic strategy for N hands and report the house edge.")
    parser.add_argument("--hands", type=int, default=1_000_000, help="hands to play (default 1,000,000)")
    add_rules_arguments(parser, penetration=True)
    parser.add_argument("--reshuffle-every-hand", action="store_true", help="shuffle before every round")
    parser.add_argument("--infinite", action="store_true", help="draw with replacement (an infinite deck)")
    parser.add_argument("--seats", type=int, default=1, help="seats playing each round (1-7)")
    parser.add_argument("--seed", type=int, help="seed for a reproducible run")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m blackjack.simulate``."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        rules = rules_from_arguments(args)
        last = [0.0]

        def progress(done: int, total: int, elapsed: float) -> None:
            if elapsed >= 2.0 and elapsed - last[0] >= 1.0 and done < total:
                last[0] = elapsed
                rate = done / elapsed
                sys.stderr.write(f"\r{done:,}/{total:,} hands  {rate:,.0f}/s  "
                                 f"eta {(total - done) / rate:,.0f}s ")
                sys.stderr.flush()

        result = simulate(rules, args.hands, seed=args.seed, seats=args.seats,
                          workers=args.workers, infinite=args.infinite,
                          reshuffle_every_round=args.reshuffle_every_hand, progress=progress)
    except ValueError as exc:
        parser.error(str(exc))
    if result.seconds >= 2.0:
        sys.stderr.write("\n")
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"rules:           {result.rules}"
              + (" (infinite deck)" if args.infinite else ""))
        print(f"hands:           {result.hands:,} ({result.rounds:,} rounds, {result.seats} seat(s))")
        print(f"player return:   {result.player_return:+.4%} per initial bet")
        print(f"house edge:      {result.house_edge:+.4%} \u00b1 {result.stderr:.4%} (1 s.e.)")
        print(f"speed:           {result.hands_per_second:,.0f} hands/s "
              f"in {result.seconds:.1f}s on {result.workers} worker(s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    from blackjack._cli import run
    run(main)
