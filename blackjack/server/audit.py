"""``python -m blackjack.server.audit --db FILE``: the operator's books check.

A short name for :mod:`blackjack.server.storage.audit`, where it lives.
"""

from blackjack.server.storage.audit import main

if __name__ == "__main__":
    from blackjack._cli import run

    run(main)
