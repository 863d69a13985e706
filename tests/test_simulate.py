"""Tests for blackjack.simulate: the fast path plays exactly the engine's game."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from blackjack import Phase, Round, Rules, Shoe
from blackjack.analysis import house_edge
from blackjack.simulate import _kernel, _ShoeDraws, main, play_chunk, simulate
from blackjack.strategy import advise
from blackjack.testing import StackedShoe

from engine_helpers import rules_values


def _engine_round(rules: Rules, shoe: StackedShoe, seats: int, bet: int) -> list[Fraction]:
    """Play one round through Round with the advisor; each seat's net in bets."""
    game = Round(rules, shoe, bets={seat: bet for seat in range(1, seats + 1)})
    game.deal()
    while game.phase is not Phase.FINISHED:
        turn = game.turn
        assert turn is not None
        legal = game.legal_actions()
        if game.phase is Phase.INSURANCE:
            game.act(advise(rules, game.hands(turn.seat)[0], game.dealer_upcard, legal),
                     seat=turn.seat)
            continue
        hand = game.hands(turn.seat)[turn.hand]
        game.act(advise(rules, hand, game.dealer_upcard, legal))
    outcome = game.outcome
    assert outcome is not None
    return [Fraction(outcome.net(seat), bet) for seat in range(1, seats + 1)]


@settings(max_examples=60, deadline=None)
@given(rules=rules_values(min_bet=1, max_bet=10_000), seats=st.integers(1, 7), seed=st.integers(0, 2**32))
def test_fast_path_matches_engine_round_for_round(rules: Rules, seats: int, seed: int) -> None:
    """On the same cards, the simulator's kernel and Round+advise draw and win alike."""
    rng = random.Random(seed)
    deck = Shoe(8, seed=seed)
    cards = [deck.draw() for _ in range(300)]
    bet = 10 * rules.blackjack_payout.denominator  # payouts exact in whole chips
    play = _kernel(rules)
    for _ in range(25):
        if len(cards) < 120:
            break
        shoe = StackedShoe(cards)
        expected = _engine_round(rules, shoe, seats, bet)
        used = len(cards) - shoe.remaining
        points = [card.points for card in reversed(cards)]
        got = play(seats, points.pop)
        assert len(cards) - len(points) == used, "kernel drew a different number of cards"
        assert [Fraction(net).limit_denominator(100) for net in got] == expected
        cards = cards[used:]
        if rng.random() < 0.1:  # now and then, a fresh order mid-shoe
            rng.shuffle(cards)


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
    exact = house_edge(rules)  # the player's expected value, negative
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
         "--rules", "h17,ls", "--json"],
        capture_output=True, text=True, check=True, timeout=60).stdout
    data = json.loads(out)
    assert {"hands", "house_edge", "stderr", "hands_per_second"} <= set(data)
    assert data["hands"] == 20000 and data["rules"].startswith("6D H17")


@pytest.mark.parametrize(("spec", "published_return"), [
    # Wizard of Odds house edge calculator: 6 decks, H17, DAS, split to 4, aces once, 3:2.
    ("decks=6,h17", -0.00639),
    # Wizard of Odds blackjack appendix 9: 6 decks, H17, no hole card, DAS, split to 4.
    ("decks=6,h17,enhc", -0.0072705),
])
def test_simulator_agrees_with_published_six_deck_figures(spec: str, published_return: float) -> None:
    """Off the top of a fresh six-deck shoe, the edge is within 3 s.e. of the published figure."""
    result = simulate(Rules.from_spec(spec), 500_000, seed=77, reshuffle_every_round=True)
    assert abs(result.player_return - published_return) < 3 * result.stderr


def test_dealing_off_the_top_puts_every_card_back_before_each_round() -> None:
    """With a reshuffle every round, each round starts from the full shoe, whatever was drawn."""
    draws = _ShoeDraws(Rules(decks=2), random.Random(4), infinite=False,
                       reshuffle_every_round=True)
    play = _kernel(Rules(decks=2))
    for _ in range(50):
        draws.before_round(3)
        assert sorted(draws._cards) == sorted(draws._full)
        play(3, draws.pop)
        assert len(draws._cards) < len(draws._full)
