"""Every public constructor and verb of the engine rejects a wrong argument with its own error.

Each case calls one entry point with one argument replaced by values of the
wrong type (Hypothesis draws them) and requires the engine's error, naming
the argument; a last test proves the table misses no public parameter.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

import blackjack.actions
import blackjack.cards
import blackjack.fair
import blackjack.hand
import blackjack.replay
import blackjack.round
import blackjack.rules
import blackjack.shoe
import blackjack.testing
import blackjack.verify
from blackjack import (
    Action, BlackjackError, Card, DoubleRule, Event, Hand, HandResult, IllegalActionError,
    InsuranceResult, InvalidArgumentError, InvalidBetError, InvalidCardError, Phase, Rank,
    Result, Round, RoundOutcome, RoundView, Rules, RulesError, Shoe, Suit, Turn,
    parse_cards, score,
)
from blackjack.errors import RecordError
from blackjack.fair import (
    FairShoe, ShoeTerms, below, canonical_order, client_seed, commitment, preimage,
    shuffle_order, words,
)
from blackjack.replay import Decision, RoundRecord, Step, drawn_cards, replay, steps
from blackjack.round import EVENT_KINDS, HandView, SeatView
from blackjack.shoe import RandomSource
from blackjack.testing import StackedShoe
from blackjack.verify import Report, ShoeRecord, main as verify_main, verify

ENGINE_MODULES = [blackjack, blackjack.actions, blackjack.cards, blackjack.hand, blackjack.round,
                  blackjack.rules, blackjack.shoe, blackjack.testing, blackjack.fair,
                  blackjack.replay, blackjack.verify]

# -- junk: values of the wrong type for a parameter -----------------------------

_OTHER = st.one_of(
    st.binary(max_size=3), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.sampled_from([object(), Fraction(1, 3), complex(1, 1), frozenset(), range(2)]))
_NONE = st.none()
_BOOLS = st.booleans()
_INTS = st.integers(-10**6, 10**6)
_FLOATS = st.floats(allow_nan=True, allow_infinity=True)
_TEXT = st.text(max_size=4)

NOT_WHOLE = st.one_of(_NONE, _BOOLS, _FLOATS, _TEXT, _OTHER)
"""Not an integer (a bool is not one here: True is not one deck)."""
NOT_FLAG = st.one_of(_NONE, _INTS, _FLOATS, _TEXT, _OTHER)
"""Not True or False ("no" and 0 included)."""
NOT_NUMBER = st.one_of(_NONE, _BOOLS, _TEXT, _OTHER.filter(lambda v: not isinstance(v, Fraction)))
"""Not an int or a float."""
NOT_TEXT = st.one_of(_NONE, _BOOLS, _INTS, _FLOATS, _OTHER)
"""Not a str (where text is parsed, bad text is tested with the parser)."""
NOT_CARDS = st.one_of(_NONE, _BOOLS, _INTS, _FLOATS, st.lists(NOT_TEXT, min_size=1, max_size=2))
"""Neither cards nor their text, nor an iterable of them."""
NOT_SEAT = st.one_of(_BOOLS, _FLOATS, _TEXT, _OTHER, st.integers().filter(lambda n: not 1 <= n <= 7))
"""Not a seat number 1 to 7."""
NOT_COUNT = st.one_of(NOT_WHOLE, st.integers(max_value=-1))
"""Not a whole number of at least 0."""


def _not_a_rank_number(value: object) -> bool:
    """Rank(1.0) and Rank(True) are Rank.ACE by enum's own lookup (equal and hash-equal to 1)."""
    return not (isinstance(value, (int, float)) and value in range(1, 14))


def _not_values(kind: type[Phase] | type[Result]) -> st.SearchStrategy[str]:
    """Text that is not one of the enum's values."""
    return _TEXT.filter(lambda t: t not in {member.value for member in kind})


def _dealt() -> Round:
    """A round at the player's first decision: 10+7 against a dealer 9."""
    game = Round(Rules(), StackedShoe("TS 9H 7C 8D 5S 4S 3S"), {1: 10})
    game.deal()
    return game


def _outcome() -> RoundOutcome:
    game = _dealt()
    game.act(Action.STAND)
    assert game.outcome is not None
    return game.outcome


_HAND_RESULT = {"seat": 1, "hand": 0, "cards": (Card.parse("TS"),), "stake": 10,
                "result": Result.WIN, "payout": 20}
