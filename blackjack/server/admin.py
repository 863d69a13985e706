"""``python -m blackjack.server.admin --db DB grant NAME``: the host gives the admin role.

A short name for :mod:`blackjack.server.storage.roles`, where it lives.
"""

from blackjack.server.storage.roles import main

if __name__ == "__main__":
    from blackjack._cli import run

    run(main)
