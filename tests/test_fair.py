"""Tests for blackjack.fair: the provably fair shoe, its stream, shuffle and vectors."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import struct
from collections import Counter
from typing import Callable, Iterator, Sequence

import pytest

from blackjack import InvalidArgumentError, Phase, Round, Rules, full_deck, parse_cards
from blackjack.cards import Card
from blackjack.errors import FairShoeError, ShoeExhaustedError
from blackjack.fair import (
    SCHEME, FairShoe, ShoeTerms, below, canonical_order, client_seed, commitment, preimage,
    shuffle_order, words,
)
from blackjack.shoe import Shoe
from engine_helpers import ROOT

VECTORS = json.loads((ROOT / "docs" / "fair-vectors.json").read_text(encoding="utf-8"))
SEED = "ab" * 32
CLIENT = client_seed([("alice", "hello")])


def _started(terms: ShoeTerms, seed: str = SEED) -> FairShoe:
    shoe = FairShoe(terms, seed)
    shoe.start(CLIENT)
    return shoe


# --- the commitment and the seeds ------------------------------------------------------


def test_commitment_is_sha256_of_the_preimage_line() -> None:
    """The commitment is SHA-256 of 'blackjack-fair/1 decks=D cut=C burn=B seed=HEX'."""
    terms = ShoeTerms(6, 234, 1)
    line = f"{SCHEME} decks=6 cut=234 burn=1 seed={SEED}"
    assert preimage(SEED, terms) == line
    assert commitment(SEED, terms) == hashlib.sha256(line.encode()).hexdigest()
    assert commitment(bytes.fromhex(SEED), terms) == commitment(SEED, terms)


def test_the_commitment_binds_every_term() -> None:
    """Moving the cut card, changing the burns or the decks changes the commitment."""
    base = commitment(SEED, ShoeTerms(6, 234, 1))
    others = {commitment(SEED, ShoeTerms(6, 235, 1)), commitment(SEED, ShoeTerms(6, 234, 2)),
              commitment(SEED, ShoeTerms(5, 234, 1)), commitment("cd" * 32, ShoeTerms(6, 234, 1))}
    assert base not in others and len(others) == 4


def test_a_new_shoe_draws_a_fresh_seed_each_time() -> None:
    """Two shoes made without a seed commit differently (a fresh 256-bit seed each)."""
    terms = ShoeTerms.of(6, 0.75)
    assert FairShoe(terms).commitment != FairShoe(terms).commitment


def test_client_seed_depends_on_every_player_and_their_order() -> None:
    """Each player's seed, name and seat order change the client seed."""
    both = client_seed([("alice", "a"), ("bob", "b")])
    assert client_seed([("alice", "a"), ("bob", "c")]) != both
    assert client_seed([("bob", "b"), ("alice", "a")]) != both
    assert client_seed([("alice", "a")]) != both
    # The seed is hashed before it is joined: no text can pass for another line.
    assert client_seed([("alice", "a\nbob:x")]) != client_seed([("alice", "a"), ("bob", "x")])


