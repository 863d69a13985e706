"""A played round as a record, and replaying it on the engine card by card.

A :class:`RoundRecord` holds what decides a round and nothing more: the
rules, each seat's bet, the cards in the order they left the shoe, and every
decision in the order it was made (with when, and by whom: the player, the
timer, or the rule that plays for an absent player).  What the round *showed*
(hands, totals, results, payouts) follows from those, so :func:`replay` runs
them through a :class:`~blackjack.round.Round` again: on a
:class:`~blackjack.testing.StackedShoe` of the recorded cards to show a hand
step by step, or on the shoe itself (:mod:`blackjack.verify`) to prove the
cards came from it.

The record's JSON form (:meth:`RoundRecord.to_dict`) is part of the
``blackjack-fair/1`` specification in ``docs/fairness.md``.
"""

from __future__ import annotations

import collections.abc
from dataclasses import dataclass, field
from typing import Any, Mapping

from blackjack._checks import count, instance, optional_count, real, text, tuple_of
from blackjack.actions import Action
from blackjack.cards import Card, parse_cards
from blackjack.errors import (
    BlackjackError, IllegalActionError, InvalidArgumentError, RecordError,
)
from blackjack.round import Event, Phase, Round, _seat
from blackjack.rules import Rules
from blackjack.shoe import Shoe
from blackjack.testing import StackedShoe

__all__ = ["DECIDERS", "Decision", "RoundRecord", "ReplayError", "drawn_cards", "replay",
           "Step", "steps"]

DECIDERS = ("player", "timer", "absent", "shutdown")
"""Who makes a decision: the player; the turn timer; the rule that stands (or
declines insurance) for a player who left; the server stopping."""


