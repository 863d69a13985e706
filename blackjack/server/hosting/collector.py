"""CPython's cyclic garbage collector, set for a long-running card room.

By default the collector looks at its youngest objects after every 700 net
allocations of containers, and at every object the process holds after a
hundred of those, once the heap has grown by a quarter.  A card room holds a
great deal for a long time (every connection and table, the coach's and the
analyser's answers, the imported code) and allocates fast (events,
Deferreds, requests), so with those defaults a busy server's reactor thread
spent about a sixth of its time collecting, in pauses of up to 150 ms when
a collection looked at the whole heap (``docs/performance.md``).

:class:`Collection` does what long-running CPython servers do:

- ``gc.freeze()`` once the service has started: what start-up built (the
  code, the rules, the analyser's compiled dealers) is never scanned again;
- the youngest generation is collected after ``threshold`` net allocations
  (``--gc-threshold``, 50,000 by default) instead of 700, so most
  short-lived objects are gone before a collection, and whole-heap
  collections come a seventieth as often.  Reference cycles still go;
  they wait a little longer.

Stopping puts the interpreter's settings back (tests start and stop many
services in one process).
"""

from __future__ import annotations

import gc

__all__ = ["DEFAULT_THRESHOLD", "Collection"]

DEFAULT_THRESHOLD = 50_000
"""Net container allocations between collections of the youngest generation."""


class Collection:
    """The collector's settings while a service runs; ``threshold`` 0 leaves them alone.

    Services in one process (a test's, or a room's nodes run side by side)
    share the interpreter's collector: the first to start sets it, and the
    last to stop puts it back.
    """

    def __init__(self, threshold: int = DEFAULT_THRESHOLD) -> None:
        if threshold < 0:
            raise ValueError(f"a collection threshold is 0 (the interpreter's) or more, "
                             f"not {threshold}")
        self.threshold = threshold
        self._started = False

    def start(self) -> None:
        """Freeze what start-up made and collect the young less often (until :meth:`stop`)."""
        global _saved
        if not self.threshold or self._started:
            return
        self._started = True
        _running.append(self)
        if _saved is None:
            _saved = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(c.threshold for c in _running), *_saved[1:])

    def stop(self) -> None:
        """Put the interpreter's settings back once no other service needs them."""
        global _saved
        if not self._started:
            return
        self._started = False
        _running.remove(self)
        if _running or _saved is None:
            return
        gc.set_threshold(*_saved)
        gc.unfreeze()
        _saved = None


_running: list[Collection] = []
"""The collections started and not yet stopped, in this process."""
_saved: tuple[int, int, int] | None = None
"""The interpreter's thresholds before the first of them started."""
