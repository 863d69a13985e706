"""What the lobby, a session and a connection may ask of a table, wherever it runs.

A :class:`~blackjack.server.core.table.Table` runs in this process.  In a room
of several nodes, a table that another node runs is a stand-in here that
forwards the same requests there and the answers back (that is the room's
business, outside the core: :mod:`blackjack.server.room`).  So every request
may be answered at once or later: callers take the answer through
``maybeDeferred``, and a Deferred's failure is the request's refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast

from twisted.internet.defer import Deferred, maybeDeferred

if TYPE_CHECKING:
    from blackjack.actions import Action
    from blackjack.rules import Rules
    from blackjack.server.core.events import Event
    from blackjack.server.core.player import Player
    from blackjack.server.core.coach import Advice
    from blackjack.server.core.table import Timers

__all__ = ["ITable", "ask"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def ask(request: Callable[_P, _T | Deferred[_T]], *args: _P.args,
        **kwargs: _P.kwargs) -> Deferred[_T]:
    """Make a request of a table: its answer as one Deferred, now or later.

    ``maybeDeferred``, typed for requests that answer either way: a raise
    becomes the Deferred's failure.
    """
    return cast("Deferred[_T]", maybeDeferred(request, *args, **kwargs))


class ITable(Protocol):
    """A table as the lobby, sessions and connections use it (see the module docstring)."""

    name: str
    rules: Rules
    timers: Timers

    def describe(self) -> dict[str, Any] | Deferred[dict[str, Any]]:
        """The table as the lobby lists it (a ``table_summary``)."""

    def snapshot(self) -> Event | Deferred[Event]:
        """What someone arriving at the table sees (a ``table_snapshot``)."""

    def sit(self, player: Player, seat: int | None = None) -> int | Deferred[int]:
        """Seat a player; the seat taken."""

    def watch(self, player: Player) -> None | Deferred[None]:
        """Let a player spectate."""

    def leave(self, player: Player, why: str = "left") -> Deferred[None]:
        """Stand up or stop watching."""

    def say(self, player: Player, text: str) -> None | Deferred[None]:
        """Pass a line of chat to everyone at the table."""

    def bet(self, player: Player, amount: int) -> Deferred[None]:
        """Place a bet for the player's seat."""

    def act(self, player: Player, action: Action) -> Deferred[None]:
        """Make a decision for the player's seat."""

    def act_now(self, player: Player, action: Action) -> Deferred[None] | None:
        """:meth:`act`, answered at once (``None``, or the error raised) where it can be."""

    def hint(self, player: Player) -> Advice | Deferred[Advice]:
        """Basic strategy's play for the player's hand."""

    def next_shoe(self, player: Player) -> dict[str, Any] | None | Deferred[dict[str, Any] | None]:
        """The commitment of the shoe a seated player's seed goes into next."""

    def player_disconnected(self, player: Player) -> None:
        """The player's connection dropped: hold the seat for the grace period."""

    def player_reconnected(self, player: Player) -> None | Deferred[None]:
        """The player is back: show the table; fires once it has been shown."""

    def stop(self) -> Deferred[None]:
        """The server is stopping."""
