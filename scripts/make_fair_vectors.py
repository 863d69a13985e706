"""Write docs/fair-vectors.json: test vectors for the blackjack-fair/1 scheme.

Run from the repository root: ``python scripts/make_fair_vectors.py``.  The
vectors are made by the reference implementation (:mod:`blackjack.fair`) from
fixed seeds, and the test suite checks them against it and against a second,
independent implementation written from ``docs/fairness.md`` alone, so the
file changes only if the scheme does (and then it needs a new name).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

from blackjack import Action, Phase, Round, Rules
from blackjack.cards import full_deck, parse_cards
from blackjack.fair import (
    SCHEME, FairShoe, ShoeTerms, below, client_seed, commitment, preimage, shuffle_order,
    words,
)
from blackjack.replay import Decision, RoundRecord, drawn_cards
from blackjack.verify import ShoeRecord

OUT = Path(__file__).resolve().parent.parent / "docs" / "fair-vectors.json"


def _seed(label: str) -> str:
    """A fixed server seed for a vector: SHA-256 of a label (never do this for real)."""
    return hashlib.sha256(label.encode()).hexdigest()


def _played_shoe() -> dict[str, object]:
    """A one-deck shoe played to its cut card by four seats, with a mid-round reshuffle."""
    rules = Rules.from_spec("single,pen=0.95,ls,min=10,max=100")
    terms = ShoeTerms.of(rules.decks, rules.penetration, burn=1)
    seeds = (("alice", "lucky seven"), ("bob", ""), ("carol", "🂡 ace"))
    server = _seed("vector shoe")
    shoe = FairShoe(terms, server)
    shoe.start(client_seed(seeds))
    rng = random.Random(15)
    rounds = []
    clock = 1_767_225_600.0
    while not shoe.needs_shuffle:
        first = shoe.position
        bets = {1: 10, 3: 20, 5: 15, 7: 10}
        rnd = Round(rules, shoe, bets)
        rnd.deal()
        decisions = []
        while rnd.phase is not Phase.FINISHED:
            turn = rnd.turn
            assert turn is not None
            legal = sorted(rnd.legal_actions(turn.seat), key=lambda a: a.value)
            action = rng.choice(legal)
            clock += 3.25
            by = "timer" if action in (Action.STAND, Action.NO_INSURANCE) and rng.random() < 0.2 \
                else "player"
            decisions.append(Decision(turn.seat, turn.hand, action, clock, by))
            rnd.act(action, seat=turn.seat)
        assert rnd.outcome is not None
        rounds.append(RoundRecord(f"vector-{len(rounds) + 1}", rules, bets, drawn_cards(rnd),
                                  tuple(decisions), first, rnd.outcome.to_dict()))
        clock += 20
    assert shoe.shuffles > 1, "the vector shoe should show a reshuffle of the discards"
    record = ShoeRecord("vector-shoe", terms, shoe.commitment, shoe.retire(),
                        shoe.client_seed or "", seeds, "cut card", tuple(rounds))
    return record.to_dict()


def render() -> str:
    """The vector file's text."""
    terms = ShoeTerms(6, 234, 1)
    server = _seed("vector 1")
    client = client_seed([("alice", "hello"), ("bob", "world")])
    deck = full_deck()
    vectors = {
        "scheme": SCHEME,
        "about": "Test vectors for the blackjack-fair/1 scheme (docs/fairness.md). Seeds "
                 "are hex; cards are rank then suit (A 2-9 T J Q K, S H D C).",
        "canonical_deck": [str(c) for c in deck],
        "commitments": [
            {"server_seed": seed, "decks": t.decks, "cut": t.cut, "burn": t.burn,
             "preimage": preimage(seed, t), "commitment": commitment(seed, t)}
            for seed, t in ((server, terms), (_seed("vector 2"), ShoeTerms(1, 39, 0)),
                            (_seed("vector 2"), ShoeTerms(1, 40, 0)))],
        "client_seeds": [
            {"seeds": [{"player": p, "seed": s} for p, s in seeds],
             "client_seed": client_seed(seeds)}
            for seeds in ([("alice", "hello"), ("bob", "world")],
                          [("bob", "world"), ("alice", "hello")],
                          [("carol", "")], [("dave", "naïve ☃")])],
        "streams": [
            {"server_seed": server, "client_seed": client, "nonce": nonce,
             "words": [next(stream) for _ in range(20)]}
            for nonce in (0, 1, 7)
            for stream in (words(server, client, nonce),)],
        "below": [
            {"words": w, "n": n, "value": below(iter(w), n),
             "used": next(i for i in range(len(w)) if w[i] < 2**32 - 2**32 % n) + 1}
            for w, n in (([7, 8], 3), ([4294967295, 5], 3), ([4294967295, 4294967294, 12], 5),
                         ([4294967290, 1], 52 * 8), ([2**32 - 1, 0], 1 << 31))],
        "shuffles": [
            {"server_seed": server, "client_seed": client, "nonce": nonce,
             "cards": cards, "order": [str(c) for c in shuffle_order(
                 parse_cards(cards), server, client, nonce)]}
            for nonce, cards in ((0, ["AS", "2S", "3S", "4S", "5S"]),
                                 (3, ["AS", "2S", "3S", "4S", "5S"]),
                                 (0, [str(c) for c in deck]))],
        "shoes": [],
        "records": [],
    }
    for seed, t in ((server, terms), (_seed("vector 2"), ShoeTerms(1, 39, 0))):
        shoe = FairShoe(t, seed)
        shoe.start(client)
        vectors["shoes"].append({  # type: ignore[union-attr]
            "server_seed": seed, "client_seed": client, "decks": t.decks, "cut": t.cut,
            "burn": t.burn, "burnt": [str(c) for c in shoe.burnt],
            "first_dealt": [str(shoe.draw()) for _ in range(30)]})
    record = _played_shoe()
    vectors["records"].append({"record": record, "verified": True})  # type: ignore[union-attr]
    return json.dumps(vectors, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
