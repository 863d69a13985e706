"""The table's provably fair shoes and stored hands (blackjack.server.core.table).

Commitments before shuffles, the seated players' seeds in the client seed, a
shoe retired (its seed revealed) only after the round its cut card came out
in, records that verify card for card, every decision stored with its time
and maker, and trainer and stats figures held to the analyser's values.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from blackjack.actions import Action
from blackjack.analysis import action_values
from blackjack.cards import Card
from blackjack.fair import ShoeTerms, client_seed, commitment
from blackjack.hand import Hand
from blackjack.rules import Rules
from blackjack.server.core.player import Player
from blackjack.server.core.table import Table, TablePhase, Timers
from blackjack.testing import StackedShoe
from blackjack.verify import ShoeRecord, verify

from conftest import FakeClient, make_player, wait

TIMERS = Timers(bet=20, turn=30, insurance=15, grace=60)


def client(player: Player) -> FakeClient:
    """The fake client attached to a player."""
    found = player.client
    assert isinstance(found, FakeClient)
    return found


def fair_table(storage: Any, rules: Rules) -> tuple[Table, Clock]:
    """A table dealing provably fair shoes, on a fake clock."""
    clock = Clock()
    clock.advance(1_767_225_600)
    return Table("main", rules, storage, clock, TIMERS), clock


async def play_round(table: Table, players: list[Player], rng: random.Random) -> None:
    """Everyone bets 10, then plays at random until the round is settled."""
    for player in players:
        await wait(table.bet(player, 10))
    while table.phase is TablePhase.PLAYING:
        rnd = table.round
        assert rnd is not None
        turn = rnd.turn
        assert turn is not None
        player = table.seats[turn.seat]
        choices = sorted(rnd.legal_actions(turn.seat), key=lambda a: a.value)
        cheap = [a for a in choices if not rnd.cost(a, turn.seat)] or choices
        await wait(table.act(player, rng.choice(cheap if rng.random() < 0.7 else choices)))
    await wait(table.idle())


async def one_round(storage: Any, seed: int) -> tuple[Table, Player]:
    """A six-deck fair table where alice has played one round (its shoe still deals)."""
    table, _ = fair_table(storage, Rules(decks=6))
    alice = await make_player(storage, "alice")
    table.sit(alice)
    await play_round(table, [alice], random.Random(seed))
    return table, alice


@pytest_twisted.ensureDeferred
async def test_the_next_shoe_is_announced_then_shuffled_with_every_seated_players_seed(
        storage: Any) -> None:
    """The shoe shuffled is the one committed to before, its client seed both seats' seeds."""
    table, _ = fair_table(storage, Rules(decks=1))
    alice, bob = await make_player(storage, "alice"), await make_player(storage, "bob")
    table.sit(alice)
    announced = client(alice).last("table")["next"]
    table.sit(bob)
    alice.seed, bob.seed = "alice's luck", ""
    await wait(table.bet(alice, 10))
    await wait(table.bet(bob, 10))
    shuffle = client(alice).last("shuffle")
    assert shuffle["shoe"] == announced["shoe"]
    assert shuffle["commitment"] == announced["commitment"]
    assert shuffle["client_seed"] == client_seed([("alice", "alice's luck"), ("bob", "")])
    assert shuffle["seeds"] == [{"player": "alice", "seed": "alice's luck"},
                                {"player": "bob", "seed": ""}]
    kinds = client(bob).kinds()
    following = client(bob).events[kinds.index("shuffle") + 1]
    assert following["event"] == "shoe" and following["next"]["shoe"] != announced["shoe"]
    assert kinds.index("shuffle") < kinds.index("deal")


@pytest_twisted.ensureDeferred
async def test_a_shoe_is_retired_after_the_round_its_cut_card_came_out_in(storage: Any) -> None:
    """With the cut at card 5 the first round passes it; the seed comes out after its result."""
    table, _ = fair_table(storage, Rules(decks=1, penetration=0.1))
    alice = await make_player(storage, "alice")
    table.sit(alice)
    await play_round(table, [alice], random.Random(1))
    seen = client(alice).events
    kinds = [e["event"] for e in seen]
    retired = seen[kinds.index("shoe_retired")]
    assert kinds.index("result") < kinds.index("shoe_retired")
    assert retired["reason"] == "cut card" and retired["rounds"] == 1
    terms = ShoeTerms.of(1, 0.1)
    assert commitment(retired["server_seed"], terms) == retired["commitment"]
    before = json.dumps(seen[:kinds.index("shoe_retired")])
    assert retired["server_seed"] not in before
    entry = await wait(storage.shoe(retired["shoe"]))
    assert entry.retired == "cut card" and entry.server_seed == retired["server_seed"]
    # The next round is dealt from the shoe committed to next.
    await play_round(table, [alice], random.Random(2))
    assert client(alice).last("shuffle")["shoe"] == seen[kinds.index("shoe")]["next"]["shoe"]


@pytest_twisted.ensureDeferred
async def test_a_retired_shoes_stored_record_verifies_card_for_card(storage: Any) -> None:
    """Three seats play one-deck rounds to the cut card; the stored record verifies."""
    table, _ = fair_table(storage, Rules(decks=1, penetration=0.95, surrender=True))
    players = [await make_player(storage, name, 10_000) for name in ("ann", "ben", "cat")]
    for n, player in enumerate(players):
        player.seed = f"seed {n}"
        table.sit(player)
    rng = random.Random(15)
    while "shoe_retired" not in client(players[0]).kinds():
        await play_round(table, players, rng)
    retired = client(players[0]).last("shoe_retired")
    entry = await wait(storage.shoe(retired["shoe"]))
    record = ShoeRecord.from_dict(json.loads(json.dumps(entry.verification())))
    report = verify(record)
    assert report.ok, report.lines()
    assert len(record.rounds) == retired["rounds"] >= 2
    assert len({seat for r in record.rounds for seat in r.bets}) == 3
    assert [p for p, _, _ in report.cards] == list(range(1, retired["cards"]))


