"""A table command by name, run at the table for a player: what a forwarded command becomes.

The front of a player at a table another node runs sends the command's
name and parameters (:class:`~.wire.Forward`); the owner runs it here, on
its :class:`~blackjack.server.core.table.Table`, exactly as a session would
for a player connected to it.  The names are the catalogue's
(:mod:`blackjack.server.core.commands`).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from blackjack.server.core.commands import ACTION_COMMANDS
from blackjack.server.core.player import Player
from blackjack.server.core.seating import ITable, ask
from blackjack.server.core.session import hint_event
from blackjack.server.errors import CommandError

__all__ = ["run_verb", "VERBS"]

VERBS = frozenset({"join", "watch", "leave", "look", "say", "bet", "hint", "next_shoe",
                   *ACTION_COMMANDS})
"""Every command a front forwards to a table's owner."""


def run_verb(table: ITable, player: Player, verb: str,
             params: dict[str, Any]) -> Deferred[Any]:
    """Run ``verb`` at ``table`` for ``player``; its answer (an event, or ``None``)."""
    if verb == "join":
        return ask(table.sit, player, params.get("seat")).addCallback(lambda _: None)
    if verb == "watch":
        return ask(table.watch, player)
    if verb == "leave":
        return table.leave(player, str(params.get("why", "left")))
    if verb == "look":
        return ask(table.snapshot)
    if verb == "say":
        return ask(table.say, player, params["text"])
    if verb == "bet":
        return table.bet(player, params["amount"])
    if verb == "hint":
        return ask(table.hint, player).addCallback(hint_event)
    if verb == "next_shoe":
        return ask(table.next_shoe, player)
    action = ACTION_COMMANDS.get(verb)
    if action is None:
        raise CommandError(f"{verb} is not a table command")
    return table.act(player, action)
