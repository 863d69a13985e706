"""``python -m blackjack.history``: export and replay a card room's stored hands.

The hands are in the server's database, so the work is done by
:mod:`blackjack.server.hosting.history`, which needs the ``server`` extra.
This module only hands over to it when run, so that importing the engine
never imports Twisted.
"""

from __future__ import annotations

import importlib
import sys

from blackjack._cli import run

__all__ = ["main"]


def main() -> int:
    """Run ``blackjack.server.hosting.history`` (``--help`` for its options)."""
    try:
        command = importlib.import_module("blackjack.server.hosting.history")
    except ImportError as missing:
        print(f"python -m blackjack.history needs the server extra "
              f"(pip install 'blackjack[server]'): {missing}", file=sys.stderr)
        return 2
    return int(command.main())


if __name__ == "__main__":
    run(main)
