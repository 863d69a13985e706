"""Which backend a ``--db`` names, and opening it.

A plain path (or ``sqlite:///path``, ``sqlite://`` for memory) is an SQLite
file; a ``postgresql://`` (or ``postgres://``) URL is a PostgreSQL database.
Each backend's module, and so its driver, is imported only when named: the
game core and ``import blackjack`` never load ``sqlite3`` or ``psycopg2``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from blackjack.server.storage.interface import IStorage

__all__ = ["open_storage", "is_postgresql", "sqlite_path", "redact"]

_POSTGRESQL = ("postgresql://", "postgres://")


def is_postgresql(location: str) -> bool:
    """True if ``location`` is a PostgreSQL URL rather than an SQLite path."""
    return location.startswith(_POSTGRESQL)


def sqlite_path(location: str) -> str:
    """The SQLite file a path or ``sqlite://`` URL names; ValueError for anything else."""
    if location.startswith("sqlite:///"):
        path = location[len("sqlite:///"):] or ":memory:"
    elif location == "sqlite://":
        path = ":memory:"
    elif "://" in location:
        scheme = location.split("://", 1)[0]
        raise ValueError(f"unsupported database {scheme!r} in {location!r}: use a file "
                         "path, sqlite:///path or postgresql://user@host/database")
    else:
        path = location
    if not path:
        raise ValueError("empty database path")
    return path


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_storage(location: str, clock: Callable[[], float] | None = None,
                 *, reactor: Any = None) -> IStorage:
    """Open the storage a path or URL names (see the module docstring)."""
    if is_postgresql(location):
        try:
            from blackjack.server.storage.postgresql import PostgreSQLStorage
        except ImportError as e:
            raise ValueError(f"a PostgreSQL database needs psycopg2 ({e}): "
                             "pip install 'blackjack[postgresql]'") from None
        return PostgreSQLStorage(location, clock, reactor=reactor)
    from blackjack.server.storage.sqlite import SQLiteStorage

    return SQLiteStorage(sqlite_path(location), clock, reactor=reactor)