_EVENT = {"kind": "deal"}
_HAND_VIEW = {"cards": ("TS",), "total": 10, "soft": False, "stake": 10, "status": "playing"}
_SEAT_VIEW = {"seat": 1, "bet": 10, "hands": (), "insurance": None}
_ROUND_VIEW = {"phase": Phase.BETTING, "dealer": (), "dealer_total": None, "seats": (),
               "turn": None, "legal": ()}


_SEED = "ab" * 32
_CLIENT = "cd" * 32
_TERMS = ShoeTerms(1, 40, 1)
_DECISION = {"seat": 1, "hand": 0, "action": "stand", "at": 1.0, "by": "player"}
_RECORD = {"round_id": "r1", "rules": Rules(), "bets": {1: 10},
           "cards": ("TS", "9H", "7C", "8D"), "decisions": (Decision(1, 0, "stand"),),
           "first": None, "outcome": None}
_SHOE_RECORD = {"shoe_id": "s1", "terms": _TERMS, "commitment": "c", "server_seed": _SEED,
                "client_seed": _CLIENT, "seeds": (("alice", ""),), "retired": "cut card",
                "rounds": ()}
_REPORT = {"shoe_id": "s1", "checked": (), "problems": (), "cards": ()}
_STEP = {"number": 1, "event": Event("deal"), "decision": None}
NOT_HEX_SEED = st.one_of(_BOOLS, _INTS, _FLOATS, _TEXT, _OTHER)
"""Not 32 bytes nor 64 lowercase hex digits (None means "draw one" where it is allowed)."""


def _with(build: Callable[..., object], base: dict[str, object], name: str) -> Callable[[object], object]:
    """A call of ``build`` with valid keyword arguments ``base``, ``name`` replaced."""
    return lambda value: build(**{**base, name: value})


@dataclass(frozen=True)
class Case:
    """One argument of one entry point, the junk to try, and the error it must raise."""

    where: str
    """``Owner.method:parameter``, as the completeness test spells it."""
    call: Callable[[object], object]
    junk: st.SearchStrategy[object]
    error: type[BlackjackError]
    mentions: str
    """What the message must say: the argument's name, or what it is."""


def _rules_case(name: str, junk: st.SearchStrategy[object]) -> Case:
    return Case(f"Rules:{name}", lambda v: Rules(**{name: v}), junk, RulesError, name)  # type: ignore[arg-type]


