"""Tests for blackjack.server.core.serial: one operation at a time, however many wait."""

from __future__ import annotations

from twisted.internet.defer import Deferred, DeferredLock, succeed
from twisted.python.failure import Failure

from blackjack.server.core.serial import SerialQueue


def _flood(queue: SerialQueue | DeferredLock, count: int) -> list[int]:
    """Hold the queue with a pending operation, queue ``count`` failing ones, release."""
    gate: Deferred[None] = Deferred()
    queue.run(lambda: gate)
    finished: list[int] = []
    for i in range(count):
        queue.run(lambda: 1 / 0).addErrback(lambda _, i=i: finished.append(i))
    gate.callback(None)
    return finished


def test_a_flood_of_operations_that_finish_at_once_all_complete_in_order() -> None:
    """5,000 queued operations that fail synchronously all complete, in order, and free the queue."""
    queue = SerialQueue()
    assert _flood(queue, 5000) == list(range(5000))
    assert not queue.busy and len(queue) == 0


def test_deferred_lock_is_what_this_replaces() -> None:
    """Twisted's DeferredLock strands most of the same flood (the bug SerialQueue avoids)."""
    lock = DeferredLock()
    finished = _flood(lock, 5000)
    assert len(finished) < 5000 and lock.locked


def test_operations_wait_for_asynchronous_ones() -> None:
    """An operation starts only after the Deferred of the one before it has fired."""
    queue = SerialQueue()
    log: list[str] = []
    first: Deferred[str] = Deferred()
    queue.run(lambda: (log.append("first starts"), first)[1]).addCallback(log.append)
    queue.run(lambda: log.append("second runs") or "second").addCallback(log.append)
    assert log == ["first starts"] and queue.busy
    first.callback("first done")
    assert log == ["first starts", "first done", "second runs", "second"]
    assert not queue.busy


def test_work_queued_from_a_callback_runs_after_the_queue_ahead_of_it() -> None:
    """A callback that queues more work does not jump ahead of operations already waiting."""
    queue = SerialQueue()
    log: list[str] = []
    gate: Deferred[None] = Deferred()
    queue.run(lambda: gate).addCallback(lambda _: queue.run(log.append, "queued by callback"))
    queue.run(log.append, "queued early")
    gate.callback(None)
    assert log == ["queued early", "queued by callback"]


def test_an_operation_that_finishes_at_once_answers_after_the_work_it_queued() -> None:
    """On an idle queue a synchronous operation runs at once; what it queued runs before the
    caller hears its result, and the queue is free again (also for one that raises)."""
    queue = SerialQueue()
    log: list[str] = []

    def first() -> str:
        log.append("first runs")
        queue.run(log.append, "queued by first")
        return "first's result"
    done = queue.run(first)
    assert done.called and not queue.busy
    done.addCallback(log.append)
    assert log == ["first runs", "queued by first", "first's result"]
    failed = queue.run(lambda: 1 / 0)
    failures: list[object] = []
    failed.addErrback(failures.append)
    assert len(failures) == 1 and not queue.busy


def _script(queue: SerialQueue, use_call: bool) -> list[object]:
    """Run a mixed script of operations through ``run`` or ``call``; what the callers heard."""
    heard: list[object] = []
    gates = [Deferred[str]() for _ in range(2)]

    def submit(name: str, f: object, *args: object) -> None:
        def hear(result: object) -> None:
            heard.append((name, result))

        def hear_failure(failure: Failure) -> None:
            heard.append((name, "failed", failure.type.__name__))
        if use_call:
            try:
                result = queue.call(f, *args)  # type: ignore[arg-type]
            except Exception as error:  # noqa: BLE001 - compared with run's errback
                heard.append((name, "failed", type(error).__name__))
                return
            if isinstance(result, Deferred):
                result.addCallbacks(hear, hear_failure)
            else:
                hear(result)
        else:
            queue.run(f, *args).addCallbacks(hear, hear_failure)  # type: ignore[arg-type]

    async def coroutine() -> str:
        return "from a coroutine"

    def queues_more() -> str:
        submit("queued inside", lambda: "inner")
        return "outer"

    submit("plain", lambda: "value")
    submit("raises", lambda: 1 / 0)
    submit("fired", lambda: succeed("already"))
    submit("coroutine", coroutine)
    submit("failure", lambda: Failure(KeyError("k")))
    submit("nests", queues_more)
    submit("pending", lambda: gates[0])
    submit("behind pending", lambda: "waited")
    submit("raises behind", lambda: 1 / 0)
    heard.append("gate 0 opens")
    gates[0].callback("gate 0")
    submit("pending again", lambda: gates[1])
    submit("nests behind", queues_more)
    heard.append("gate 1 opens")
    gates[1].callback("gate 1")
    submit("idle again", lambda: None)
    heard.append(("busy at the end", queue.busy, len(queue)))
    return heard


def test_call_answers_as_run_does_in_the_same_order() -> None:
    """``call`` (plain results on an idle queue) gives every caller what ``run`` gives,
    in the same order, for plain, raising, Deferred, coroutine, nesting and waiting work."""
    slow, fast = _script(SerialQueue(), False), _script(SerialQueue(), True)
    assert fast == slow
    assert slow.index(("behind pending", "waited")) > slow.index("gate 0 opens")
    assert slow[-1] == ("busy at the end", False, 0)


def test_call_gives_a_plain_result_only_when_nothing_waits() -> None:
    """On an idle queue ``call`` returns the plain value; behind a pending operation, a
    Deferred that fires only after it."""
    queue = SerialQueue()
    assert queue.call(lambda: 7) == 7
    gate: Deferred[None] = Deferred()
    assert isinstance(queue.call(lambda: gate), Deferred)
    waiting = queue.call(lambda: 8)
    assert isinstance(waiting, Deferred) and not waiting.called
    gate.callback(None)
    assert waiting.result == 8
