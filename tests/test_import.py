"""The rules engine is stdlib-only: importing it never pulls in Twisted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine_helpers import engine_modules

ROOT = Path(__file__).resolve().parent.parent


def _modules_after_import(module: str) -> set[str]:
    """The names in sys.modules after a fresh interpreter imports ``module``."""
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("module", engine_modules())
def test_engine_module_does_not_import_twisted(module: str) -> None:
    """Importing any engine module (all of blackjack/ but server/ and client/) leaves twisted
    and zope out."""
    loaded = _modules_after_import(module)
    assert module in loaded
    assert not {m for m in loaded if m == "twisted" or m.startswith(("twisted.", "zope"))}


def test_the_check_would_see_twisted_if_it_were_imported() -> None:
    """The subprocess check does detect Twisted when something imports it (the test can fail)."""
    assert "twisted" in _modules_after_import("twisted.internet.defer")


DRIVERS = {"sqlite3", "_sqlite3", "psycopg2", "psycopg"}
"""Database drivers: only the storage backend a server is given may load one."""

CORE_MODULES = ["blackjack.server.core.table", "blackjack.server.core.lobby",
                "blackjack.server.core.accounts", "blackjack.server.core.player",
                "blackjack.server.storage"]


@pytest.mark.parametrize("module", ["blackjack", *CORE_MODULES])
def test_the_engine_and_the_game_core_load_no_database_driver(module: str) -> None:
    """The engine, the game core and the storage interface import no sqlite3 or psycopg."""
    loaded = _modules_after_import(module)
    assert module in loaded
    assert not {m.split(".")[0] for m in loaded} & DRIVERS


def test_the_driver_check_would_see_a_backend() -> None:
    """Importing a backend does load its driver, so the check above can fail."""
    assert "sqlite3" in _modules_after_import("blackjack.server.storage.sqlite")
