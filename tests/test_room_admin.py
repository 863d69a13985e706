"""Admins in a room of nodes: acts reach players connected to other nodes, or are refused.

An admin logged in on one node kicks, mutes, grants to and announces to
players connected to another node (:meth:`RoomLobby.reach
<blackjack.server.room.lobby.RoomLobby.reach>`); tables, being every node's
``--table`` options, cannot be added or closed in the game.  Real services
on loopback sockets, one in-memory ledger (:mod:`room_nodes`).
"""

from __future__ import annotations

from typing import Any

import pytest_twisted

from blackjack.server.storage import AdminAct

from conftest import wait
from room_nodes import Room, two_nodes
from test_hostile_wire import until


async def admin_on(room: Room, node: str, name: str = "boss") -> Any:
    """A client of ``node`` logged in as ``name``, whom the host has made an admin."""
    client = await room.player(node, name, table=None)
    await wait(room.nodes[node].storage.set_role(name, "admin", AdminAct("host", "role", name)))
    return client


async def trail(room: Room, node: str) -> list[tuple[str, str]]:
    """(act, target) of every admin act recorded, oldest first."""
    acts = await wait(room.nodes[node].storage.admin_acts(100))
    return [(a.act, a.target) for a in reversed(acts) if a.act != "role"]


@pytest_twisted.ensureDeferred
async def test_a_kick_reaches_a_player_on_another_node() -> None:
    """An admin on the table's node kicks a player connected to the other node: the player
    is told, stood up and disconnected, and the act is in the trail once."""
    async with two_nodes() as (room, owner, front):
        boss = await admin_on(room, owner)
        bob = await room.player(front, "bob")
        await until(lambda: room.table("main").seats, "bob seated")
        kicked = await boss.call("kick", name="bob", reason="rude")
        assert kicked["ok"] and kicked["result"]["message"] == "bob is kicked", kicked
        await until(lambda: bob.closed, "bob's connection closed")
        assert any("boss removed you from the card room: rude" in str(m) for m in bob.log)
        await until(lambda: not room.table("main").seats, "bob's seat freed")
        assert await trail(room, owner) == [("kick", "bob")]
        nobody = await boss.call("kick", name="nobody")
        assert nobody["error"]["code"] == "no_such_player"
        gone = await boss.call("kick", name="bob")  # registered, but connected nowhere
        assert gone["error"]["code"] == "no_such_player"
        assert await trail(room, owner) == [("kick", "bob")]


@pytest_twisted.ensureDeferred
async def test_a_mute_and_a_grant_reach_a_player_on_another_node() -> None:
    """Muted from another node, a player's chat is refused where they are connected; the
    unmute lets them talk again; a grant sends them their new balance."""
    async with two_nodes() as (room, owner, front):
        boss = await admin_on(room, front)
        ann = await room.player(owner, "ann")
        assert (await boss.call("mute", name="ann", reason="spam"))["ok"]
        await ann.expect("info", message="boss muted you until an admin lifts it: spam")
        refused = await ann.call("say", text="hello")
        assert refused["error"]["code"] == "muted", refused
        assert (await boss.call("unmute", name="ann"))["ok"]
        await ann.expect("info", message="boss lifted your mute")
        assert (await ann.call("say", text="hello"))["ok"]
        assert (await boss.call("grant", name="ann", amount=50, reason="a gift"))["ok"]
        balance = await ann.expect("balance")
        assert balance["balance"] == 1050


@pytest_twisted.ensureDeferred
async def test_an_announcement_reaches_every_node_once() -> None:
    """Everyone logged in on either node hears an announcement once, a player at a table
    of the other node too."""
    async with two_nodes() as (room, owner, front):
        boss = await admin_on(room, owner)
        here = await room.player(owner, "ann")
        there = await room.player(front, "bob")  # at main, run by the owner: a guest there
        assert (await boss.call("announce", text="the room closes at midnight"))["ok"]
        for client in (here, there):
            await client.expect("announce", text="the room closes at midnight")
        await boss.call("balance")  # a round trip: anything sent twice has arrived
        await there.call("balance")
        for client in (here, there):
            assert sum(m.get("event") == "announce" for m in client.log) == 1


@pytest_twisted.ensureDeferred
async def test_tables_cannot_be_added_or_closed_in_a_room() -> None:
    """``tables add`` and ``tables close`` are refused with room_tables, recording nothing:
    a room's tables are every node's --table options."""
    async with two_nodes() as (room, owner, front):
        boss = await admin_on(room, front)
        added = await boss.call("table_add", table="extra", rules="decks=2")
        closed = await boss.call("table_close", table="main")
        for refused in (added, closed):
            assert refused["error"]["code"] == "room_tables", refused
            assert "--table options every node shares" in refused["error"]["message"]
        assert (await boss.call("table_close", table="nope"))["error"]["code"] == "no_such_table"
        assert await trail(room, front) == []
        assert sorted(room.nodes[owner].lobby.tables) == ["main"]
