"""Nodes of one room, in one process: tables spread over nodes, players on any node.

Real services on loopback sockets (players and node links), one in-memory
ledger shared by every node (:mod:`room_nodes`).
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred, succeed

from blackjack.testing import StackedShoe

from conftest import wait
from room_nodes import Room, answer_prompts, results, two_nodes
from test_hostile_wire import until


NO_NATURALS = "TS 9H 6C 7D 8S TD 5H 2C 3C 4C 2D 3D 4D 2H 3H"
"""Cards for one round with no blackjack, one player or two: every seat is asked to play."""


def stand(prompt: dict[str, Any]) -> str:
    return "stand"


@pytest_twisted.ensureDeferred
async def test_players_on_two_nodes_play_one_table_and_see_the_same_cards() -> None:
    """A player of the table's node and one of another node sit together, play rounds and
    see the same results; the books balance."""
    async with two_nodes() as (room, owner, front):
        here = await room.player(owner, "ownerann")
        there = await room.player(front, "frontbob")
        await here.expect("joined", player="frontbob")
        await play(answer_prompts(here, "ownerann", stand, 3),
                   answer_prompts(there, "frontbob", stand, 3))
        shared = sorted(set(results(here)) & set(results(there)))
        assert len(shared) >= 3
        for round_id in shared:
            assert results(here)[round_id] == results(there)[round_id]
        books = await wait(room.nodes[owner].storage.books())
        assert books.balanced


async def play(*bots: Any) -> None:
    """Run bots (coroutines) side by side until each is done."""
    from twisted.internet.defer import Deferred, gatherResults

    await wait(gatherResults([Deferred.fromCoroutine(bot) for bot in bots]), 30)


async def seated_round(room: Room, owner: str, front: str,
                       bob_bets: bool = True) -> tuple[Any, Any, str]:
    """ann on the owner and bob on the other node sit; both bet (or ann alone): a round
    waits for ann."""
    ann = await room.player(owner, "ann")
    bob = await room.player(front, "bob")
    await ann.expect("joined", player="bob")
    room.table("main").shoe = StackedShoe(NO_NATURALS)
    ann.send({"cmd": "bet", "amount": 10})
    if bob_bets:
        bob.send({"cmd": "bet", "amount": 20})
    prompt = await ann.expect("prompt", player="ann")
    round_id = room.table("main").round_id
    assert round_id is not None and prompt["seat"] == 1
    return ann, bob, round_id


def login_reply(client: Any) -> dict[str, Any]:
    """The answer to the client's (last) login."""
    return [m["result"] for m in client.log if "id" in m and m.get("result")
            and m["result"].get("event") == "login"][-1]


@pytest_twisted.ensureDeferred
async def test_a_dead_owners_table_moves_and_its_players_get_their_seats_back() -> None:
    """The owner dies mid-round: the other node takes the table, refunds the round, seats
    its own player again at once and holds the dead node's player's seat for their login."""
    async with two_nodes() as (room, owner, front):
        ann, bob, round_id = await seated_round(room, owner, front)
        room.kill(owner)
        await until(lambda: room.owner("main") == front, "the takeover", 10)
        snapshot = await bob.expect("table")
        assert snapshot["seats"] == {"1": "ann", "2": "bob"}
        again = await room.player(front, "ann", table=None, register=False)
        login = login_reply(again)
        assert (login["resumed"], login["table"], login["seat"]) == (True, "main", 1)
        await again.expect("table")
        storage = room.nodes[front].storage
        assert [await wait(storage.balance(i)) for i in (1, 2)] == [1000, 1000]
        assert (await wait(storage.books())).balanced
        ledger = await wait(storage.ledger(2))
        assert [(e.kind, e.round_id) for e in ledger[:2]] == [("refund", round_id),
                                                              ("stake", round_id)]


