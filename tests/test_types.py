"""The package's type hints are checked, not just written: the engine under ``mypy --strict``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine_helpers import engine_files

ROOT = Path(__file__).resolve().parent.parent

NOT_YET_STRICT: set[str] = set()
"""Engine modules held back from ``--strict`` (none: every engine module is strict)."""


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _strict_files() -> list[str]:
    """Every engine file (all of blackjack/ but server/ and client/) outside NOT_YET_STRICT."""
    names = [path.relative_to(ROOT).as_posix() for path in engine_files()]
    return [name for name in names
            if not any(name == held or name.startswith(held + "/") for held in NOT_YET_STRICT)]


def test_mypy_finds_no_type_errors_in_the_package() -> None:
    """mypy (with the zope.interface plugin, as configured in pyproject.toml) passes on blackjack/."""
    done = _mypy("blackjack")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_mypy_strict_passes_on_the_engine() -> None:
    """``mypy --strict`` passes on every engine module but those held back above."""
    files = _strict_files()
    assert "blackjack/round.py" in files and "blackjack/_checks.py" in files
    assert "blackjack/strategy.py" in files and "blackjack/analysis/__init__.py" in files
    done = _mypy("--strict", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Success: no issues found in {len(files)} source files" in done.stdout


def test_mypy_strict_passes_on_the_client() -> None:
    """``mypy --strict`` passes on blackjack.client, which programs build on."""
    done = _mypy("--strict", "blackjack/client")
    assert done.returncode == 0, done.stdout + done.stderr
