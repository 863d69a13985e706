"""A player connected to another node, as a table here sees them: a guest.

On the node running a table (its owner), a player whose connection is held
by another node (their front) is an ordinary
:class:`~blackjack.server.core.player.Player` whose client is a
:class:`GuestClient`: what the table sends goes over the node link to the
front, which hands it to the player's connection.

The front keeps its own copy of where its player sits (the
:class:`~.remote.RemoteTable` and seat number), so the guest client tells it
whenever that changes (:class:`~.wire.Seated`), before the next event or
answer: the table seats and stands players by itself too (missed rounds, a
grace period running out), not only when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zope.interface import implementer

from blackjack.server.core.events import Event
from blackjack.server.core.player import ISeatClient, Player

if TYPE_CHECKING:
    from blackjack.server.room.link import NodeLink

__all__ = ["GuestClient"]


@implementer(ISeatClient)
class GuestClient:
    """The way to a guest's connection: a link to its front, and the account there."""

    def __init__(self, link: NodeLink, player: Player) -> None:
        self.link = link
        self.player = player
        self._table = ""
        """The table the guest was last at here (events name it for the front)."""
        self._told: tuple[str | None, int | None] = (None, None)

    @property
    def where(self) -> tuple[str | None, int | None]:
        """The table (name) the guest is at and the seat (``None``: watching)."""
        table = self.player.table
        return (table.name if table is not None else None, self.player.seat)

    def sync(self) -> None:
        """Tell the front where its player sits, if that changed since it was told."""
        where = self.where
        if where == self._told:
            return
        self._told = where
        table, seat = where
        if table is not None:
            self._table = table
        if self._table:
            self.link.seated(self.player.account_id, self._table, seat,
                             watching=table is not None and seat is None)

    def send_event(self, event: Event) -> None:
        self.sync()
        if self._table:
            self.link.deliver(self._table, self.player.account_id, event)

    def close(self, message: str, why: str = "server") -> None:
        self.sync()
        self.link.close_player(self.player.account_id, self._table, message, why)

    def __repr__(self) -> str:
        return f"<GuestClient {self.player.name!r} via {self.link.peer!r}>"
