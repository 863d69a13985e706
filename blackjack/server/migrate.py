"""``python -m blackjack.server.migrate --from FILE --to URL``: SQLite room into PostgreSQL.

A short name for :mod:`blackjack.server.storage.migrate`, where it lives.
"""

from blackjack.server.storage.migrate import main

if __name__ == "__main__":
    from blackjack._cli import run

    run(main)
