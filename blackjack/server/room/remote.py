"""A table another node of the room runs, as the lobby and sessions here see it.

:class:`RemoteTable` is an :class:`~blackjack.server.core.seating.ITable`
that forwards each request to the table's owner (through :class:`Router`,
the node) and answers with the owner's answer.  Its player's seat is the
owner's business: the front only mirrors it (``player.table`` is this
stand-in, ``player.seat`` the seat the owner reported), so that what a
session checks here (am I at a table? which one?) reads as for a local table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred, succeed

from blackjack.actions import Action
from blackjack.round import SEATS
from blackjack.server.core.events import Event
from blackjack.server.core.coach import Advice
from blackjack.server.errors import TableError

if TYPE_CHECKING:
    from blackjack.rules import Rules
    from blackjack.server.core.player import Player
    from blackjack.server.core.table import Timers

__all__ = ["RemoteTable", "Router"]


class Router(Protocol):
    """What a :class:`RemoteTable` asks of its node."""

    def forward(self, table: str, player: Player, verb: str,
                params: dict[str, Any]) -> Deferred[Any]:
        """Run a table command at the owner for the player; its answer."""

    def attach(self, table: str, player: Player) -> Deferred[None]:
        """The player is connected here: have the owner send their seat's events here."""

    def detach(self, table: str, player: Player) -> None:
        """The player's connection here dropped."""

    def describe(self, table: str) -> Deferred[dict[str, Any]]:
        """The owner's summary of the table."""

    def snapshot(self, table: str) -> Deferred[Event]:
        """The owner's snapshot of the table."""


class RemoteTable:
    """A stand-in for a table run by another node (or, for a moment, by none)."""

    def __init__(self, name: str, rules: Rules, timers: Timers, router: Router) -> None:
        self.name = name
        self.rules = rules
        self.timers = timers
        self._router = router
        self.owner = ""
        """The node running the table; ``""`` while it moves between nodes."""

    def summary(self, phase: str = "moving") -> dict[str, Any]:
        """The table as the lobby lists it when its owner cannot say."""
        return {"name": self.name, "rules": self.rules.describe(), "min": self.rules.min_bet,
                "max": self.rules.max_bet, "seats": {}, "taken": 0, "of": len(SEATS),
                "spectators": 0, "phase": phase}

    def describe(self) -> Deferred[dict[str, Any]]:
        return self._router.describe(self.name)

    def snapshot(self) -> Deferred[Event]:
        return self._router.snapshot(self.name)

    def sit(self, player: Player, seat: int | None = None) -> Deferred[Any]:
        self._check_free(player)
        if player.seat is not None:
            raise TableError(f"you already sit in seat {player.seat}", code="already_seated")
        return self._forward(player, "join", {"seat": seat}).addCallback(
            lambda _: player.seat)

    def watch(self, player: Player) -> Deferred[None]:
        if player.table is not None:
            raise TableError(f"you are at table {player.table.name}; type leave first",
                             code="at_another_table")
        return self._forward(player, "watch", {})

    def leave(self, player: Player, why: str = "left") -> Deferred[None]:
        return self._forward(player, "leave", {"why": why})

    def say(self, player: Player, text: str) -> Deferred[None]:
        return self._forward(player, "say", {"text": text})

    def bet(self, player: Player, amount: int) -> Deferred[None]:
        return self._forward(player, "bet", {"amount": amount})

    def act(self, player: Player, action: Action) -> Deferred[None]:
        return self._forward(player, action.value, {})

    def act_now(self, player: Player, action: Action) -> Deferred[None]:
        return self.act(player, action)  # the owner answers: never at once here

    def hint(self, player: Player) -> Deferred[Advice]:
        return self._forward(player, "hint", {}).addCallback(
            lambda e: Advice(Action(e["action"]),
                             {Action(a): v for a, v in e["values"].items()}, e["model"]))

    def next_shoe(self, player: Player) -> Deferred[dict[str, Any] | None]:
        return self._forward(player, "next_shoe", {})

    def player_disconnected(self, player: Player) -> None:
        self._router.detach(self.name, player)

    def player_reconnected(self, player: Player) -> Deferred[None]:
        return self._router.attach(self.name, player)

    def stop(self) -> Deferred[None]:
        return succeed(None)  # its owner stops it

    def _forward(self, player: Player, verb: str, params: dict[str, Any]) -> Deferred[Any]:
        return self._router.forward(self.name, player, verb, params)

    def _check_free(self, player: Player) -> None:
        if player.table is not None and player.table is not self:
            raise TableError(f"you are at table {player.table.name}; type leave first",
                             code="at_another_table")

    def __repr__(self) -> str:
        return f"<RemoteTable {self.name!r} run by {self.owner or 'nobody'!r}>"
