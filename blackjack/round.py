"""One round of blackjack at a table of 1 to 7 seats, as a state machine.

A :class:`Round` changes only through a few verbs: :meth:`Round.bet`,
:meth:`Round.deal` and :meth:`Round.act`.  Everything else is a query:
:attr:`Round.phase`, :attr:`Round.turn`, :meth:`Round.legal_actions`,
:meth:`Round.why_illegal`, :meth:`Round.cost`, :meth:`Round.view` and
:attr:`Round.outcome` (``None`` until the round is settled).

The phases, in order (see :class:`Phase`)::

    BETTING --deal()--> INSURANCE --every seat decided--> PLAYING --> FINISHED
                  \\----(no ace up, or no insurance)----/         \\
                   \\----(dealer blackjack found by the peek)-------> FINISHED

With the dealer peeking (the default), the hole card is checked for
blackjack under an ace (after insurance) or a ten-valued card, before any
player acts and before any natural is paid.  Without a peek (the European
no-hole-card game) the dealer takes a second card only after every player
has acted, and a dealer blackjack then takes every bet, doubles and splits
included; a player's natural pushes against it.

Every change is also recorded in :attr:`Round.events` as a value with no
secret in it: the hole card appears only in the event that reveals it, and
undealt cards never appear.  A server broadcasts these events as they come.

Money here is whole chips and only ever *stakes and payouts*; the engine
never sees a bankroll.  :meth:`Round.cost` says how many more chips an
action would stake, so a caller can escrow them first.  Rounding: a natural
pays ``bet * payout`` rounded down, surrender returns half the stake rounded
down, and insurance costs half the bet rounded down (see
:mod:`blackjack.rules`).
"""

from __future__ import annotations

import collections.abc
import enum
import operator
from dataclasses import dataclass, field
from typing import Iterator, Mapping

from blackjack._checks import (
    count, flag, instance, optional_count, optional_text, text, tuple_of, whole_number,
)
from blackjack.actions import Action
from blackjack.cards import Card
from blackjack.errors import (
    BlackjackError, IllegalActionError, InvalidArgumentError, InvalidBetError,
    NotYourTurnError, RulesError,
)
from blackjack.hand import Hand, _card_score
from blackjack.rules import Rules
from blackjack.shoe import Shoe

__all__ = [
    "Phase", "Result", "Turn", "HandResult", "InsuranceResult", "RoundOutcome",
    "Event", "HandView", "SeatView", "RoundView", "Round", "SEATS",
]

SEATS = range(1, 8)
"""Seat numbers at a table, 1 (first base) to 7 (third base)."""

HIDDEN = "??"
"""How a face-down card is shown in views and events."""

EVENT_KINDS = frozenset({"deal", "insurance", "decision", "peek", "action", "turn",
                         "reveal", "dealer", "result"})
"""Every :attr:`Event.kind` a round records."""


def _seat(seat: object, error: type[BlackjackError]) -> int:
    """``seat`` as a seat number 1 to 7, else ``error`` naming it.

    ``True`` and ``2.0`` are refused although they compare equal to seats 1
    and 2: they would sit down under a wrong wire name.  Any integer type
    passes (``operator.index``), stored as an ``int``.
    """
    if type(seat) is int:
        number = seat
    elif isinstance(seat, bool):
        number = 0
    else:
        try:
            number = operator.index(seat)  # type: ignore[arg-type]
        except TypeError:
            number = 0
    if number in SEATS:
        return number
    raise error(f"no seat {seat!r}: seats are 1 to 7")


def _optional_seat(seat: object, error: type[BlackjackError]) -> int | None:
    return None if seat is None else _seat(seat, error)


_new_object = object.__new__
_set_attribute = object.__setattr__


def _action(action: object) -> Action:
    """An :class:`Action`, or one read from its command word (``"hit"``, ``"h"``)."""
    return action if type(action) is Action else Action(action)


class Phase(enum.Enum):
    """Where a round stands."""

    BETTING = "betting"
    """Seats are placing bets; nothing is dealt."""
    INSURANCE = "insurance"
    """The dealer shows an ace; seats decide on insurance or even money."""
    PLAYING = "playing"
    """Seats play their hands in seat order, each hand in turn."""
    FINISHED = "finished"
    """The dealer has played and every hand is settled."""

    @classmethod
    def _missing_(cls, value: object) -> Phase:
        raise InvalidArgumentError(
            f"not a phase: {value!r} (betting, insurance, playing or finished)")


class Result(enum.Enum):
    """How one hand ended."""

    BLACKJACK = "blackjack"
    """A natural, paid at the table's blackjack payout."""
    WIN = "win"
    """Beat the dealer; paid 1:1."""
    PUSH = "push"
    """Tied the dealer; the stake comes back."""
    LOSE = "lose"
    """Lost to the dealer's higher total or blackjack."""
    BUST = "bust"
    """Went over 21; lost whatever the dealer does."""
    SURRENDER = "surrender"
    """Gave up half the stake."""
    EVEN_MONEY = "even money"
    """Took 1:1 on a natural under a dealer ace."""

    @classmethod
    def _missing_(cls, value: object) -> Result:
        raise InvalidArgumentError(
            f"not a result: {value!r} ({', '.join(r.value for r in cls)})")


