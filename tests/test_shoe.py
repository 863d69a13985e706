"""Tests for blackjack.shoe (the dealing shoe) and blackjack.testing (the stacked shoe)."""

from __future__ import annotations

import random
import secrets
from collections import Counter

import pytest

from blackjack import RulesError, Shoe, ShoeExhaustedError, full_deck, parse_cards
from blackjack.testing import StackedShoe
from engine_helpers import shoe_contents


def _draw(shoe: Shoe, count: int) -> list[str]:
    return [str(shoe.draw()) for _ in range(count)]


def test_same_seed_deals_the_same_cards() -> None:
    """Two shoes with the same seed deal the same sequence; another seed deals another."""
    assert _draw(Shoe(seed=7), 100) == _draw(Shoe(seed=7), 100)
    assert _draw(Shoe(seed=7), 100) != _draw(Shoe(seed=8), 100)


def test_injected_rng_is_used_for_shuffling() -> None:
    """A shoe given rng=random.Random(s) deals exactly as one given seed=s."""
    assert _draw(Shoe(rng=random.Random(3)), 60) == _draw(Shoe(seed=3), 60)


def test_rng_and_seed_together_are_rejected() -> None:
    """Giving both an rng and a seed is an error rather than a silent choice."""
    with pytest.raises(ValueError):
        Shoe(rng=random.Random(1), seed=1)


def test_default_rng_is_the_system_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without rng or seed the shoe shuffles with secrets.SystemRandom."""
    made: list[object] = []

    class SpyRandom(secrets.SystemRandom):
        def shuffle(self, x: list) -> None:  # type: ignore[override]
            made.append(self)
            super().shuffle(x)

    monkeypatch.setattr(secrets, "SystemRandom", SpyRandom)
    Shoe(decks=1)
    assert made and all(isinstance(r, SpyRandom) for r in made)


def test_default_rng_never_touches_the_global_random_module() -> None:
    """Seeding the global random module does not make default shoes repeat, nor do they consume it."""
    random.seed(12345)
    first = _draw(Shoe(decks=1), 52)
    random.seed(12345)
    state = random.getstate()
    second = _draw(Shoe(decks=1), 52)
    assert random.getstate() == state
    assert first != second


@pytest.mark.parametrize("decks", [1, 2, 6, 8])
def test_a_new_shoe_holds_exactly_its_decks(decks: int) -> None:
    """A new shoe of n decks holds each of the 52 cards exactly n times."""
    shoe = Shoe(decks=decks, seed=1)
    assert shoe.size == shoe.remaining == 52 * decks
    assert shoe.discarded == 0
    assert Counter(shoe.draw() for _ in range(shoe.size)) == Counter(full_deck() * decks)


@pytest.mark.parametrize("kwargs", [
    {"decks": 0}, {"decks": 9}, {"penetration": 0.05}, {"penetration": 0.99},
])
def test_out_of_range_settings_are_rejected(kwargs: dict[str, float]) -> None:
    """Decks outside 1-8 and penetration outside 0.1-0.95 raise RulesError."""
    with pytest.raises(RulesError):
        Shoe(**kwargs)  # type: ignore[arg-type]


def test_needs_shuffle_turns_true_when_the_cut_card_comes_out() -> None:
    """needs_shuffle is false until penetration * size cards are dealt, then true."""
    shoe = Shoe(decks=2, penetration=0.5, seed=2)
    cut = int(104 * 0.5)
    for _ in range(cut - 1):
        shoe.draw()
    assert not shoe.needs_shuffle
    shoe.draw()
    assert shoe.needs_shuffle


def test_discarded_cards_still_count_towards_the_cut_card() -> None:
    """Cards moved to the discard tray stay dealt for the cut card until a shuffle."""
    shoe = Shoe(decks=1, penetration=0.5, seed=2)
    shoe.discard([shoe.draw() for _ in range(26)])
    assert shoe.needs_shuffle
    shoe.shuffle()
    assert not shoe.needs_shuffle


def test_reshuffle_brings_back_every_discarded_card() -> None:
    """After dealing and discarding, shuffle() restores the full decks to the shoe."""
    shoe = Shoe(decks=2, seed=4)
    shoe.discard([shoe.draw() for _ in range(80)])
    assert (shoe.remaining, shoe.discarded) == (24, 80)
    shoe.shuffle()
    assert (shoe.remaining, shoe.discarded) == (104, 0)
    assert shoe.shuffles == 2
    assert shoe_contents(shoe) == Counter(full_deck() * 2)


def test_shuffle_leaves_cards_on_the_table_out() -> None:
    """Cards dealt and not yet discarded are not shuffled back in until discarded."""
    shoe = Shoe(decks=1, seed=5)
    on_table = [shoe.draw() for _ in range(5)]
    shoe.shuffle()
    assert shoe.remaining == 47
    assert shoe_contents(shoe) + Counter(on_table) == Counter(full_deck())
    shoe.discard(on_table)
    shoe.shuffle()
    assert shoe.remaining == 52


def test_an_empty_shoe_reshuffles_its_discards_to_finish_a_round() -> None:
    """Drawing from an empty shoe shuffles the discards back in; with none left it fails."""
    shoe = Shoe(decks=1, seed=6)
    out = [shoe.draw() for _ in range(52)]
    shoe.discard(out[:10])
    again = [shoe.draw() for _ in range(10)]
    assert Counter(again) == Counter(out[:10])
    with pytest.raises(RuntimeError):
        shoe.draw()


def test_stacked_shoe_deals_its_cards_in_order() -> None:
    """A StackedShoe deals exactly the given cards, first card first."""
    shoe = StackedShoe("AS KD 9H")
    assert [shoe.draw() for _ in range(3)] == parse_cards("AS KD 9H")
    assert shoe.remaining == 0


def test_stacked_shoe_running_out_is_an_error() -> None:
    """Drawing past the stacked cards raises ShoeExhaustedError, even with discards."""
    shoe = StackedShoe(["AS"])
    shoe.discard([shoe.draw()])
    with pytest.raises(ShoeExhaustedError):
        shoe.draw()


def test_stacked_shoe_push_adds_cards_after_the_stack() -> None:
    """push() queues more cards to be dealt after those already stacked."""
    shoe = StackedShoe("AS")
    shoe.push("2C 3D")
    assert [str(shoe.draw()) for _ in range(3)] == ["AS", "2C", "3D"]


def test_stacked_shoe_never_reshuffles() -> None:
    """A stacked shoe never asks for a shuffle and shuffle() keeps its order."""
    shoe = StackedShoe("AS KD 9H 8C")
    shoe.draw()
    shoe.shuffle()
    assert not shoe.needs_shuffle
    assert [str(shoe.draw()) for _ in range(3)] == ["KD", "9H", "8C"]
