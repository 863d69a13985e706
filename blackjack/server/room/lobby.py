"""The lobby of one node of a room: every table of the room, players here and guests.

A :class:`RoomLobby` is the core :class:`~blackjack.server.core.lobby.Lobby`
whose tables are the ones this node runs and stand-ins
(:class:`~.remote.RemoteTable`) for the others, and which knows the room:

* logging in (:meth:`RoomLobby.arrive`) records the node in the database,
  closes the account's connection on the node it was on before (one login
  per account in the room) and finds the seat it holds anywhere in the room;
* a player here whose table runs elsewhere is forgotten when their
  connection drops (the owner holds the seat; a login anywhere finds it);
* ``tables`` asks each owner for its tables' summaries;
* an admin's act reaches a player connected to another node
  (:meth:`RoomLobby.reach`), and an announcement every node's players; the
  room's tables are every node's ``--table`` options, so they cannot be
  added or closed in the game.

It also keeps the *guests*: players connected to other nodes who sit at or
watch a table run here (:mod:`.guests`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, DeferredList, inlineCallbacks
from twisted.logger import Logger

from blackjack.server.core import events
from blackjack.server.core.events import Event
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.player import Player
from blackjack.server.core.seating import ITable
from blackjack.server.core.table import Table
from blackjack.server.errors import LobbyError
from blackjack.server.room import wire
from blackjack.server.room.guests import GuestClient
from blackjack.server.room.remote import RemoteTable
from blackjack.server.storage import Account

if TYPE_CHECKING:
    from blackjack.server.room.node import RoomNode

__all__ = ["RoomLobby"]

_log = Logger()

KICK_WAIT = 2.0
"""Seconds a login waits for the node it was on before to close the old connection (and
an admin's act for the other nodes' answers)."""

_FIXED_TABLES = ("in a room of several servers the tables are the --table options every "
                 "node shares; change them there (on every node), not in the game")


class RoomLobby(Lobby):
    """A node's lobby (see the module docstring)."""

    def __init__(self, node: RoomNode, tables: Sequence[ITable]) -> None:
        super().__init__(tables)
        self.node = node

    # -- logging in and out ---------------------------------------------------------------

    @inlineCallbacks
    def arrive(self, account: Account) -> Any:
        """The player logging in here, knowing where the account sits in the room."""
        node = self.node
        try:
            arrival = yield node.storage.arrive(account.id, node.name)
        except Exception as error:
            _log.warn("could not look {name} up in the room: {e}", name=account.name, e=error)
            return self.player(account)
        link = node.links.get(arrival.previous or "")
        if link is not None:
            try:
                yield link.callRemote(wire.Kick, account=account.id).addTimeout(
                    KICK_WAIT, node.clock)
            except Exception as error:
                _log.info("node {n} did not close {name}'s old connection: {e}",
                          n=arrival.previous, name=account.name, e=error)
        player = self.player(account)
        table = arrival.table
        if table is not None and player.table is None and table in node.remote \
                and table not in node.owned:
            player.table, player.seat = node.remote[table], arrival.seat
        return player

    def detach(self, player: Player, client: Any) -> None:
        """As the core's; a player at a table run elsewhere is forgotten here."""
        table = player.table
        if not isinstance(table, RemoteTable) or player.client is not client:
            super().detach(player, client)
            return
        player.client = None
        table.player_disconnected(player)  # the owner holds the seat
        self.forget(player)

    def forget_unseated(self) -> None:
        """As the core's, and players away from a table run elsewhere."""
        super().forget_unseated()
        for account_id, player in list(self._players.items()):
            if not player.connected and isinstance(player.table, RemoteTable):
                self.forget(player)

    # -- the owner's view of players --------------------------------------------------------

    def known(self, account_id: int) -> Player | None:
        """The account's player here, if any."""
        return self._players.get(account_id)

    def held(self, account_id: int, name: str) -> Player:
        """The account's player here, made (disconnected) if there is none."""
        player = self._players.get(account_id)
        if player is None:
            player = self._players[account_id] = Player(account_id, name)
        return player

    def mirrored(self, table: RemoteTable,
                 connected: bool = False) -> list[tuple[Player, int | None]]:
        """Players of this node (not guests) at a table run elsewhere, with their seats."""
        return [(p, p.seat) for p in self.players
                if p.table is table and not isinstance(p.client, GuestClient)
                and (p.connected or not connected)]

    def drop_guest(self, player: Player) -> None:
        """A guest no longer at any table here: forget them."""
        player.client = None
        if player.table is None or isinstance(player.table, RemoteTable):
            self.forget(player)

    def forget(self, player: Player) -> None:
        """Forget a player (its seat, if any, is another node's business)."""
        player.table, player.seat = None, None
        if self._players.get(player.account_id) is player:
            del self._players[player.account_id]

    # -- admins' acts across the room --------------------------------------------------------

    def online(self, name: str) -> Player | None:
        """As the core's, but not a guest: its connection, and so its chat and the acts
        done to it, are its own node's."""
        player = super().online(name)
        return None if player is not None and isinstance(player.client, GuestClient) \
            else player

    @inlineCallbacks
    def reach(self, account_id: int, act: str, detail: Mapping[str, Any]) -> Any:
        """Ask every other node to do an admin's act to the account's player, if connected
        there; whether one did (a node that does not answer in time counts as not)."""
        asking = [link.callRemote(wire.Reach, account=account_id, act=act,
                                  detail=dict(detail)).addTimeout(KICK_WAIT, self.node.clock)
                  for link in list(self.node.links.values())]
        answers = yield DeferredList(asking, consumeErrors=True)
        for ok, answer in answers:
            if not ok:
                _log.info("a node did not answer an admin's {act}: {e}", act=act,
                          e=answer.getErrorMessage())
        return any(ok and answer["found"] for ok, answer in answers)

    def announce(self, event: Event) -> None:
        """Send one event to everyone logged in anywhere in the room."""
        self.announce_here(event)
        for link in list(self.node.links.values()):
            link.callRemote(wire.Announce, event=event)

    def announce_here(self, event: Event) -> None:
        """Send one event to everyone connected to this node (guests hear it from theirs)."""
        for player in list(self._players.values()):
            if not isinstance(player.client, GuestClient):
                player.send(event)

    def check_new_table(self, name: str) -> None:
        """Refused: the room's tables are the ``--table`` options every node shares."""
        raise LobbyError(_FIXED_TABLES, code="room_tables")

    def check_close(self, name: str) -> Table:
        """Refused, as :meth:`check_new_table`."""
        self.table(name)  # an unknown name is told as such
        raise LobbyError(_FIXED_TABLES, code="room_tables")

    # -- the room's tables ------------------------------------------------------------------

    def tables_event(self) -> Deferred[Event]:
        """Every table of the room, each as its owner describes it."""
        return self.node.describe_all(list(self.tables)).addCallback(
            lambda summaries: events.TABLES(tables=summaries))

    def stop(self) -> Deferred[Any]:
        """Hand every table run here to the other nodes, between rounds."""
        return self.node.drain()