@dataclass(frozen=True, slots=True)
class Turn:
    """Whose decision it is: a seat, and which of its hands (0-based)."""

    seat: int
    hand: int

    def __post_init__(self) -> None:
        if type(self.seat) is int and 0 < self.seat < 8 and type(self.hand) is int \
                and self.hand >= 0:
            return  # the usual case, on the round's hot path
        _seat(self.seat, InvalidArgumentError)
        count("hand", self.hand, InvalidArgumentError)


@dataclass(frozen=True, slots=True)
class HandResult:
    """How one hand settled: ``payout`` is every chip returned, stake included."""

    seat: int
    hand: int
    cards: tuple[Card, ...]
    stake: int
    result: Result
    payout: int

    def __post_init__(self) -> None:
        _seat(self.seat, InvalidArgumentError)
        count("hand", self.hand, InvalidArgumentError)
        object.__setattr__(self, "cards",
                           tuple_of("cards", self.cards, Card, InvalidArgumentError))
        count("stake", self.stake, InvalidArgumentError)
        if type(self.result) is not Result:  # Result(member) is the member, at a call's cost
            object.__setattr__(self, "result", Result(self.result))
        count("payout", self.payout, InvalidArgumentError)

    @property
    def net(self) -> int:
        """Chips won (positive) or lost (negative) by this hand."""
        return self.payout - self.stake

    def to_dict(self) -> dict[str, object]:
        """The result as plain JSON-ready data."""
        return {"seat": self.seat, "hand": self.hand,
                "cards": [str(c) for c in self.cards],
                "total": _card_score(self.cards)[0],
                "stake": self.stake, "result": self.result.value,
                "payout": self.payout, "net": self.net}


