"""A logged-in player as tables see it, and the interface back to a connection.

A :class:`Player` outlives its connections: when a player drops, the
player's seat keeps pointing at the same :class:`Player` with no client, and
logging in again attaches the new connection to it.  Tables never touch a
transport; they call :meth:`Player.send`, which forwards to whatever
:class:`ISeatClient` is attached (a telnet connection, a test fake, a future
WebSocket front end), or drops the event while the player is away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.logger import Logger
from zope.interface import Interface

if TYPE_CHECKING:
    from blackjack.server.core.events import Event
    from blackjack.server.core.seating import ITable

__all__ = ["ISeatClient", "Player"]

_log = Logger()


class ISeatClient(Interface):
    """What the lobby and tables may do to a connected client."""

    def send_event(event: Event) -> None:
        """Deliver one event from the catalogue (shared: never change it)."""

    def close(message: str, why: str = "server") -> None:
        """Tell the client why (``message``), then disconnect it; ``why`` is a word for
        the log (``kicked``, ``taken over``...)."""


class Player:
    """An account at the card room, connected or (for a while) not."""

    def __init__(self, account_id: int, name: str) -> None:
        self.account_id = account_id
        self.name = name
        self.client: Any = None
        """The attached :class:`ISeatClient`, or ``None`` while disconnected."""
        self.table: ITable | None = None
        """The table the player sits at or watches."""
        self.seat: int | None = None
        """The seat number, or ``None`` when watching or in the lobby."""
        self.admin = False
        """Whether the account was an admin when it logged in (for what help and
        ``who`` show; an admin command reads the role again before it acts)."""
        self.address = ""
        """The address of the connection that last logged in as this player."""
        self.muted_until = 0.0
        """When an admin's mute ends (``inf``: when lifted; 0: not muted)."""
        self.seed = ""
        """The player's seed text for provably fair shuffles (``seed TEXT``)."""
        self.trainer = False
        """Whether to say basic strategy's play after a different one (``trainer on``)."""

    @property
    def connected(self) -> bool:
        """Whether a client is attached."""
        return self.client is not None

    def send(self, event: Event) -> None:
        """Send an event to the player's client, if one is attached.

        A client that fails to take an event loses that event, and the
        failure is logged; it never reaches the table, which sends in the
        middle of moving chips and must finish (settle) whatever one
        connection does.
        """
        if self.client is None:
            return
        try:
            self.client.send_event(event)
        except Exception:
            _log.failure("could not send a {kind} event to {name}",
                         kind=event.get("event"), name=self.name)

    def __repr__(self) -> str:
        return f"<Player {self.name!r} id={self.account_id} seat={self.seat}>"
