"""Output written once per reactor turn per connection, however many events made it.

A round's step sends each player several events in one turn of the reactor
(a card, the turn, a prompt; a settlement after its commit: the result, the
balance, the next betting window), and every write to a Twisted transport
costs a chain of calls (the output cap's measure, the TLS layer, the
transport's buffer, the reactor's writer set).  The socket sends once per
turn anyway; :class:`EndOfTurn` lets a connection hold its output in a list
and write it as one piece after the turn, for all connections with one timer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

__all__ = ["EndOfTurn", "end_of_turn"]


class EndOfTurn:
    """Runs what was added, once each, when the reactor's current turn is over.

    ``clock.callLater(0, ...)`` runs at the start of the next turn, before
    the reactor polls again: before the socket could have sent anything.
    """

    def __init__(self, clock: Any) -> None:
        self._clock = clock
        self._pending: list[Callable[[], None]] = []
        self._call: Any = None

    def add(self, f: Callable[[], None]) -> None:
        """Call ``f`` once the turn is over (add it once per turn)."""
        self._pending.append(f)
        if self._call is None:
            self._call = self._clock.callLater(0, self._run)

    def _run(self) -> None:
        self._call = None
        # What runs here may add for the next turn; it goes in a fresh list.
        pending, self._pending = self._pending, []
        for f in pending:
            f()


_BY_CLOCK: WeakKeyDictionary[Any, EndOfTurn] = WeakKeyDictionary()


def end_of_turn(clock: Any) -> EndOfTurn:
    """The one :class:`EndOfTurn` of ``clock`` (the reactor), shared by its connections."""
    found = _BY_CLOCK.get(clock)
    if found is None:
        found = _BY_CLOCK[clock] = EndOfTurn(clock)
    return found