@pytest_twisted.ensureDeferred
async def test_a_stalled_owner_cannot_pay_the_round_it_lost() -> None:
    """An owner whose heartbeat stalls past its lease loses the table; the round it then
    finishes is refused by the fence (its players hear it is void), and it lets go."""
    async with two_nodes() as (room, owner, front):
        ann, bob, round_id = await seated_round(room, owner, front, bob_bets=False)
        stalled = room.node(owner)
        stalled._beat.stop()
        real_beat = stalled.beat
        stalled.beat = lambda: succeed(None)  # type: ignore[method-assign]
        await until(lambda: "main" in room.node(front).owned, "the takeover", 10)
        assert (await ann.call("stand"))["ok"]
        void = await ann.expect("error", code="table_moving")
        assert "void" in void["message"]
        storage = room.nodes[front].storage
        assert (await wait(storage.books())).balanced
        assert [await wait(storage.balance(i)) for i in (1, 2)] == [1000, 1000]
        ledgers = [await wait(storage.ledger(i)) for i in (1, 2)]
        assert not any(e.kind == "payout" for ledger in ledgers for e in ledger)
        stalled.beat = real_beat  # type: ignore[method-assign]
        stalled._beat.start(room.lease / 3)
        await until(lambda: "main" not in stalled.owned, "the stalled node to let go", 10)
        await ann.expect("table")  # back at the table, run by the other node now
        assert (await ann.call("look"))["result"]["seats"] == {"1": "ann", "2": "bob"}


@pytest_twisted.ensureDeferred
async def test_a_draining_owner_finishes_the_round_then_hands_the_table_over() -> None:
    """A node told to stop lets the round in play end and pays it, hands the table to the
    other node between rounds, and tells its players to connect again; nobody loses a seat."""
    async with two_nodes() as (room, owner, front):
        ann, bob, round_id = await seated_round(room, owner, front)
        stopping = Deferred.fromCoroutine(room.stop(owner))
        shutdown = await ann.expect("shutdown")
        assert "connect again" in shutdown["message"].lower() or "seat is held" in \
            shutdown["message"]
        assert (await ann.call("stand"))["ok"]
        await bob.expect("prompt", player="bob")
        assert (await bob.call("stand"))["ok"]
        await bob.expect("result", round=round_id)
        await wait(stopping, 20)
        assert room.owner("main") == front
        storage = room.nodes[front].storage
        ledger = [*await wait(storage.ledger(1)), *await wait(storage.ledger(2))]
        assert {e.kind for e in ledger if e.round_id == round_id} == {"stake", "payout"}
        bet = await bob.call("bet", amount=10)
        assert bet["ok"], bet
        again = await room.player(front, "ann", table=None, register=False)
        await again.expect("table")
        assert (await again.call("look"))["result"]["seats"] == {"1": "ann", "2": "bob"}
        assert (await wait(storage.books())).balanced


@pytest_twisted.ensureDeferred
async def test_a_login_on_another_node_closes_the_first_and_keeps_the_seat() -> None:
    """One login per account in the room: logging in on the other node closes the old
    connection, and the new one is in the same seat."""
    async with two_nodes() as (room, owner, front):
        first = await room.player(owner, "ann")
        second = await room.player(front, "ann", table=None, register=False)
        bye = await first.expect("bye")
        assert "another connection" in bye["message"]
        login = login_reply(second)
        assert (login["resumed"], login["table"], login["seat"]) == (True, "main", 1)
        await second.expect("table")
        assert (await second.call("say", text="still here"))["ok"]
        await second.expect("say", text="still here")


@pytest_twisted.ensureDeferred
async def test_pipelined_requests_through_another_node_keep_their_order() -> None:
    """register, join, bet and balance in one packet to a node that does not run the
    table: each reply comes after the events its request caused, in order."""
    async with two_nodes() as (room, owner, front):
        client = await room.connect(front)
        replies = client.send({"cmd": "register", "name": "alice", "password": "pw-alice-long"},
                              {"cmd": "join", "table": "main"},
                              {"cmd": "bet", "amount": 10},
                              {"cmd": "balance"})
        answers = [await wait(r) for r in replies]
        assert [a["ok"] for a in answers] == [True] * 4, answers
        login, join, bet, balance = (f"reply {a['id']}" for a in answers)
        order = [m.get("event") or f"reply {m['id']}" for m in client.log]
        assert order.index(login) < order.index("joined") < order.index(join)
        assert order.index(join) < order.index("bet") < order.index(bet)
        assert order.index(bet) < order.index(balance)
        assert 990 in [m["balance"] for m in client.log if m.get("event") == "balance"]


