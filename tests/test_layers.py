"""The server's layers keep to their imports: the core knows no wire, rendering or SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "blackjack" / "server"

# What each layer may not import (prefixes of module names).
RULES: dict[str, tuple[str, ...]] = {
    "core": ("blackjack.server.frontends", "blackjack.server.hosting", "blackjack.server.room",
             "blackjack.server.storage.sqlite", "blackjack.server.storage.memory",
             "blackjack.server.storage.postgresql", "blackjack.server.storage.audit",
             "blackjack.server.storage.sql", "blackjack.server.storage.backends",
             "blackjack.server.storage.migrate", "blackjack.server.storage.admin",
             "blackjack.server.storage.roles",
             "twisted.conch", "twisted.web", "twisted.enterprise", "sqlite3", "orjson",
             "psycopg", "psycopg2", "json", "prometheus_client"),
    "storage": ("blackjack.server.core", "blackjack.server.frontends",
                "blackjack.server.hosting", "twisted.conch", "twisted.web", "prometheus_client"),
    # A room of nodes: the core, the storage interface and AMP; no front end's wire,
    # no database driver, and not the hosting that builds it.
    "room": ("blackjack.server.hosting", "blackjack.server.frontends.telnet",
             "blackjack.server.frontends.web", "blackjack.server.storage.sqlite",
             "blackjack.server.storage.memory", "blackjack.server.storage.postgresql",
             "blackjack.server.storage.sql", "blackjack.server.storage.backends",
             "twisted.conch", "twisted.web", "twisted.enterprise", "sqlite3", "psycopg",
             "psycopg2", "prometheus_client"),
    "frontends": ("blackjack.server.hosting", "blackjack.server.storage.sqlite",
                  "blackjack.server.storage.memory", "blackjack.server.storage.postgresql",
                  "blackjack.server.storage.sql", "blackjack.server.storage.backends",
                  "twisted.enterprise", "sqlite3", "psycopg", "psycopg2", "prometheus_client"),
}


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (``from x import y`` gives x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def breaches(layer: str, root: Path = SERVER) -> list[str]:
    """``file: module`` for every forbidden import in a layer's folder."""
    forbidden = RULES[layer]
    return sorted(f"{path.relative_to(root)}: {module}"
                  for path in (root / layer).rglob("*.py")
                  for module in imports(path)
                  if any(module == bad or module.startswith(bad + ".") for bad in forbidden))


@pytest.mark.parametrize("layer", sorted(RULES))
def test_each_layer_keeps_to_its_imports(layer: str) -> None:
    """No module of a layer imports what its layer must not (the core: no wire, web or SQL)."""
    assert (SERVER / layer).is_dir()
    assert breaches(layer) == []


def test_the_guard_finds_a_forbidden_import(tmp_path: Path) -> None:
    """A core module importing a front end or a database driver is caught (the check can fail)."""
    core = tmp_path / "core"
    core.mkdir()
    (core / "bad.py").write_text("import sqlite3\n"
                                 "def f():\n"
                                 "    from blackjack.server.frontends.render import text_lines\n")
    (core / "good.py").write_text("from blackjack.server.storage import IStorage\n")
    assert breaches("core", tmp_path) == [
        "core/bad.py: blackjack.server.frontends.render", "core/bad.py: sqlite3"]


def test_the_folders_show_the_layers() -> None:
    """A newcomer sees the layers from the folder names: core, frontends, storage, hosting."""
    folders = {p.name for p in SERVER.iterdir() if (p / "__init__.py").exists()}
    assert {"core", "frontends", "storage", "hosting", "room"} <= folders
    assert (SERVER / "core" / "table.py").exists()
    assert (SERVER / "frontends" / "telnet" / "wire.py").exists()
