"""Tests for blackjack.replay: round records, the cards a round drew, and replays."""

from __future__ import annotations

import random

import pytest

from blackjack import Action, Phase, Round, Rules
from blackjack.errors import RecordError
from blackjack.replay import (
    Decision, ReplayError, RoundRecord, drawn_cards, replay, steps,
)
from blackjack.shoe import Shoe
from engine_helpers import random_policy, stacked


def _played(seed: int, rules: Rules = Rules(), seats: int = 3) -> tuple[Round, RoundRecord]:
    """A round dealt from a seeded shoe and played at random, and its record."""
    rnd = Round(rules, Shoe(rules.decks, seed=seed), {s: 10 for s in range(1, seats + 1)})
    rnd.deal()
    choose = random_policy(random.Random(seed))
    decisions = []
    while rnd.phase is not Phase.FINISHED:
        turn = rnd.turn
        assert turn is not None
        action = choose(rnd, turn.seat)
        decisions.append(Decision(turn.seat, turn.hand, action, 100.0 + len(decisions)))
        rnd.act(action, seat=turn.seat)
    assert rnd.outcome is not None
    return rnd, RoundRecord(f"r{seed}", rules, rnd.bets, drawn_cards(rnd), tuple(decisions),
                            None, rnd.outcome.to_dict())


@pytest.mark.parametrize("seed", range(40))
def test_a_replay_on_the_recorded_cards_is_the_round_again(seed: int) -> None:
    """Replaying a record on its own cards gives the same events and settlement."""
    rules = Rules(dealer_peek=seed % 4 != 0, surrender=True)
    rnd, record = _played(seed, rules)
    again = replay(record)
    assert [e.to_dict() for e in again.events] == [e.to_dict() for e in rnd.events]
    assert again.outcome == rnd.outcome


def test_drawn_cards_put_the_hole_card_where_it_was_dealt() -> None:
    """The hole card, '??' in its deal event, is the dealer's second card, in draw order."""
    rnd = Round(Rules(), stacked(["TS 7H"], "9D 8C", then="2S"), {1: 10})
    rnd.deal()
    assert [str(c) for c in drawn_cards(rnd)] == ["TS", "9D", "7H"]  # hole unknown yet
    rnd.act("stand")
    assert [str(c) for c in drawn_cards(rnd)] == ["TS", "9D", "7H", "8C"]


def test_steps_pair_each_play_with_its_decision() -> None:
    """Each action or insurance answer step carries the decision, with its time and maker."""
    _, record = _played(3)
    found = steps(record)
    made = [s.decision for s in found if s.decision is not None]
    assert made == list(record.decisions)
    assert all((s.decision is None) == (s.event.kind not in ("action", "decision"))
               for s in found)
    assert [s.number for s in found] == list(range(1, len(found) + 1))


def test_a_decision_for_the_wrong_hand_or_out_of_turn_is_a_replay_error() -> None:
    """A decision recorded for another hand, illegal there, or past the end, is named."""
    record = RoundRecord("x", Rules(), {1: 10}, ("8S", "6D", "8H", "TC"),
                         (Decision(1, 1, Action.STAND),))
    with pytest.raises(ReplayError, match="recorded for hand 1, but hand 0 is to play"):
        replay(record)
    short = RoundRecord("y", Rules(), {1: 10}, ("TS", "6D", "7H", "TC"), ())
    with pytest.raises(ReplayError, match="end before the round does"):
        replay(short)
    extra = RoundRecord("z", Rules(), {1: 10}, ("TS", "9D", "7H", "TC"),
                        (Decision(1, 0, "stand"), Decision(1, 0, "hit")))
    with pytest.raises(ReplayError, match="decision 2 .*already over"):
        replay(extra)
    illegal = RoundRecord("w", Rules(), {1: 10}, ("TS", "6D", "7H", "TC"),
                          (Decision(1, 0, "split"),))
    with pytest.raises(ReplayError, match="not a pair"):
        replay(illegal)


def test_a_record_round_trips_through_its_json_form() -> None:
    """to_dict then from_dict gives an equal record, rules and decisions included."""
    _, record = _played(5, Rules.from_spec("h17,ls,decks=2"))
    again = RoundRecord.from_dict(record.to_dict())
    assert again == record and again.outcome == record.outcome


@pytest.mark.parametrize("data", [
    {"rules": "", "bets": {"1": 10}, "cards": [], "decisions": []},
    {"round": "r", "rules": "nonsense", "bets": {"1": 10}, "cards": [], "decisions": []},
    {"round": "r", "rules": "", "bets": {"one": 10}, "cards": [], "decisions": []},
    {"round": "r", "rules": "", "bets": {"9": 10}, "cards": [], "decisions": []},
    {"round": "r", "rules": "", "bets": {"1": 10}, "cards": ["1X"], "decisions": []},
    {"round": "r", "rules": "", "bets": {"1": 10}, "cards": [], "decisions": {}},
    {"round": "r", "rules": "", "bets": {"1": 10}, "cards": [],
     "decisions": [{"seat": 1, "hand": 0, "action": "fold"}]},
    [],
])
def test_a_malformed_record_is_a_record_error(data: object) -> None:
    """Each missing or mistyped member raises RecordError, never a bare exception."""
    with pytest.raises(RecordError):
        RoundRecord.from_dict(data)