CASES = [
    # cards
    Case("Card:rank", lambda v: Card(v, Suit.SPADES), st.one_of(NOT_WHOLE, _INTS),  # type: ignore[arg-type]
         InvalidCardError, "rank"),
    Case("Card:suit", lambda v: Card(Rank.ACE, v), st.one_of(NOT_TEXT, _TEXT),  # type: ignore[arg-type]
         InvalidCardError, "suit"),
    Case("Card.parse:text", Card.parse, NOT_TEXT, InvalidCardError, "text"),  # type: ignore[arg-type]
    Case("Card.display:unicode", lambda v: Card.parse("AS").display(v), NOT_FLAG,  # type: ignore[arg-type]
         InvalidArgumentError, "unicode"),
    Case("parse_cards:text", parse_cards, NOT_CARDS, InvalidCardError, "card"),  # type: ignore[arg-type]
    Case("Rank:value", Rank, st.one_of(NOT_WHOLE, _INTS).filter(_not_a_rank_number),
         InvalidCardError, "rank"),
    Case("Suit:value", Suit, st.one_of(NOT_TEXT, _TEXT.filter(lambda t: t not in "SHDC")),
         InvalidCardError, "suit"),
    # actions
    Case("Action:value", Action, NOT_TEXT, IllegalActionError, "action"),
    Case("Action.parse:word", Action.parse, NOT_TEXT, IllegalActionError, "word"),  # type: ignore[arg-type]
    # hands
    Case("Hand:cards", lambda v: Hand(v), NOT_CARDS, InvalidCardError, "card"),  # type: ignore[arg-type]
    Case("Hand:from_split", lambda v: Hand((), v), NOT_FLAG, InvalidArgumentError,  # type: ignore[arg-type]
         "from_split"),
    Case("Hand.of:cards", lambda v: Hand.of(v), NOT_CARDS.filter(lambda v: not isinstance(v, list)),  # type: ignore[arg-type]
         InvalidCardError, "card"),
    Case("Hand.of:from_split", lambda v: Hand.of("AS", from_split=v), NOT_FLAG,  # type: ignore[arg-type]
         InvalidArgumentError, "from_split"),
    Case("Hand.add:card", lambda v: Hand().add(v), NOT_CARDS.filter(lambda v: not isinstance(v, list)),  # type: ignore[arg-type]
         InvalidCardError, "card"),
    Case("score:points", score, st.one_of(_NONE, _BOOLS, _INTS, _FLOATS, st.lists(st.one_of(  # type: ignore[arg-type]
        _BOOLS, _FLOATS, _TEXT, st.integers().filter(lambda n: not 1 <= n <= 10)), min_size=1)),
        InvalidCardError, "points"),
    # rules
    *(_rules_case(name, NOT_WHOLE) for name in ("decks", "max_split_hands", "min_bet", "max_bet")),
    *(_rules_case(name, NOT_FLAG) for name in (
        "dealer_hits_soft_17", "double_after_split", "resplit_aces", "hit_split_aces",
        "surrender", "insurance", "dealer_peek")),
    Case("Rules:blackjack_payout", lambda v: Rules(blackjack_payout=v), st.one_of(  # type: ignore[arg-type]
        _NONE, _BOOLS, _OTHER, _TEXT.filter(lambda t: not any(c.isdigit() for c in t)),
        st.integers().filter(lambda n: n not in (1, 2)),
        st.floats().filter(lambda f: f not in (1, 1.2, 1.4, 1.5, 2))), RulesError, "payout"),
    _rules_case("double", st.one_of(NOT_TEXT, _TEXT.filter(
        lambda t: t.strip().lower() not in ("any", "9-11", "10-11")))),
    _rules_case("penetration", st.one_of(NOT_NUMBER, st.floats().filter(lambda f: not 0.1 <= f <= 0.95))),
    Case("Rules.blackjack_win:bet", lambda v: Rules().blackjack_win(v), NOT_COUNT,  # type: ignore[arg-type]
         InvalidBetError, "bet"),
    Case("Rules.from_spec:spec", Rules.from_spec, NOT_TEXT, RulesError, "spec"),  # type: ignore[arg-type]
    Case("Rules.from_spec:base", lambda v: Rules.from_spec("ls", v), st.one_of(  # type: ignore[arg-type]
        _BOOLS, _INTS, _TEXT, _OTHER), RulesError, "base"),
    Case("DoubleRule:value", DoubleRule, NOT_TEXT, RulesError, "double"),
    Case("DoubleRule.allows:total", lambda v: DoubleRule.ANY.allows(v, False), NOT_WHOLE,  # type: ignore[arg-type]
         InvalidArgumentError, "total"),
    Case("DoubleRule.allows:soft", lambda v: DoubleRule.ANY.allows(10, v), NOT_FLAG,  # type: ignore[arg-type]
         InvalidArgumentError, "soft"),
    # shoes
    Case("Shoe:decks", lambda v: Shoe(v), NOT_WHOLE, RulesError, "decks"),  # type: ignore[arg-type]
    Case("Shoe:penetration", lambda v: Shoe(penetration=v), NOT_NUMBER, RulesError,  # type: ignore[arg-type]
         "penetration"),
    Case("Shoe:rng", lambda v: Shoe(rng=v), st.one_of(_BOOLS, _INTS, _TEXT, _OTHER),  # type: ignore[arg-type]
         InvalidArgumentError, "rng"),
    Case("Shoe:seed", lambda v: Shoe(seed=v), st.one_of(_BOOLS, _FLOATS, _TEXT, _OTHER),  # type: ignore[arg-type]
         InvalidArgumentError, "seed"),
    Case("Shoe.discard:cards", lambda v: Shoe(seed=1).discard(v), NOT_CARDS,  # type: ignore[arg-type]
         InvalidCardError, "card"),
    Case("StackedShoe:cards", lambda v: StackedShoe(v), NOT_CARDS, InvalidCardError, "card"),  # type: ignore[arg-type]
    Case("StackedShoe:decks", lambda v: StackedShoe("AS", v), NOT_WHOLE, RulesError, "decks"),  # type: ignore[arg-type]
    Case("StackedShoe.push:cards", lambda v: StackedShoe("AS").push(v), NOT_CARDS,  # type: ignore[arg-type]
         InvalidCardError, "card"),
    # the round
    Case("Round:rules", lambda v: Round(v, Shoe(seed=1)), NOT_TEXT, RulesError, "rules"),  # type: ignore[arg-type]
    Case("Round:shoe", lambda v: Round(Rules(), v), NOT_TEXT, InvalidArgumentError, "shoe"),  # type: ignore[arg-type]
    Case("Round:bets", lambda v: Round(Rules(), Shoe(seed=1), v), st.one_of(  # type: ignore[arg-type]
        _BOOLS, _INTS, _TEXT, st.lists(_INTS, min_size=1)), InvalidBetError, "bets"),
    Case("Round.bet:seat", lambda v: Round(Rules(), Shoe(seed=1)).bet(v, 10), NOT_SEAT,  # type: ignore[arg-type]
         InvalidBetError, "seat"),
    Case("Round.bet:amount", lambda v: Round(Rules(), Shoe(seed=1)).bet(1, v), NOT_WHOLE,  # type: ignore[arg-type]
         InvalidBetError, "amount"),
    Case("Round.act:action", lambda v: _dealt().act(v), NOT_TEXT, IllegalActionError, "action"),  # type: ignore[arg-type]
    Case("Round.act:seat", lambda v: _dealt().act(Action.HIT, v), NOT_SEAT,  # type: ignore[arg-type]
         IllegalActionError, "seat"),
    Case("Round.why_illegal:action", lambda v: _dealt().why_illegal(v), NOT_TEXT,  # type: ignore[arg-type]
         IllegalActionError, "action"),
    Case("Round.why_illegal:seat", lambda v: _dealt().why_illegal(Action.HIT, v), NOT_SEAT,  # type: ignore[arg-type]
         IllegalActionError, "seat"),
    Case("Round.cost:action", lambda v: _dealt().cost(v), NOT_TEXT, IllegalActionError, "action"),  # type: ignore[arg-type]
    Case("Round.cost:seat", lambda v: _dealt().cost(Action.DOUBLE, v), NOT_SEAT,  # type: ignore[arg-type]
         IllegalActionError, "seat"),
    Case("Round.legal_actions:seat", lambda v: _dealt().legal_actions(v), NOT_SEAT,  # type: ignore[arg-type]
         IllegalActionError, "seat"),
    Case("Round.legal_names:seat", lambda v: _dealt().legal_names(v), NOT_SEAT,  # type: ignore[arg-type]
         IllegalActionError, "seat"),
    Case("Round.hands:seat", lambda v: _dealt().hands(v), NOT_SEAT, InvalidArgumentError, "seat"),  # type: ignore[arg-type]
    Case("Round.stake:seat", lambda v: _dealt().stake(v), NOT_SEAT, InvalidArgumentError, "seat"),  # type: ignore[arg-type]
    Case("Round.stake:hand", lambda v: _dealt().stake(1, v), st.one_of(  # type: ignore[arg-type]
        NOT_COUNT, st.integers(min_value=1)), InvalidArgumentError, "hand"),
    # the round's values
    Case("Phase:value", Phase, st.one_of(NOT_TEXT, _not_values(Phase)), InvalidArgumentError,
         "phase"),
    Case("Result:value", Result, st.one_of(NOT_TEXT, _not_values(Result)), InvalidArgumentError,
         "result"),
    Case("Turn:seat", lambda v: Turn(v, 0), NOT_SEAT, InvalidArgumentError, "seat"),  # type: ignore[arg-type]
    Case("Turn:hand", lambda v: Turn(1, v), NOT_COUNT, InvalidArgumentError, "hand"),  # type: ignore[arg-type]
    Case("HandResult:seat", _with(HandResult, _HAND_RESULT, "seat"), NOT_SEAT,
         InvalidArgumentError, "seat"),
    *(Case(f"HandResult:{name}", _with(HandResult, _HAND_RESULT, name), NOT_COUNT,
           InvalidArgumentError, name) for name in ("hand", "stake", "payout")),
    Case("HandResult:cards", _with(HandResult, _HAND_RESULT, "cards"), NOT_CARDS,
         InvalidArgumentError, "cards"),
    Case("HandResult:result", _with(HandResult, _HAND_RESULT, "result"), NOT_TEXT,
         InvalidArgumentError, "result"),
    Case("InsuranceResult:seat", lambda v: InsuranceResult(v, 5, 0), NOT_SEAT,  # type: ignore[arg-type]
         InvalidArgumentError, "seat"),
    Case("InsuranceResult:stake", lambda v: InsuranceResult(1, v, 0), NOT_COUNT,  # type: ignore[arg-type]
         InvalidArgumentError, "stake"),
    Case("InsuranceResult:payout", lambda v: InsuranceResult(1, 5, v), NOT_COUNT,  # type: ignore[arg-type]
         InvalidArgumentError, "payout"),
    Case("RoundOutcome:dealer", lambda v: RoundOutcome(v, (), ()), NOT_CARDS,  # type: ignore[arg-type]
         InvalidArgumentError, "dealer"),
    Case("RoundOutcome:hands", lambda v: RoundOutcome(Hand(), v, ()), NOT_CARDS,  # type: ignore[arg-type]
         InvalidArgumentError, "hands"),
    Case("RoundOutcome:insurance", lambda v: RoundOutcome(Hand(), (), v), NOT_CARDS,  # type: ignore[arg-type]
         InvalidArgumentError, "insurance"),
    *(Case(f"RoundOutcome.{verb}:seat", lambda v, verb=verb: getattr(_outcome(), verb)(v),
           NOT_SEAT, InvalidArgumentError, "seat") for verb in ("staked", "payout", "net")),
    Case("Event:kind", _with(Event, _EVENT, "kind"), st.one_of(NOT_TEXT, _TEXT.filter(
        lambda t: t not in EVENT_KINDS)),
         InvalidArgumentError, "kind"),
    Case("Event:seat", _with(Event, _EVENT, "seat"), NOT_SEAT, InvalidArgumentError, "seat"),
    *(Case(f"Event:{name}", _with(Event, _EVENT, name), NOT_COUNT.filter(lambda v: v is not None),
           InvalidArgumentError, name) for name in ("hand", "stake", "total")),
    *(Case(f"Event:{name}", _with(Event, _EVENT, name), NOT_TEXT.filter(lambda v: v is not None),
           InvalidArgumentError, name) for name in ("card", "action")),
    Case("Event:detail", _with(Event, _EVENT, "detail"), NOT_TEXT.filter(
        lambda v: not isinstance(v, dict)), InvalidArgumentError, "detail"),
    Case("HandView:cards", _with(HandView, _HAND_VIEW, "cards"), NOT_CARDS,
         InvalidArgumentError, "cards"),
    *(Case(f"HandView:{name}", _with(HandView, _HAND_VIEW, name), NOT_COUNT,
           InvalidArgumentError, name) for name in ("total", "stake")),
    Case("HandView:soft", _with(HandView, _HAND_VIEW, "soft"), NOT_FLAG,
         InvalidArgumentError, "soft"),
    Case("HandView:status", _with(HandView, _HAND_VIEW, "status"), NOT_TEXT,
         InvalidArgumentError, "status"),
    Case("SeatView:seat", _with(SeatView, _SEAT_VIEW, "seat"), NOT_SEAT,
         InvalidArgumentError, "seat"),
    Case("SeatView:bet", _with(SeatView, _SEAT_VIEW, "bet"), NOT_COUNT,
         InvalidArgumentError, "bet"),
    Case("SeatView:hands", _with(SeatView, _SEAT_VIEW, "hands"), NOT_CARDS,
         InvalidArgumentError, "hands"),
    Case("SeatView:insurance", _with(SeatView, _SEAT_VIEW, "insurance"),
         NOT_COUNT.filter(lambda v: v is not None), InvalidArgumentError, "insurance"),
    Case("RoundView:phase", _with(RoundView, _ROUND_VIEW, "phase"),
         st.one_of(NOT_TEXT, _not_values(Phase)),
         InvalidArgumentError, "phase"),
    *(Case(f"RoundView:{name}", _with(RoundView, _ROUND_VIEW, name), NOT_CARDS,
           InvalidArgumentError, name) for name in ("dealer", "seats", "legal")),
    Case("RoundView:dealer_total", _with(RoundView, _ROUND_VIEW, "dealer_total"),
         NOT_COUNT.filter(lambda v: v is not None), InvalidArgumentError, "dealer_total"),
    Case("RoundView:turn", _with(RoundView, _ROUND_VIEW, "turn"),
         NOT_CARDS.filter(lambda v: v is not None), InvalidArgumentError, "turn"),
    # provably fair shoes
    Case("ShoeTerms:decks", lambda v: ShoeTerms(v, 10), NOT_WHOLE, RulesError, "decks"),  # type: ignore[arg-type]
    Case("ShoeTerms:cut", lambda v: ShoeTerms(1, v), st.one_of(  # type: ignore[arg-type]
        NOT_WHOLE, st.integers().filter(lambda n: not 1 <= n <= 52)), InvalidArgumentError, "cut"),
    Case("ShoeTerms:burn", lambda v: ShoeTerms(1, 10, v), NOT_COUNT, InvalidArgumentError,  # type: ignore[arg-type]
         "burn"),
    Case("ShoeTerms.of:decks", lambda v: ShoeTerms.of(v, 0.5), NOT_WHOLE, RulesError, "decks"),  # type: ignore[arg-type]
    Case("ShoeTerms.of:penetration", lambda v: ShoeTerms.of(1, v), NOT_NUMBER, RulesError,  # type: ignore[arg-type]
         "penetration"),
    Case("ShoeTerms.of:burn", lambda v: ShoeTerms.of(1, 0.5, v), NOT_COUNT,  # type: ignore[arg-type]
         InvalidArgumentError, "burn"),
    Case("FairShoe:terms", lambda v: FairShoe(v), st.one_of(_BOOLS, _INTS, _TEXT, _OTHER),  # type: ignore[arg-type]
         InvalidArgumentError, "terms"),
    Case("FairShoe:server_seed", lambda v: FairShoe(_TERMS, v), NOT_HEX_SEED,  # type: ignore[arg-type]
         InvalidArgumentError, "server seed"),
    Case("FairShoe.start:client", lambda v: FairShoe(_TERMS, _SEED).start(v), NOT_HEX_SEED,  # type: ignore[arg-type]
         InvalidArgumentError, "client seed"),
    *(Case(f"{f.__name__}:server_seed", lambda v, f=f: f(v, _TERMS), NOT_HEX_SEED,
           InvalidArgumentError, "server seed") for f in (preimage, commitment)),
    *(Case(f"{f.__name__}:terms", lambda v, f=f: f(_SEED, v), st.one_of(_BOOLS, _INTS, _OTHER),
           InvalidArgumentError, "terms") for f in (preimage, commitment)),
    Case("client_seed:contributions", client_seed, st.one_of(  # type: ignore[arg-type]
        _NONE, _BOOLS, _INTS, _FLOATS, st.text(min_size=1, max_size=3),
        st.lists(st.tuples(_INTS, _TEXT), min_size=1, max_size=2)),
        InvalidArgumentError, "contribution"),
    Case("words:server_seed", lambda v: words(v, _CLIENT, 0), NOT_HEX_SEED,  # type: ignore[arg-type]
         InvalidArgumentError, "server seed"),
    Case("words:client", lambda v: words(_SEED, v, 0), NOT_HEX_SEED, InvalidArgumentError,  # type: ignore[arg-type]
         "client seed"),
    Case("words:nonce", lambda v: words(_SEED, _CLIENT, v), NOT_COUNT, InvalidArgumentError,  # type: ignore[arg-type]
         "nonce"),
    Case("below:stream", lambda v: below(v, 3), st.one_of(  # type: ignore[arg-type]
        _NONE, _BOOLS, _INTS, _TEXT, st.lists(st.integers().filter(
            lambda n: not 0 <= n < 2**32), min_size=1).map(iter)),
        InvalidArgumentError, "stream"),
    Case("below:n", lambda v: below(iter([1]), v), st.one_of(  # type: ignore[arg-type]
        NOT_WHOLE, st.integers().filter(lambda n: not 1 <= n <= 2**32)),
        InvalidArgumentError, "n"),
    Case("shuffle_order:cards", lambda v: shuffle_order(v, _SEED, _CLIENT, 0), NOT_CARDS,  # type: ignore[arg-type]
         InvalidCardError, "card"),
    Case("shuffle_order:server_seed", lambda v: shuffle_order(["AS", "KD"], v, _CLIENT, 0),  # type: ignore[arg-type]
         NOT_HEX_SEED, InvalidArgumentError, "server seed"),
    Case("shuffle_order:client", lambda v: shuffle_order(["AS", "KD"], _SEED, v, 0),  # type: ignore[arg-type]
         NOT_HEX_SEED, InvalidArgumentError, "client seed"),
    Case("shuffle_order:nonce", lambda v: shuffle_order(["AS", "KD"], _SEED, _CLIENT, v),  # type: ignore[arg-type]
         NOT_COUNT, InvalidArgumentError, "nonce"),
    Case("canonical_order:cards", canonical_order, NOT_CARDS, InvalidCardError, "card"),  # type: ignore[arg-type]
    # round records and replays
    Case("Decision:seat", _with(Decision, _DECISION, "seat"), NOT_SEAT, RecordError, "seat"),
    Case("Decision:hand", _with(Decision, _DECISION, "hand"), NOT_COUNT, RecordError, "hand"),
    Case("Decision:action", _with(Decision, _DECISION, "action"), NOT_TEXT, RecordError,
         "action"),
    Case("Decision:at", _with(Decision, _DECISION, "at"), NOT_NUMBER.filter(
        lambda v: v is not None), RecordError, "at"),
    Case("Decision:by", _with(Decision, _DECISION, "by"), st.one_of(NOT_TEXT, _TEXT),
         RecordError, "by"),
    *(Case(f"{owner.__name__}.from_dict:data", owner.from_dict, st.one_of(  # type: ignore[attr-defined]
        _NONE, _BOOLS, _INTS, _TEXT, st.lists(_INTS)), RecordError, what)
      for owner, what in ((Decision, "decision"), (RoundRecord, "round"),
                          (ShoeRecord, "record"))),
    Case("RoundRecord:round_id", _with(RoundRecord, _RECORD, "round_id"), NOT_TEXT,
         RecordError, "round_id"),
    Case("RoundRecord:rules", _with(RoundRecord, _RECORD, "rules"), NOT_TEXT, RecordError,
         "rules"),
    Case("RoundRecord:bets", _with(RoundRecord, _RECORD, "bets"), st.one_of(
        _NONE, _BOOLS, _INTS, _TEXT, st.just({}), st.just({9: 10}), st.just({1: -1})),
         RecordError, "bet"),
    Case("RoundRecord:cards", _with(RoundRecord, _RECORD, "cards"), NOT_CARDS, RecordError,
         "card"),
    Case("RoundRecord:decisions", _with(RoundRecord, _RECORD, "decisions"), NOT_CARDS,
         RecordError, "decisions"),
    Case("RoundRecord:first", _with(RoundRecord, _RECORD, "first"),
         NOT_COUNT.filter(lambda v: v is not None), RecordError, "first"),
    Case("RoundRecord:outcome", _with(RoundRecord, _RECORD, "outcome"),
         st.one_of(_BOOLS, _INTS, _TEXT), RecordError, "outcome"),
    Case("drawn_cards:rnd", drawn_cards, NOT_TEXT, InvalidArgumentError, "rnd"),  # type: ignore[arg-type]
    Case("replay:record", replay, NOT_TEXT, RecordError, "record"),  # type: ignore[arg-type]
    Case("replay:shoe", lambda v: replay(RoundRecord(**_RECORD), v), st.one_of(  # type: ignore[arg-type]
        _BOOLS, _INTS, _TEXT, _OTHER), InvalidArgumentError, "shoe"),
    Case("steps:record", steps, NOT_TEXT, RecordError, "record"),  # type: ignore[arg-type]
    Case("Step:number", _with(Step, _STEP, "number"), NOT_COUNT, InvalidArgumentError,
         "number"),
    Case("Step:event", _with(Step, _STEP, "event"), NOT_TEXT, InvalidArgumentError, "event"),
    Case("Step:decision", _with(Step, _STEP, "decision"), NOT_TEXT.filter(
        lambda v: v is not None), InvalidArgumentError, "decision"),
    # verifying a shoe
    *(Case(f"ShoeRecord:{name}", _with(ShoeRecord, _SHOE_RECORD, name), NOT_TEXT, RecordError,
           name) for name in ("shoe_id", "commitment", "server_seed", "client_seed")),
    Case("ShoeRecord:terms", _with(ShoeRecord, _SHOE_RECORD, "terms"), NOT_TEXT, RecordError,
         "terms"),
    Case("ShoeRecord:seeds", _with(ShoeRecord, _SHOE_RECORD, "seeds"), st.one_of(
        NOT_CARDS, st.just((("alice",),)), st.just((("alice", 1),))), RecordError, "seeds"),
    Case("ShoeRecord:retired", _with(ShoeRecord, _SHOE_RECORD, "retired"), NOT_TEXT,
         RecordError, "retired"),
    Case("ShoeRecord:rounds", _with(ShoeRecord, _SHOE_RECORD, "rounds"), NOT_CARDS,
         RecordError, "rounds"),
    Case("Report:shoe_id", _with(Report, _REPORT, "shoe_id"), NOT_TEXT, InvalidArgumentError,
         "shoe_id"),
    *(Case(f"Report:{name}", _with(Report, _REPORT, name), NOT_CARDS, InvalidArgumentError,
           name) for name in ("checked", "problems", "cards")),
    Case("Report.lines:every_card", lambda v: Report(**_REPORT).lines(v), NOT_FLAG,  # type: ignore[arg-type]
         InvalidArgumentError, "every_card"),
    Case("verify:record", verify, NOT_TEXT, RecordError, "record"),  # type: ignore[arg-type]
    Case("main:argv", lambda v: verify_main(v), st.one_of(  # type: ignore[arg-type]
        _BOOLS, _INTS, st.lists(_INTS, min_size=1)), InvalidArgumentError, "argv"),
    Case("main:out", lambda v: verify_main(["x"], v), st.one_of(_BOOLS, _INTS, _TEXT),  # type: ignore[arg-type]
         InvalidArgumentError, "out"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.where for case in CASES])
