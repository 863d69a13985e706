"""Several nodes of one room in this process, on one in-memory ledger, for the room tests.

Each node is the real :class:`~blackjack.server.hosting.service.BlackjackService`
with room options, listening on loopback port 0 for players and for other
nodes; their storages share one :class:`MemoryDatabase` (two connections to
one database).  Leases are short, so takeovers happen in a second or two of
real time; every wait has a deadline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

from blackjack.rules import Rules
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.core.table import Table, Timers
from blackjack.server.frontends.limits import Limits
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.room.node import NodeOptions, RoomNode
from blackjack.server.storage.memory import MemoryDatabase, MemoryStorage

from conftest import wait
from test_hostile_wire import until
from test_protocol_v1 import V1Client

SECRET = b"a room secret for the tests"
LIMITS = Limits(rate=0, max_per_ip=0, login_attempts_per_ip=1000, login_attempts=1000,
                registrations_per_hour=1000)


class Room:
    """Nodes started and stopped by name, sharing one ledger."""

    def __init__(self, tables: tuple[str, ...] = ("main",), lease: float = 0.6,
                 timers: Timers = Timers(bet=0.3, turn=30, insurance=30, grace=30,
                                         missed_rounds=0),
                 secret: bytes = SECRET, drain: float = 10.0) -> None:
        self.database = MemoryDatabase()
        self.tables = [(name, Rules(decks=1)) for name in tables]
        self.lease = lease
        self.timers = timers
        self.secret = secret
        self.drain = drain
        self.nodes: dict[str, BlackjackService] = {}
        self.clients: list[V1Client] = []

    def start(self, name: str, secret: bytes | None = None,
              front_only: bool = False) -> BlackjackService:
        from twisted.internet import reactor

        options = NodeOptions(name=name, listen="tcp:0:interface=127.0.0.1",
                              secret=secret or self.secret, lease=self.lease,
                              drain=self.drain, move_wait=self.lease * 4,
                              front_only=front_only)
        service = BlackjackService("tcp:0:interface=127.0.0.1", MemoryStorage(self.database),
                                   self.tables, reactor, timers=self.timers,
                                   hasher=FAST_INSECURE, limits=LIMITS, room=options)
        service.startService()
        self.nodes[name] = service
        return service

    def node(self, name: str) -> RoomNode:
        node = self.nodes[name].node
        assert node is not None
        return node

    def owner(self, table: str) -> str | None:
        """The running node that runs ``table``, if any."""
        return next((n for n, s in self.nodes.items()
                     if s.node is not None and table in s.node.owned), None)

    def table(self, name: str) -> Table:
        owner = self.owner(name)
        assert owner is not None
        return self.node(owner).owned[name]

    async def settled(self, seconds: float = 10.0) -> None:
        """Wait until every table has a running owner and every node links to every other."""
        def ready() -> bool:
            names = set(self.nodes)
            return (all(self.owner(t) is not None for t, _ in self.tables)
                    and all(set(self.node(n).links) == names - {n} for n in names)
                    and all(self.node(n).remote[t].owner == self.owner(t)
                            for n in names for t, _ in self.tables if n != self.owner(t)))
        await until(ready, "the room to settle", seconds)

    async def connect(self, name: str) -> V1Client:
        """A protocol v1 client of node ``name``."""
        from twisted.internet import reactor

        port = self.nodes[name].port
        assert port is not None
        client = await wait(connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port), V1Client()))
        assert (await client.call("hello", protocol=1))["ok"]
        self.clients.append(client)
        return client

    async def player(self, node: str, name: str, table: str | None = "main",
                     register: bool = True) -> V1Client:
        """A client of ``node`` logged in as ``name`` (registered first), seated at ``table``."""
        client = await self.connect(node)
        reply = await client.call("register" if register else "login", name=name,
                                  password=f"pw-{name}-long")
        assert reply["ok"], reply
        if table is not None:
            joined = await client.call("join", table=table)
            assert joined["ok"], joined
        return client

    async def stop(self, name: str) -> None:
        service = self.nodes.pop(name)
        await wait(service.stopService(), 30)

    async def close(self) -> None:
        """Stop every node, without waiting for rounds in play (the test is over)."""
        for client in self.clients:
            if not client.closed:
                client.transport.loseConnection()
        for name in list(self.nodes):
            node = self.node(name)
            node.options = replace(node.options, drain=0.2, move_wait=0.2)
            await self.stop(name)

    def kill(self, name: str) -> None:
        """Stop a node dead: no drain, no goodbye, its links and ports just close."""
        service = self.nodes.pop(name)
        node = service.node
        assert node is not None
        if node._beat.running:
            node._beat.stop()
        for link in list(node.links.values()):
            link.transport.abortConnection()
        for port in [*service.ports, node._port]:
            if port is not None:
                port.stopListening()
        for client in service.clients:
            client.transport.abortConnection()
        for table in node.owned.values():
            table.release()
        node.owned.clear()
        service.storage._closed = True  # type: ignore[attr-defined]


@asynccontextmanager
async def two_nodes(**options: Any) -> AsyncIterator[tuple[Room, str, str]]:
    """Nodes ``a`` and ``b`` of a room, settled; the room, the node running ``main``
    and the other one.  Everything is stopped afterwards."""
    room = Room(**options)
    try:
        room.start("a")
        room.start("b")
        await room.settled()
        owner = room.owner("main")
        assert owner is not None
        yield room, owner, next(n for n in room.nodes if n != owner)
    finally:
        await room.close()


def results(client: V1Client) -> dict[str, dict[str, Any]]:
    """The ``result`` events a client saw, by round."""
    return {m["round"]: m for m in client.log if m.get("event") == "result"}


async def answer_prompts(client: V1Client, name: str, choose: Callable[[dict[str, Any]], str],
                         rounds: int) -> None:
    """Play ``rounds`` rounds: bet at each window, answer each prompt with ``choose``."""
    played = 0
    while played < rounds:
        event = await wait(client.events.get(), 15)
        kind = event["event"]
        if kind == "betting":
            client.send({"cmd": "bet", "amount": 10})
        elif kind == "prompt" and event["player"] == name:
            client.send({"cmd": choose(event)})
        elif kind == "decide" and name in event["players"]:
            client.send({"cmd": "no"})
        elif kind == "result":
            played += 1