@dataclass(frozen=True, slots=True)
class InsuranceResult:
    """A seat's insurance side bet: the stake, and what came back (0 or 3x)."""

    seat: int
    stake: int
    payout: int

    def __post_init__(self) -> None:
        _seat(self.seat, InvalidArgumentError)
        count("stake", self.stake, InvalidArgumentError)
        count("payout", self.payout, InvalidArgumentError)

    def to_dict(self) -> dict[str, object]:
        """The result as plain JSON-ready data."""
        return {"seat": self.seat, "stake": self.stake, "payout": self.payout,
                "net": self.payout - self.stake}


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """Everything a settled round paid, per hand and per seat."""

    dealer: Hand
    hands: tuple[HandResult, ...]
    insurance: tuple[InsuranceResult, ...]

    def __post_init__(self) -> None:
        instance("dealer", self.dealer, Hand, InvalidArgumentError)
        object.__setattr__(self, "hands", tuple_of(
            "hands", self.hands, HandResult, InvalidArgumentError))
        object.__setattr__(self, "insurance", tuple_of(
            "insurance", self.insurance, InsuranceResult, InvalidArgumentError))

    def staked(self, seat: int) -> int:
        """Chips the seat staked in all (bets, doubles, splits, insurance)."""
        seat = _seat(seat, InvalidArgumentError)
        return (sum(h.stake for h in self.hands if h.seat == seat)
                + sum(i.stake for i in self.insurance if i.seat == seat))

    def payout(self, seat: int) -> int:
        """Chips returned to the seat in all, stakes included."""
        seat = _seat(seat, InvalidArgumentError)
        return (sum(h.payout for h in self.hands if h.seat == seat)
                + sum(i.payout for i in self.insurance if i.seat == seat))

    def net(self, seat: int) -> int:
        """The seat's winnings for the round (negative for a loss)."""
        return self._nets().get(_seat(seat, InvalidArgumentError), 0)

    def _nets(self) -> dict[int, int]:
        """Each seat's winnings, in one pass over the hands and insurance bets."""
        nets: dict[int, int] = {}
        results: tuple[HandResult | InsuranceResult, ...] = (*self.hands, *self.insurance)
        for result in results:
            nets[result.seat] = nets.get(result.seat, 0) + result.payout - result.stake
        return nets

    @property
    def seats(self) -> tuple[int, ...]:
        """The seats that played, in order."""
        return tuple(sorted({h.seat for h in self.hands}))

    def to_dict(self) -> dict[str, object]:
        """The outcome as plain JSON-ready data."""
        net = self._nets()
        return {"dealer": [str(c) for c in self.dealer.cards],
                "dealer_total": self.dealer.total,
                "hands": [h.to_dict() for h in self.hands],
                "insurance": [i.to_dict() for i in self.insurance],
                "net": {str(seat): net[seat] for seat in self.seats}}


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in a round, safe to show to anyone at the table.

    ``kind`` is one of: ``deal`` (a card to a seat's hand, or to the dealer
    when ``seat`` is ``None``; ``card`` is ``"??"`` for the face-down hole
    card), ``insurance`` (the offer; ``seats`` who may decide), ``decision``
    (a seat's insurance answer), ``peek`` (``blackjack`` says what the peek
    found), ``action`` (a seat's play, with the chips it staked), ``turn``
    (a hand's turn starts, with its legal actions), ``reveal`` (the hole card
    turned over), ``dealer`` (the dealer's final hand), ``result`` (the whole
    settlement).
    """

    kind: str
    seat: int | None = None
    hand: int | None = None
    card: str | None = None
    action: str | None = None
    stake: int | None = None
    total: int | None = None
    detail: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in EVENT_KINDS:
            raise InvalidArgumentError(
                f"kind must be one of {', '.join(sorted(EVENT_KINDS))}, not {self.kind!r}")
        _optional_seat(self.seat, InvalidArgumentError)
        optional_count("hand", self.hand, InvalidArgumentError)
        optional_text("card", self.card, InvalidArgumentError)
        optional_text("action", self.action, InvalidArgumentError)
        optional_count("stake", self.stake, InvalidArgumentError)
        optional_count("total", self.total, InvalidArgumentError)
        if not isinstance(self.detail, collections.abc.Mapping):
            raise InvalidArgumentError(f"detail must be a mapping, not {self.detail!r}")

    def to_dict(self) -> dict[str, object]:
        """The event as plain JSON-ready data, leaving out empty fields."""
        data: dict[str, object] = {"event": self.kind}
        for name in ("seat", "hand", "card", "action", "stake", "total"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        data.update(self.detail)
        return data


@dataclass(frozen=True, slots=True)
class HandView:
    """A player hand as anyone at the table sees it."""

    cards: tuple[str, ...]
    total: int
    soft: bool
    stake: int
    status: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "cards",
                           tuple_of("cards", self.cards, str, InvalidArgumentError))
        count("total", self.total, InvalidArgumentError)
        flag("soft", self.soft, InvalidArgumentError)
        count("stake", self.stake, InvalidArgumentError)
        text("status", self.status, InvalidArgumentError)

    def to_dict(self) -> dict[str, object]:
        """The hand as plain JSON-ready data."""
        return {"cards": list(self.cards), "total": self.total, "soft": self.soft,
                "stake": self.stake, "status": self.status}


@dataclass(frozen=True, slots=True)
class SeatView:
    """A seat's hands and insurance as anyone at the table sees them."""

    seat: int
    bet: int
    hands: tuple[HandView, ...]
    insurance: int | None

    def __post_init__(self) -> None:
        _seat(self.seat, InvalidArgumentError)
        count("bet", self.bet, InvalidArgumentError)
        object.__setattr__(self, "hands",
                           tuple_of("hands", self.hands, HandView, InvalidArgumentError))
        optional_count("insurance", self.insurance, InvalidArgumentError)

    def to_dict(self) -> dict[str, object]:
        """The seat as plain JSON-ready data."""
        return {"seat": self.seat, "bet": self.bet,
                "hands": [h.to_dict() for h in self.hands],
                "insurance": self.insurance}


@dataclass(frozen=True, slots=True)
class RoundView:
    """The round with no secrets in it: what players and spectators may see.

    Before the hole card is revealed the dealer shows only the upcard and
    ``"??"``; the shoe is never shown.
    """

    phase: Phase
    dealer: tuple[str, ...]
    dealer_total: int | None
    seats: tuple[SeatView, ...]
    turn: Turn | None
    legal: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "phase", Phase(self.phase))
        object.__setattr__(self, "dealer",
                           tuple_of("dealer", self.dealer, str, InvalidArgumentError))
        optional_count("dealer_total", self.dealer_total, InvalidArgumentError)
        object.__setattr__(self, "seats",
                           tuple_of("seats", self.seats, SeatView, InvalidArgumentError))
        if self.turn is not None:
            instance("turn", self.turn, Turn, InvalidArgumentError)
        object.__setattr__(self, "legal",
                           tuple_of("legal", self.legal, str, InvalidArgumentError))

    def to_dict(self) -> dict[str, object]:
        """The view as plain JSON-ready data."""
        return {"phase": self.phase.value, "dealer": list(self.dealer),
                "dealer_total": self.dealer_total,
                "seats": [s.to_dict() for s in self.seats],
                "turn": None if self.turn is None else
                {"seat": self.turn.seat, "hand": self.turn.hand},
                "legal": list(self.legal)}


_PLAYS = tuple(a for a in Action if not a.is_insurance_decision)
"""The actions that play a hand (not answers to the insurance offer), in order."""
_ANSWERS = tuple(a for a in Action if a.is_insurance_decision)
"""The answers to the insurance offer, in order."""


