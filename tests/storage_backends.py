"""The storage backends that the contract tests run against, one object each.

A backend makes fresh, empty databases and opens storages on them; two
storages opened on one database are two connections to it (a restart after a
crash, or two server processes).  ``conftest.backend`` yields each in turn.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blackjack.server.storage import IStorage
from blackjack.server.storage.memory import MemoryDatabase, MemoryStorage
from blackjack.server.storage.sqlite import SQLiteStorage

Clock = Callable[[], float]


class SQLiteBackend:
    """Files in a temporary directory: durable, so a reopened storage sees the chips."""

    name = "sqlite"

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._numbers = itertools.count()

    def fresh(self) -> str:
        """A path where no database is yet."""
        return str(self._directory / f"db{next(self._numbers)}.sqlite3")

    def open(self, database: Any, clock: Clock | None = None) -> IStorage:
        return SQLiteStorage(database, clock)

    def close(self) -> None:
        """Nothing to drop: the directory goes with the test."""


class MemoryBackend:
    """A :class:`MemoryDatabase` per database; storages on one share it."""

    name = "memory"

    def fresh(self) -> MemoryDatabase:
        return MemoryDatabase()

    def open(self, database: Any, clock: Clock | None = None) -> IStorage:
        return MemoryStorage(database, clock)

    def close(self) -> None:
        """Nothing to drop."""


BACKENDS = ("sqlite", "memory")
"""The names ``conftest.backend`` is parametrised with."""


def make_backend(name: str, directory: Path) -> Any:
    """The backend called ``name``, keeping any files under ``directory``."""
    if name == "sqlite":
        return SQLiteBackend(directory)
    if name == "memory":
        return MemoryBackend()
    raise ValueError(f"no storage backend {name!r}")
