"""One node of a card room run by several server processes on one PostgreSQL ledger.

Every node lists every table of the room.  Each table is run by one node at
a time, its *owner*, under a lease in the database
(:mod:`blackjack.server.storage.room`); on every other node the table is a
:class:`~.remote.RemoteTable` that forwards players' commands to the owner
over a :class:`~.link.NodeLink` and hands the owner's events back.

The heartbeat (every third of the lease) reports the node alive, renews
its leases and reads back every lease and live node.  From that:

* a lease it did not get renewed is **lost** (it stalled, or the database
  was away): the table is let go at once (:meth:`Table.release
  <blackjack.server.core.table.Table.release>`); anything it still tries
  to stake or pay is refused by the fence;
* a free or lapsed table is **taken** by a node with fewer than its share
  (``ceil(tables / live nodes)``): the takeover's transaction gives a new
  epoch, refunds the round the last owner left open, retires the fair shoe
  it left dealing (the new owner shuffles its own) and reads the seats,
  which the new owner holds for their players for the grace period;
* a node with more than its share, while another has fewer, **hands one
  table over** between rounds: it pauses the table (no new round), records
  the seats, frees the lease and says so; another node takes it at once.

Only the database tells a node that it lost a table (a peer's word
updates where it sends players' commands, never what it runs).

Draining (SIGTERM): the node says it is leaving, stops taking tables, hands
over every table between rounds (waiting up to ``drain`` seconds for rounds
in play to end), and its players are told to reconnect: the balancer sends
them to another node, where they log in to their held seats.
"""

from __future__ import annotations

import hashlib
import math
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import (
    Deferred,
    DeferredList,
    ensureDeferred,
    inlineCallbacks,
    maybeDeferred,
    succeed,
)
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.protocol import Factory
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.rules import Rules
from blackjack.server.core import events
from blackjack.server.core.events import Event
from blackjack.server.core.player import Player
from blackjack.server.core.table import Table, Timers
from blackjack.server.errors import ServerError, TableError, code_of
from blackjack.server.room import wire
from blackjack.server.room.guests import GuestClient
from blackjack.server.room.link import NodeLink, RoomSecret
from blackjack.server.room.lobby import RoomLobby
from blackjack.server.room.remote import RemoteTable
from blackjack.server.room.verbs import VERBS, run_verb
from blackjack.server.storage.room import Fence, IRoomStorage, Lease, RoomView

if TYPE_CHECKING:
    from twisted.internet.interfaces import IListeningPort

    from blackjack.server.core.admin import Admin

__all__ = ["NodeOptions", "RoomNode", "fingerprint"]

_log = Logger()

TAKEN_OVER = ("Another node of the room took this table over: the round in play is void "
              "and its stakes are returned; your seat is held.")


@dataclass(frozen=True)
class NodeOptions:
    """How one node joins its room (``twistd blackjack --node ...``)."""

    name: str
    """The node's name, unique in the room."""
    listen: str
    """Where its node link listens (a Twisted endpoint string)."""
    secret: bytes
    """The room's shared secret (every node has the same)."""
    address: str | None = None
    """``host:port`` other nodes dial; by default the listening port's."""
    lease: float = 6.0
    """Seconds a table's lease lasts unless renewed (renewed every third of it)."""
    drain: float = 120.0
    """Seconds a stopping node waits for rounds in play to end before hands stand."""
    move_wait: float = 10.0
    """Seconds a command waits for a moving table's new owner before giving up."""
    front_only: bool = False
    """The node runs no table: it holds players' connections and forwards."""
    dial_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not self.name or not self.lease > 0 or self.drain < 0 or self.move_wait < 0:
            raise ValueError(f"nonsensical node options: {self!r}")