@pytest_twisted.ensureDeferred
async def test_a_dealing_shoes_seed_is_never_given_out(storage: Any) -> None:
    """Until retired, the stored shoe has no seed and its record is withheld."""
    table, alice = await one_round(storage, 3)
    shoe_id = client(alice).last("shuffle")["shoe"]
    entry = await wait(storage.shoe(shoe_id))
    assert entry.retired is None and entry.server_seed is None
    assert entry.verification() is None and len(entry.rounds) == 1


@pytest_twisted.ensureDeferred
async def test_stopping_the_table_retires_its_shoe(storage: Any) -> None:
    """A table that stops retires the dealing shoe as 'table closed' and reveals its seed."""
    table, alice = await one_round(storage, 4)
    await wait(table.stop())
    retired = client(alice).last("shoe_retired")
    assert retired["reason"] == "table closed"
    entry = await wait(storage.shoe(retired["shoe"]))
    assert verify(ShoeRecord.from_dict(entry.verification())).ok


@pytest_twisted.ensureDeferred
async def test_an_admins_close_retires_the_shoe_before_standing_everyone_up(
        storage: Any) -> None:
    """A table an admin closes retires its shoe as 'table closed', its seed told to the
    players before they are stood up, and the stored record verifies."""
    table, alice = await one_round(storage, 4)
    await wait(table.close())
    kinds = client(alice).kinds()
    assert kinds.index("shoe_retired") < kinds.index("left")
    retired = client(alice).last("shoe_retired")
    assert retired["reason"] == "table closed" and table.phase is TablePhase.CLOSED
    entry = await wait(storage.shoe(retired["shoe"]))
    assert verify(ShoeRecord.from_dict(entry.verification())).ok


@pytest_twisted.ensureDeferred
async def test_every_decision_is_stored_with_its_time_and_who_made_it(storage: Any) -> None:
    """The player's hit, the timer's stand and the absent-player rule's stand are each recorded."""
    clock = Clock()
    table = Table("main", Rules(decks=1), storage, clock, TIMERS,
                  shoe=StackedShoe("TS 5D 6H 9C 4S 7C 2H 8D"))
    alice, bob = await make_player(storage, "alice"), await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    await wait(table.bet(alice, 10))
    await wait(table.bet(bob, 10))
    clock.advance(2)
    await wait(table.act(alice, Action.HIT))       # alice 10 9 2: 21, done
    clock.advance(30)                               # bob's turn times out: he stands
    await wait(table.idle())
    history = await wait(storage.history(alice.account_id, 1))
    record = history[0].details
    assert [(d["seat"], d["action"], d["by"]) for d in record["decisions"]] == [
        (1, "hit", "player"), (2, "stand", "timer")]
    assert record["decisions"][0]["at"] == 2.0 and record["decisions"][1]["at"] == 32.0
    assert record["cards"] == "TS 5D 6H 9C 4S 7C 2H 8D".split()  # in the order dealt
    # The absent-player rule: bob leaves with his hand in play.
    table.shoe = StackedShoe("TS 5D 6H 9C 4S 7C 8D")
    await wait(table.bet(alice, 10))
    await wait(table.bet(bob, 10))
    await wait(table.act(alice, Action.STAND))
    await wait(table.leave(bob))
    await wait(table.idle())
    record = (await wait(storage.history(alice.account_id, 1)))[0].details
    assert [(d["seat"], d["action"], d["by"]) for d in record["decisions"]] == [
        (1, "stand", "player"), (2, "stand", "absent")]


@pytest_twisted.ensureDeferred
async def test_trainer_and_stats_give_the_analysers_values(storage: Any) -> None:
    """Hitting hard 17 against a 9 costs exactly what action_values says, in trainer and stats."""
    rules = Rules(decks=1)
    clock = Clock()
    table = Table("main", rules, storage, clock, TIMERS,
                  shoe=StackedShoe("TS 9D 7H 8C 2S"))
    alice = await make_player(storage, "alice")
    alice.trainer = True
    table.sit(alice)
    await wait(table.bet(alice, 10))
    await wait(table.act(alice, Action.HIT))     # 19: basic strategy stands on 17
    await wait(table.act(alice, Action.STAND))   # basic strategy stands on 19 too
    await wait(table.idle())
    values = action_values(rules, Hand("TS 7H"), Card.parse("9D"))
    cost = 10 * (values[Action.STAND] - values[Action.HIT])
    trainer = [e for e in client(alice).events if e["event"] == "trainer"]
    assert len(trainer) == 1
    assert trainer[0]["best"] == "stand" and trainer[0]["action"] == "hit"
    assert trainer[0]["cost"] == pytest.approx(cost, abs=1e-4)
    assert trainer[0]["values"] == {a.value: round(v, 4) for a, v in values.items()
                                    if a in (Action.HIT, Action.STAND, Action.DOUBLE)}
    stats = await wait(storage.stats(alice.account_id))
    assert (stats.rounds, stats.hands, stats.wins, stats.decisions, stats.matched) == \
        (1, 1, 1, 2, 1)
    assert stats.cost == pytest.approx(cost, abs=1e-4)
    assert stats.net == 10 and stats.biggest_win == 10
