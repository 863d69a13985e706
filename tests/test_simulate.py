"""Tests for blackjack.simulate: the fast path plays exactly the engine's game and the analyser's.

Three kinds of check, from exact to statistical:

* round for round, the kernel and :class:`Round` with the advisor draw the
  same cards and win the same amounts, for random rules and random charts;
* hand by hand, the kernel's expectation over every card sequence it can
  draw equals the analyser's exact value of that hand (to 1e-12);
* paired runs on identical cards measure what one rule is worth to within a
  few hundredths of a percent, against the analyser's exact difference.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from fractions import Fraction
from typing import Callable

import pytest
from hypothesis import given, settings, strategies as st

from blackjack import Phase, Round, Rules, Shoe
from blackjack.analysis import Strategy, _basic, _shoe, house_edge
from blackjack.analysis._infinite import PlayRules
from blackjack.simulate import _kernel, _ShoeDraws, main, play_chunk, simulate
from blackjack.strategy import Chart, advise, chart
from blackjack.testing import StackedShoe

from engine_helpers import rules_values

TOTAL_CODES = ("H", "S", "Dh", "Ds", "Rh", "Rs")


def _random_chart(draw: st.DrawFn) -> Chart:
    """Any chart at all, pairs with split codes and pairs with plays of their own."""
    def row(codes: tuple[str, ...]) -> tuple[str, ...]:
        return ("",) + tuple(draw(st.sampled_from(codes)) for _ in range(10))
    hard = tuple(row(TOTAL_CODES) if total >= 4 else () for total in range(22))
    soft = tuple(row(TOTAL_CODES) if total >= 12 else () for total in range(22))
    pairs = tuple(row(("", "P", "Rp") + TOTAL_CODES) if points else () for points in range(11))
    return Chart(hard, soft, pairs)


random_charts = st.composite(_random_chart)


def _engine_round(rules: Rules, table: Chart, shoe: StackedShoe, seats: int,
                  bet: int) -> list[Fraction]:
    """Play one round through Round with the advisor; each seat's net in bets."""
    game = Round(rules, shoe, bets={seat: bet for seat in range(1, seats + 1)})
    game.deal()
    while game.phase is not Phase.FINISHED:
        turn = game.turn
        assert turn is not None and game.dealer_upcard is not None
        legal = game.legal_actions()
        if game.phase is Phase.INSURANCE:
            game.act(advise(rules, game.hands(turn.seat)[0], game.dealer_upcard, legal,
                            using=table), seat=turn.seat)
            continue
        hand = game.hands(turn.seat)[turn.hand]
        game.act(advise(rules, hand, game.dealer_upcard, legal, using=table))
    outcome = game.outcome
    assert outcome is not None
    return [Fraction(outcome.net(seat), bet) for seat in range(1, seats + 1)]


@settings(max_examples=60, deadline=None)
@given(rules=rules_values(min_bet=1, max_bet=10_000), table=random_charts(),
       seats=st.one_of(st.just(1), st.integers(1, 7)), seed=st.integers(0, 2**32))
def test_fast_path_matches_engine_round_for_round(rules: Rules, table: Chart, seats: int,
                                                  seed: int) -> None:
    """On the same cards, the simulator's kernel and Round+advise draw and win alike.

    One seat takes the kernel's list-free path, so it is drawn half the time."""
    rng = random.Random(seed)
    deck = Shoe(8, seed=seed)
    cards = [deck.draw() for _ in range(300)]
    bet = 10 * rules.blackjack_payout.denominator  # payouts exact in whole chips
    play = _kernel(rules, table)
    for _ in range(25):
        if len(cards) < 120:
            break
        shoe = StackedShoe(cards)
        expected = _engine_round(rules, table, shoe, seats, bet)
        used = len(cards) - shoe.remaining
        points = [card.points for card in reversed(cards)]
        got = play(seats, points.pop)
        assert len(cards) - len(points) == used, "kernel drew a different number of cards"
        assert [Fraction(net).limit_denominator(100) for net in got] == expected
        cards = cards[used:]
        if rng.random() < 0.1:  # now and then, a fresh order mid-shoe
            rng.shuffle(cards)


