"""The table rules as one frozen value, with the variations casinos use.

A :class:`Rules` value says everything about how a round is played and paid.
It is immutable and hashable, so it can key caches (the strategy advisor and
the analyser cache per rules value).  :data:`PRESETS` names common tables, and
:meth:`Rules.from_spec` reads the compact text form used by the command line
and the server's options (``"decks=2,h17,payout=6:5,min=5,max=200"``).

Payout rounding: a blackjack pays ``bet * numerator // denominator``; the
fraction of a chip an odd bet would earn at 3:2 or 6:5 is kept by the house
(the usual casino practice of paying in whole chips, rounded down).  Tables
whose minimum is a multiple of the payout denominator never round.  Insurance
costs half the bet, rounded down, and pays 2:1.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from fractions import Fraction
from typing import Any

from blackjack._checks import flag, real, whole_number
from blackjack.errors import InvalidArgumentError, InvalidBetError, RulesError

__all__ = ["DoubleRule", "Rules", "PRESETS"]


class DoubleRule(enum.Enum):
    """Which two-card totals may be doubled."""

    ANY = "any"
    """Any first two cards."""
    NINE_TO_ELEVEN = "9-11"
    """Hard 9, 10 or 11 only."""
    TEN_ELEVEN = "10-11"
    """Hard 10 or 11 only."""

    @classmethod
    def _missing_(cls, value: object) -> DoubleRule:
        if isinstance(value, str):
            for rule in cls:
                if rule.value == value.strip().lower():
                    return rule
        raise RulesError(f"double must be any, 9-11 or 10-11, not {value!r}")

    def allows(self, total: int, soft: bool) -> bool:
        """Whether a two-card hand of this total may be doubled."""
        total = whole_number("total", total, InvalidArgumentError)
        soft = flag("soft", soft, InvalidArgumentError)
        if self is DoubleRule.ANY:
            return True
        low = 9 if self is DoubleRule.NINE_TO_ELEVEN else 10
        return not soft and low <= total <= 11


@dataclass(frozen=True, slots=True)
class Rules:
    """How a table plays and pays.  Defaults: a common six-deck shoe game.

    Each setting must have its documented type: ``dealer_hits_soft_17="no"``
    is a :class:`~blackjack.errors.RulesError`, not H17.  Two take text too,
    where the spec form has a parser: ``double`` (``"any"``, ``"9-11"``,
    ``"10-11"``) and ``blackjack_payout`` (``"3:2"``, ``"6/5"``, or a number
    such as ``1.5``).  :meth:`from_spec` reads a whole table from text.
    """

    decks: int = 6
    """Decks in the shoe, 1 to 8."""
    dealer_hits_soft_17: bool = False
    """True for H17, false for S17."""
    blackjack_payout: Fraction = Fraction(3, 2)
    """What a natural pays per chip bet: 3:2, 6:5 or 1:1."""
    double: DoubleRule = DoubleRule.ANY
    """Which first two cards may be doubled."""
    double_after_split: bool = True
    """Whether a hand made by splitting may be doubled."""
    max_split_hands: int = 4
    """How many hands one seat may split into; 1 forbids splitting."""
    resplit_aces: bool = False
    """Whether a pair of aces made by splitting aces may be split again."""
    hit_split_aces: bool = False
    """Whether a hand made by splitting aces may draw more than one card."""
    surrender: bool = False
    """Late surrender: give up half the bet as the first decision."""
    insurance: bool = True
    """Whether insurance (and even money) is offered under a dealer ace."""
    dealer_peek: bool = True
    """Dealer checks the hole card for blackjack under an ace or ten.

    False is the European no-hole-card game: the dealer's second card is
    dealt after the players act, and a dealer blackjack takes every bet on
    the table, doubles and splits included.
    """
    min_bet: int = 10
    """Smallest bet, in whole chips."""
    max_bet: int = 500
    """Largest bet, in whole chips."""
    penetration: float = 0.75
    """Fraction of the shoe dealt before the cut card comes out."""

    def __post_init__(self) -> None:
        # dataclasses.replace() runs this too, and the strategy advisor
        # replaces rules on every decision: settings already of their type
        # skip the conversions.
        if not (type(self.decks) is type(self.max_split_hands) is type(self.min_bet)
                is type(self.max_bet) is int and type(self.penetration) is float
                and type(self.blackjack_payout) is Fraction
                and type(self.double) is DoubleRule
                and {type(getattr(self, name)) for name in _FLAG_FIELDS} == {bool}):
            self._convert()
        _check_decks(self.decks)
        if self.blackjack_payout not in _PAYOUTS:
            raise RulesError(f"blackjack payout must be 3:2, 6:5, 7:5, 2:1 or 1:1, "
                             f"not {_ratio(self.blackjack_payout)}")
        if not 1 <= self.max_split_hands <= 8:
            raise RulesError(f"split hands must be 1 to 8, not {self.max_split_hands}")
        if self.min_bet < 1:
            raise RulesError(f"minimum bet must be at least 1, not {self.min_bet}")
        if self.max_bet < self.min_bet:
            raise RulesError(
                f"maximum bet {self.max_bet} is below the minimum {self.min_bet}")
        _check_penetration(self.penetration)

    def _convert(self) -> None:
        """Check each setting's type, naming a wrong one, and store its canonical form.

        The value is frozen, hence ``object.__setattr__``; canonical forms
        make equal rules hash equal whatever form a setting came in.
        """
        def set_(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for name in ("decks", "max_split_hands", "min_bet", "max_bet"):
            set_(name, whole_number(name, getattr(self, name), RulesError))
        for name in _FLAG_FIELDS:
            set_(name, flag(name, getattr(self, name), RulesError))
        set_("blackjack_payout", _check_payout(self.blackjack_payout))
        set_("double", _check_double(self.double))
        set_("penetration", real("penetration", self.penetration, RulesError))

    @property
    def can_split(self) -> bool:
        """Whether splitting is allowed at all."""
        return self.max_split_hands > 1

    def blackjack_win(self, bet: int) -> int:
        """Chips a natural wins on ``bet`` (not counting the returned stake)."""
        bet = whole_number("bet", bet, InvalidBetError)
        if bet < 0:
            raise InvalidBetError(f"bet must not be negative, not {bet}")
        return bet * self.blackjack_payout.numerator // self.blackjack_payout.denominator

    def describe(self) -> str:
        """A short human summary, e.g. ``6D S17 3:2 DAS SP4 peek 10-500``."""
        return _described(self)

    def _describe(self) -> str:
        parts = [
            f"{self.decks}D",
            "H17" if self.dealer_hits_soft_17 else "S17",
            _ratio(self.blackjack_payout),
        ]
        if self.double is not DoubleRule.ANY:
            parts.append(f"D{self.double.value}")
        parts.append("DAS" if self.double_after_split else "NDAS")
        parts.append(f"SP{self.max_split_hands}" if self.can_split else "NOSPLIT")
        if self.resplit_aces:
            parts.append("RSA")
        if self.hit_split_aces:
            parts.append("HSA")
        if self.surrender:
            parts.append("LS")
        if not self.insurance:
            parts.append("NOINS")
        parts.append("peek" if self.dealer_peek else "ENHC")
        parts.append(f"{self.min_bet}-{self.max_bet}")
        return " ".join(parts)

    def to_spec(self) -> str:
        """The compact text form read by :meth:`from_spec`; round-trips."""
        return _spec(self)

    def _to_spec(self) -> str:
        default = Rules()
        items = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value != getattr(default, field.name):
                items.append(f"{_SPEC_NAMES[field.name]}={_spec_value(value)}")
        return ",".join(items)

    @classmethod
    def from_spec(cls, spec: str, base: Rules | None = None) -> Rules:
        """Read comma-separated rule settings on top of ``base`` (default rules).

        Items are ``name=value`` or a flag: ``decks=2``, ``h17``/``s17``,
        ``payout=6:5``, ``double=any|9-11|10-11``, ``das``/``ndas``,
        ``split=4``, ``rsa``, ``hsa``, ``ls`` (surrender), ``noins``,
        ``enhc``/``peek``, ``min=5``, ``max=500``, ``pen=0.75``; a preset's
        name (``vegas``, ``downtown``, ``atlantic``, ``european``,
        ``sixfive``, ``single``) may come first.
        """
        if not isinstance(spec, str):
            raise RulesError(f"spec must be text such as 'decks=2,h17', not {spec!r}")
        if base is None:
            rules = Rules()
        elif isinstance(base, Rules):
            rules = base
        else:
            raise RulesError(f"base must be a Rules value or None, not {base!r}")
        changes: dict[str, Any] = {}
        for raw in spec.split(","):
            item = raw.strip().lower()
            if not item:
                continue
            if item in PRESETS and not changes:
                rules = PRESETS[item]
                continue
            if item in _FLAGS:
                changes.update(_FLAGS[item])
                continue
            name, sep, value = item.partition("=")
            field_name = _SPEC_FIELDS.get(name.strip())
            if not sep or field_name is None:
                raise RulesError(
                    f"unknown rule {raw.strip()!r}; use e.g. decks=6, h17, payout=6:5, "
                    "double=9-11, ndas, split=4, rsa, hsa, ls, noins, enhc, min=10, max=500, pen=0.75")
            changes[field_name] = _parse_value(field_name, value.strip())
        try:
            return replace(rules, **changes)
        except TypeError as exc:  # pragma: no cover - guarded by _SPEC_FIELDS
            raise RulesError(str(exc)) from None


# A table writes its rules into every round's record: the texts are kept per
# rules value (a handful in a process) rather than rebuilt each round.
_spec = lru_cache(maxsize=256)(Rules._to_spec)
_described = lru_cache(maxsize=256)(Rules._describe)


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}:{value.denominator}"


_PAYOUTS = (Fraction(3, 2), Fraction(6, 5), Fraction(1, 1), Fraction(2, 1), Fraction(7, 5))
_FLAG_FIELDS = ("dealer_hits_soft_17", "double_after_split", "resplit_aces",
                "hit_split_aces", "surrender", "insurance", "dealer_peek")


def _check_decks(value: object) -> int:
    """A deck count, 1 to 8 (also what :class:`~blackjack.shoe.Shoe` accepts)."""
    decks = whole_number("decks", value, RulesError)
    if not 1 <= decks <= 8:
        raise RulesError(f"decks must be 1 to 8, not {decks}")
    return decks


def _check_penetration(value: object) -> float:
    """A cut-card position, 0.1 to 0.95 of the shoe (also the shoe's)."""
    penetration = real("penetration", value, RulesError)
    if not 0.1 <= penetration <= 0.95:
        raise RulesError(f"penetration must be between 0.1 and 0.95, not {value!r}")
    return penetration


def _read_ratio(text: str) -> Fraction | None:
    """``"6:5"`` or ``"6/5"`` with whole numbers on both sides, else ``None``."""
    top, sep, bottom = text.partition(":")
    if not sep:
        top, sep, bottom = text.partition("/")
    if not sep or not top.isdigit() or not bottom.isdigit() or int(bottom) == 0:
        return None
    return Fraction(int(top), int(bottom))


def _check_payout(value: object) -> Fraction:
    """A blackjack payout from a Fraction, an int, a float or ``"3:2"``/``"3/2"`` text."""
    payout: Fraction | None = None
    if isinstance(value, Fraction):
        payout = value
    elif isinstance(value, str):
        payout = _read_ratio(value.strip())
        if payout is None:
            try:
                payout = Fraction(value.strip())
            except ValueError:
                payout = None
    elif isinstance(value, int) and not isinstance(value, bool):
        payout = Fraction(value)
    elif isinstance(value, float) and math.isfinite(value):
        # Read the float as the decimal it was written as: 1.2 is 6:5, not
        # the binary fraction nearest to it.
        payout = Fraction(repr(value))
    if payout is None:
        raise RulesError(
            f"blackjack_payout must be a Fraction, a number or text such as '3:2', "
            f"not {value!r}")
    return payout


def _check_double(value: object) -> DoubleRule:
    """A :class:`DoubleRule`, or its value as text (``"any"``, ``"9-11"``, ``"10-11"``)."""
    if isinstance(value, (DoubleRule, str)):
        return DoubleRule(value)
    raise RulesError(f"double must be a DoubleRule or any, 9-11 or 10-11, not {value!r}")


_SPEC_NAMES = {
    "decks": "decks", "dealer_hits_soft_17": "h17", "blackjack_payout": "payout",
    "double": "double", "double_after_split": "das", "max_split_hands": "split",
    "resplit_aces": "rsa", "hit_split_aces": "hsa", "surrender": "ls",
    "insurance": "ins", "dealer_peek": "peek", "min_bet": "min", "max_bet": "max",
    "penetration": "pen",
}
_SPEC_FIELDS = {short: name for name, short in _SPEC_NAMES.items()}
_FLAGS: dict[str, dict[str, object]] = {
    "h17": {"dealer_hits_soft_17": True}, "s17": {"dealer_hits_soft_17": False},
    "das": {"double_after_split": True}, "ndas": {"double_after_split": False},
    "rsa": {"resplit_aces": True}, "hsa": {"hit_split_aces": True},
    "ls": {"surrender": True}, "nols": {"surrender": False},
    "ins": {"insurance": True}, "noins": {"insurance": False},
    "peek": {"dealer_peek": True}, "enhc": {"dealer_peek": False},
}


def _spec_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Fraction):
        return _ratio(value)
    if isinstance(value, DoubleRule):
        return value.value
    return str(value)


