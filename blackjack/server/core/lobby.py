"""The card room: its tables, and who is logged in from where.

The lobby owns the one :class:`~blackjack.server.core.player.Player` per account
that is online (or seated and reconnecting).  :meth:`Lobby.attach` is where a
second login takes over a session: the old client is told and closed, and
the player keeps their seat.  :meth:`Lobby.detach` is where a dropped
connection starts the table's grace period.  Tables may be added and closed
while the room runs (an admin's ``tables add`` and ``tables close``): a
closing table finishes its round in play, then leaves the lobby.

Its tables are :class:`~blackjack.server.core.seating.ITable`: run here, or
(in a room of several nodes) stand-ins for tables another node runs.  A room
also overrides :meth:`Lobby.arrive`, to learn where an account sits in the
room when it logs in here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger

from blackjack.server.core import events
from blackjack.server.core.events import Event
from blackjack.rules import Rules
from blackjack.server.core.player import Player
from blackjack.server.core.seating import ITable
from blackjack.server.core.table import Table
from blackjack.server.errors import LobbyError
from blackjack.server.storage import Account

__all__ = ["LobbyError", "Lobby"]

_log = Logger()


class Lobby:
    """The tables, and the players attached to connections.

    ``make_table`` makes a table from a name and rules, for tables added while
    the room runs (none can be added without it).
    """

    def __init__(self, tables: Sequence[ITable],
                 make_table: Callable[[str, Rules], Table] | None = None) -> None:
        self.tables: dict[str, ITable] = {t.name.lower(): t for t in tables}
        self._players: dict[int, Player] = {}
        self._make_table = make_table

    def table(self, name: str) -> ITable:
        """The table called ``name`` (any case)."""
        table = self.tables.get(name.strip().lower())
        if table is None:
            known = ", ".join(t.name for t in self.tables.values())
            raise LobbyError(f"no table {name!r}; tables: {known}")
        return table

    def tables_event(self) -> Event | Deferred[Event]:
        """The ``tables`` event: every table as the lobby lists it."""
        return events.TABLES(tables=[t.describe() for t in self.tables.values()])

    @property
    def players(self) -> list[Player]:
        """Everyone logged in or holding a seat, by name."""
        return sorted(self._players.values(), key=lambda p: p.name.lower())

    def who_event(self, addresses: bool = False) -> Event:
        """The ``who`` event: who is here and where (and, for an admin, from where)."""
        self.forget_unseated()
        return events.WHO(players=[
            {"name": p.name, "table": p.table.name if p.table else None, "seat": p.seat,
             "connected": p.connected, **({"address": p.address} if addresses else {})}
            for p in self.players])

    def online(self, name: str) -> Player | None:
        """The player called ``name`` (any case) if logged in or holding a seat."""
        self.forget_unseated()
        key = name.lower()
        return next((p for p in self._players.values() if p.name.lower() == key), None)

    def announce(self, event: Event) -> None:
        """Send one event to everyone logged in."""
        for player in list(self._players.values()):
            player.send(event)

    def reach(self, account_id: int, act: str, detail: Mapping[str, Any]) -> Deferred[bool]:
        """Have the server the account is connected to do an admin's act to its player
        (:meth:`~blackjack.server.core.admin.Admin.touch`), when that server is another
        one of the room; whether one did.  A server alone has no other: ``False``."""
        return succeed(False)

    # -- tables added and closed while the room runs -----------------------------------

    def check_new_table(self, name: str) -> None:
        """Refuse a new table's name if a table (a closing one included) has it."""
        if name.strip().lower() in self.tables:
            raise LobbyError(f"table {name!r} is open already", code="table_exists")
        if self._make_table is None:
            raise LobbyError("this card room cannot open tables while it runs",
                             code="table_closed")

    def add_table(self, name: str, rules: Rules) -> Table:
        """Open a new table."""
        self.check_new_table(name)
        assert self._make_table is not None
        table = self.tables[name.lower()] = self._make_table(name.lower(), rules)
        return table

    def check_close(self, name: str) -> Table:
        """The table called ``name``, if it may be closed."""
        table = self.table(name)
        if not isinstance(table, Table):  # a stand-in: another server of a room runs it
            raise LobbyError(f"table {table.name} is run by another server", code="room_tables")
        return table

    def close_table(self, name: str) -> Deferred[None]:
        """Close a table once its round in play is over; it then leaves the lobby."""
        table = self.check_close(name)

        def gone(_: object) -> None:
            if self.tables.get(table.name.lower()) is table:
                del self.tables[table.name.lower()]

        def failed(failure: Any) -> None:
            _log.failure("closing table {table} failed", failure, table=table.name)
        return table.close().addCallback(gone).addErrback(failed)

    def player(self, account: Account) -> Player:
        """The account's player: the one holding its seat, or a new one."""
        self.forget_unseated()
        player = self._players.get(account.id)
        if player is None:
            player = self._players[account.id] = Player(account.id, account.name)
        return player

    def arrive(self, account: Account) -> Player | Deferred[Player]:
        """The player an account logs in as (:meth:`player`; a room looks it up first)."""
        return self.player(account)

    def attach(self, player: Player, client: Any) -> None | Deferred[None]:
        """Connect ``client`` to ``player``, taking over any older session.

        A held seat's table greets the player again; the Deferred (if any)
        fires once it has.
        """
        self._players[player.account_id] = player
        old, player.client = player.client, client
        if old is not None and old is not client:
            old.close("You logged in from another connection; this one is closed.",
                      "taken over")
        if player.table is not None:
            return player.table.player_reconnected(player)
        return None

    def detach(self, player: Player, client: Any) -> None:
        """``client`` has gone; if it still speaks for ``player``, the player is away."""
        if player.client is not client:
            return  # taken over by a newer connection
        player.client = None
        if player.table is not None:
            player.table.player_disconnected(player)
        if player.seat is None:
            self._players.pop(player.account_id, None)

    def forget_unseated(self) -> None:
        """Drop disconnected players whose seats are gone (their grace ran out)."""
        for account_id, player in list(self._players.items()):
            if not player.connected and player.seat is None:
                del self._players[account_id]

    def stop(self) -> Deferred[Any]:
        """Close every table: rounds in play finish (hands stand) or are refunded."""
        return DeferredList([t.stop() for t in self.tables.values()], consumeErrors=True)