@pytest_twisted.ensureDeferred
async def test_a_node_that_does_not_know_the_secret_is_not_linked() -> None:
    """A node with the wrong secret links to nobody, and nobody forwards to it."""
    room = Room()
    try:
        room.start("a")
        room.start("b", secret=b"not the room's secret at all")
        await until(lambda: room.owner("main") is not None, "an owner", 10)
        from test_hostile_wire import pause

        await pause(room.lease * 2)
        assert room.node("a").links == {} and room.node("b").links == {}
    finally:
        await room.close()


@pytest_twisted.ensureDeferred
async def test_a_new_node_gets_its_share_of_the_tables() -> None:
    """One node takes every table; a second joins, and tables are handed over until each
    runs its share."""
    room = Room(tables=("t1", "t2", "t3", "t4"))
    try:
        room.start("a")
        await until(lambda: len(room.node("a").owned) == 4, "a to take every table", 10)
        room.start("b")
        await until(lambda: len(room.node("a").owned) == 2 == len(room.node("b").owned),
                    "two tables each", 15)
        await room.settled()
    finally:
        await room.close()


@pytest_twisted.ensureDeferred
async def test_look_hint_and_tables_through_another_node_answer_as_at_the_table() -> None:
    """look, hint and tables asked on a node that does not run the table get the
    owner's answers."""
    async with two_nodes(tables=("main", "side")) as (room, owner, front):
        ann, bob, round_id = await seated_round(room, owner, front)
        assert (await ann.call("stand"))["ok"]
        await bob.expect("prompt", player="bob")
        here, there = await ann.call("look"), await bob.call("look")
        assert here["result"] == there["result"]
        hint = (await bob.call("hint"))["result"]
        assert hint["event"] == "hint" and hint["action"] in ("hit", "stand", "double", "split")
        assert set(hint["values"]) >= {"hit", "stand"}
        listed = (await bob.call("tables"))["result"]["tables"]
        assert [(t["name"], t["taken"], t["phase"]) for t in listed] == [
            ("main", 2, "playing"), ("side", 0, "idle")]
        assert listed == (await ann.call("tables"))["result"]["tables"]


@pytest_twisted.ensureDeferred
async def test_a_seed_and_the_trainer_set_on_another_node_reach_the_table() -> None:
    """A player of another node sets a seed and turns the trainer on: ``seed`` shows the
    owner's next shoe, the seed goes into the shuffle the owner deals, and the owner's
    table coaches them."""
    async with two_nodes() as (room, owner, front):
        bob = await room.player(front, "bob")
        seeded = (await bob.call("seed", seed="lucky bob"))["result"]
        assert seeded["seed"] == "lucky bob"
        assert seeded["next"] == room.table("main").shoes.next_commitment()
        assert (await bob.call("trainer", on=True))["ok"]
        bob.send({"cmd": "bet", "amount": 10})
        shuffle = await bob.expect("shuffle")
        assert shuffle["seeds"] == [{"player": "bob", "seed": "lucky bob"}]
        guest = next(p for p in room.node(owner).lobby.players if p.name == "bob")
        assert guest.trainer and guest.seed == "lucky bob"


@pytest_twisted.ensureDeferred
async def test_a_front_only_node_runs_no_table_and_forwards() -> None:
    """A front-only node takes no table even when it could, and its players play at the
    tables the other node runs."""
    room = Room(tables=("t1", "t2"))
    try:
        room.start("a", front_only=True)
        from test_hostile_wire import pause

        await pause(room.lease)
        assert room.node("a").owned == {}
        room.start("b")
        await room.settled()
        assert sorted(room.node("b").owned) == ["t1", "t2"] and room.node("a").owned == {}
        ann = await room.player("a", "ann", table="t2")
        room.table("t2").shoe = StackedShoe(NO_NATURALS)
        ann.send({"cmd": "bet", "amount": 10})
        await ann.expect("prompt", player="ann")
        assert room.table("t2").round_id is not None
    finally:
        await room.close()