def fingerprint(tables: Sequence[tuple[str, Rules]], timers: Timers) -> str:
    """What every node of a room must agree on: its tables, their rules and timers."""
    text = repr((sorted((name, rules.describe(), rules.min_bet, rules.max_bet)
                        for name, rules in tables), timers))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class RoomNode:
    """This process's part of the room: the tables it runs, and the way to the others."""

    def __init__(self, options: NodeOptions, storage: Any,
                 tables: Sequence[tuple[str, Rules]], timers: Timers,
                 make_table: Callable[[str, Rules], Table], reactor: Any) -> None:
        self.options = options
        self.name = options.name
        self.instance = uuid.uuid4().hex
        self.secret = RoomSecret(options.secret)
        self.fingerprint = fingerprint(tables, timers)
        self.clock = reactor
        self.storage: IRoomStorage = storage
        self._make_table = make_table
        self._rules = dict(tables)
        self.remote = {name: RemoteTable(name, rules, timers, self) for name, rules in tables}
        self.lobby = RoomLobby(self, list(self.remote.values()))
        self.owned: dict[str, Table] = {}
        self.fences: dict[str, Fence] = {}
        self.known: dict[str, tuple[str, int]] = {}
        """Table to (owner, epoch), as last heard (from the database or the owner)."""
        self.links: dict[str, NodeLink] = {}
        self.members: dict[str, str] = {}
        """Live node to its link's address, as the last heartbeat read them."""
        self.draining = options.front_only
        """Taking no tables: leaving the room, or a front-only node."""
        self.address = options.address or ""
        self._dialing: set[str] = set()
        self._waiters: dict[str, list[Deferred[None]]] = {}
        self._taking: set[str] = set()
        self._handing: set[str] = set()
        self._saving: dict[str, bool] = {}
        self._port: IListeningPort | None = None
        self.admin: Admin | None = None
        """The service's admin powers, for acts reaching players here from other nodes."""
        self._beat = LoopingCall(self.beat)
        self._beat.clock = reactor
        self._beating: Deferred[None] | None = None

    # -- life ------------------------------------------------------------------------------

    def link_factory(self) -> Factory:
        """The factory of node links that other nodes dial."""
        return Factory.forProtocol(lambda: NodeLink(self, calling=False))

    def start(self, port: IListeningPort) -> None:
        """Beat (the first heartbeat takes tables), with other nodes' links on ``port``."""
        self._port = port
        if not self.address:
            host: Any = port.getHost()
            name = host.host if host.host not in ("0.0.0.0", "::") else socket.gethostname()
            self.address = f"[{name}]:{host.port}" if ":" in name else f"{name}:{host.port}"
        _log.info("node {name} of room {room}: node link on {address}", name=self.name,
                  room=self.fingerprint, address=self.address)
        self._beat.start(self.options.lease / 3, now=True).addErrback(
            lambda f: _log.failure("the heartbeat stopped", f))

    @inlineCallbacks
    def drain(self) -> Any:
        """Hand every table over between rounds (up to ``drain`` seconds), then let go."""
        self.draining = True
        yield self._beat_now()  # the room stops counting this node and sends it nothing
        handing = [self._hand_over(name) for name in sorted(self.owned)]
        done = DeferredList(handing, consumeErrors=True)
        done.addTimeout(self.options.drain, self.clock)
        try:
            yield done
        except Exception:
            _log.warn("rounds still in play after {s} s of draining: their hands stand",
                      s=self.options.drain)
        for name in sorted(self.owned):
            # Left: a round that would not end, or no other node took the table.
            yield self.owned[name].stop()
            yield self._let_go(name)
        # Give the others a moment to take what was released, so the players
        # moved off this node find their tables run again.
        if set(self.members) - {self.name}:
            yield self._owners_known(self.options.move_wait)

    @inlineCallbacks
    def stop(self) -> Any:
        """Leave the room: free what is still held, close the links and the port."""
        if self._beat.running:
            self._beat.stop()
        if self._beating is not None:
            yield self._beating
        try:
            yield self.storage.leave_room(self.name, self.instance, list(self.fences.values()))
        except Exception:
            _log.failure("could not strike node {name} off the room", name=self.name)
        for link in list(self.links.values()):
            link.transport.loseConnection()
        if self._port is not None:
            yield self._port.stopListening()

    # -- the heartbeat -----------------------------------------------------------------------

    def beat(self) -> Deferred[None]:
        """One heartbeat (see the module docstring)."""
        if self._beating is not None:
            return self._beating
        held = list(self.fences.values())
        d = self.storage.room_tick(self.name, self.instance, self.address, self.draining,
                                    self.options.lease, held)
        self._beating = d.addCallback(self._heard, held).addErrback(self._beat_failed)
        self._beating.addBoth(self._beat_done)
        return self._beating

    def _beat_done(self, result: Any) -> Any:
        self._beating = None
        return result

    def _beat_now(self) -> Deferred[None]:
        """A heartbeat now (after the one in flight, if any)."""
        if self._beating is None:
            return self.beat()
        return self._beating.addCallback(lambda _: self.beat())

    @staticmethod
    def _beat_failed(failure: Failure) -> None:
        _log.warn("room heartbeat failed: {error}", error=failure.getErrorMessage())

    def _heard(self, view: RoomView, held: list[Fence]) -> None:
        if not view.joined:
            _log.error("node name {name} is held by another live process; this node waits "
                       "until that one has been silent for a lease", name=self.name)
            return
        for fence in held:
            if fence.table not in view.renewed and self.fences.get(fence.table) == fence:
                _log.warn("lost the lease on table {table} (epoch {epoch}): another node "
                          "runs it now", table=fence.table, epoch=fence.epoch)
                self._lose(fence.table)
        self.members = {m.name: m.address for m in view.members}
        for lease in view.leases:
            if lease.table in self.remote:
                self._heard_owner(lease.table, lease.node, lease.epoch)
        self._dial(view)
        self._sweep_guests()
        if not self.draining:
            self._balance(view)

    def _balance(self, view: RoomView) -> None:
        """Take free tables up to this node's share; hand one over above it."""
        working = [m for m in view.members if not m.draining]
        if not any(m.name == self.name for m in working):
            return
        share = math.ceil(len(self.remote) / len(working))
        leases = {lease.table: lease for lease in view.leases}
        mine = len(self.owned) + len(self._taking)
        free = [name for name in sorted(self.remote, key=self._preference)
                if name not in self.owned and name not in self._taking
                and leases.get(name, Lease(name, "", 0, 0.0)).free(view.now)]
        for name in free[:max(0, share - mine)]:
            self._take(name)
        counts = {m.name: 0 for m in working}
        for lease in view.leases:
            if lease.node in counts and not lease.free(view.now):
                counts[lease.node] += 1
        if mine > share and not self._handing and min(counts.values()) < share:
            # The table with the fewest players moves: the least to disturb.
            name = min(self.owned, key=lambda n: (len(self.owned[n].seats), n))
            self._hand_over(name).addErrback(
                lambda f: _log.failure("handing table {t} over failed", f, t=name))

    def _preference(self, table: str) -> str:
        # Nodes racing for free tables each try a different one first.
        return hashlib.sha256(f"{self.name}/{table}".encode()).hexdigest()

    # -- taking, losing, handing over ---------------------------------------------------------

    def _take(self, name: str) -> None:
        self._taking.add(name)
        d = self.storage.take_table(name, self.name, self.options.lease)
        d.addCallback(self._took, name).addErrback(
            lambda f: _log.warn("could not take table {t}: {e}", t=name,
                                e=f.getErrorMessage()))
        d.addBoth(lambda _: self._taking.discard(name))

    def _took(self, takeover: Any, name: str) -> None:
        if takeover is None:
            return  # another node was quicker
        fence = takeover.fence
        _log.info("node {node} runs table {table} now (epoch {epoch}); {n} stakes "
                  "refunded, {r} shoes retired, {s} seats held", node=self.name, table=name,
                  epoch=fence.epoch, n=len(takeover.refunded), r=len(takeover.retired),
                  s=len(takeover.seats))
        table = self._make_table(name, self._rules[name])
        table.fence = fence
        table.on_seats_changed = lambda: self._seats_changed(name)
        self.owned[name], self.fences[name] = table, fence
        remote = self.remote[name]
        self.lobby.tables[name.lower()] = table
        seated = set()
        for record in takeover.seats:
            player = self.lobby.held(record.account_id, record.name)
            if player.table is not None and player.table is not remote:
                continue  # sat down elsewhere since (this node's own player)
            self._seat(table, player, record.seat)
            seated.add(player)
        for player, seat in self.lobby.mirrored(remote):
            if player not in seated:
                self._seat(table, player, seat)
        self._heard_owner(name, self.name, fence.epoch)
        for link in self.links.values():
            link.announce(name, self.name, fence.epoch)

    @staticmethod
    def _seat(table: Table, player: Player, seat: int | None) -> None:
        """Give a player back their seat (or watching place) at a table taken here."""
        player.table, player.seat = None, None
        try:
            if seat is None:
                table.watch(player)
            else:
                table.sit(player, seat)
        except TableError as error:
            player.send(events.INFO(message=f"your place at table {table.name} could not "
                                            f"be kept: {error}"))
            return
        if not player.connected:
            table.player_disconnected(player)

    def _lose(self, name: str) -> None:
        """The lease moved on: let the table go, silently (the taker voided its round)."""
        table = self.owned.pop(name, None)
        self.fences.pop(name, None)
        if table is None:
            return
        held = table.release()
        self._after_release(name, held)

    def _after_release(self, name: str, held: dict[Player, int | None]) -> None:
        remote = self.remote[name]
        self.lobby.tables[name.lower()] = remote
        for player, seat in held.items():
            if isinstance(player.client, GuestClient):
                self.lobby.drop_guest(player)  # its front moves it to the new owner
            elif player.connected:
                player.table, player.seat = remote, seat
                self.attach(name, player).addErrback(self._attach_failed, player)
            else:
                self.lobby.forget(player)  # held by the new owner; found again at login

    @inlineCallbacks
    def _hand_over(self, name: str) -> Any:
        """Pause the table, then free it for another node, with its seats."""
        table = self.owned.get(name)
        if table is None or name in self._handing:
            return
        self._handing.add(name)
        try:
            yield table.pause()
            yield self._let_go(name)
        finally:
            self._handing.discard(name)

    @inlineCallbacks
    def _let_go(self, name: str) -> Any:
        table, fence = self.owned.get(name), self.fences.get(name)
        if table is None or fence is None:
            return
        seats = {seat: p.account_id for seat, p in table.held_seats.items()}
        released = yield self.storage.release_table(fence, seats)
        if self.owned.get(name) is not table:
            return  # lost meanwhile
        self.owned.pop(name)
        self.fences.pop(name)
        held = table.release()
        if released:
            _log.info("node {node} handed table {table} over ({n} seats held)",
                      node=self.name, table=name, n=len(seats))
            self._heard_owner(name, "", fence.epoch)
            for link in self.links.values():
                link.announce(name, "", fence.epoch)
        self._after_release(name, held)

    def _seats_changed(self, name: str) -> None:
        """Record a table's seats soon (one write in flight per table; coalesced)."""
        if name in self._saving:
            self._saving[name] = True
            return
        self._saving[name] = False
        self.clock.callLater(0, self._save_seats, name)

    def _save_seats(self, name: str) -> None:
        table, fence = self.owned.get(name), self.fences.get(name)
        if table is None or fence is None:
            self._saving.pop(name, None)
            return
        seats = {seat: p.account_id for seat, p in table.held_seats.items()}

        def saved(ok: bool) -> None:
            again = self._saving.pop(name, False)
            if not ok:
                self._lose(name)
            elif again:
                self._seats_changed(name)

        def failed(failure: Failure) -> None:
            self._saving.pop(name, None)
            _log.warn("could not record the seats of {t}: {e}", t=name,
                      e=failure.getErrorMessage())
        self.storage.save_seats(fence, seats).addCallbacks(saved, failed)

    # -- who runs what -------------------------------------------------------------------------

    def _heard_owner(self, name: str, node: str, epoch: int) -> None:
        """Note who runs a table (from the database, or its owner's word)."""
        old = self.known.get(name, ("", -1))
        if epoch < old[1] or (epoch, node) == (old[1], old[0]):
            return
        if epoch == old[1] and node and not old[0]:
            return  # a stale read: this epoch was released already
        self.known[name] = (node, epoch)
        if node == self.name:
            return
        remote = self.remote[name]
        remote.owner = node
        waiters = self._waiters.pop(name, [])
        for waiter in waiters:
            waiter.callback(None)
        if node and name not in self.owned:
            for player, _ in self.lobby.mirrored(remote, connected=True):
                self.attach(name, player).addErrback(self._attach_failed, player)

    def _owner_moves(self, name: str, timeout: float) -> Deferred[None]:
        """Fire when a table's owner changes, or after ``timeout`` seconds."""
        waiter: Deferred[None] = Deferred()
        self._waiters.setdefault(name, []).append(waiter)

        def gave_up() -> None:
            if not waiter.called:
                self._waiters.get(name, []).remove(waiter)
                waiter.callback(None)
        self.clock.callLater(timeout, gave_up)
        return waiter

    @inlineCallbacks
    def _owners_known(self, timeout: float) -> Any:
        """Wait (up to ``timeout``) until every table not run here has an owner heard of."""
        deadline = self.clock.seconds() + timeout
        while self.clock.seconds() < deadline:
            ownerless = [n for n in sorted(self.remote)
                         if n not in self.owned and not self.known.get(n, ("", 0))[0]]
            if not ownerless:
                return
            yield self._owner_moves(ownerless[0], deadline - self.clock.seconds())

    def _link_to(self, name: str) -> NodeLink | None:
        """The link to a table's owner, if it has one and it is linked."""
        owner = self.known.get(name, ("", 0))[0]
        return self.links.get(owner) if owner and owner != self.name else None

    # -- the front's side: a RemoteTable's router ---------------------------------------------

    @inlineCallbacks
    def forward(self, table: str, player: Player, verb: str, params: dict[str, Any]) -> Any:
        """Run a table command at its owner; wait (up to ``move_wait``) while it moves."""
        deadline = self.clock.seconds() + self.options.move_wait
        while True:
            local = self.owned.get(table)
            if local is not None:
                # The table came here while the command waited.
                if player.table is self.remote[table]:
                    player.table = local
                answer = yield run_verb(local, player, verb, params)
                return answer
            link = self._link_to(table)
            if link is not None:
                try:
                    reply = yield link.callRemote(
                        wire.Forward, account=player.account_id, name=player.name,
                        table=table, verb=verb, params=params,
                        settings={"seed": player.seed, "trainer": player.trainer})
                except Exception as error:
                    _log.info("forwarding {verb} to table {table} failed: {e}", verb=verb,
                              table=table, e=error)
                    raise TableError(f"the server running table {table} went away; a round "
                                     "in play there is void and its stakes are returned; "
                                     "your seat is held", code="table_moving") from None
                code = reply.get("code")
                if code is None:
                    return reply.get("answer")
                if code != "table_moving":
                    raise ServerError(reply.get("message") or code, code=code)
            left = deadline - self.clock.seconds()
            if left <= 0:
                raise TableError(f"table {table} is moving to another server; try again "
                                 "in a moment", code="table_moving")
            yield self._owner_moves(table, left)

    def attach(self, table: str, player: Player) -> Deferred[None]:
        """Have the owner send this player's seat's events here (if it can be reached)."""
        link = self._link_to(table)
        if link is None:
            return succeed(None)  # done when the table has an owner again (_heard_owner)
        remote = self.remote[table]
        d = link.callRemote(wire.Attach, account=player.account_id, name=player.name,
                            table=table, seat=player.seat,
                            watching=player.table is remote and player.seat is None)

        def attached(answer: dict[str, Any]) -> None:
            if answer["moved"] or player.table is not remote:
                return
            if answer["seat"] is None and not answer["watching"]:
                player.table, player.seat = None, None
                player.send(events.INFO(message=f"your place at table {table} was not kept; "
                                                f"type 'join {table}' to sit down again"))
            else:
                player.seat = answer["seat"]
        return d.addCallback(attached)

    @staticmethod
    def _attach_failed(failure: Failure, player: Player) -> None:
        _log.info("could not bring {name} back to their table: {e}", name=player.name,
                  e=failure.getErrorMessage())

    def detach(self, table: str, player: Player) -> None:
        link = self._link_to(table)
        if link is not None:
            link.callRemote(wire.Detach, account=player.account_id, table=table)

    def describe(self, table: str) -> Deferred[dict[str, Any]]:
        return self.describe_all([table]).addCallback(lambda found: found[0])

    def describe_all(self, names: list[str]) -> Deferred[list[dict[str, Any]]]:
        """The lobby's summaries of these tables, asking each owner once."""
        summaries: dict[str, Any] = {}
        asking: list[Deferred[Any]] = []
        by_link: dict[NodeLink, list[str]] = {}
        for name in names:
            local = self.owned.get(name)
            link = self._link_to(name)
            if local is not None:
                summaries[name] = local.describe()
            elif link is not None:
                by_link.setdefault(link, []).append(name)
        for link, asked in by_link.items():
            def answered(reply: dict[str, Any], asked: list[str] = asked) -> None:
                for name, summary in zip(asked, reply["summaries"]):
                    if summary is not None:
                        summaries[name] = summary
            asking.append(link.callRemote(wire.Describe, tables=asked).addCallbacks(
                answered, lambda f: None))
        return DeferredList(asking).addCallback(lambda _: [
            summaries.get(name) or self.remote[name].summary() for name in names])

    def snapshot(self, table: str) -> Deferred[Event]:
        link = self._link_to(table)
        if link is None:
            return _moving(table)

        def answered(reply: dict[str, Any]) -> Event | Deferred[Event]:
            event = reply.get("event")
            return Event(event) if event is not None else _moving(table)
        return link.callRemote(wire.Snapshot, table=table).addCallback(answered)

    # -- the owner's side: answering a link ----------------------------------------------------

    def on_forward(self, link: NodeLink, account: int, name: str, table: str, verb: str,
                   params: dict[str, Any],
                   settings: dict[str, Any] | None = None) -> Deferred[dict[str, Any]]:
        local = self.owned.get(table)
        if local is None:
            return succeed({"code": "table_moving",
                            "message": f"table {table} is moving to another server"})
        if verb not in VERBS:
            return succeed({"code": "bad_request", "message": f"{verb} is not a table command"})
        player = self._guest(link, account, name)
        client = player.client
        if settings is not None:
            # The front's session keeps them; the table reads them here (the seed at
            # the next shuffle, the trainer at the next decision).
            player.seed = str(settings.get("seed", player.seed))
            player.trainer = bool(settings.get("trainer", player.trainer))

        def answered(answer: Any) -> dict[str, Any]:
            if isinstance(client, GuestClient):
                client.sync()  # the seat as it is now, before the answer
            return {"answer": answer}
        return maybeDeferred(run_verb, local, player, verb, params).addCallbacks(
            answered, _refusal)

    def _guest(self, link: NodeLink, account: int, name: str) -> Player:
        """The player (a guest here) a link speaks for, routed through that link."""
        player = self.lobby.held(account, name)
        client = link.guests.get(account)
        if client is None or client.player is not player:
            client = link.guests[account] = GuestClient(link, player)
        if player.client is not client:
            self.lobby.attach(player, client)
        return player

    def on_attach(self, link: NodeLink, account: int, name: str, table: str,
                  seat: int | None, watching: bool) -> dict[str, Any]:
        local = self.owned.get(table)
        if local is None:
            return {"seat": None, "watching": False, "moved": True}
        player = self._guest(link, account, name)
        if player.table is not local and (seat is not None or watching):
            # Not in the seats this node took over (recorded just too late):
            # the seat the front remembers, if it is free.
            self._seat(local, player, seat)
        here = player.table is local
        client = player.client
        if isinstance(client, GuestClient):
            client.sync()
        return {"seat": player.seat if here else None, "watching": here and player.seat is None,
                "moved": False}

    def on_detach(self, link: NodeLink, account: int, table: str) -> None:
        client = link.guests.get(account)
        if client is not None:
            self.lobby.detach(client.player, client)

    def on_describe(self, tables: list[str]) -> Deferred[list[Any]]:
        return succeed([self.owned[name].describe() if name in self.owned else None
                        for name in tables])

    def on_snapshot(self, table: str) -> dict[str, Any]:
        local = self.owned.get(table)
        return {"event": local.snapshot() if local is not None else None}

    def on_deliver(self, link: NodeLink, table: str, accounts: list[int],
                   event: Event) -> None:
        if not self._speaks_for(link, table):
            return  # a node that no longer runs the table
        remote = self.remote[table]
        for account in accounts:
            player = self.lobby.known(account)
            if player is not None and player.table is remote or (
                    player is not None and player.table is None):
                player.send(event)

    def on_seated(self, link: NodeLink, account: int, table: str, seat: int | None,
                  watching: bool) -> None:
        player = self.lobby.known(account)
        if player is None or not self._speaks_for(link, table):
            return
        remote = self.remote[table]
        if seat is not None or watching:
            if player.table is None or player.table is remote:
                player.table, player.seat = remote, seat
        elif player.table is remote:
            player.table, player.seat = None, None

    def on_close(self, link: NodeLink, account: int, table: str, message: str,
                 why: str) -> None:
        player = self.lobby.known(account)
        if player is not None and player.client is not None \
                and not isinstance(player.client, GuestClient) and self._speaks_for(link, table):
            player.client.close(message, why)

    def on_kick(self, link: NodeLink, account: int) -> None:
        player = self.lobby.known(account)
        if player is not None and player.client is not None \
                and not isinstance(player.client, GuestClient):
            player.client.close("You logged in from another connection; this one is closed.",
                                "taken over")

    @inlineCallbacks
    def on_reach(self, account: int, act: str, detail: dict[str, Any]) -> Any:
        """An admin's act on another node, for an account's player connected here."""
        player = self.lobby.known(account)
        if self.admin is None or player is None or player.client is None \
                or isinstance(player.client, GuestClient):
            return False
        yield ensureDeferred(self.admin.touch(player, act, detail))
        return True

    def on_announce(self, event: Event) -> None:
        self.lobby.announce_here(event)

    def on_owner(self, link: NodeLink, table: str, node: str, epoch: int) -> None:
        if table not in self.remote:
            return
        if table in self.owned:
            # Only the database says this node lost a table: look now.
            self._beat_now()
            return
        self._heard_owner(table, node, epoch)
        if not node and not self.draining:
            self._beat_now()  # released: take it if this node is short of its share

    def _speaks_for(self, link: NodeLink, table: str) -> bool:
        """Whether the link's node runs ``table`` as far as this node knows."""
        return table in self.remote and self.known.get(table, ("", 0))[0] == link.peer

    def _sweep_guests(self) -> None:
        """Forget guests no longer at any table here (their front sends no Detach)."""
        for link in self.links.values():
            for account, client in list(link.guests.items()):
                player = client.player
                if player.table is None or player.table not in self.owned.values():
                    del link.guests[account]
                    if player.client is client:
                        self.lobby.drop_guest(player)

    # -- links --------------------------------------------------------------------------------

    def _dial(self, view: RoomView) -> None:
        """Link to every live node named after this one (they dial the ones before)."""
        for member in view.members:
            if member.name <= self.name or member.name in self.links \
                    or member.name in self._dialing:
                continue
            host, _, port = member.address.rpartition(":")
            if not host or not port.isdigit():
                continue
            self._dialing.add(member.name)
            endpoint = HostnameEndpoint(self.clock, host.strip("[]"), int(port),
                                        timeout=self.options.dial_timeout)
            d = connectProtocol(endpoint, NodeLink(self, calling=True))
            d.addErrback(lambda f, m=member.name: _log.info(
                "could not reach node {m}: {e}", m=m, e=f.getErrorMessage()))
            d.addBoth(lambda _, m=member.name: self._dialing.discard(m))

    def linked(self, link: NodeLink) -> None:
        assert link.peer is not None
        old = self.links.get(link.peer)
        if old is not None and old is not link:
            old.transport.loseConnection()
        self.links[link.peer] = link
        _log.info("node {me} linked to node {peer}", me=self.name, peer=link.peer)
        for name, table in self.owned.items():
            link.announce(name, self.name, self.fences[name].epoch)
        for name, remote in self.remote.items():
            if remote.owner == link.peer and name not in self.owned:
                for player, _ in self.lobby.mirrored(remote, connected=True):
                    self.attach(name, player).addErrback(self._attach_failed, player)

    def unlinked(self, link: NodeLink) -> None:
        if self.links.get(link.peer or "") is link:
            del self.links[link.peer or ""]
        _log.info("node {me} lost its link to node {peer}", me=self.name, peer=link.peer)
        # Players of that node at tables here: away, seats held for the grace period.
        for account, client in list(link.guests.items()):
            self.lobby.detach(client.player, client)
        link.guests.clear()


def _refusal(failure: Failure) -> dict[str, Any]:
    """A forwarded command's refusal, as the front raises it for its client."""
    error = failure.value
    code = code_of(error)
    if code == "server_error" and not isinstance(error, ServerError):
        _log.failure("a forwarded command failed", failure)
        return {"code": code, "message": "something went wrong on the server; please try again"}
    return {"code": code, "message": str(error)}


def _moving(table: str) -> Deferred[Any]:
    return maybeDeferred(_raise_moving, table)


def _raise_moving(table: str) -> None:
    raise TableError(f"table {table} is moving to another server; try again in a moment",
                     code="table_moving")