class _NeedCard(Exception):
    """The kernel asked for a card past the sequence being tried."""


def _kernel_expectation(rules: Rules, first: int, second: int, up: int) -> float:
    """The kernel's expected result of a round dealt ``first, second`` v ``up``, over every
    sequence of later cards, each weighted by its chance off the top of the table's shoe."""
    play = _kernel(rules, chart(rules))
    shoe = [4 * rules.decks] * 9 + [16 * rules.decks]
    total = 0.0
    pending = [((first, up, second), 1.0)]
    while pending:
        prefix, chance = pending.pop()
        cards = list(reversed(prefix))

        def pop() -> int:
            if not cards:
                raise _NeedCard
            return cards.pop()
        try:
            net = play(1, pop)[0]
        except _NeedCard:
            left = list(shoe)
            for points in prefix:
                left[points - 1] -= 1
            size = sum(left)
            pending.extend((prefix + (points,), chance * left[points - 1] / size)
                           for points in range(1, 11) if left[points - 1])
            continue
        total += chance * net
    return total


@pytest.mark.parametrize("spec,first,second,up", [
    ("decks=2,h17", 1, 7, 6),          # soft 18 doubles against a 6; the dealer hits soft 17
    ("decks=2,h17,ls", 10, 6, 10),     # surrender, paid after the peek
    ("decks=8,h17,enhc", 5, 6, 10),    # no hole card: the double is lost to a natural
    ("decks=1,split=2", 1, 1, 10),     # split aces, one card each, a natural card is 21 not BJ
])
def test_kernel_expectation_is_the_exact_value_of_each_hand(spec, first, second, up):
    """Over every card sequence, the kernel's mean result is the analyser's exact value."""
    rules = Rules.from_spec(spec)
    play = PlayRules.of(rules)
    exact = _shoe.initial_value(_shoe.upcard(rules.decks, play.h17, play.peek, up), play,
                                first, second, _basic.derive(play, rules.decks),
                                exact_removal=True)
    assert _kernel_expectation(rules, first, second, up) == pytest.approx(exact, abs=1e-12)


def _paired(rules_a: Rules, rules_b: Rules, table: Chart, rounds: int, seed: int
            ) -> tuple[float, float]:
    """Mean and standard error of (result under a) - (result under b) on identical cards.

    Each round is dealt off the top of a fresh shoe: both kernels get the
    same 24 cards, drawn without replacement.
    """
    play_a, play_b = _kernel(rules_a, table), _kernel(rules_b, table)
    rng = random.Random(seed)
    full = [points for points in range(1, 11) for _ in range(4 * rules_a.decks)]
    full += [10] * (12 * rules_a.decks)
    total = squares = 0.0
    for _ in range(rounds):
        cards = rng.sample(full, 24)
        a, b = list(cards), list(cards)
        difference = play_a(1, a.pop)[0] - play_b(1, b.pop)[0]
        total += difference
        squares += difference * difference
    mean = total / rounds
    return mean, math.sqrt(max(squares / rounds - mean * mean, 0.0) / rounds)


def test_double_after_split_is_worth_what_the_analyser_says():
    """Paired on identical cards, DAS is worth the exact difference, to within 3 standard errors.

    The run resolves about 0.04% (dropping DAS, worth 0.14%, fails by 3.7
    standard errors)."""
    das = Rules.from_spec("decks=2,h17,split=2")
    ndas = Rules.from_spec("decks=2,h17,split=2,ndas")
    table = chart(das)
    mean, error = _paired(das, ndas, table, 100_000, seed=16)
    tables = _basic.derive(PlayRules.of(das), das.decks)
    exact = (_shoe.game_value(PlayRules.of(das), 2, tables)
             - _shoe.game_value(PlayRules.of(ndas), 2, tables))
    assert error < 0.0004
    assert abs(mean - exact) < 3 * error, (mean, exact, error)
    assert exact > 0.001


