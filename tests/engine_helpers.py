"""Shared helpers for the rules-engine tests: stacked tables, policies, shoe contents.

Kept small on purpose; each test module imports only what it uses.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Sequence

from hypothesis import strategies as st

from blackjack import Action, Card, DoubleRule, Phase, Round, Rules, Shoe
from blackjack.testing import StackedShoe

Policy = Callable[[Round, int], Action]
"""Chooses an action for a seat that has a legal decision to make."""

ROOT = Path(__file__).resolve().parent.parent


def engine_files() -> list[Path]:
    """Every source file of the engine: all of blackjack/ except the parts on Twisted,
    blackjack/server/ and blackjack/client/."""
    on_twisted = {ROOT / "blackjack" / "server", ROOT / "blackjack" / "client"}
    return sorted(path for path in (ROOT / "blackjack").rglob("*.py")
                  if not on_twisted & set(path.parents))


def engine_modules() -> list[str]:
    """The engine's importable modules by dotted name (``__main__`` scripts left out)."""
    names = []
    for path in engine_files():
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def rules_values(**fixed: object) -> st.SearchStrategy[Rules]:
    """Hypothesis strategy for any valid rules; keyword arguments pin single settings."""
    settings: dict[str, st.SearchStrategy[object]] = {
        "decks": st.integers(1, 8),
        "dealer_hits_soft_17": st.booleans(),
        "blackjack_payout": st.sampled_from(
            [Fraction(3, 2), Fraction(6, 5), Fraction(1, 1), Fraction(2, 1), Fraction(7, 5)]),
        "double": st.sampled_from(DoubleRule),
        "double_after_split": st.booleans(),
        "max_split_hands": st.integers(1, 8),
        "resplit_aces": st.booleans(),
        "hit_split_aces": st.booleans(),
        "surrender": st.booleans(),
        "insurance": st.booleans(),
        "dealer_peek": st.booleans(),
        "min_bet": st.integers(1, 100),
        "max_bet": st.integers(100, 10_000),
        "penetration": st.floats(0.1, 0.95),
    }
    for name, value in fixed.items():
        settings[name] = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return st.builds(Rules, **settings)  # type: ignore[arg-type]


def stacked(players: Sequence[str], dealer: str, then: str = "") -> StackedShoe:
    """A shoe dealing ``players`` (two cards each, in seat order) and ``dealer``
    (``"up hole"``, or just ``"up"`` in the no-hole-card game) in casino order,
    followed by ``then`` for hits, doubles, splits and the dealer's draws.
    """
    hands = [p.split() for p in players]
    dealer_cards = dealer.split()
    order = [h[0] for h in hands] + dealer_cards[:1] + [h[1] for h in hands]
    order += dealer_cards[1:2] + then.split()
    if len(dealer_cards) > 2:
        raise ValueError("put the dealer's draws in `then`")
    return StackedShoe(order)


def dealt(players: Sequence[str], dealer: str, then: str = "",
          bets: dict[int, int] | None = None, **rules: object) -> Round:
    """A round already dealt from :func:`stacked`; seats 1..n bet 10 unless told."""
    seat_bets = bets if bets is not None else {s: 10 for s in range(1, len(players) + 1)}
    round_ = Round(Rules(**rules), stacked(players, dealer, then), seat_bets)  # type: ignore[arg-type]
    round_.deal()
    return round_


def deciding_seat(round_: Round) -> int | None:
    """The seat whose decision the round is waiting for, if any."""
    turn = round_.turn
    return None if turn is None else turn.seat


def simple_policy(round_: Round, seat: int) -> Action:
    """A fixed policy that depends only on the seat's own hand and the upcard.

    It uses every kind of decision so that properties see splits, doubles,
    surrenders, insurance and even money.
    """
    legal = round_.legal_actions(seat)
    hands = round_.hands(seat)
    hand = hands[round_.turn.hand] if round_.turn and round_.phase is Phase.PLAYING else hands[0]
    up = round_.dealer_upcard
    assert up is not None
    if round_.phase is Phase.INSURANCE:
        if Action.EVEN_MONEY in legal and hand.cards[0].suit.value in "SH":
            return Action.EVEN_MONEY
        if Action.INSURANCE in legal and hand.total % 2 == 0:
            return Action.INSURANCE
        return Action.NO_INSURANCE
    if Action.SPLIT in legal and hand.cards[0].points in (1, 8, 9, 2):
        return Action.SPLIT
    if Action.SURRENDER in legal and hand.total == 16 and up.points >= 9:
        return Action.SURRENDER
    if Action.DOUBLE in legal and hand.total in (9, 10, 11):
        return Action.DOUBLE
    if Action.HIT in legal and (hand.total < 12 or (hand.total < 17 and up.points >= 7)
                                or (hand.is_soft and hand.total < 18)):
        return Action.HIT
    return Action.STAND


def random_policy(rng: random.Random) -> Policy:
    """A policy picking uniformly among the legal actions, reproducibly."""
    def choose(round_: Round, seat: int) -> Action:
        return rng.choice(sorted(round_.legal_actions(seat), key=lambda a: a.value))
    return choose


def play(round_: Round, policy: Policy,
         after_each: Callable[[Round], None] | None = None) -> None:
    """Deal if needed, then act with ``policy`` until the round is finished.

    ``after_each`` runs after the deal and after every action.
    """
    if round_.phase is Phase.BETTING:
        round_.deal()
        if after_each:
            after_each(round_)
    for _ in range(500):
        seat = deciding_seat(round_)
        if seat is None:
            break
        round_.act(policy(round_, seat), seat)
        if after_each:
            after_each(round_)
    assert round_.phase is Phase.FINISHED, round_


def shoe_contents(shoe: Shoe) -> Counter[Card]:
    """Every card in the shoe or its discard tray, read through the public API.

    A copy of the shoe gathers its discards with :meth:`Shoe.shuffle` and is
    then drawn dry, so the real shoe is not disturbed.
    """
    probe = copy.deepcopy(shoe)
    probe.shuffle()
    return Counter(probe.draw() for _ in range(probe.remaining))


def next_cards(shoe: Shoe, count: int) -> list[Card]:
    """The next ``count`` cards the shoe would deal, without dealing them."""
    probe = copy.deepcopy(shoe)
    return [probe.draw() for _ in range(min(count, probe.remaining))]


def cards_in_json(data: object) -> set[str]:
    """Every string in JSON-ready ``data`` (keys and values) that is a card's wire form."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) == 2:
            try:
                Card.parse(value)
            except ValueError:
                return
            found.add(value)

    # Through real JSON, so that whatever a client would receive is what is checked.
    walk(json.loads(json.dumps(data)))
    return found


def kinds(events: Iterable[object]) -> list[str]:
    """The ``kind`` of each event, in order."""
    return [e.kind for e in events]  # type: ignore[attr-defined]
