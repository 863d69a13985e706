"""Run operations one at a time, in order, without deep recursion.

A table must never interleave two operations that await the database (an
escrow and the engine call that follows it).  Twisted's ``DeferredLock``
serialises, but its ``release`` starts the next waiter synchronously inside
the previous one's callback chain: a burst of queued operations that finish
at once (a flood of refused commands, say) nests one call chain per
operation, and at a depth of a hundred or so the interpreter's recursion
limit is hit inside ``release``, the error is swallowed into a Deferred, and
the lock stays held for ever: the table freezes.  :class:`SerialQueue` drains
its queue in a loop instead, so the depth stays constant however many
operations wait.
"""

from __future__ import annotations

from collections import deque
from types import CoroutineType
from typing import Any, Callable

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.python.failure import Failure

__all__ = ["SerialQueue"]

_WAITS: dict[type, bool] = {}
"""Whether an operation's result of each type is something to wait for (a Deferred, a
Failure, a coroutine) rather than a plain answer; a handful of types."""


class SerialQueue:
    """A FIFO of operations, each run only after the previous one finished."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any],
                                 Deferred[Any]]] = deque()
        self._busy = False

    @property
    def busy(self) -> bool:
        """Whether an operation is running or waiting on a Deferred."""
        return self._busy

    def __len__(self) -> int:
        return len(self._queue)

    def run(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Deferred[Any]:
        """Queue ``f(*args, **kwargs)``; the Deferred fires with its result."""
        if self._busy:
            done: Deferred[Any] = Deferred()
            self._queue.append((f, args, kwargs, done))
            return done
        # Idle: run it now.  Nearly every operation finishes at once, and its
        # own Deferred can then go straight back, with no second one chained
        # to it: the chain cost more than most commands do.
        self._busy = True
        return self._started(maybeDeferred(f, *args, **kwargs))

    def call(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """:meth:`run`'s fast twin: on an idle queue, an operation that finishes at
        once answers with its plain result, or raises; otherwise a Deferred, as from
        :meth:`run`.

        The order is :meth:`run`'s: a call made while an operation is pending
        waits in the queue behind it, and work that ``f`` queued runs before
        the caller hears back.  It is the hot path of commands that touch no
        database (most of them), for which a Deferred and its callbacks cost
        more than the command itself; ``tests/test_serial.py`` holds it to
        :meth:`run` on the same operations.
        """
        if self._busy:
            return self.run(f, *args, **kwargs)
        self._busy = True
        try:
            result = f(*args, **kwargs)
        except BaseException:
            self._drain()
            raise
        kind = type(result)
        waits = _WAITS.get(kind)
        if waits is None:  # isinstance on Deferred (an ABC's subclass) is slow: once a type
            waits = _WAITS[kind] = issubclass(kind, (Deferred, Failure, CoroutineType))
        if waits:
            return self._started(maybeDeferred(lambda: result))
        if self._queue:
            self._drain()
        else:
            self._busy = False
        return result

    def _started(self, result: Deferred[Any]) -> Deferred[Any]:
        """The Deferred of the operation just started on an idle queue, handed back."""
        if result.called:
            self._drain()  # what f queued meanwhile, before the caller hears back
            return result
        done: Deferred[Any] = Deferred()
        result.chainDeferred(done)
        result.addBoth(lambda _: self._drain())
        return done

    def _drain(self) -> None:
        self._busy = True
        while self._queue:
            f, args, kwargs, done = self._queue.popleft()
            result = maybeDeferred(f, *args, **kwargs)
            # Hand the result on.  Callbacks that queue more work only append
            # to the queue (we are busy), so nothing nests.
            result.chainDeferred(done)
            if not result.called:
                # Still running: carry on from the reactor when it finishes.
                result.addBoth(lambda _: self._drain())
                return
        self._busy = False