class _Box:
    """One player hand in play (mutable, private to the round)."""

    __slots__ = ("seat", "cards", "stake", "from_split", "split_aces",
                 "doubled", "surrendered", "even_money", "done", "_score")

    def __init__(self, seat: int, stake: int, cards: list[Card] | None = None,
                 from_split: bool = False, split_aces: bool = False) -> None:
        self.seat = seat
        self.cards: list[Card] = cards or []
        """Changed only through :meth:`add` and :meth:`split_off` (the score is kept)."""
        self.stake = stake
        self.from_split = from_split
        self.split_aces = split_aces
        self.doubled = False
        self.surrendered = False
        self.even_money = False
        self.done = False
        self._score: tuple[int, bool] | None = None

    def add(self, card: Card) -> None:
        """Take one more card."""
        self.cards.append(card)
        self._score = None

    def split_off(self) -> Card:
        """Give up the second card (to a split's new hand)."""
        self._score = None
        return self.cards.pop()

    def score(self) -> tuple[int, bool]:
        """Total and softness, worked out once per card (views and checks ask often)."""
        score = self._score
        if score is None:
            score = self._score = _card_score(self.cards)
        return score

    @property
    def total(self) -> int:
        return self.score()[0]

    @property
    def soft(self) -> bool:
        return self.score()[1]

    @property
    def natural(self) -> bool:
        return len(self.cards) == 2 and not self.from_split and self.total == 21

    @property
    def bust(self) -> bool:
        return self.total > 21

    def status(self) -> str:
        if self.even_money:
            return "even money"
        if self.surrendered:
            return "surrendered"
        if self.bust:
            return "bust"
        if self.natural:
            return "blackjack"
        if self.doubled:
            return "doubled"
        return "done" if self.done else "playing"


