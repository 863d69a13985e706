"""Sphinx configuration for the engine's reference docs and guide.

Build (warnings are errors, as in the test suite)::

    python -m sphinx -W --keep-going -b html docs/api build/docs

No intersphinx: the docs build offline, and links to the standard library
are left as plain text.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Document the checkout being built, not whatever blackjack is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import blackjack  # noqa: E402

project = "blackjack"
author = "The blackjack maintainers"
copyright = "2026, The blackjack maintainers"
release = blackjack.__version__
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}
default_role = "py:obj"

html_theme = "alabaster"
html_title = f"blackjack {release}"
html_theme_options = {
    "description": "A casino-grade blackjack rules engine for Python",
    "fixed_sidebar": True,
}
exclude_patterns = ["_build"]
