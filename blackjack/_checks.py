"""Argument checks shared by the engine's public constructors and verbs.

Each check returns the value in its canonical type, or raises the engine
error the caller names, with a message that names the argument.  The
engine's values are frozen and cached by the advisor and the analyser, so a
wrong type let through here would fail much later and far away (a
``"no"`` that is truthy, a ``True`` that counts as one deck).
"""

from __future__ import annotations

import itertools
import math
import operator
from typing import TypeVar

from blackjack.errors import BlackjackError

E = type[BlackjackError]
T = TypeVar("T")


def whole_number(name: str, value: object, error: E, what: str = "a whole number") -> int:
    """``value`` as an ``int``; integers of any kind pass, bools and floats do not.

    ``operator.index`` admits what Python itself accepts as an index (a
    NumPy integer, say) and refuses ``2.0`` and ``"2"``; bools are refused
    by hand because ``True`` would otherwise be 1.
    """
    if type(value) is int:  # the common case, first and cheapest
        return value
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise error(f"{name} must be {what}, not {value!r}")


def count(name: str, value: object, error: E) -> int:
    """``value`` as an ``int`` of at least 0 (a stake, a payout, a hand's index)."""
    number = whole_number(name, value, error)
    if number < 0:
        raise error(f"{name} must not be negative, not {number}")
    return number


def optional_count(name: str, value: object, error: E) -> int | None:
    """``None``, or :func:`count` of ``value``."""
    return None if value is None else count(name, value, error)


def flag(name: str, value: object, error: E) -> bool:
    """``value`` if it is ``True`` or ``False``; ``"no"``, 0 and ``None`` are refused."""
    if value is True or value is False:
        return value
    raise error(f"{name} must be True or False, not {value!r}")


def real(name: str, value: object, error: E) -> float:
    """``value`` as a finite ``float``; an int or float passes, a bool or text does not."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    raise error(f"{name} must be a number, not {value!r}")


def text(name: str, value: object, error: E) -> str:
    """``value`` if it is a ``str``."""
    if isinstance(value, str):
        return value
    raise error(f"{name} must be a str, not {value!r}")


def optional_text(name: str, value: object, error: E) -> str | None:
    """``None``, or ``value`` if it is a ``str``."""
    return None if value is None else text(name, value, error)


def instance(name: str, value: object, kind: type[T], error: E) -> T:
    """``value`` if it is a ``kind`` (or a subclass)."""
    if isinstance(value, kind):
        return value
    raise error(f"{name} must be a {kind.__name__}, not {value!r}")


def tuple_of(name: str, value: object, kind: type[T], error: E) -> tuple[T, ...]:
    """``value`` as a tuple of ``kind`` items; any iterable of them passes."""
    if type(value) is tuple and all(map(isinstance, value, itertools.repeat(kind))):
        return value
    if not isinstance(value, (str, bytes)):
        try:
            items: tuple[object, ...] = tuple(value)  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            if all(map(isinstance, items, itertools.repeat(kind))):
                return items  # type: ignore[return-value]
    raise error(f"{name} must be a sequence of {kind.__name__}, not {value!r}")
