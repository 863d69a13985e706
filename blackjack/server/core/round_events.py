"""The engine's round events as the catalogue's events, with the players' names.

The table sends each :class:`~blackjack.round.Event` of the round in play
through :func:`from_engine` as it happens; a stored hand's replay
(:mod:`~blackjack.server.core.hands`) sends the replayed round's events
through the same function, so a replay shows exactly what the table showed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blackjack.round import Event as RoundEvent
from blackjack.server.core import events
from blackjack.server.core.events import Event

__all__ = ["from_engine"]


def from_engine(event: RoundEvent, table: str, round_id: str, name: Callable[[int], str],
                turn_seconds: int) -> Event:
    """``event`` as the catalogue says it is sent; ``name`` gives a seat's player."""
    kind, seat = event.kind, event.seat
    player = name(seat) if seat is not None else None
    detail: Any = event.detail
    if kind == "deal":
        return events.DEAL(seat=seat, hand=event.hand, player=player, card=event.card,
                           total=event.total)
    if kind == "action":
        return events.ACTION_TAKEN(seat=seat, hand=event.hand, player=player,
                                   action=event.action, stake=event.stake)
    if kind == "turn":
        return events.TURN(seat=seat, hand=event.hand, player=player, total=event.total,
                           seconds=turn_seconds)
    if kind == "decision":
        return events.DECISION(seat=seat, hand=0, player=player, action=event.action,
                               stake=event.stake)
    if kind == "insurance":
        return events.INSURANCE(seats=list(detail["seats"]))
    if kind == "peek":
        return events.PEEK(blackjack=detail["blackjack"])
    if kind == "reveal":
        return events.REVEAL(card=event.card, total=event.total)
    if kind == "dealer":
        return events.DEALER(cards=detail["cards"], total=event.total,
                             blackjack=detail["blackjack"], bust=detail["bust"])
    if kind == "result":
        names = {s: name(int(s)) for s in detail["net"]} | {
            str(h["seat"]): name(h["seat"]) for h in detail["hands"]}
        return events.RESULT(
            table=table, round=round_id, dealer=detail["dealer"],
            dealer_total=detail["dealer_total"],
            hands=[{**h, "player": names[str(h["seat"])]} for h in detail["hands"]],
            insurance=[{**i, "player": names[str(i["seat"])]} for i in detail["insurance"]],
            net=detail["net"], players=names)
    raise ValueError(f"the catalogue has no event for the engine's {kind!r}")