class ReplayError(RecordError):
    """A record's decisions cannot be played on its cards: says which and why."""


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision of a round: a seat's play (``hand`` counts from 0) or its
    insurance answer (``hand`` 0), when it was made (seconds since the epoch,
    or ``None``) and by whom (one of :data:`DECIDERS`)."""

    seat: int
    hand: int
    action: Action
    at: float | None = None
    by: str = "player"

    def __post_init__(self) -> None:
        object.__setattr__(self, "seat", _seat(self.seat, RecordError))
        object.__setattr__(self, "hand", count("hand", self.hand, RecordError))
        if type(self.action) is not Action:  # Action(member) is the member, at a call's cost
            try:
                object.__setattr__(self, "action", Action(self.action))
            except IllegalActionError as error:
                raise RecordError(str(error)) from None
        if self.at is not None:
            object.__setattr__(self, "at", real("at", self.at, RecordError))
        if self.by not in DECIDERS:
            raise RecordError(f"by must be one of {', '.join(DECIDERS)}, not {self.by!r}")

    def to_dict(self) -> dict[str, object]:
        """The decision as JSON-ready data."""
        return {"seat": self.seat, "hand": self.hand, "action": self.action.value,
                "at": self.at, "by": self.by}

    @classmethod
    def from_dict(cls, data: object) -> Decision:
        """Read :meth:`to_dict`'s form (``at`` and ``by`` may be left out)."""
        item = _mapping("decision", data)
        return cls(_get(item, "seat", "decision"), _get(item, "hand", "decision"),
                   _get(item, "action", "decision"), item.get("at"),
                   item.get("by", "player"))


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """What decides one round: rules, bets, cards in shoe order, decisions in order.

    ``first`` is the shoe position (:attr:`~blackjack.fair.FairShoe.position`)
    of the round's first card, when it came from a fair shoe.  ``outcome`` is
    the settlement as the round reported it
    (:meth:`~blackjack.round.RoundOutcome.to_dict`), kept so that a verifier
    can check it too; ``None`` if not recorded.
    """

    round_id: str
    rules: Rules
    bets: Mapping[int, int]
    cards: tuple[Card, ...]
    decisions: tuple[Decision, ...]
    first: int | None = None
    outcome: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        text("round_id", self.round_id, RecordError)
        if not isinstance(self.rules, Rules):
            raise RecordError(f"rules must be a Rules value, not {self.rules!r}")
        if not isinstance(self.bets, collections.abc.Mapping) or not self.bets:
            raise RecordError(f"bets must map seats to chips, not {self.bets!r}")
        try:
            bets = {_seat(seat, RecordError): count("bet", amount, RecordError)
                    for seat, amount in sorted(self.bets.items())}
        except (RecordError, TypeError) as error:
            raise RecordError(f"bets must map seats to chips: {error}") from None
        object.__setattr__(self, "bets", bets)
        try:
            cards = tuple(parse_cards(self.cards))
        except BlackjackError as error:
            raise RecordError(f"round {self.round_id}: {error}") from None
        object.__setattr__(self, "cards", cards)
        object.__setattr__(self, "decisions", tuple_of(
            "decisions", self.decisions, Decision, RecordError))
        optional_count("first", self.first, RecordError)
        if self.outcome is not None and not isinstance(self.outcome, collections.abc.Mapping):
            raise RecordError(f"outcome must be None or a mapping, not {self.outcome!r}")

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (the form ``docs/fairness.md`` specifies)."""
        return {"round": self.round_id, "rules": self.rules.to_spec(),
                "bets": {str(seat): bet for seat, bet in self.bets.items()},
                "first": self.first, "cards": [str(c) for c in self.cards],
                "decisions": [d.to_dict() for d in self.decisions],
                "outcome": None if self.outcome is None else dict(self.outcome)}

    @classmethod
    def from_dict(cls, data: object) -> RoundRecord:
        """Read :meth:`to_dict`'s form; extra members (a server's own) are ignored."""
        item = _mapping("round", data)
        round_id = _get(item, "round", "round")
        where = f"round {round_id}"
        try:
            rules = Rules.from_spec(_get(item, "rules", where))
        except BlackjackError as error:
            raise RecordError(f"{where}: {error}") from None
        bets = _mapping(f"{where} bets", _get(item, "bets", where))
        try:
            seats = {int(seat): amount for seat, amount in bets.items()}
        except (TypeError, ValueError):
            raise RecordError(f"{where}: bets are keyed by seat numbers, not "
                              f"{sorted(bets)!r}") from None
        cards = _get(item, "cards", where)
        decisions = _get(item, "decisions", where)
        if not isinstance(decisions, list):
            raise RecordError(f"{where}: decisions must be a list, not {decisions!r}")
        outcome = item.get("outcome")
        return cls(round_id, rules, seats, cards,
                   tuple(Decision.from_dict(d) for d in decisions), item.get("first"),
                   None if outcome is None else _mapping(f"{where} outcome", outcome))


def _mapping(what: str, data: object) -> Mapping[str, Any]:
    if isinstance(data, collections.abc.Mapping):
        return data
    raise RecordError(f"{what} must be an object, not {data!r}")


def _get(item: Mapping[str, Any], name: str, where: str) -> Any:
    try:
        return item[name]
    except KeyError:
        raise RecordError(f"{where}: no {name!r} member") from None


def drawn_cards(rnd: Round) -> tuple[Card, ...]:
    """Every card a round took from its shoe, in the order it took them.

    Read off the round's ``deal`` events; the face-down hole card, shown
    there as ``??``, is the dealer's second card, known once the round is
    settled (before that it is left out).
    """
    instance("rnd", rnd, Round, InvalidArgumentError)
    hole = None
    outcome = rnd.outcome
    if outcome is not None and len(outcome.dealer.cards) > 1:
        hole = outcome.dealer.cards[1]
    cards = []
    for event in rnd.events:
        if event.kind != "deal" or event.card is None:
            continue
        if event.card == "??":
            if hole is not None:
                cards.append(hole)
        else:
            cards.append(Card.parse(event.card))
    return tuple(cards)


def replay(record: RoundRecord, shoe: Shoe | None = None) -> Round:
    """Play ``record`` again: deal from ``shoe`` (default: its own cards,
    stacked) and make its decisions in order.

    Returns the finished round.  Raises :class:`ReplayError` naming the
    decision when one is not legal where it falls, is recorded for another
    hand than the one whose turn it is, or comes after the round is over; or
    when the decisions run out before the round ends.
    """
    if not isinstance(record, RoundRecord):
        raise RecordError(f"record must be a RoundRecord, not {record!r}")
    rnd = Round(record.rules, StackedShoe(record.cards) if shoe is None else shoe,
                record.bets)
    where = f"round {record.round_id}"
    rnd.deal()
    for number, decision in enumerate(record.decisions, 1):
        what = f"{where}, decision {number} (seat {decision.seat} {decision.action.value})"
        if rnd.phase is Phase.FINISHED:
            raise ReplayError(f"{what}: the round is already over")
        turn = rnd.turn
        if rnd.phase is Phase.PLAYING and turn is not None and turn.hand != decision.hand:
            raise ReplayError(f"{what}: recorded for hand {decision.hand}, but hand "
                              f"{turn.hand} is to play")
        try:
            rnd.act(decision.action, seat=decision.seat)
        except BlackjackError as error:
            raise ReplayError(f"{what}: {error}") from None
    if rnd.phase is not Phase.FINISHED:
        raise ReplayError(f"{where}: the recorded decisions end before the round does "
                          f"(waiting for seat {rnd.turn.seat if rnd.turn else '?'})")
    return rnd


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a replay: an event of the round, and the decision behind it, if any."""

    number: int
    event: Event
    decision: Decision | None

    def __post_init__(self) -> None:
        count("number", self.number, InvalidArgumentError)
        instance("event", self.event, Event, InvalidArgumentError)
        if self.decision is not None:
            instance("decision", self.decision, Decision, InvalidArgumentError)


def steps(record: RoundRecord) -> list[Step]:
    """The round's events in order, each play or insurance answer with its decision."""
    rnd = replay(record)
    decisions = iter(record.decisions)
    found = []
    for number, event in enumerate(rnd.events, 1):
        decision = next(decisions) if event.kind in ("action", "decision") else None
        found.append(Step(number, event, decision))
    return found
