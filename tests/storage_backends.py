"""The storage backends that the contract tests run against, one object each.

A backend makes fresh, empty databases and opens storages on them; two
storages opened on one database are two connections to it (a restart after a
crash, or two server processes).  ``conftest.backend`` yields each in turn.

PostgreSQL: the server is the one libpq's environment names (``PGHOST``,
``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``, as ``pg_virtualenv``
exports them) or the URL in ``BLACKJACK_TEST_POSTGRESQL``.  Each fresh
database is a new schema in it (the URL sets ``search_path``), dropped at the
end of the test.  With no server reachable the PostgreSQL tests are skipped,
saying why, unless ``BLACKJACK_REQUIRE_POSTGRESQL`` is set (CI sets it): then
they fail.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable
from functools import cache
from urllib.parse import quote
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


class PostgreSQLBackend:
    """Schemas in the test server's database: one per fresh database."""

    name = "postgresql"

    def __init__(self, base: str) -> None:
        self._base = base
        self._schemas: list[str] = []

    def fresh(self) -> str:
        """The URL of a new, empty schema."""
        schema = f"bj_{uuid.uuid4().hex[:12]}"
        _admin(self._base, f"CREATE SCHEMA {schema}")
        self._schemas.append(schema)
        return with_search_path(self._base, schema)

    def open(self, database: Any, clock: Clock | None = None) -> IStorage:
        from blackjack.server.storage.postgresql import PostgreSQLStorage

        return PostgreSQLStorage(database, clock)

    def close(self) -> None:
        for schema in self._schemas:
            _admin(self._base, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def with_search_path(base: str, schema: str) -> str:
    """``base`` with libpq ``options`` that put ``schema`` first on the search path."""
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"


def _admin(base: str, sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(base, connect_timeout=5)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@cache
def postgresql_server() -> tuple[str | None, str]:
    """The test server's base URL, or ``None`` and why there is none."""
    base = os.environ.get("BLACKJACK_TEST_POSTGRESQL", "postgresql://")
    try:
        import psycopg2
    except ImportError:
        return None, "psycopg2 is not installed (pip install '.[postgresql]')"
    try:
        psycopg2.connect(base, connect_timeout=3).close()
    except psycopg2.Error as e:
        where = base if base != "postgresql://" else "libpq's environment (PGHOST...)"
        return None, f"no PostgreSQL server at {where}: {str(e).strip().splitlines()[0]}"
    return base, ""


def require_postgresql() -> str:
    """The test server's base URL; skips the test, or fails it in CI, without one."""
    import pytest

    base, why = postgresql_server()
    if base is None:
        if os.environ.get("BLACKJACK_REQUIRE_POSTGRESQL") or os.environ.get("BLACKJACK_CI"):
            pytest.fail(f"PostgreSQL is required here (BLACKJACK_REQUIRE_POSTGRESQL): {why}")
        pytest.skip(f"{why}; run under pg_virtualenv or set BLACKJACK_TEST_POSTGRESQL")
    return base


BACKENDS = ("sqlite", "memory", "postgresql")
"""The names ``conftest.backend`` is parametrised with."""


def make_backend(name: str, directory: Path) -> Any:
    """The backend called ``name``, keeping any files under ``directory``."""
    if name == "sqlite":
        return SQLiteBackend(directory)
    if name == "memory":
        return MemoryBackend()
    if name == "postgresql":
        return PostgreSQLBackend(require_postgresql())
    raise ValueError(f"no storage backend {name!r}")
