"""The package's type hints are checked, not just written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_type_errors_in_the_package() -> None:
    """mypy (with the zope.interface plugin, as configured in pyproject.toml) passes on blackjack/."""
    done = subprocess.run([sys.executable, "-m", "mypy", "blackjack"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout
