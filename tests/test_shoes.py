"""Tests for blackjack.server.core.shoes: a table's dealing shoe and its committed successor."""

from __future__ import annotations

import itertools

import pytest

from blackjack.errors import FairShoeError
from blackjack.fair import client_seed, commitment
from blackjack.rules import Rules
from blackjack.server.core.shoes import BURN, ShoeRotation


def _rotation() -> ShoeRotation:
    ids = (f"main-{n}" for n in itertools.count(1))
    return ShoeRotation("main", Rules(decks=2, penetration=0.5), lambda: next(ids))


def test_a_new_table_has_a_committed_next_shoe_and_none_dealing() -> None:
    """Before the first deal only the next shoe exists, committed with the table's terms."""
    shoes = _rotation()
    assert shoes.due and shoes.dealing is None and shoes.dealing_commitment() is None
    public = shoes.next_commitment()
    assert public == {"shoe": "main-1", "scheme": "blackjack-fair/1", "decks": 2, "cut": 52,
                      "burn": BURN, "commitment": shoes.next.commitment}


def test_starting_deals_the_committed_shoe_with_the_players_seeds_and_commits_another() -> None:
    """start() shuffles exactly the announced shoe with the seats' seeds, then commits a new one."""
    shoes = _rotation()
    announced = shoes.next_commitment()
    seeds = [("alice", "x"), ("bob", "")]
    shoe = shoes.start(seeds)
    assert shoes.dealing is shoe and shoes.dealing_id == "main-1"
    assert shoe.commitment == announced["commitment"] and shoe.client_seed == client_seed(seeds)
    assert shoes.seeds == tuple(seeds)
    assert shoes.next_id == "main-2" and shoes.next.commitment != shoe.commitment
    with pytest.raises(RuntimeError):
        shoes.start(seeds)


def test_the_seed_leaves_only_sealed_for_storage_or_revealed_on_retirement() -> None:
    """A dealing shoe's seed is refused to reveal(); retire() reveals it and clears the shoe."""
    shoes = _rotation()
    shoe = shoes.start([("alice", "x")])
    sealed = shoes.sealed_seed()
    assert commitment(sealed, shoe.terms) == shoe.commitment
    with pytest.raises(FairShoeError):
        shoe.reveal()
    assert sealed not in repr(vars(shoes)) and sealed not in repr(shoes.dealing_commitment())
    shoe_id, retired = shoes.retire()
    assert shoe_id == "main-1" and retired.reveal() == sealed
    assert shoes.due and shoes.dealing is None
    with pytest.raises(RuntimeError):
        shoes.retire()