def test_a_wrong_argument_raises_the_engines_error_naming_it(case: Case) -> None:
    """Values of the wrong type (and out of range) raise the case's BlackjackError, naming the argument."""
    # @given inside the test, not on it: pytest-twisted wraps a parametrized
    # Hypothesis test once per case around the same function, nesting them.
    @settings(max_examples=25, deadline=None)
    @given(case.junk)
    def wrong(value: object) -> None:
        with pytest.raises(case.error) as info:
            case.call(value)
        assert isinstance(info.value, ValueError)
        assert case.mentions in str(info.value).lower(), str(info.value)

    wrong()


def _public_parameters() -> set[str]:
    """``Owner.method:parameter`` for every parameter of the engine's public callables."""
    owners = [getattr(module, name) for module in ENGINE_MODULES for name in module.__all__]
    found: set[str] = set()
    for owner in owners:
        if not callable(owner) or owner is RandomSource or (
                isinstance(owner, type) and issubclass(owner, BaseException)):
            continue
        name = getattr(owner, "__name__", "")
        if isinstance(owner, type) and issubclass(owner, (Action, Rank, Suit, DoubleRule, Phase,
                                                          Result)):
            found.add(f"{name}:value")
        else:
            found.update(f"{name}:{p}" for p in inspect.signature(owner).parameters)
        if not isinstance(owner, type):
            continue
        for attr, member in vars(owner).items():
            if attr.startswith("_") or isinstance(member, property):
                continue
            function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
            if not inspect.isfunction(function):
                continue
            params = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
            found.update(f"{name}.{attr}:{p}" for p in params)
    return found