def _parse_value(field_name: str, text: str) -> object:
    kind = type(getattr(Rules(), field_name))
    try:
        if kind is bool:
            if text in ("yes", "true", "on", "1"):
                return True
            if text in ("no", "false", "off", "0"):
                return False
            raise ValueError(text)
        if kind is Fraction:
            payout = _read_ratio(text)
            if payout is None:
                raise ValueError(text)
            return payout
        if kind is DoubleRule:
            return DoubleRule(text)
        if kind is int:
            if not text.isdigit() or len(text) > 9:
                raise ValueError(text)
            return int(text)
        return float(text)
    except ValueError:
        raise RulesError(
            f"bad value {text!r} for {_SPEC_NAMES[field_name]}") from None


PRESETS: dict[str, Rules] = {
    "vegas": Rules(decks=6, dealer_hits_soft_17=False, surrender=True),
    "downtown": Rules(decks=2, dealer_hits_soft_17=True, double_after_split=True),
    "atlantic": Rules(decks=8, dealer_hits_soft_17=False, surrender=True),
    "european": Rules(decks=6, dealer_peek=False, double=DoubleRule.NINE_TO_ELEVEN,
                      double_after_split=True, max_split_hands=2),
    "sixfive": Rules(decks=6, dealer_hits_soft_17=True, blackjack_payout=Fraction(6, 5),
                     min_bet=5),
    "single": Rules(decks=1, dealer_hits_soft_17=True, double_after_split=False,
                    penetration=0.6),
}
"""Common tables by name.  ``Rules()`` itself is the six-deck S17 3:2 game."""