def test_same_seed_same_result_whatever_the_workers() -> None:
    """A seeded run gives identical figures with one worker or two."""
    one = simulate(Rules(), 120_000, seed=11, workers=1)
    two = simulate(Rules(), 120_000, seed=11, workers=2)
    assert (one.hands, one.player_return, one.stderr) == (two.hands, two.player_return, two.stderr)
    other = simulate(Rules(), 120_000, seed=12)
    assert other.player_return != one.player_return


def test_simulator_agrees_with_exact_infinite_deck_value() -> None:
    """With draws from an infinite deck, the simulated edge is within 3 s.e. of the exact one."""
    rules = Rules()
    result = simulate(rules, 600_000, seed=2024, infinite=True)
    exact = house_edge(rules, infinite=True)  # the player's expected value, negative
    assert abs(result.player_return - exact) < 3 * result.stderr
    assert 0.001 < result.stderr < 0.003


def test_worse_rules_cost_the_player() -> None:
    """6:5 blackjack costs the player about 1.4% more than 3:2 on the same cards."""
    good = simulate(Rules(), 200_000, seed=5)
    bad = simulate(Rules(blackjack_payout=Fraction(6, 5)), 200_000, seed=5)
    assert 0.010 < good.player_return - bad.player_return < 0.018


def test_hand_counts_and_seats() -> None:
    """Hands are counted per seat, and a round deals every seat."""
    hands, rounds, total, squares = play_chunk(Rules(), 700, seed=3, seats=7)
    assert (hands, rounds) == (700, 100)
    assert squares >= abs(total) / 4  # every net is at least half a bet in size, or zero


@pytest.mark.parametrize("bad", [["--hands", "0"], ["--seats", "9"], ["--rules", "decks=99"]])
def test_cli_rejects_bad_options(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad options end with a usage error, not a traceback."""
    with pytest.raises(SystemExit) as exc:
        main(["--hands", "1000", *bad])
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_cli_json_output() -> None:
    """`python -m blackjack.simulate --json` prints one JSON object with the promised keys."""
    out = subprocess.run(
        [sys.executable, "-m", "blackjack.simulate", "--hands", "20000", "--seed", "1",
         "--rules", "h17,ls", "--infinite", "--json"],
        capture_output=True, text=True, check=True, timeout=60).stdout
    data = json.loads(out)
    assert {"hands", "house_edge", "stderr", "hands_per_second"} <= set(data)
    assert data["hands"] == 20000 and data["rules"].startswith("6D H17")


def test_simulator_agrees_with_the_exact_shoe_value() -> None:
    """Off the top of a fresh single deck, the simulated edge is within 3 s.e. of the exact value.

    The long runs in docs/analysis.md do the same to 0.0165% for six games."""
    rules = Rules.from_spec("decks=1")
    result = simulate(rules, 200_000, seed=77, reshuffle_every_round=True)
    exact = house_edge(rules, strategy=Strategy.BASIC)
    assert abs(result.player_return - exact) < 3 * result.stderr


def test_dealing_off_the_top_puts_every_card_back_before_each_round() -> None:
    """With a reshuffle every round, each round starts from the full shoe, whatever was drawn."""
    draws = _ShoeDraws(Rules(decks=2), random.Random(4), infinite=False,
                       reshuffle_every_round=True)
    play = _kernel(Rules(decks=2), chart(Rules(decks=2)))
    for _ in range(50):
        draws.before_round(3)
        assert sorted(draws._cards) == sorted(draws._full)
        play(3, draws.pop)
        assert len(draws._cards) < len(draws._full)
