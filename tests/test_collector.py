"""The garbage collector's settings while a card room runs, and back after."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted
from twisted.python import usage

from blackjack.server.hosting.collector import DEFAULT_THRESHOLD, Collection
from blackjack.server.hosting.tap import Options

from conftest import start_service, wait


@pytest.fixture(autouse=True)
def interpreter_defaults() -> Iterator[None]:
    """Each test starts from the interpreter's settings and leaves them so."""
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    yield
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


class _Node:
    """An object that can sit in a reference cycle."""

    other: object = None


def test_started_it_freezes_and_collects_the_young_less_often() -> None:
    """A started collection freezes what exists and raises the young generation's
    threshold, keeping the older generations' own; stopping puts both back."""
    before = gc.get_threshold()
    collection = Collection(20_000)
    collection.start()
    try:
        assert gc.get_threshold() == (20_000, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        collection.stop()
    assert gc.get_threshold() == before


def test_a_threshold_of_zero_leaves_the_collector_alone() -> None:
    """Threshold 0 is the interpreter's own settings: nothing frozen, nothing changed."""
    before = gc.get_threshold()
    collection = Collection(0)
    collection.start()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    collection.stop()


def test_the_last_of_several_to_stop_puts_the_settings_back() -> None:
    """Two services in one process: the first to stop leaves the other's settings."""
    before = gc.get_threshold()
    first, second = Collection(10_000), Collection(30_000)
    first.start()
    second.start()
    assert gc.get_threshold()[0] == 30_000
    first.stop()
    assert gc.get_threshold()[0] == 30_000
    assert gc.get_freeze_count() > 0
    second.stop()
    assert gc.get_threshold() == before


def test_reference_cycles_are_still_collected_on_their_own() -> None:
    """With the higher threshold, a cycle nobody holds is freed once enough has been
    allocated since, with no explicit collection."""
    collection = Collection(1_000)
    collection.start()
    try:
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # a cycle: reference counting alone cannot free it
        held = [[] for _ in range(5_000)]  # containers enough for several collections
        assert gone() is None
        del held
    finally:
        collection.stop()


def test_a_negative_threshold_is_refused() -> None:
    """A negative threshold is a clear error, from the class and from the option."""
    with pytest.raises(ValueError, match="0 .* or more"):
        Collection(-1)
    with pytest.raises(usage.UsageError, match="-1 is less than 0"):
        Options().parseOptions(["--gc-threshold", "-1"])


def test_the_option_defaults_to_the_servers_setting() -> None:
    """``twistd blackjack`` tunes the collector unless told ``--gc-threshold 0``."""
    options = Options()
    options.parseOptions([])
    assert options["gc-threshold"] == DEFAULT_THRESHOLD
    options = Options()
    options.parseOptions(["--gc-threshold", "0"])
    assert options["gc-threshold"] == 0


@pytest_twisted.ensureDeferred
async def test_the_real_service_tunes_it_while_it_runs(tmp_path: Path) -> None:
    """The service ``twistd blackjack`` builds sets the collector once started and
    puts it back when stopped."""
    before = gc.get_threshold()
    service = start_service(tmp_path / "db.sqlite3", "--gc-threshold", "40000")
    try:
        assert gc.get_threshold() == (40_000, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        await wait(service.stopService())
    assert gc.get_threshold() == before
