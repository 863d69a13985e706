"""``twistd blackjack``: the command-line options and ``makeService``.

The plugin file (``twisted/plugins/blackjack_plugin.py``) only names this
module; everything else is here, so ``twistd --help`` stays fast.
"""

from __future__ import annotations

import re
from typing import Any

from twisted.application.service import IService
from twisted.python import usage

from blackjack.errors import RulesError
from blackjack.rules import PRESETS, Rules
from blackjack.server.passwords import ScryptParams

__all__ = ["Options", "makeService", "DEFAULT_TABLES"]

DEFAULT_TABLES: tuple[tuple[str, Rules], ...] = (
    ("main", Rules()),
    ("vegas", PRESETS["vegas"]),
    ("sixfive", PRESETS["sixfive"]),
)
"""The tables a server opens when no ``--table`` is given."""

_TABLE_NAME = re.compile(r"[A-Za-z0-9_-]{1,16}")


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 86400:
        raise ValueError(f"{text} is not a number of seconds from 0 to 86400")
    return value


def _chips(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"{text} is negative")
    return value


class Options(usage.Options):
    """Options for ``twistd blackjack``."""

    synopsis = "[options]"
    longdesc = ("A multiplayer blackjack card room: players connect with telnet or "
                "netcat, register, and play at shared tables. State is kept in SQLite.")

    optParameters = [
        ["listen", "l", "tcp:8023",
         "Where to listen, as a Twisted endpoint string: tcp:8023, "
         "tcp:8023:interface=127.0.0.1, ssl:8993:privateKey=key.pem:certKey=cert.pem, "
         "unix:address=/run/blackjack.sock."],
        ["db", None, "blackjack.sqlite3",
         "SQLite database file for accounts, chips, ledger and hand history "
         "(created on first start)."],
        ["bankroll", None, 1000, "Chips a new account starts with.", _chips],
        ["bet-time", None, 20.0, "Seconds a betting window stays open.", _seconds],
        ["turn-time", None, 30.0,
         "Seconds a player has for each decision before the hand stands.", _seconds],
        ["insurance-time", None, 15.0,
         "Seconds to answer an insurance offer before it is declined.", _seconds],
        ["grace", None, 60.0,
         "Seconds a disconnected player's seat is held for them.", _seconds],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["tables"] = []

    def opt_table(self, value: str) -> None:
        name, _, spec = value.partition(":")
        if not _TABLE_NAME.fullmatch(name):
            raise usage.UsageError(
                f"table name {name!r}: use 1-16 letters, digits, _ or -")
        if any(existing == name.lower() for existing, _ in self["tables"]):
            raise usage.UsageError(f"table {name!r} is given twice")
        try:
            rules = Rules.from_spec(spec)
        except RulesError as e:
            raise usage.UsageError(f"table {name}: {e}") from None
        self["tables"].append((name.lower(), rules))

    opt_table.__doc__ = (
        "A table as NAME:RULES, e.g. high:decks=8,h17,min=100,max=5000 or "
        "cheap:sixfive,min=1. RULES are comma-separated: decks=N, h17 or s17, "
        "payout=3:2|6:5|7:5|1:1, double=any|9-11|10-11, das or ndas, split=N, rsa, hsa, "
        "ls (surrender), noins, enhc, min=N, max=N, pen=F, optionally after a preset "
        "(vegas, downtown, atlantic, european, sixfive, single). Repeat for more "
        "tables; this replaces the default tables (main, vegas, sixfive).")
    opt_t = opt_table

    def postOptions(self) -> None:
        """Fill in the default tables."""
        if not self["tables"]:
            self["tables"] = list(DEFAULT_TABLES)


def makeService(options: Options, reactor: Any = None,
                hasher: ScryptParams | None = None) -> IService:
    """The blackjack service for these options (on the global reactor by default).

    ``hasher`` overrides the password hashing cost; only tests and load bots
    should pass :data:`~blackjack.server.passwords.FAST_INSECURE`.
    """
    if reactor is None:
        from twisted.internet import reactor as _reactor
        reactor = _reactor
    from blackjack.server.service import BlackjackService
    from blackjack.server.sqlite import open_storage
    from blackjack.server.table import Timers

    kwargs: dict[str, Any] = {} if hasher is None else {"hasher": hasher}
    return BlackjackService(
        options["listen"], open_storage(options["db"]), options["tables"], reactor,
        bankroll=options["bankroll"],
        timers=Timers(bet=options["bet-time"], turn=options["turn-time"],
                      insurance=options["insurance-time"], grace=options["grace"]),
        **kwargs)
