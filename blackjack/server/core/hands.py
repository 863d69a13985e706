"""Stored hands as players see them: a line of ``history``, and one hand in full.

A table stores each settled round as a record (:meth:`Table._settle
<blackjack.server.core.table.Table>`): the engine's
:class:`~blackjack.replay.RoundRecord` form (rules, bets, cards in shoe
order, decisions) plus the table's own members (players, the fair shoe and
the first card it dealt, times, what basic strategy said of each decision).
``hand ID`` replays the record on the engine and sends each step through the
same translation the table used live, so the replay shows what the table
showed, card by card.  Records stored before decisions were kept show their
result without steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from blackjack.errors import RecordError
from blackjack.replay import RoundRecord, steps
from blackjack.round import Result, RoundOutcome
from blackjack.server.core import events
from blackjack.server.core.events import Event
from blackjack.server.core.player import Player
from blackjack.server.core.round_events import from_engine
from blackjack.server.storage import HandRecord, HandSummary

__all__ = ["history_entry", "hand_event", "summaries"]

_WON = frozenset({Result.WIN, Result.BLACKJACK, Result.EVEN_MONEY})
_LOST = frozenset({Result.LOSE, Result.BUST, Result.SURRENDER})


def _names(details: dict[str, Any]) -> dict[str, str]:
    players = details.get("players") or {}
    return {str(seat): str(name) for seat, name in players.items()}


def history_entry(record: HandRecord, me: str) -> dict[str, Any]:
    """One settled round as the ``history`` event lists it: my hands and the dealer's."""
    details = record.details or {}
    outcome = details.get("outcome", {})
    players = _names(details)
    mine = [{**h, "player": me} for h in outcome.get("hands", ())
            if players.get(str(h.get("seat"))) == me]
    return {"id": record.id, "round": record.round_id, "table": details.get("table", "?"),
            "when": record.created, "staked": record.staked, "payout": record.payout,
            "net": record.net, "dealer": list(outcome.get("dealer", ())), "mine": mine}


def hand_event(record: HandRecord, retired: bool | None) -> Event:
    """The ``hand`` event: the round in full, replayed step by step.

    ``retired`` says whether the fair shoe it was dealt from is retired
    (``None`` if it came from no fair shoe).
    """
    details = record.details or {}
    table = str(details.get("table", "?"))
    names = _names(details)

    def name(seat: int) -> str:
        return names.get(str(seat), f"seat {seat}")

    outcome = details.get("outcome") or {}
    try:
        replayed = steps(RoundRecord.from_dict(details))
    except RecordError:
        replayed = []  # a record from before rounds were stored in full
    shown = []
    for step in replayed:
        decision = step.decision
        shown.append({"step": step.number,
                      "event": dict(from_engine(step.event, table, record.round_id, name, 0)),
                      "at": None if decision is None else decision.at,
                      "by": None if decision is None else decision.by})
    fair = details.get("shoe")
    return events.HAND_RECORD(
        id=record.id, round=record.round_id, table=table,
        when=record.created, rules=str(details.get("rules_text", details.get("rules", ""))),
        players=names, bets={str(k): v for k, v in (details.get("bets") or {}).items()},
        dealer=list(outcome.get("dealer", ())),
        hands=[{**h, "player": name(h["seat"])} for h in outcome.get("hands", ())],
        insurance=[{**i, "player": name(i["seat"])} for i in outcome.get("insurance", ())],
        decisions=list(details.get("decisions") or ()), steps=shown,
        staked=record.staked, net=record.net,
        shoe=None if not fair or retired is None else {
            "shoe": fair["shoe"], "commitment": fair["commitment"], "first": fair["first"],
            "retired": retired})


def summaries(outcome: RoundOutcome, decisions: Sequence[Mapping[str, Any]],
              stakers: Mapping[int, Player]) -> dict[int, HandSummary]:
    """Each staking account's part in a settled round, for its statistics.

    A natural counts as a blackjack whether it was paid, pushed a dealer
    natural or took even money.  Only the player's own decisions count
    towards ``decisions``, ``matched`` and ``cost``, not the timer's.
    """
    found: dict[int, HandSummary] = {}
    for account_id in {p.account_id for p in stakers.values()}:
        seats = {seat for seat, p in stakers.items() if p.account_id == account_id}
        hands = [h for h in outcome.hands if h.seat in seats]
        split = {h.seat for h in hands if h.hand > 0}
        mine = [d for d in decisions if d.get("seat") in seats and d.get("by") == "player"
                and "best" in d]
        found[account_id] = HandSummary(
            hands=len(hands),
            wins=sum(h.result in _WON for h in hands),
            losses=sum(h.result in _LOST for h in hands),
            pushes=sum(h.result is Result.PUSH for h in hands),
            blackjacks=sum(len(h.cards) == 2 and h.seat not in split
                           and sum(c.points for c in h.cards) == 11
                           and any(c.points == 1 for c in h.cards) for h in hands),
            decisions=len(mine),
            matched=sum(d["best"] == d["action"] for d in mine),
            cost=round(sum(float(d.get("cost", 0.0)) for d in mine), 4))
    return found