def test_every_public_parameter_has_a_case() -> None:
    """The table above covers every parameter of every public constructor and verb."""
    covered = {case.where for case in CASES}
    missing = _public_parameters() - covered
    assert not missing, sorted(missing)


def test_the_completeness_check_sees_a_new_parameter() -> None:
    """The parameter list is read from the real signatures (the check can fail)."""
    assert "Round.act:seat" in _public_parameters()
    assert "Rules:penetration" in _public_parameters()


# -- the forms each entry point does accept ---------------------------------------


def test_text_forms_are_read_where_the_engine_has_a_parser() -> None:
    """Action words, rules specs, card text and the double and payout texts are accepted."""
    game = Round("vegas", StackedShoe("TS 9H 6C 8D 3S"), {1: 10})
    game.deal()
    assert game.rules.surrender
    assert game.why_illegal("split") == "cannot split: the two cards are not a pair"
    assert game.cost("d") == 10
    game.act("hit")
    game.act("S")
    assert game.outcome is not None and game.outcome.net(1) == 10
    assert Action("h") is Action.HIT
    assert Hand(("AS", "KD")) == Hand.of("AS", "KD") == Hand("AS KD")  # type: ignore[arg-type]
    assert Hand().add("AS").cards == (Card.parse("AS"),)
    assert Rules(double="9-11") == Rules(double=DoubleRule.NINE_TO_ELEVEN)  # type: ignore[arg-type]
    assert Rules(blackjack_payout="6:5") == Rules(blackjack_payout=Fraction(6, 5))  # type: ignore[arg-type]
    assert Rules(blackjack_payout=1.2).blackjack_payout == Fraction(6, 5)


