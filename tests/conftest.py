"""Shared fixtures for the server tests: in-memory storage, fake clients, helpers.

The reactor is imported inside fixtures and helpers, never at module level,
so ``--reactor`` keeps working (pytest-twisted installs it first).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from zope.interface import implementer

from blackjack.server.core.player import ISeatClient, Player
from blackjack.server.frontends.schema import schema
from blackjack.server.storage.sqlite import SQLiteStorage
from storage_backends import BACKENDS, PostgreSQLBackend, make_backend, require_postgresql


_SCHEMA = schema()
_VALIDATORS: dict[str, Any] = {}


def conforms(message: dict[str, Any], shape: str | None = None) -> dict[str, Any]:
    """``message`` after checking it against the protocol schema (an AssertionError if not).

    ``shape`` is a ``$defs`` name (``reply.bet``); by default an event is
    checked against its own kind and anything else against ``reply``.
    """
    from jsonschema import Draft202012Validator

    if shape is None:
        shape = f"event.{message['event']}" if "event" in message else "reply"
    if shape.startswith("reply.") and shape not in _SCHEMA["$defs"]:
        shape = "reply"  # the reply to a command that does not exist: a refusal
    validator = _VALIDATORS.get(shape)
    if validator is None:
        assert shape in _SCHEMA["$defs"], f"the schema has no {shape}"
        validator = _VALIDATORS[shape] = Draft202012Validator(
            {"$defs": _SCHEMA["$defs"], "$ref": f"#/$defs/{shape}"})
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(message)]
    assert not errors, f"{shape} breaks the protocol schema: {errors} in {message}"
    return message


def wait(d: Deferred[Any], seconds: float = 5.0) -> Deferred[Any]:
    """``d`` with a timeout on the real reactor, so a stuck test fails instead of hanging."""
    from twisted.internet import reactor

    return d.addTimeout(seconds, reactor)


@implementer(ISeatClient)
class FakeClient:
    """An ISeatClient that records every event and whether it was closed."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.closed: str | None = None

    def send_event(self, event: dict[str, Any]) -> None:
        self.events.append(conforms(event))

    def close(self, message: str, why: str = "server") -> None:
        self.closed = message

    def kinds(self) -> list[str]:
        """The ``event`` names received, in order."""
        return [e["event"] for e in self.events]

    def last(self, kind: str) -> dict[str, Any]:
        """The latest event of a kind."""
        return [e for e in self.events if e["event"] == kind][-1]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each storage backend in turn (see ``storage_backends.py``)."""
    made = make_backend(request.param, tmp_path)
    yield made
    made.close()


@pytest.fixture
def pg() -> Iterator[PostgreSQLBackend]:
    """The PostgreSQL test server as a backend (skipped, or failed in CI, without one)."""
    backend = PostgreSQLBackend(require_postgresql())
    yield backend
    backend.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def server_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """What a server's --db is given: an SQLite file's path, or a fresh PostgreSQL URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "room.sqlite3")
        return
    backend = PostgreSQLBackend(require_postgresql())
    yield backend.fresh()
    backend.close()


@pytest.fixture
def storage() -> Iterator[SQLiteStorage]:
    """A fresh in-memory SQLite storage, closed after the test."""
    store = SQLiteStorage(":memory:")
    pytest_twisted.blockon(wait(store.ready()))
    yield store
    pytest_twisted.blockon(wait(store.close()))


async def make_player(storage: SQLiteStorage, name: str, bankroll: int = 1000) -> Player:
    """An account with ``bankroll`` chips, as a connected Player with a FakeClient."""
    account = await wait(storage.create_account(name, "not-a-real-hash", bankroll))
    player = Player(account.id, account.name)
    player.client = FakeClient()
    return player


def start_service(db: Path, *extra: str) -> Any:
    """The real service on a free port of 127.0.0.1: one 1-deck table ``main``, short timers,
    cheap password hashing, and ``extra`` options; started (stop it with ``stopService``)."""
    from twisted.internet import reactor

    from blackjack.server.core.passwords import FAST_INSECURE
    from blackjack.server.hosting.tap import Options, makeService

    options = Options()
    options.parseOptions(["--listen", "tcp:0:interface=127.0.0.1", "--web", "none",
                          "--db", str(db),
                          "--table", "main:decks=1", "--bet-time", "5", "--turn-time", "5",
                          "--insurance-time", "5", *extra])
    service = makeService(options, reactor, hasher=FAST_INSECURE)
    service.startService()
    return service


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (scripts/ is not a package), once."""
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module
