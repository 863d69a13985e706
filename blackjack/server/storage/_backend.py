"""What every storage backend does the same way at its edge, whatever keeps the chips.

Two habits of the :class:`~blackjack.server.storage.IStorage` contract that
are not about the database: a bad argument fails the returned Deferred (it is
never raised at the caller), and every stake refunded by recovery is logged
with its round, account and amount, in one wording an operator can grep for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.logger import Logger

__all__ = ["fails_deferred", "log_recovered", "Refunded"]

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
