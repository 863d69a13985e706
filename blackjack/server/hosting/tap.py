"""``twistd blackjack``: the command-line options and ``makeService``.

The plugin file (``twisted/plugins/blackjack_plugin.py``) only names this
module; everything else is here, so ``twistd --help`` stays fast.  Every
limit in :class:`~blackjack.server.frontends.limits.Limits` is an option, with the
same default; a load test connecting thousands of bots from one address
raises ``--max-per-ip``, ``--login-attempts-per-ip`` and
``--registrations-per-hour`` and may choose ``--password-cost fast-insecure``.

``--node NAME`` makes the server one node of a room of several sharing one
PostgreSQL ledger (``docs/room.md``); without it nothing of a room is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from twisted.application.service import IService
from twisted.logger import Logger
from twisted.python import usage

from blackjack.errors import RulesError
from blackjack.rules import PRESETS, Rules
from blackjack.server.hosting import jsonlog, textlog, twistdlog
from blackjack.server.hosting.collector import DEFAULT_THRESHOLD
from blackjack.server.frontends.limits import Limits
from blackjack.server.core.passwords import DEFAULT_PARAMS, FAST_INSECURE, ScryptParams
from blackjack.server.storage.backends import is_postgresql, redact
from blackjack.server.text import TABLE_NAME

__all__ = ["Options", "makeService", "DEFAULT_TABLES"]

DEFAULT_TABLES: tuple[tuple[str, Rules], ...] = (
    ("main", Rules()),
    ("vegas", PRESETS["vegas"]),
    ("sixfive", PRESETS["sixfive"]),
)
"""The tables a server opens when no ``--table`` is given."""

_PASSWORD_COSTS = {"default": DEFAULT_PARAMS, "fast-insecure": FAST_INSECURE}
_LIMITS = Limits()
_log = Logger()


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 86400:
        raise ValueError(f"{text} is not a number of seconds from 0 to 86400")
    return value


def _whole(minimum: int) -> Callable[[str], int]:
    """A parser of whole numbers no smaller than ``minimum``."""
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(f"{text} is less than {minimum}")
        return value
    return parse


_chips = _count_or_off = _whole(0)
_count = _whole(1)


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1e6:
        raise ValueError(f"{text} is not a rate from 0 (off) to 1000000 a second")
    return value


def _seconds_or_off(text: str) -> float:
    return 0.0 if float(text) == 0 else _seconds(text)


def _bytes(text: str) -> int:
    """A size in bytes, optionally with a k or M suffix (binary: 256k = 262144)."""
    scale = {"k": 1024, "m": 1024 * 1024}.get(text[-1:].lower(), 1)
    value = int(text[:-1] if scale > 1 else text) * scale
    if value < 1:
        raise ValueError(f"{text} is not a size of at least 1 byte")
    return value


class Options(usage.Options):
    """Options for ``twistd blackjack``."""

    synopsis = "[options]"
    longdesc = ("A multiplayer blackjack card room: players connect with telnet or "
                "netcat (tcp:8023) or open the web page (http://localhost:8080), register, "
                "and play at shared tables. State is kept in SQLite, or in PostgreSQL when "
                "--db is a postgresql:// URL. "
                "For a load test with many bots from one address, raise --max-per-ip, "
                "--login-attempts-per-ip and --registrations-per-hour (--rate 0 turns "
                "the command rate off) and consider --password-cost fast-insecure.")

    optParameters = [
        ["db", None, "blackjack.sqlite3",
         "Where accounts, chips, ledger and hand history are kept: an SQLite file "
         "(created on first start) or a postgresql://USER@HOST/DATABASE URL "
         "(the database must exist; needs the postgresql extra). Older schemas "
         "are upgraded at start-up."],
        ["db-url", None, None,
         "A PostgreSQL URL, instead of --db (e.g. from a secret store); the "
         "password may also come from PGPASSWORD or ~/.pgpass."],
        ["bankroll", None, 1000, "Chips a new account starts with.", _chips],
        ["rebuy-cooldown", None, 3600.0,
         "Seconds a player out of chips waits between two rebuys of the starting "
         "bankroll (0: no wait).", _seconds_or_off],
        ["bet-time", None, 20.0, "Seconds a betting window stays open.", _seconds],
        ["turn-time", None, 30.0,
         "Seconds a player has for each decision before the hand stands.", _seconds],
        ["insurance-time", None, 15.0,
         "Seconds to answer an insurance offer before it is declined.", _seconds],
        ["grace", None, 60.0,
         "Seconds a disconnected player's seat is held for them.", _seconds],
        # Seats and idle players at a table (defaults as in table.Timers, which is
        # not imported here so that --help stays fast).
        ["missed-rounds", None, 3,
         "Betting windows in a row a seated player may let close without betting "
         "before being stood up to free the seat; chips are untouched (0: never).",
         _count_or_off],
        ["table-idle-timeout", None, 1800.0,
         "Seconds a player seated or watching at a table may stay silent before being "
         "stood up and disconnected; a hand in play stands and is paid (0: never).",
         _seconds_or_off],
        # Limits: each default is the one in blackjack.server.frontends.limits.Limits.
        ["max-line", None, _LIMITS.max_line,
         "Longest input line in bytes; a longer one is refused with a message naming the "
         "limit and the rest of it ignored. A connection sending 64 times this in "
         "over-long lines, with no good line between, is closed.", _count],
        ["rate", None, _LIMITS.rate,
         "Commands per second one connection may send (0: no limit). Faster ones are "
         "dropped after one 'slow down'; sustained input above 5 times this closes the "
         "connection.", _rate],
        ["burst", None, _LIMITS.burst,
         "Commands one connection may send at once after a quiet spell.", _count],
        ["chat-rate", None, _LIMITS.chat_rate,
         "Chat lines ('say') per second per connection (0: no limit).", _rate],
        ["chat-burst", None, _LIMITS.chat_burst,
         "Chat lines one connection may send at once after a quiet spell.", _count],
        ["max-per-ip", None, _LIMITS.max_per_ip,
         "Open connections from one IP address (0: no limit). Behind a proxy, "
         "listen with haproxy:... so the real address is seen.", _count_or_off],
        ["max-connections", None, _LIMITS.max_connections,
         "Open connections in total; keep it under the open-file limit (ulimit -n).",
         _count],
        ["idle-timeout", None, _LIMITS.idle_timeout,
         "Seconds a connection may stay silent before logging in, or logged in but "
         "away from any table, before it is closed (0: never). At a table "
         "--table-idle-timeout applies instead.", _seconds_or_off],
        ["login-attempts", None, _LIMITS.login_attempts,
         "Failed logins on one account name, from addresses that never logged into it, "
         "per --login-period before such addresses must wait; the owner's known "
         "addresses are never held back by it.", _count],
        ["login-attempts-per-ip", None, _LIMITS.login_attempts_per_ip,
         "Logins failed or in progress from one IP address (an IPv6 /64) per "
         "--login-period before it must wait; refused tries count too.", _count],
        ["login-period", None, _LIMITS.login_period,
         "Seconds over which failed logins are counted.", _seconds],
        ["registrations-per-hour", None, _LIMITS.registrations_per_hour,
         "New accounts one IP address may create per hour.", _count],
        ["output-cap", None, _LIMITS.output_cap,
         "Bytes that may queue for a client that stops reading before it is dropped "
         "(a k or M suffix is allowed: 256k).", _bytes],
        ["telnet-commands", None, _LIMITS.telnet_commands,
         "Telnet commands (negotiations, NOPs) one connection may send at once, and again "
         "each hour; past them it is told why and closed. A subnegotiation counts one more "
         "per 64 bytes. Real clients send a few dozen.", _count],
        ["log-format", None, "text",
         "How the log is written: text, for people, or json, one JSON object per line "
         "with each event's fields (event, name, peer, table, round_id...), for programs. "
         "It goes where twistd's --logfile says (standard output with -n and none)."],
        # A room of several nodes (docs/room.md).
        ["node", None, None,
         "Run as this node of a room: several servers, each with the same --table options, "
         "--db (PostgreSQL) and --node-secret-file, behind one load balancer. Each table is "
         "run by one node at a time; players may use any node."],
        ["node-listen", None, "tcp:8024",
         "Where this node's link to the other nodes listens (Twisted endpoint); keep it "
         "off the public network."],
        ["node-address", None, None,
         "HOST:PORT the other nodes dial for this node (default: the host name and the "
         "--node-listen port)."],
        ["node-secret-file", None, None,
         "A file holding the room's shared secret (16 bytes or more; the same on every "
         "node): nodes link only to nodes that prove they know it."],
        ["lease", None, 6.0,
         "Seconds a node's hold on a table lasts unless renewed (every third of it); a "
         "node silent this long loses its tables to the others.", _seconds],
        ["drain-time", None, 120.0,
         "Seconds a stopping node waits for rounds in play to end while it hands its "
         "tables to the others; after that, hands still in play stand.", _seconds],
        ["gc-threshold", None, DEFAULT_THRESHOLD,
         "Net allocations between collections of Python's youngest objects (0 keeps "
         "the interpreter's 700). What start-up built is also frozen out of the "
         "collector's sight (docs/performance.md).",
         _count_or_off],
        ["password-cost", None, "default",
         "Password hashing cost: default (scrypt n=2**14, slow on purpose), or "
         "fast-insecure for load-test bots only. WARNING: fast-insecure hashes are "
         "cheap to crack; never use it with real players' passwords."],
    ]

    optFlags = [
        ["front-only", None,
         "With --node: run no table; hold players' connections and forward their "
         "commands to the nodes running the tables."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["tables"] = []
        self["listen"] = []
        self["web"] = []
        self["web-origins"] = []
        self["metrics"] = []

    def opt_listen(self, value: str) -> None:
        self["listen"].append(value)

    opt_listen.__doc__ = (
        "Where telnet listens, as a Twisted endpoint string (default tcp:8023): "
        "tcp:8023:interface=127.0.0.1, tcp6:8023, "
        "ssl:8993:privateKey=key.pem:certKey=cert.pem (telnet over TLS), "
        "unix:address=/run/blackjack.sock; 'none' for no telnet. Repeat to listen on "
        "several.")
    opt_l = opt_listen

    def opt_web(self, value: str) -> None:
        self["web"].append(value)

    opt_web.__doc__ = (
        "Where the web page and its WebSocket (/ws) are served, as an endpoint string "
        "(default tcp:8080): tcp:8080:interface=127.0.0.1, "
        "ssl:8443:privateKey=key.pem:certKey=cert.pem (HTTPS and WSS); 'none' for no "
        "page. Repeat to serve on several.")

    def opt_metrics(self, value: str) -> None:
        self["metrics"].append(value)

    opt_metrics.__doc__ = (
        "Serve Prometheus metrics at /metrics on this endpoint, e.g. "
        "tcp:9108:interface=127.0.0.1 (keep it off the public internet: it shows "
        "what the room is doing). Off by default; repeatable.")

    def opt_web_origin(self, value: str) -> None:
        self["web-origins"].append(value)

    opt_web_origin.__doc__ = (
        "A further page origin allowed to open the WebSocket, e.g. "
        "https://cards.example.org when a proxy serves the page under that name "
        "(the server's own origin is always allowed). Repeatable.")

    def opt_table(self, value: str) -> None:
        name, _, spec = value.partition(":")
        if not TABLE_NAME.fullmatch(name):
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
        """Fill in the default tables; gather the limits; check the password cost."""
        if not self["tables"]:
            self["tables"] = list(DEFAULT_TABLES)
        for option, default in (("listen", "tcp:8023"), ("web", "tcp:8080")):
            given = self[option] or [default]
            if "none" in given and len(given) > 1:
                raise usage.UsageError(f"--{option} none cannot go with other endpoints")
            self[option] = [] if given == ["none"] else given
        if not self["listen"] and not self["web"]:
            raise usage.UsageError("--listen none and --web none: nothing to listen on")
        if self["db-url"] is not None:
            if self["db"] != "blackjack.sqlite3":
                raise usage.UsageError("give --db or --db-url, not both")
            if not is_postgresql(self["db-url"]):
                raise usage.UsageError(
                    f"--db-url takes a postgresql:// URL, not {redact(self['db-url'])!r}")
            self["db"] = self["db-url"]
        if self["node"] is not None:
            self["room"] = _room_options(self)
        elif self["front-only"]:
            raise usage.UsageError("--front-only goes with --node")
        if self["log-format"] not in ("text", "json"):
            raise usage.UsageError(f"--log-format is text or json, not {self['log-format']!r}")
        if self["log-format"] == "json":
            twistdlog.use_with_twistd(self.parent, jsonlog.observer, required=True)
        else:
            twistdlog.use_with_twistd(self.parent, textlog.observer, required=False)
        if self["password-cost"] not in _PASSWORD_COSTS:
            raise usage.UsageError(
                f"--password-cost must be one of {', '.join(_PASSWORD_COSTS)}, "
                f"not {self['password-cost']!r}")
        try:
            self["limits"] = Limits(
                max_line=self["max-line"], rate=self["rate"], burst=self["burst"],
                chat_rate=self["chat-rate"], chat_burst=self["chat-burst"],
                max_per_ip=self["max-per-ip"], max_connections=self["max-connections"],
                idle_timeout=self["idle-timeout"], login_attempts=self["login-attempts"],
                login_attempts_per_ip=self["login-attempts-per-ip"],
                login_period=self["login-period"],
                registrations_per_hour=self["registrations-per-hour"],
                output_cap=self["output-cap"], telnet_commands=self["telnet-commands"])
        except ValueError as e:
            raise usage.UsageError(str(e)) from None


def _room_options(options: Options) -> Any:
    """The node's options, checked: a room needs PostgreSQL and a shared secret."""
    from blackjack.server.room.node import NodeOptions

    name = options["node"]
    if not TABLE_NAME.fullmatch(name):
        raise usage.UsageError(f"node name {name!r}: use 1-16 letters, digits, _ or -")
    if not is_postgresql(options["db"]):
        raise usage.UsageError("--node needs a PostgreSQL --db (or --db-url): the nodes of "
                               "a room share one ledger")
    if options["node-secret-file"] is None:
        raise usage.UsageError("--node needs --node-secret-file: nodes link only to nodes "
                               "that know the room's secret")
    try:
        with open(options["node-secret-file"], "rb") as f:
            secret = f.read().strip()
    except OSError as e:
        raise usage.UsageError(f"cannot read --node-secret-file: {e}") from None
    if len(secret) < 16:
        raise usage.UsageError("the room's secret (--node-secret-file) must be at least "
                               "16 bytes")
    address = options["node-address"]
    if address is not None and not re.fullmatch(r"[^\s:]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5}",
                                                address):
        raise usage.UsageError(f"--node-address takes HOST:PORT, not {address!r}")
    return NodeOptions(name=name, listen=options["node-listen"], secret=secret,
                       address=address, lease=options["lease"], drain=options["drain-time"],
                       move_wait=options["lease"] * 2, front_only=bool(options["front-only"]))


