"""What every storage backend does the same way at its edge, whatever keeps the chips.

Two habits of the :class:`~blackjack.server.storage.IStorage` contract that
are not about the database: a bad argument fails the returned Deferred (it is
never raised at the caller), and every stake refunded by recovery is logged
with its round, account and amount, in one wording an operator can grep for.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

import orjson

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from blackjack.server.storage.interface import (
    check_amount,
    check_id,
    check_text,
    check_time,
)

__all__ = ["fails_deferred", "log_recovered", "Refunded", "record_text", "shoe_arguments",
           "rebuy_arguments"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

Refunded = list[tuple[str, int, int]]
"""``(round_id, account_id, amount)`` for every stake a recovery refunded."""

_log = Logger()


def fails_deferred(method: Callable[_P, Deferred[_T]]) -> Callable[_P, Deferred[_T]]:
    """Make a method report bad arguments as a failed Deferred, never a raise."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
        return defer.maybeDeferred(method, *args, **kwargs)

    return wrapper


def log_recovered(refunded: Refunded) -> Refunded:
    """Log each refund of a recovery (a Deferred callback: returns its argument)."""
    for round_id, account_id, amount in refunded:
        _log.warn(
            "recovery: refunded {amount} chips to account {account_id},"
            " left in escrow for round {round_id} by a crash",
            amount=amount,
            account_id=account_id,
            round_id=round_id,
        )
    return refunded


_RECORD_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def record_text(record: Mapping[str, Any] | None) -> str:
    """A record as the JSON text every backend stores: compact, keys sorted.

    Made on the reactor thread once a round, so made by orjson (eight times
    faster than ``json.dumps`` on a round's record, and the same text for
    printable ASCII); what orjson cannot write (an integer beyond 64 bits)
    or would write otherwise (a non-ASCII name, which it does not escape) goes through
    ``json.dumps``, so every backend stores what the standard library would.
    """
    value = {} if record is None else record
    try:
        text = orjson.dumps(value, option=_RECORD_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError
        pass
    else:
        if text.isascii() and text.isprintable():  # json.dumps escapes DEL and beyond
            return text
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def shoe_arguments(shoe_id: object, table: object, record: Mapping[str, Any],
                   server_seed: object) -> tuple[str, str, str, str]:
    """``open_shoe``'s arguments checked, the record as JSON text, as every backend stores it."""
    record_json = record_text(dict(record))
    return (check_text(shoe_id, "shoe id"), check_text(table, "table"), record_json,
            check_text(server_seed, "server seed"))


def rebuy_arguments(account_id: object, amount: object, below: object,
                    since: object) -> tuple[int, int, int, float]:
    """``rebuy``'s arguments checked, as every backend refuses them."""
    return (check_id(account_id), check_amount(amount, "rebuy"),
            check_amount(below, "rebuy threshold", allow_zero=True), check_time(since))