def test_converted_settings_hash_like_their_canonical_forms() -> None:
    """Rules built from other accepted forms are equal, and hash equal, to the canonical value."""
    texts = Rules(double=" 10-11 ", blackjack_payout="3/2", penetration=1 / 2)  # type: ignore[arg-type]
    canonical = Rules(double=DoubleRule.TEN_ELEVEN, blackjack_payout=Fraction(3, 2),
                      penetration=0.5)
    assert texts == canonical and hash(texts) == hash(canonical)
    assert type(texts.double) is DoubleRule and type(texts.blackjack_payout) is Fraction


def test_integers_of_another_kind_are_stored_as_int() -> None:
    """An integer that is not an int (an IntEnum here) is accepted and stored as a plain int."""
    rules = Rules(decks=Rank.TWO, min_bet=Rank.FIVE)
    assert type(rules.decks) is int and rules.decks == 2 and rules == Rules(decks=2, min_bet=5)


def test_an_injected_rng_needs_only_a_shuffle_method() -> None:
    """Any object with shuffle(list) is a random source; both rng and seed is refused."""
    class Reverse:
        def shuffle(self, cards: list[Card]) -> None:
            cards.reverse()

    assert str(Shoe(1, rng=Reverse()).draw()) == "AS"
    with pytest.raises(InvalidArgumentError, match="either rng or seed"):
        Shoe(rng=random.Random(1), seed=1)
