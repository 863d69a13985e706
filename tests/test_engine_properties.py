"""Hypothesis properties of whole rounds: cards and chips conserved, exact settlement,
no secrets in views, reproducibility, and a house edge independent of bet size and seat count.
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from math import floor

from hypothesis import assume, given, settings, strategies as st

from blackjack import (
    Action, Card, Hand, HandResult, Phase, Result, Round, Rules, Shoe, full_deck,
)
from blackjack.testing import StackedShoe
from engine_helpers import (
    cards_in_json, next_cards, play, random_policy, rules_values, shoe_contents,
    simple_policy, stacked,
)

PROPERTY = settings(max_examples=60, deadline=None)

table_rules = rules_values(
    blackjack_payout=st.sampled_from([Fraction(3, 2), Fraction(6, 5), Fraction(1, 1)]),
    max_split_hands=st.integers(1, 4), min_bet=1, max_bet=1000, penetration=0.75)
seat_sets = st.sets(st.integers(1, 7), min_size=1, max_size=7).map(sorted)
seeds = st.integers(0, 2**32 - 1)


def _must_hit(cards: tuple, h17: bool) -> bool:
    """Whether a dealer holding ``cards`` draws again (independent of the engine)."""
    hand = Hand(cards)
    return hand.total < 17 or (hand.total == 17 and hand.is_soft and h17)


def _expected_settlement(h: HandResult, dealer: Hand, rules: Rules, split: bool,
                         surrendered: bool, even_money: bool) -> tuple[Result, int]:
    """What a hand should be paid, computed from the casino's rules directly."""
    hand = Hand(h.cards, split)
    stake = h.stake
    dealer_bj = dealer.is_blackjack
    if even_money:
        return Result.EVEN_MONEY, 2 * stake
    if hand.is_blackjack:
        if dealer_bj:
            return Result.PUSH, stake
        return Result.BLACKJACK, stake + floor(stake * rules.blackjack_payout)
    if surrendered:
        return (Result.LOSE, 0) if dealer_bj else (Result.SURRENDER, stake // 2)
    if hand.is_bust:
        return Result.BUST, 0
    if dealer_bj:
        return Result.LOSE, 0
    if dealer.is_bust or hand.total > dealer.total:
        return Result.WIN, 2 * stake
    if hand.total == dealer.total:
        return Result.PUSH, stake
    return Result.LOSE, 0


def _check_live_invariants(round_: Round, deck: Counter) -> None:
    """What must hold after every verb: cards conserved, someone can always act."""
    shoe = round_.shoe
    assert shoe.remaining + shoe.discarded + len(round_.cards_out()) == shoe.size
    assert shoe_contents(shoe) + Counter(round_.cards_out()) == deck
    if round_.phase is Phase.INSURANCE:
        pending = round_.insurance_pending
        assert pending and round_.turn is not None and round_.turn.seat in pending
        for seat in round_.bets:
            legal = round_.legal_actions(seat)
            if seat in pending:
                natural = round_.hands(seat)[0].is_blackjack
                offer = Action.EVEN_MONEY if natural else Action.INSURANCE
                assert legal == {offer, Action.NO_INSURANCE}
            else:
                assert legal == frozenset()
    elif round_.phase is Phase.PLAYING:
        assert round_.turn is not None
        # A hand on 21 has nothing to decide: it stands by itself.
        assert round_.hands(round_.turn.seat)[round_.turn.hand].total < 21
        assert Action.STAND in round_.legal_actions()
        assert not any(a.is_insurance_decision for a in round_.legal_actions())
    else:
        assert round_.phase in (Phase.BETTING, Phase.FINISHED) and round_.turn is None


def _check_settlement(round_: Round) -> None:
    """Every hand is paid what the rules say, and the dealer drew by the rules."""
    outcome = round_.outcome
    assert outcome is not None
    rules = round_.rules
    surrendered = {(e.seat, e.hand) for e in round_.events
                   if e.kind == "action" and e.action == "surrender"}
    even_money = {e.seat for e in round_.events
                  if e.kind == "decision" and e.action == Action.EVEN_MONEY.value}
    dealer = outcome.dealer
    for h in outcome.hands:
        split = len(round_.hands(h.seat)) > 1
        expected = _expected_settlement(h, dealer, rules, split, (h.seat, h.hand) in surrendered,
                                        h.seat in even_money)
        assert (h.result, h.payout) == expected, h
        assert len(h.cards) >= 2 and h.payout >= 0
        if (h.seat, h.hand) in surrendered:
            assert len(h.cards) == 2 and not split, f"surrender is a first decision: {h}"
        if h.stake == 2 * round_.bets[h.seat]:
            assert len(h.cards) == 3, f"a doubled hand takes exactly one card: {h}"
        if split and h.cards[0].points == 1 and not rules.hit_split_aces:
            assert len(h.cards) == 2, f"a split ace takes one card: {h}"
    turns = [(e.seat, e.hand) for e in round_.events if e.kind == "turn"]
    assert turns == sorted(turns), "seats and hands play in order"
    for ins in outcome.insurance:
        assert ins.stake == round_.bets[ins.seat] // 2
        assert ins.payout == (3 * ins.stake if dealer.is_blackjack else 0)
    for seat in outcome.seats:
        assert outcome.payout(seat) - outcome.staked(seat) == outcome.net(seat)
    # to_dict sums each seat's net in one pass: the same as net(seat) seat by seat.
    assert outcome.to_dict()["net"] == {str(seat): outcome.net(seat) for seat in outcome.seats}
    if rules.dealer_peek and dealer.is_blackjack:
        # The peek ends the round before anyone plays.
        assert not [e for e in round_.events if e.kind in ("turn", "action")]
    # The dealer draws by the rules, and only while some hand can still be beaten.
    cards = dealer.cards
    assert len(cards) >= 2
    for n in range(2, len(cards)):
        assert _must_hit(cards[:n], rules.dealer_hits_soft_17), cards
    live = [h for h in outcome.hands
            if not (Hand(h.cards, len(round_.hands(h.seat)) > 1).is_blackjack
                    or Hand(h.cards).is_bust or (h.seat, h.hand) in surrendered
                    or h.seat in even_money)]
    if live and not dealer.is_blackjack:
        assert dealer.is_bust or not _must_hit(cards, rules.dealer_hits_soft_17), cards
    else:
        assert len(cards) == 2, f"nothing to play for, yet the dealer drew: {cards}"


@settings(PROPERTY, max_examples=200)
@given(table_rules, seat_sets, seeds, st.data())
def test_random_play_conserves_cards_and_settles_exactly(rules: Rules, seats: list[int],
                                                         seed: int, data: st.DataObject) -> None:
    """Over several rounds of random legal play, every card stays accounted for and every hand is paid by the rules."""
    shoe = Shoe(decks=rules.decks, seed=seed)
    deck = Counter(full_deck() * rules.decks)
    policy = random_policy(random.Random(seed))
    for _ in range(5):
        bets = {s: data.draw(st.integers(1, 60), label=f"bet {s}") for s in seats}
        round_ = Round(rules, shoe, bets)
        _check_live_invariants(round_, deck)
        play(round_, policy, lambda r: _check_live_invariants(r, deck))
        _check_settlement(round_)
        if shoe.needs_shuffle:
            shoe.shuffle()
            assert shoe_contents(shoe) == deck


@PROPERTY
@given(table_rules, seat_sets, seeds, st.integers(1, 50))
def test_bankroll_escrow_leaves_nothing_stranded(rules: Rules, seats: list[int], seed: int,
                                                 bet: int) -> None:
    """Seats that escrow bet and cost() before each verb and collect payouts end with start + nets."""
    start = 10_000
    balance = {s: start for s in seats}
    nets = {s: 0 for s in seats}
    shoe = Shoe(decks=rules.decks, seed=seed)
    rng = random.Random(seed)
    choose = random_policy(rng)
    for _ in range(12):
        escrow = {s: bet for s in seats}
        for s in seats:
            balance[s] -= bet
        round_ = Round(rules, shoe, {s: bet for s in seats})
        round_.deal()
        while round_.turn is not None:
            seat = round_.turn.seat
            action = choose(round_, seat)
            cost = round_.cost(action, seat)
            balance[seat] -= cost
            escrow[seat] += cost
            round_.act(action, seat)
        outcome = round_.outcome
        assert outcome is not None
        for s in seats:
            assert escrow[s] == outcome.staked(s), "escrow and stakes disagree"
            assert outcome.payout(s) >= 0
            balance[s] += outcome.payout(s)
            nets[s] += outcome.net(s)
        if shoe.needs_shuffle:
            shoe.shuffle()
    assert all(balance[s] == start + nets[s] for s in seats)
    assert sum(balance.values()) == start * len(seats) + sum(nets.values())


@PROPERTY
@given(table_rules, seat_sets, seeds)
def test_same_seed_plays_the_same_rounds(rules: Rules, seats: list[int], seed: int) -> None:
    """The same rules, seed and choices give identical events, round after round."""
    def session() -> list[object]:
        shoe = Shoe(decks=rules.decks, seed=seed)
        policy = random_policy(random.Random(seed + 1))
        log = []
        for _ in range(3):
            round_ = Round(rules, shoe, {s: 10 for s in seats})
            play(round_, policy)
            log.append([e.to_dict() for e in round_.events])
            if shoe.needs_shuffle:
                shoe.shuffle()
        return log
    assert session() == session()


@PROPERTY
@given(table_rules, seat_sets, seeds, st.integers(2, 20), st.integers(1, 5))
def test_scaling_every_bet_scales_every_payout(rules: Rules, seats: list[int], seed: int,
                                               scale: int, unit: int) -> None:
    """With bets that divide exactly and the same choices, k times the bets gives k times every payout."""
    small = {s: 10 * unit * (1 + s % 3) for s in seats}   # multiples of 10: 3:2, 6:5, halves exact
    table = Rules.from_spec("max=100000", base=rules)

    def run(factor: int) -> Round:
        round_ = Round(table, Shoe(decks=rules.decks, seed=seed),
                       {s: b * factor for s, b in small.items()})
        play(round_, random_policy(random.Random(seed)))
        return round_

    base, scaled = run(1), run(scale)
    assert base.outcome is not None and scaled.outcome is not None
    for low, high in zip(base.outcome.hands, scaled.outcome.hands, strict=True):
        assert (high.cards, high.result) == (low.cards, low.result)
        assert (high.stake, high.payout) == (scale * low.stake, scale * low.payout)
    for s in seats:
        assert scaled.outcome.net(s) == scale * base.outcome.net(s)
        assert Fraction(scaled.outcome.net(s), scaled.bets[s]) == \
            Fraction(base.outcome.net(s), base.bets[s])


def _replay_alone(round_: Round, seat: int) -> Round:
    """Replay one seat of a finished round at an empty table, with its own and the dealer's cards."""
    assert round_.outcome is not None
    own = [e.card for e in round_.events if e.kind == "deal" and e.seat == seat]
    dealer = [str(c) for c in round_.outcome.dealer.cards]
    hole = 2 if round_.rules.dealer_peek else 1
    shoe = stacked([f"{own[0]} {own[1]}"], " ".join(dealer[:hole]),
                   then=" ".join(own[2:] + dealer[hole:]))
    alone = Round(round_.rules, shoe, {seat: round_.bets[seat]})
    play(alone, simple_policy)
    return alone


@PROPERTY
@given(table_rules, st.sets(st.integers(1, 7), min_size=2, max_size=7).map(sorted), seeds)
def test_a_seat_is_settled_on_its_own_hands_and_the_dealer_only(rules: Rules, seats: list[int],
                                                               seed: int) -> None:
    """Each seat's results at a full table equal its results replayed alone with the same cards."""
    round_ = Round(rules, Shoe(decks=rules.decks, seed=seed), {s: 10 + 2 * s for s in seats})
    play(round_, simple_policy)
    assert round_.outcome is not None
    for seat in seats:
        alone = _replay_alone(round_, seat)
        assert alone.outcome is not None
        assert [h for h in alone.outcome.hands] == \
            [h for h in round_.outcome.hands if h.seat == seat]
        assert list(alone.outcome.insurance) == \
            [i for i in round_.outcome.insurance if i.seat == seat]


@PROPERTY
@given(table_rules.map(lambda r: Rules.from_spec("decks=1", base=r)),
       st.integers(1, 3), seeds)
def test_views_and_events_never_show_the_hole_card_or_undealt_cards(
        rules: Rules, seat_count: int, seed: int) -> None:
    """With one deck (every card unique) views and events name only face-up dealt cards until the reveal."""
    shoe = Shoe(decks=1, seed=seed)
    hole = str(next_cards(shoe, 2 * seat_count + 2)[-1]) if rules.dealer_peek else None
    round_ = Round(rules, shoe, {s: 10 for s in range(1, seat_count + 1)})
    shown = 0

    def check(r: Round) -> None:
        nonlocal shown
        if r.phase is Phase.FINISHED:
            return
        out = {str(c) for c in r.cards_out()}
        assert hole is None or hole in out
        public = out - {hole}
        view = r.view().to_dict()
        assert cards_in_json(view) <= public, view
        new_events = [e.to_dict() for e in r.events[shown:]]
        assert cards_in_json(new_events) <= public, new_events
        shown = len(r.events)
        assert view["dealer"][1:] == (["??"] if hole else [])
        assert view["dealer_total"] == Hand((r.dealer_upcard,)).total

    play(round_, random_policy(random.Random(seed)), check)
    if hole is not None:
        assert round_.outcome is not None and str(round_.outcome.dealer.cards[1]) == hole
        reveal = [i for i, e in enumerate(round_.events) if e.kind == "reveal"]
        assert len(reveal) == 1 and round_.events[reveal[0]].card == hole
        assert hole not in cards_in_json([e.to_dict() for e in round_.events[:reveal[0]]])


@PROPERTY
@given(st.permutations(full_deck()), st.integers(1, 3), seeds,
       st.sampled_from([Rules(), Rules(surrender=True, dealer_hits_soft_17=True),
                        Rules(insurance=False, max_split_hands=2)]))
def test_the_hole_card_changes_nothing_anyone_sees_before_the_reveal(
        deck: list[Card], seat_count: int, seed: int, rules: Rules) -> None:
    """Two rounds differing only in the hole card look identical to players until it is revealed."""
    hole_at = 2 * seat_count + 1
    other = list(deck)
    other[hole_at], other[-1] = other[-1], other[hole_at]
    up = deck[seat_count]
    assume(other[hole_at] != deck[hole_at])
    assume(Hand((up, deck[hole_at])).is_blackjack == Hand((up, other[hole_at])).is_blackjack)
    bets = {s: 10 for s in range(1, seat_count + 1)}
    first, second = Round(rules, StackedShoe(deck), bets), Round(rules, StackedShoe(other), bets)
    first.deal()
    second.deal()
    rng = random.Random(seed)
    while first.view().dealer[1:] == ("??",):
        assert first.view().to_dict() == second.view().to_dict()
        assert [e.to_dict() for e in first.events] == [e.to_dict() for e in second.events]
        assert first.turn is not None
        seat = first.turn.seat
        action = random_policy(rng)(first, seat)
        first.act(action, seat)
        second.act(action, seat)
    assert first.phase is Phase.FINISHED