def makeService(options: Options, reactor: Any = None,
                hasher: ScryptParams | None = None) -> IService:
    """The blackjack service for these options (on the global reactor by default).

    ``hasher`` overrides ``--password-cost``; only tests and load bots should
    use :data:`~blackjack.server.core.passwords.FAST_INSECURE`.
    """
    if reactor is None:
        from twisted.internet import reactor as _reactor
        reactor = _reactor
    from blackjack.server.hosting.service import BlackjackService
    from blackjack.server.storage.backends import open_storage
    from blackjack.server.core.table import Timers

    if hasher is None:
        hasher = _PASSWORD_COSTS[options["password-cost"]]
    if hasher == FAST_INSECURE:
        _log.warn("Passwords are hashed with the fast, INSECURE scrypt cost: fine for "
                  "load-test bots, not for real players")
    return BlackjackService(
        options["listen"], open_storage(options["db"], reactor=reactor), options["tables"],
        reactor, web=options["web"], web_origins=options["web-origins"],
        bankroll=options["bankroll"], rebuy_cooldown=options["rebuy-cooldown"],
        timers=Timers(bet=options["bet-time"], turn=options["turn-time"],
                      insurance=options["insurance-time"], grace=options["grace"],
                      missed_rounds=options["missed-rounds"],
                      idle=options["table-idle-timeout"]),
        hasher=hasher, limits=options["limits"], metrics=options["metrics"],
        room=options.get("room"), gc_threshold=options["gc-threshold"])
