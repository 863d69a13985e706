"""Tests for blackjack.server.core.hands: history lines, a hand in full, and per-account sums."""

from __future__ import annotations

import json
from typing import Any

import pytest_twisted
from twisted.internet.task import Clock

from blackjack.actions import Action
from blackjack.round import Phase, Round
from blackjack.rules import Rules
from blackjack.server.core.hands import hand_event, history_entry, summaries
from blackjack.server.core.player import Player
from blackjack.server.core.table import Table, Timers
from blackjack.server.storage import HandRecord, HandSummary
from blackjack.testing import StackedShoe

from conftest import FakeClient, make_player, wait

TIMERS = Timers(bet=20, turn=30, insurance=15, grace=60)


async def _played(storage: Any, cards: str, plays: list[Action],
                  rules: Rules = Rules(decks=1)) -> tuple[Player, FakeClient, HandRecord]:
    """Alice plays one stacked round at a table; her client and the stored hand."""
    table = Table("main", rules, storage, Clock(), TIMERS, shoe=StackedShoe(cards))
    alice = await make_player(storage, "alice")
    table.sit(alice)
    await wait(table.bet(alice, 10))
    for action in plays:
        await wait(table.act(alice, action))
    await wait(table.idle())
    [record] = await wait(storage.history(alice.account_id, 1))
    client = alice.client
    assert isinstance(client, FakeClient)
    return alice, client, record


@pytest_twisted.ensureDeferred
async def test_a_hands_replay_is_what_the_table_sent_live(storage: Any) -> None:
    """Every step of ``hand`` is the very event the table broadcast, in order."""
    _, client, record = await _played(storage, "8S 6D 8H TC 3C 2D 9H 4S",
                                      [Action.SPLIT, Action.STAND, Action.STAND])
    event = hand_event(record, None)
    live = [e for e in client.events if e["event"] in (
        "deal", "action", "turn", "decision", "insurance", "peek", "reveal", "dealer",
        "result")]
    replayed = [step["event"] for step in event["steps"]]
    assert [e["event"] for e in replayed] == [e["event"] for e in live]
    assert [e for e in replayed if e["event"] != "turn"] == \
        [dict(e) for e in live if e["event"] != "turn"]  # a replay's turn has no timer
    assert [s["by"] for s in event["steps"] if s["by"]] == ["player"] * 3
    assert event["shoe"] is None and event["hands"][0]["player"] == "alice"


@pytest_twisted.ensureDeferred
async def test_a_history_line_has_the_number_hand_takes(storage: Any) -> None:
    """The ``id`` of a history entry is the hand row's id, as ``hand ID`` takes it."""
    _, _, record = await _played(storage, "TS 9D 7H 8C", [Action.STAND])
    entry = history_entry(record, "alice")
    assert entry["id"] == record.id and entry["mine"][0]["cards"] == ["TS", "7H"]


def test_an_old_record_shows_its_result_without_steps() -> None:
    """A hand stored before rounds were kept in full has no steps, but its result."""
    old = {"table": "main", "round": "main-1", "rules": "6D S17 3:2 DAS SP4 peek 10-500",
           "players": {"1": "alice"},
           "outcome": {"dealer": ["TD", "7C"], "dealer_total": 17, "insurance": [],
                       "hands": [{"seat": 1, "hand": 0, "cards": ["TS", "9H"], "total": 19,
                                  "stake": 10, "result": "win", "payout": 20, "net": 10}],
                       "net": {"1": 10}}}
    event = hand_event(HandRecord(7, "main-1", 1, 10, 20, json.dumps(old), 0.0), None)
    assert event["steps"] == [] and event["hands"][0]["result"] == "win"
    assert event["rules"] == old["rules"]


def _outcome(cards: str, plays: list[str], bets: dict[int, int]) -> Any:
    rnd = Round(Rules(), StackedShoe(cards), bets)
    rnd.deal()
    for play in plays:
        rnd.act(play)
    assert rnd.phase is Phase.FINISHED
    return rnd.outcome


def test_summaries_count_each_accounts_hands_and_only_its_own_decisions() -> None:
    """Two seats of one player add up; a timer's decision is not the player's; a natural
    that took even money is still a blackjack."""
    alice, bob = Player(1, "alice"), Player(2, "bob")
    outcome = _outcome("AS TD 9S AH KH 7D 8C 9C", ["even", "no", "no", "stand", "stand"],
                       {1: 10, 2: 10, 3: 10})
    decisions = [
        {"seat": 1, "hand": 0, "action": "even", "by": "player", "best": "no", "cost": 0.38},
        {"seat": 2, "hand": 0, "action": "no", "by": "player", "best": "no", "cost": 0.0},
        {"seat": 3, "hand": 0, "action": "no", "by": "timer"},
        {"seat": 2, "hand": 0, "action": "stand", "by": "player", "best": "stand", "cost": 0.0},
        {"seat": 3, "hand": 0, "action": "stand", "by": "player", "best": "hit", "cost": 2.5},
    ]
    found = summaries(outcome, decisions, {1: alice, 2: alice, 3: bob})
    assert found[1] == HandSummary(hands=2, wins=1, losses=1, pushes=0, blackjacks=1,
                                   decisions=3, matched=2, cost=0.38)
    assert found[2] == HandSummary(hands=1, wins=0, losses=1, pushes=0, blackjacks=0,
                                   decisions=1, matched=0, cost=2.5)