class Round:
    """One round: bets, the deal, insurance, each seat's play, the dealer, settlement.

    ``rules`` is a :class:`~blackjack.rules.Rules` value or its spec text
    (``"vegas,h17"``); ``shoe`` is a :class:`~blackjack.shoe.Shoe` (or a
    :class:`~blackjack.testing.StackedShoe`); ``bets`` maps seats to chips,
    each placed as by :meth:`bet`.  Verbs take an :class:`Action` or its
    command word (``"hit"``, ``"h"``).
    """

    def __init__(self, rules: Rules | str, shoe: Shoe,
                 bets: Mapping[int, int] | None = None) -> None:
        if isinstance(rules, str):
            rules = Rules.from_spec(rules)
        elif not isinstance(rules, Rules):
            raise RulesError(f"rules must be a Rules value or spec text such as 'vegas', "
                             f"not {rules!r}")
        self.rules = rules
        self.shoe = instance("shoe", shoe, Shoe, InvalidArgumentError)
        if bets is not None and not isinstance(bets, collections.abc.Mapping):
            raise InvalidBetError(f"bets must be a mapping of seat to chips, not {bets!r}")
        self.events: list[Event] = []
        self._phase = Phase.BETTING
        self._bets: dict[int, int] = {}
        self._boxes: dict[int, list[_Box]] = {}
        self._dealer: list[Card] = []
        self._dealer_score = _card_score(())
        """The dealer's total and softness, worked out once per card in _deal_dealer."""
        self._hole_hidden = False
        self._insurance: dict[int, int] = {}
        self._pending_insurance: list[int] = []
        self._turn: Turn | None = None
        self._plays_now: tuple[tuple[Action, ...], tuple[str, ...]] | None = None
        """The turn's legal plays and their command words, once worked out; see _plays."""
        self._outcome: RoundOutcome | None = None
        for seat, amount in (bets or {}).items():
            self.bet(seat, amount)

    # -- queries ---------------------------------------------------------

    @property
    def phase(self) -> Phase:
        """The current :class:`Phase`."""
        return self._phase

    @property
    def turn(self) -> Turn | None:
        """Whose decision it is now, or ``None`` (betting, or finished).

        While insurance is offered this is the lowest seat still to decide,
        with hand 0; seats may also answer out of order.
        """
        if self._phase is Phase.INSURANCE:
            return Turn(self._pending_insurance[0], 0)
        return self._turn

    @property
    def bets(self) -> Mapping[int, int]:
        """Each seat's initial bet."""
        return dict(self._bets)

    @property
    def outcome(self) -> RoundOutcome | None:
        """The settlement once the round is finished, else ``None``."""
        return self._outcome

    @property
    def insurance_pending(self) -> tuple[int, ...]:
        """Seats that still have to answer the insurance offer."""
        return tuple(self._pending_insurance)

    @property
    def dealer_upcard(self) -> Card | None:
        """The dealer's face-up card, once dealt."""
        return self._dealer[0] if self._dealer else None

    def hands(self, seat: int) -> tuple[Hand, ...]:
        """A seat's hands as :class:`Hand` values (no stakes); none for a seat not playing."""
        seat = _seat(seat, InvalidArgumentError)
        return tuple(Hand(tuple(b.cards), b.from_split) for b in self._boxes.get(seat, ()))

    def stake(self, seat: int, hand: int = 0) -> int:
        """The chips riding on one of a seat's hands (doubles included)."""
        seat = _seat(seat, InvalidArgumentError)
        hand = count("hand", hand, InvalidArgumentError)
        boxes = self._boxes.get(seat, [])
        if hand >= len(boxes):
            raise InvalidArgumentError(f"seat {seat} has no hand {hand}")
        return boxes[hand].stake

    def cards_out(self) -> list[Card]:
        """Every card dealt this round and not yet returned to the shoe."""
        if self._outcome is not None:
            return []
        cards = list(self._dealer)
        for boxes in self._boxes.values():
            for box in boxes:
                cards.extend(box.cards)
        return cards

    def legal_actions(self, seat: int | None = None) -> frozenset[Action]:
        """What ``seat`` (default: whoever has the turn) may do now."""
        return frozenset(self._legal(_optional_seat(seat, IllegalActionError)))

    def legal_names(self, seat: int | None = None) -> list[str]:
        """:meth:`legal_actions` as command words, in a fixed order (for views and events)."""
        seat = _optional_seat(seat, IllegalActionError)
        if self._phase is Phase.PLAYING:
            return list(self._plays()[1]) if self._on_turn(seat) else []
        return [a.value for a in self._legal(seat)]

    def _legal(self, seat: int | None) -> tuple[Action, ...]:
        """The actions :meth:`_why_illegal` has no reason against, in :class:`Action` order.

        Held to ``_why_illegal`` for every seat at every step of random
        rounds by ``tests/test_round.py``.
        """
        if self._phase is Phase.PLAYING:
            return self._plays()[0] if self._on_turn(seat) else ()
        if self._phase is Phase.INSURANCE:
            return tuple(a for a in _ANSWERS if self._why_illegal(a, seat) is None)
        return ()  # betting, or finished: no decision at all

    def _on_turn(self, seat: int | None) -> bool:
        """In play: whether ``seat`` (``None``: whoever has the turn) has the turn."""
        assert self._turn is not None  # PLAYING always has a turn
        return seat is None or seat == self._turn.seat

    def _plays(self) -> tuple[tuple[Action, ...], tuple[str, ...]]:
        """The legal plays of the hand whose turn it is, and their command words.

        Every prompt, decision, view and ``turn`` event asks (about nine times
        a decision), so they are worked out once per turn and hand: in play
        the hands and the turn change only inside :meth:`deal` and
        :meth:`act`, and every such change ends in :meth:`_advance`, which
        forgets them.  ``tests/test_round.py`` fails if one does not.
        """
        plays = self._plays_now
        if plays is None:
            turn = self._turn
            assert turn is not None  # PLAYING always has a turn
            box = self._boxes[turn.seat][turn.hand]
            actions = tuple(a for a in _PLAYS
                            if self._why_illegal_play(a, turn.seat, box) is None)
            plays = self._plays_now = actions, tuple(a.value for a in actions)
        return plays

    def why_illegal(self, action: Action | str, seat: int | None = None) -> str | None:
        """Why ``action`` is not allowed now, or ``None`` if it is."""
        return self._reason(_action(action), _optional_seat(seat, IllegalActionError))

    def _reason(self, action: Action, seat: int | None) -> str | None:
        """:meth:`_why_illegal`, without its checks for a play that is legal (the usual case)."""
        if self._phase is Phase.PLAYING and self._on_turn(seat) and action in self._plays()[0]:
            return None
        return self._why_illegal(action, seat)

    def _why_illegal(self, action: Action, seat: int | None) -> str | None:
        if self._phase is Phase.BETTING:
            return f"cannot {action.phrase}: the cards are not dealt yet"
        if self._phase is Phase.FINISHED:
            return f"cannot {action.phrase}: the round is over"
        if self._phase is Phase.INSURANCE:
            who = self._pending_insurance[0] if seat is None else seat
            if not action.is_insurance_decision:
                return (f"cannot {action.phrase}: answer the insurance offer first "
                        "(insurance, even or no)")
            if who not in self._pending_insurance:
                return f"cannot {action.phrase}: seat {who} has no insurance decision to make"
            box = self._boxes[who][0]
            if action is Action.EVEN_MONEY and not box.natural:
                return "cannot take even money: only a blackjack can"
            if action is Action.INSURANCE:
                if box.natural:
                    return "cannot insure a blackjack: take even money (even) or decline (no)"
                if self._bets[who] // 2 < 1:
                    return "cannot insure: a bet of 1 chip has no half to insure"
            return None
        if action.is_insurance_decision:
            return f"cannot {action.phrase}: insurance is not on offer"
        turn = self._turn
        assert turn is not None  # PLAYING always has a turn
        if seat is not None and seat != turn.seat:
            return f"cannot {action.phrase}: it is seat {turn.seat}'s turn"
        box = self._boxes[turn.seat][turn.hand]
        return self._why_illegal_play(action, turn.seat, box)

    def _why_illegal_play(self, action: Action, seat: int, box: _Box) -> str | None:
        rules = self.rules
        ncards = len(box.cards)
        if action is Action.HIT:
            if box.split_aces and not rules.hit_split_aces:
                return "cannot hit: split aces get one card each"
            return None
        if action is Action.STAND:
            return None
        if action is Action.DOUBLE:
            if ncards != 2:
                return f"cannot double: hand has {ncards} cards"
            if box.split_aces and not rules.hit_split_aces:
                return "cannot double: split aces get one card each"
            if box.from_split and not rules.double_after_split:
                return "cannot double: no doubling after a split at this table"
            total, soft = box.score()
            if not rules.double.allows(total, soft):
                return (f"cannot double: this table doubles on "
                        f"{rules.double.value} only, not {'soft' if soft else 'hard'} {total}")
            return None
        if action is Action.SPLIT:
            if ncards != 2:
                return f"cannot split: hand has {ncards} cards"
            if box.cards[0].points != box.cards[1].points:
                return "cannot split: the two cards are not a pair"
            if not rules.can_split:
                return "cannot split: no splitting at this table"
            if len(self._boxes[seat]) >= rules.max_split_hands:
                return f"cannot split: already {rules.max_split_hands} hands, the table's limit"
            if box.split_aces and not rules.resplit_aces:
                return "cannot split: no resplitting aces at this table"
            return None
        if action is Action.SURRENDER:
            if not rules.surrender:
                return "cannot surrender: no surrender at this table"
            if ncards != 2 or box.from_split:
                return "cannot surrender: only as the first decision on the first two cards"
            return None
        raise AssertionError(action)  # pragma: no cover - insurance handled above

    def cost(self, action: Action | str, seat: int | None = None) -> int:
        """Chips ``action`` would add to the seat's stakes (0 for hit or stand, or off turn)."""
        action = _action(action)
        seat = _optional_seat(seat, IllegalActionError)
        turn = self.turn
        who = seat if seat is not None else (turn.seat if turn else None)
        if who is None or who not in self._bets:
            return 0
        if action is Action.INSURANCE:
            return self._bets[who] // 2
        if action in (Action.DOUBLE, Action.SPLIT) and self._turn is not None \
                and who == self._turn.seat:
            return self._boxes[self._turn.seat][self._turn.hand].stake
        return 0

    def view(self) -> RoundView:
        """The round as players and spectators may see it (no hole card)."""
        dealer = tuple(str(c) for c in self._dealer)
        dealer_total: int | None
        if self._hole_hidden:
            dealer = dealer[:1] + (HIDDEN,)
            dealer_total = self._dealer[0].points if self._dealer[0].points > 1 else 11
        else:
            dealer_total = self._dealer_score[0] if self._dealer else None
        seats = []
        for seat in sorted(self._bets):
            boxes = self._boxes.get(seat, [])
            seats.append(SeatView(
                seat, self._bets[seat],
                tuple(HandView(tuple(str(c) for c in b.cards), b.total, b.soft, b.stake,
                               b.status()) for b in boxes),
                self._insurance.get(seat)))
        turn = self.turn
        legal = tuple(self.legal_names()) if turn else ()
        return RoundView(self._phase, dealer, dealer_total, tuple(seats), turn, legal)

    def view_data(self) -> dict[str, object]:
        """``view().to_dict()``, made straight from the round.

        A table sends it with every prompt; the checked values of :meth:`view`
        and their conversion cost more than the rest of a decision, and the
        round's own values need no checking.  Held to ``view().to_dict()`` at
        every step of random rounds by ``tests/test_round.py``.
        """
        dealer = [str(c) for c in self._dealer]
        dealer_total: int | None
        if self._hole_hidden:
            dealer = dealer[:1] + [HIDDEN]
            dealer_total = self._dealer[0].points if self._dealer[0].points > 1 else 11
        else:
            dealer_total = self._dealer_score[0] if self._dealer else None
        seats = []
        for seat in sorted(self._bets):
            hands = []
            for box in self._boxes.get(seat, ()):
                total, soft = box.score()
                hands.append({"cards": [str(c) for c in box.cards], "total": total,
                              "soft": soft, "stake": box.stake, "status": box.status()})
            seats.append({"seat": seat, "bet": self._bets[seat], "hands": hands,
                          "insurance": self._insurance.get(seat)})
        turn = self.turn
        return {"phase": self._phase.value, "dealer": dealer, "dealer_total": dealer_total,
                "seats": seats,
                "turn": None if turn is None else {"seat": turn.seat, "hand": turn.hand},
                "legal": self.legal_names() if turn else []}

    # -- verbs -----------------------------------------------------------

    def bet(self, seat: int, amount: int) -> None:
        """Place a seat's bet before the deal."""
        if self._phase is not Phase.BETTING:
            raise InvalidBetError("cannot bet: the cards are already dealt")
        seat = _seat(seat, InvalidBetError)
        if seat in self._bets:
            raise InvalidBetError(f"seat {seat} has already bet {self._bets[seat]}")
        amount = whole_number("amount", amount, InvalidBetError, "a whole number of chips")
        if not self.rules.min_bet <= amount <= self.rules.max_bet:
            raise InvalidBetError(
                f"bet must be {self.rules.min_bet} to {self.rules.max_bet}, not {amount}")
        self._bets[seat] = amount

    def deal(self) -> None:
        """Deal the opening cards and move on to insurance or play."""
        if self._phase is not Phase.BETTING:
            raise IllegalActionError("cannot deal: the cards are already dealt")
        if not self._bets:
            raise IllegalActionError("cannot deal: nobody has bet")
        seats = sorted(self._bets)
        for seat in seats:
            self._boxes[seat] = [_Box(seat, self._bets[seat])]
        for round_of_cards in (0, 1):
            for seat in seats:
                self._deal_to(self._boxes[seat][0])
            if round_of_cards == 0:
                self._deal_dealer(hidden=False)
            elif self.rules.dealer_peek:
                self._deal_dealer(hidden=True)
        up = self._dealer[0]
        if up.points == 1 and self.rules.insurance:
            self._pending_insurance = [
                s for s in seats
                if self._boxes[s][0].natural or self._bets[s] // 2 >= 1]
        if self._pending_insurance:
            self._phase = Phase.INSURANCE
            self._emit("insurance", detail={"seats": list(self._pending_insurance)})
        else:
            self._after_insurance()

    def act(self, action: Action | str, seat: int | None = None) -> None:
        """Make a decision for ``seat`` (default: whoever has the turn).

        ``action`` is an :class:`Action` or its command word (``"hit"``,
        ``"h"``).  Raises :class:`~blackjack.errors.IllegalActionError`
        saying why when the action is unknown or not allowed now, and
        :class:`~blackjack.errors.NotYourTurnError` when another seat is to play.
        """
        action = _action(action)
        seat = _optional_seat(seat, IllegalActionError)
        if self._phase is Phase.PLAYING and seat is not None and self._turn is not None \
                and seat != self._turn.seat:
            raise NotYourTurnError(f"not your turn: seat {self._turn.seat} is playing")
        reason = self._reason(action, seat)
        if reason is not None:
            raise IllegalActionError(reason)
        if self._phase is Phase.INSURANCE:
            self._decide_insurance(self._pending_insurance[0] if seat is None else seat, action)
            return
        turn = self._turn
        assert turn is not None
        boxes = self._boxes[turn.seat]
        box = boxes[turn.hand]
        if action is Action.HIT:
            self._emit("action", turn.seat, turn.hand, action=action.value)
            self._deal_to(box)
            if box.total >= 21:
                box.done = True
        elif action is Action.STAND:
            self._emit("action", turn.seat, turn.hand, action=action.value)
            box.done = True
        elif action is Action.DOUBLE:
            self._emit("action", turn.seat, turn.hand, action=action.value, stake=box.stake)
            box.stake *= 2
            box.doubled = True
            self._deal_to(box)
            box.done = True
        elif action is Action.SURRENDER:
            self._emit("action", turn.seat, turn.hand, action=action.value)
            box.surrendered = True
            box.done = True
        elif action is Action.SPLIT:
            self._emit("action", turn.seat, turn.hand, action=action.value, stake=box.stake)
            aces = box.cards[0].points == 1
            second = _Box(turn.seat, box.stake, [box.split_off()], from_split=True,
                          split_aces=aces)
            box.from_split = True
            box.split_aces = aces
            boxes.insert(turn.hand + 1, second)
            self._deal_to(box)
            self._finish_split_hand(box)
        self._advance()

    # -- the machinery ---------------------------------------------------

    def _emit(self, kind: str, seat: int | None = None, hand: int | None = None, *,
              card: str | None = None, action: str | None = None, stake: int | None = None,
              total: int | None = None, detail: Mapping[str, object] | None = None) -> None:
        # The round's own values need no checking, and a round records a
        # dozen events: built here without Event's checks (as
        # Fraction._from_coprime_ints skips normalising), which also makes
        # them cheaper than through the dataclass's __init__.
        event = _new_object(Event)
        _set_attribute(event, "kind", kind)
        _set_attribute(event, "seat", seat)
        _set_attribute(event, "hand", hand)
        _set_attribute(event, "card", card)
        _set_attribute(event, "action", action)
        _set_attribute(event, "stake", stake)
        _set_attribute(event, "total", total)
        _set_attribute(event, "detail", {} if detail is None else detail)
        self.events.append(event)

    def _deal_to(self, box: _Box) -> None:
        card = self.shoe.draw()
        box.add(card)
        hand = self._boxes[box.seat].index(box)
        self._emit("deal", box.seat, hand, card=str(card), total=box.total)

    def _deal_dealer(self, hidden: bool) -> None:
        card = self.shoe.draw()
        self._dealer.append(card)
        self._dealer_score = _card_score(self._dealer)
        self._hole_hidden = hidden
        shown = HIDDEN if hidden else str(card)
        total = None if hidden else self._dealer_score[0]
        self._emit("deal", None, None, card=shown, total=total)

    def _finish_split_hand(self, box: _Box) -> None:
        """A hand made by splitting has its second card; is it already done?"""
        if box.total == 21:
            box.done = True
        elif box.split_aces and not self.rules.hit_split_aces:
            # One card to each split ace, unless it makes another pair of aces
            # that the table lets us resplit.
            can_resplit = (self.rules.resplit_aces and box.cards[1].points == 1
                           and len(self._boxes[box.seat]) < self.rules.max_split_hands)
            box.done = not can_resplit

    def _decide_insurance(self, seat: int, action: Action) -> None:
        self._pending_insurance.remove(seat)
        box = self._boxes[seat][0]
        stake = None
        if action is Action.INSURANCE:
            stake = self._bets[seat] // 2
            self._insurance[seat] = stake
        elif action is Action.EVEN_MONEY:
            box.even_money = True
            box.done = True
        self._emit("decision", seat, 0, action=action.value, stake=stake)
        if not self._pending_insurance:
            self._after_insurance()

    def _dealer_has_blackjack(self) -> bool:
        return len(self._dealer) == 2 and self._dealer_score[0] == 21

    def _after_insurance(self) -> None:
        """Peek if the rules say so, then start play (or settle a dealer blackjack)."""
        if self.rules.dealer_peek and self._dealer[0].points in (1, 10):
            blackjack = self._dealer_has_blackjack()
            self._emit("peek", detail={"blackjack": blackjack})
            if blackjack:
                self._reveal_hole()
                self._settle()
                return
        for boxes in self._boxes.values():
            if boxes[0].natural:
                boxes[0].done = True
        self._phase = Phase.PLAYING
        self._turn = None
        self._advance()

    def _next_turn(self) -> Turn | None:
        for seat in sorted(self._boxes):
            for index, box in enumerate(self._boxes[seat]):
                if not box.done:
                    return Turn(seat, index)
        return None

    def _advance(self) -> None:
        self._plays_now = None  # the hand in play, or the turn, has changed
        turn = self._next_turn()
        while turn is not None:
            box = self._boxes[turn.seat][turn.hand]
            if len(box.cards) == 1:
                # The second hand of a split gets its second card when its turn comes.
                self._deal_to(box)
                self._finish_split_hand(box)
                if box.done:
                    turn = self._next_turn()
                    continue
            break
        if turn is None:
            self._turn = None
            self._play_dealer()
            return
        if turn != self._turn:
            self._turn = turn
            self._emit("turn", turn.seat, turn.hand,
                             total=self._boxes[turn.seat][turn.hand].total,
                             detail={"legal": list(self._plays()[1])})

    def _reveal_hole(self) -> None:
        if self._hole_hidden:
            self._hole_hidden = False
            self._emit("reveal", card=str(self._dealer[1]),
                             total=self._dealer_score[0])

    def _play_dealer(self) -> None:
        self._reveal_hole()
        if len(self._dealer) == 1:  # no hole card: the European game
            self._deal_dealer(hidden=False)
        live = any(not (b.bust or b.surrendered or b.even_money or b.natural)
                   for boxes in self._boxes.values() for b in boxes)
        if live and not self._dealer_has_blackjack():
            while True:
                total, soft = self._dealer_score
                if total > 17 or (total == 17 and not (soft and self.rules.dealer_hits_soft_17)):
                    break
                self._deal_dealer(hidden=False)
        self._settle()

    def _settle(self) -> None:
        rules = self.rules
        dealer = Hand(tuple(self._dealer))
        dealer_total = self._dealer_score[0]
        dealer_blackjack = self._dealer_has_blackjack()
        results: list[HandResult] = []
        for seat in sorted(self._boxes):
            for index, box in enumerate(self._boxes[seat]):
                stake = box.stake
                if box.even_money:
                    result, payout = Result.EVEN_MONEY, 2 * stake
                elif box.natural:
                    if dealer_blackjack:
                        result, payout = Result.PUSH, stake
                    else:
                        result, payout = Result.BLACKJACK, stake + rules.blackjack_win(stake)
                elif box.surrendered:
                    if dealer_blackjack:  # only reachable without a peek
                        result, payout = Result.LOSE, 0
                    else:
                        result, payout = Result.SURRENDER, stake // 2
                elif box.bust:
                    result, payout = Result.BUST, 0
                elif dealer_blackjack:
                    result, payout = Result.LOSE, 0
                elif dealer_total > 21 or box.total > dealer_total:
                    result, payout = Result.WIN, 2 * stake
                elif box.total == dealer_total:
                    result, payout = Result.PUSH, stake
                else:
                    result, payout = Result.LOSE, 0
                results.append(HandResult(seat, index, tuple(box.cards), stake, result, payout))
        insurance = tuple(
            InsuranceResult(seat, stake, 3 * stake if dealer_blackjack else 0)
            for seat, stake in sorted(self._insurance.items()))
        self._outcome = RoundOutcome(dealer, tuple(results), insurance)
        self._phase = Phase.FINISHED
        self._turn = None
        self._pending_insurance = []
        self._emit("dealer", total=dealer_total,
                         detail={"cards": [str(c) for c in dealer.cards],
                                 "blackjack": dealer_blackjack, "bust": dealer_total > 21})
        self._emit("result", detail=self._outcome.to_dict())
        self.shoe.discard(self._dealer)
        for boxes in self._boxes.values():
            for box in boxes:
                self.shoe.discard(box.cards)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __repr__(self) -> str:
        return f"<Round {self._phase.value} seats={sorted(self._bets)} turn={self.turn}>"