@pytest.mark.parametrize("bad", [[("al:ice", "x")], [("alice", 3)], ["alice"], [("", "x")]])
def test_client_seed_refuses_malformed_contributions(bad: list[object]) -> None:
    """A contribution that is not (name, text), or a name with ':', is refused."""
    with pytest.raises(InvalidArgumentError):
        client_seed(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", ["AB" * 32, "ab" * 31, b"\x00" * 31, 7])
def test_server_seeds_must_be_256_bits(seed: object) -> None:
    """A server seed is 32 bytes or 64 lowercase hex digits; anything else is refused."""
    with pytest.raises(InvalidArgumentError):
        FairShoe(ShoeTerms(1, 40), seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("args", [(1, 0, 0), (1, 53, 0), (1, 10, 10), (9, 10, 1), (1, 10, -1)])
def test_terms_are_checked(args: tuple[int, int, int]) -> None:
    """A cut outside the shoe, burns not below the cut, or 9 decks are refused."""
    with pytest.raises(Exception) as caught:
        ShoeTerms(*args)
    assert isinstance(caught.value, (InvalidArgumentError, ValueError))


def test_terms_of_a_table_put_the_cut_where_a_plain_shoe_does() -> None:
    """ShoeTerms.of places the cut card at int(size * penetration), as Shoe does."""
    assert ShoeTerms.of(6, 0.75).cut == int(312 * 0.75) == 234
    assert ShoeTerms.of(2, 0.5, burn=0) == ShoeTerms(2, 52, 0)


# --- the stream, rejection sampling and the shuffle ---------------------------------


def test_words_are_hmac_sha256_blocks_read_big_endian() -> None:
    """Block i is HMAC-SHA256(seed, 'client:nonce:i'); its 32 bytes give 8 words."""
    stream = words(SEED, CLIENT, 4)
    got = [next(stream) for _ in range(16)]
    for block in (0, 1):
        digest = hmac.new(bytes.fromhex(SEED), f"{CLIENT}:4:{block}".encode(),
                          hashlib.sha256).digest()
        assert got[8 * block:8 * block + 8] == list(struct.unpack(">8I", digest))


def test_below_rejects_words_past_the_last_whole_multiple() -> None:
    """Words at or above 2**32 - 2**32 % n are skipped: 2**32-1 is refused for n=3."""
    assert below(iter([2**32 - 1, 5]), 3) == 2
    stream = iter([2**32 - 1, 2**32 - 2, 12, 99])
    assert below(stream, 5) == 4 and next(stream) == 12  # 2**32-2 < limit for 5
    assert below(iter([2**32 - 1]), 2**31) == 2**31 - 1  # a power of two rejects nothing


def test_below_refuses_an_empty_range() -> None:
    """n must be at least 1."""
    with pytest.raises(InvalidArgumentError):
        below(iter([1]), 0)


def test_the_shuffle_is_a_permutation_and_depends_on_every_input() -> None:
    """Shuffling keeps the cards; seed, client seed and nonce each change the order."""
    deck = full_deck()
    order = shuffle_order(deck, SEED, CLIENT, 0)
    assert Counter(order) == Counter(deck) and order != deck
    assert shuffle_order(deck, "cd" * 32, CLIENT, 0) != order
    assert shuffle_order(deck, SEED, client_seed([("bob", "x")]), 0) != order
    assert shuffle_order(deck, SEED, CLIENT, 1) != order
    assert shuffle_order(deck, SEED, CLIENT, 0) == order


def test_canonical_order_ignores_how_the_cards_were_gathered() -> None:
    """Sorting puts cards in full_deck order, duplicates side by side."""
    cards = parse_cards("KC AS 2H AS TD")
    assert [str(c) for c in canonical_order(reversed(cards))] == ["AS", "AS", "2H", "TD", "KC"]
    assert canonical_order(full_deck() * 2) == sorted(full_deck() * 2,
                                                      key=full_deck().index)


def _fisher_yates(n: int, stream: Iterator[int]) -> tuple[int, ...]:
    items = list(range(n))
    for i in range(n - 1, 0, -1):
        j = below(stream, i + 1)
        items[i], items[j] = items[j], items[i]
    return tuple(items)


def _naive_swap(n: int, stream: Iterator[int]) -> tuple[int, ...]:
    """The classic bug: swap each item with any position, n**n equally likely paths."""
    items = list(range(n))
    for i in range(n - 1, -1, -1):
        j = below(stream, n)
        items[i], items[j] = items[j], items[i]
    return tuple(items)


def _sattolo(n: int, stream: Iterator[int]) -> tuple[int, ...]:
    """The off-by-one bug: j below i, not i + 1, gives only cyclic permutations."""
    items = list(range(n))
    for i in range(n - 1, 0, -1):
        j = below(stream, i)
        items[i], items[j] = items[j], items[i]
    return tuple(items)


def _chi_square(shuffle: Callable[[int, Iterator[int]], tuple[int, ...]], n: int,
                trials: int) -> float:
    """Pearson's statistic of the permutations ``shuffle`` makes over ``trials`` streams."""
    seen = Counter(shuffle(n, words(SEED, client_seed([("p", str(t))]), t % 3))
                   for t in range(trials))
    expected = trials / math.factorial(n)
    return sum((seen.get(p, 0) - expected) ** 2 / expected
               for p in itertools.permutations(range(n)))


# 119 degrees of freedom: the 99.9th percentile of chi-square is 173.6.
_CRITICAL_5 = 173.6


def test_the_shuffle_is_uniform_over_every_permutation() -> None:
    """Over 36,000 shuffles of 5 cards all 120 orders come up evenly (chi-square, p > 0.001)."""
    cards = parse_cards("AS 2S 3S 4S 5S")
    for nonce in range(5):  # the helper below is the library's shuffle, index for index
        order = _fisher_yates(5, words(SEED, CLIENT, nonce))
        assert shuffle_order(cards, SEED, CLIENT, nonce) == [cards[i] for i in order]
    assert _chi_square(_fisher_yates, 5, 36_000) < _CRITICAL_5


@pytest.mark.parametrize("buggy", [_naive_swap, _sattolo])
def test_the_uniformity_test_catches_the_classic_shuffle_bugs(
        buggy: Callable[[int, Iterator[int]], tuple[int, ...]]) -> None:
    """The same chi-square test fails a naive swap and Sattolo's off-by-one."""
    assert _chi_square(buggy, 5, 36_000) > 3 * _CRITICAL_5


# --- the shoe ---------------------------------------------------------------------------


def test_a_started_shoe_burns_then_deals_in_order_from_position_zero() -> None:
    """Position 0 of the nonce-0 shuffle is burnt; the next card dealt is position 1."""
    terms = ShoeTerms(1, 40, 1)
    order = shuffle_order(canonical_order(full_deck()), SEED, CLIENT, 0)
    shoe = _started(terms)
    assert shoe.burnt == (order[0],) and shoe.position == 1
    assert [shoe.draw() for _ in range(10)] == order[1:11]
    assert shoe.position == 11 and shoe.discarded == 1


def test_the_cut_card_comes_out_after_cut_cards_burns_included() -> None:
    """needs_shuffle turns true once `cut` cards have left the shoe, counting the burn."""
    shoe = _started(ShoeTerms(1, 10, 1))
    for _ in range(8):
        shoe.draw()
    assert not shoe.needs_shuffle
    shoe.draw()
    assert shoe.needs_shuffle and shoe.position == 10


def test_an_empty_shoe_reshuffles_its_sorted_discards_with_the_next_nonce() -> None:
    """Mid-round, the discards are sorted, shuffled with nonce 1, and dealt on."""
    shoe = _started(ShoeTerms(1, 50, 1))
    first = [shoe.draw() for _ in range(51)]
    shoe.discard(first[:20])
    expected = shuffle_order(canonical_order([*shoe.burnt, *first[:20]]), SEED, CLIENT, 1)
    assert [shoe.draw() for _ in range(21)] == expected
    assert shoe.shuffles == 2 and shoe.position == 73
    with pytest.raises(ShoeExhaustedError):
        shoe.draw()


def test_the_seed_is_revealed_only_once_retired() -> None:
    """reveal() refuses while the shoe may deal; retire() gives the seed, then draws fail."""
    shoe = _started(ShoeTerms(1, 40))
    with pytest.raises(FairShoeError):
        shoe.reveal()
    assert SEED not in repr(shoe) and SEED not in str(vars(shoe).get("commitment"))
    assert shoe.retire() == SEED == shoe.reveal()
    with pytest.raises(FairShoeError):
        shoe.draw()


def test_a_fair_shoe_must_be_started_once_and_never_reshuffled() -> None:
    """Drawing before start(), starting twice, or shuffle() between rounds is refused."""
    shoe = FairShoe(ShoeTerms(1, 40), SEED)
    with pytest.raises(FairShoeError):
        shoe.draw()
    shoe.start(CLIENT)
    with pytest.raises(FairShoeError):
        shoe.start(CLIENT)
    with pytest.raises(FairShoeError):
        shoe.shuffle()


def test_a_round_deals_from_a_fair_shoe_like_any_shoe() -> None:
    """A Round takes a FairShoe; its cards are the shoe's order after the burn."""
    shoe = _started(ShoeTerms(6, 234, 1))
    order = shuffle_order(canonical_order(full_deck() * 6), SEED, CLIENT, 0)
    rnd = Round(Rules(), shoe, {1: 10})
    rnd.deal()
    while rnd.phase is not Phase.FINISHED:
        rnd.act("no" if rnd.phase is Phase.INSURANCE else "stand")
    assert isinstance(shoe, Shoe)
    from blackjack.replay import drawn_cards
    assert list(drawn_cards(rnd)) == order[1:shoe.position]


# --- the shipped test vectors, against a second implementation of the spec --------------


def _spec_words(seed: str, client: str, nonce: int) -> Iterator[int]:
    """docs/fairness.md, section "The stream", written out again without blackjack.fair."""
    for block in itertools.count():
        digest = hmac.new(bytes.fromhex(seed), f"{client}:{nonce}:{block}".encode("ascii"),
                          hashlib.sha256).digest()
        yield from struct.unpack(">8I", digest)


def _spec_below(stream: Iterator[int], n: int) -> int:
    limit = (1 << 32) // n * n
    return next(w for w in stream if w < limit) % n


def _spec_shuffle(cards: Sequence[str], seed: str, client: str, nonce: int) -> list[str]:
    items, stream = list(cards), _spec_words(seed, client, nonce)
    for i in range(len(items) - 1, 0, -1):
        j = _spec_below(stream, i + 1)
        items[i], items[j] = items[j], items[i]
    return items


def _spec_client_seed(seeds: list[dict[str, str]]) -> str:
    lines = "".join(f"{s['player']}:{hashlib.sha256(s['seed'].encode()).hexdigest()}\n"
                    for s in seeds)
    return hashlib.sha256(lines.encode()).hexdigest()


def test_vectors_name_this_scheme_and_its_canonical_deck() -> None:
    """The vectors are for blackjack-fair/1 and list the canonical deck order."""
    assert VECTORS["scheme"] == SCHEME
    assert VECTORS["canonical_deck"] == [str(c) for c in full_deck()]


def test_commitment_vectors() -> None:
    """Every commitment vector's preimage and hash match both implementations."""
    for v in VECTORS["commitments"]:
        terms = ShoeTerms(v["decks"], v["cut"], v["burn"])
        assert preimage(v["server_seed"], terms) == v["preimage"]
        assert commitment(v["server_seed"], terms) == v["commitment"]
        assert hashlib.sha256(v["preimage"].encode()).hexdigest() == v["commitment"]


def test_client_seed_vectors() -> None:
    """Every client seed vector matches both implementations."""
    for v in VECTORS["client_seeds"]:
        assert client_seed([(s["player"], s["seed"]) for s in v["seeds"]]) == v["client_seed"]
        assert _spec_client_seed(v["seeds"]) == v["client_seed"]


def test_stream_and_rejection_vectors() -> None:
    """Stream words and rejection-sampling vectors match both implementations."""
    for v in VECTORS["streams"]:
        ours = words(v["server_seed"], v["client_seed"], v["nonce"])
        spec = _spec_words(v["server_seed"], v["client_seed"], v["nonce"])
        assert [next(ours) for _ in v["words"]] == [next(spec) for _ in v["words"]] == v["words"]
    for v in VECTORS["below"]:
        stream = iter(v["words"])
        assert below(stream, v["n"]) == v["value"]
        assert len(v["words"]) - len(list(stream)) == v["used"]
        assert _spec_below(iter(v["words"]), v["n"]) == v["value"]


def test_shuffle_and_shoe_vectors() -> None:
    """Shuffles, burns and the first cards dealt match both implementations."""
    for v in VECTORS["shuffles"]:
        args = (v["server_seed"], v["client_seed"], v["nonce"])
        assert [str(c) for c in shuffle_order(parse_cards(v["cards"]), *args)] == v["order"]
        assert _spec_shuffle(v["cards"], *args) == v["order"]
    for v in VECTORS["shoes"]:
        shoe = FairShoe(ShoeTerms(v["decks"], v["cut"], v["burn"]), v["server_seed"])
        shoe.start(v["client_seed"])
        assert [str(c) for c in shoe.burnt] == v["burnt"]
        assert [str(shoe.draw()) for _ in v["first_dealt"]] == v["first_dealt"]
        shoe_order = [c for c in VECTORS["canonical_deck"] for _ in range(v["decks"])]
        spec = _spec_shuffle(shoe_order, v["server_seed"], v["client_seed"], 0)
        assert spec[:v["burn"]] == v["burnt"]
        assert spec[v["burn"]:v["burn"] + len(v["first_dealt"])] == v["first_dealt"]


def test_the_vector_file_is_what_the_generator_writes() -> None:
    """scripts/make_fair_vectors.py still makes exactly the shipped file."""
    import runpy
    made = runpy.run_path(str(ROOT / "scripts" / "make_fair_vectors.py"))["render"]()
    assert made == (ROOT / "docs" / "fair-vectors.json").read_text(encoding="utf-8")
