"""Packaging and options: an installed package ships the twistd plugin, options parse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_the_plugin_directory_is_a_namespace() -> None:
    """No __init__.py under twisted/, which would hide Twisted's own plugins."""
    assert (REPO / "twisted" / "plugins" / "blackjack_plugin.py").exists()
    assert not (REPO / "twisted" / "__init__.py").exists()
    assert not (REPO / "twisted" / "plugins" / "__init__.py").exists()


def test_the_plugin_options_parse_tables_and_refuse_bad_rules() -> None:
    """--table NAME:SPEC builds rules; a bad spec is a usage error naming the table."""
    from twisted.python.usage import UsageError

    from blackjack.server.tap import DEFAULT_TABLES, Options

    options = Options()
    options.parseOptions([])
    assert [name for name, _ in options["tables"]] == [n for n, _ in DEFAULT_TABLES]
    options = Options()
    options.parseOptions(["--table", "high:decks=8,h17,min=100,max=5000", "-t", "low:min=1"])
    (high, rules), (low, _) = options["tables"]
    assert (high, rules.decks, rules.dealer_hits_soft_17, rules.min_bet) == ("high", 8, True, 100)
    with pytest.raises(UsageError, match="table bad: decks must be 1 to 8"):
        Options().parseOptions(["--table", "bad:decks=9"])


def test_a_fresh_venv_install_lists_blackjack_in_twistd(tmp_path: Path) -> None:
    """``pip install .`` (not editable) into a new venv ships the plugin to twistd."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", str(REPO)],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run([str(venv / "bin" / "twistd"), "--help"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=120)
    assert "blackjack" in out.stdout, out.stdout + out.stderr
    usage = subprocess.run([str(venv / "bin" / "twistd"), "blackjack", "--help"],
                           cwd=tmp_path, capture_output=True, text=True, env=env,
                           timeout=120)
    assert "--turn-time" in usage.stdout
