"""The per-connection protocol: parse a command, call the lobby or a table, render.

:class:`BlackjackProtocol` holds no game rule.  Each command is a small
``cmd_<verb>`` method whose docstring is its help text (first line: usage);
anything that is not a command but is an action word or alias (``h``, ``s``,
``d``, ``p``...) is played through :meth:`Table.act`.  Everything sent is an
event dict rendered by :mod:`blackjack.server.render`, as text or, after
``json on``, as one JSON object per line.

:class:`BlackjackFactory` wraps each protocol in :class:`TelnetWire`, keeps
the set of live connections for shutdown, and refuses connections over the
per-address and total caps with a one-line message.  The protocol adds the
limits that depend on the session: an idle timeout for connections that are
not logged in or sit in the lobby, and a tighter rate for chat.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IAddress, IDelayedCall
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from blackjack.actions import Action
from blackjack.analysis import action_values
from blackjack.errors import BlackjackError
from blackjack.server.limits import CommandLimiter, ConnectionCounter, Limits, Verdict
from blackjack.server.lobby import Lobby
from blackjack.server.player import ISeatClient, Player
from blackjack.server.render import json_wire, text_lines
from blackjack.server.storage import IStorage
from blackjack.server.table import Table
from blackjack.server.wire import LineWire, TelnetWire
from blackjack.strategy import advise

__all__ = ["BlackjackProtocol", "BlackjackFactory", "SERVER_NAME"]

SERVER_NAME = "the Twisted Blackjack Room"
_log = Logger()
_BET = re.compile(r"[1-9][0-9]{0,9}")
_BET_USAGE = "usage: bet N, a whole number of chips, e.g. bet 10"
_ANONYMOUS = frozenset({"help", "quit", "register", "login", "tables", "who", "json", "ascii"})
_SETTINGS = {"on": True, "off": False, "yes": True, "no": False, "1": True, "0": False}


def _not_connected() -> float:
    raise RuntimeError("the connection has not been made yet")


class CommandError(BlackjackError, ValueError):
    """A command was mistyped; the message says what to type instead."""


def _digits(text: str) -> bool:
    # str.isdigit() alone accepts "²" and "٣", which int() then refuses.
    return text.isascii() and text.isdigit()


def parse_bet(text: str) -> int:
    """A bet typed by a player, as chips: ASCII digits, 1 to 9,999,999,999.

    Anything else (empty, "0", "-5", "10.5", "1e9", "0x10", "NaN", "010",
    or a number too long to be a bet) raises :class:`CommandError` with one
    line saying what was wrong.  The table then checks its own minimum,
    maximum and the player's balance.
    """
    if _BET.fullmatch(text):
        return int(text)
    shown = text if len(text) <= 20 else text[:20] + "..."
    if not text:
        raise CommandError(_BET_USAGE)
    if _digits(text):
        if not text.strip("0"):
            raise CommandError("a bet must be at least 1 chip, e.g. bet 10")
        if text[0] == "0":
            raise CommandError(f"write the bet without leading zeros, e.g. bet {int(text)}")
        raise CommandError(f"{shown} chips is far more than any table takes; "
                           "type 'tables' to see the bet limits")
    if text[0] == "-" and _digits(text[1:]):
        raise CommandError("a bet must be a positive number of chips, e.g. bet 10")
    raise CommandError(f"{shown!r} is not a whole number of chips: "
                       "use digits only, e.g. bet 10")


@implementer(ISeatClient)
class BlackjackProtocol(LineWire):
    """One connection: login, then commands for the lobby and a table.

    Limits come from the factory (:attr:`BlackjackFactory.limits`); see
    :class:`~blackjack.server.wire.LineWire` for the ones applied to every line.
    """

    def __init__(self, lobby: Lobby, accounts: Any, storage: IStorage) -> None:
        super().__init__()
        self.lobby = lobby
        self.accounts = accounts
        self.storage = storage
        self.player: Player | None = None
        self.json_mode = False
        self.unicode = True
        self._answer: Callable[[str], None] | None = None
        self._busy = False
        self._chat: CommandLimiter | None = None
        self._idle_call: IDelayedCall | None = None
        self._active_at = 0.0
        self._seconds: Callable[[], float] = _not_connected
        self.factory: BlackjackFactory | None = None

    # -- connection -----------------------------------------------------------

    def connectionMade(self) -> None:
        """Apply the factory's limits, start the idle timer and greet the client."""
        if self.factory is not None:
            self.limits = self.factory.limits
            self.clock = self.factory.clock
            self.factory.clients.add(self)
        super().connectionMade()
        self._seconds = self.clock.seconds
        if self.limits.chat_rate:
            self._chat = CommandLimiter(self.limits.chat_rate, self.limits.chat_burst,
                                        self._seconds, flood=False)
        if self.limits.idle_timeout:
            self._active_at = self._seconds()
            self._idle_call = self.clock.callLater(self.limits.idle_timeout, self._idle_check)
        self.send_event({"event": "welcome", "server": SERVER_NAME})

    def _idle_check(self) -> None:
        """The idle timer: close a silent connection, or look again when it could be.

        Each command only notes the time (cheap: commands are the hot path);
        the timer, when it fires, works out whether the connection has really
        been silent for the whole timeout.  This replaces ``TimeoutMixin``,
        whose reset on every command moved a reactor timer each time.
        """
        self._idle_call = None
        timeout = self.limits.idle_timeout
        left = self._active_at + timeout - self._seconds()
        if left > 0:
            self._idle_call = self.clock.callLater(left, self._idle_check)
            return
        if self.player is not None and self.player.table is not None:
            # A seated player's hand is governed by the table's timers, and a
            # watcher is following a table: both are left alone for now.
            self._idle_call = self.clock.callLater(timeout, self._idle_check)
            return
        what = "not logged in" if self.player is None else "idle in the lobby"
        self.close(f"{what.capitalize()} for {timeout:g} seconds; goodbye.")

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        """Leave the player's seat held for reconnection."""
        if self._idle_call is not None:
            self._idle_call.cancel()
            self._idle_call = None
        super().connectionLost(reason)
        if self.factory is not None:
            self.factory.client_gone(self)
        if self.player is not None:
            self.lobby.detach(self.player, self)

    # -- ISeatClient ------------------------------------------------------------

    def send_event(self, event: dict[str, Any]) -> None:
        """Send one event as a JSON line or as text lines."""
        if self.json_mode:
            self._write(json_wire(event))
            return
        me = self.player.name if self.player is not None else None
        for line in text_lines(event, me, self.unicode):
            self.sendLine(line)

    def close(self, message: str) -> None:
        """Say why, then hang up."""
        self.send_event({"event": "bye", "message": message})
        self.hangUp()

    def error(self, message: str) -> None:
        """Tell the client one clear line about what went wrong."""
        self.send_event({"event": "error", "message": message})

    # -- dispatch ---------------------------------------------------------------

    def textReceived(self, text: str) -> None:
        """Answer a pending prompt, or run a command; no exception gets past here."""
        self._active_at = self._seconds()
        try:
            if self._answer is not None:
                answer, self._answer = self._answer, None
                try:
                    answer(text)
                finally:
                    if self._answer is None:
                        # Not before: a WONT ECHO between "Choose a password"
                        # and "Repeat the password" would echo the second.
                        self.showInput()
                return
            verb, _, rest = text.partition(" ")
            verb = verb.lower()
            command = _find_command(self, verb)
            if command is None:
                self.error(f"unknown command {verb!r}; type 'help' for the list of commands")
                return
            if self.player is None and verb not in _ANONYMOUS:
                self.error("log in first: type 'login NAME' or 'register NAME'")
                return
            result = command(rest.strip())
            if result is not None:  # a Deferred: the command finishes later
                result.addErrback(self._failed)
        except BlackjackError as e:
            self.error(str(e))
        except Exception:
            # A bug in one command must not drop the connection (Twisted would)
            # or leave the player without an answer.
            _log.failure("command {text!r} failed", text=text[:80])
            self.error("something went wrong on the server; please try again")

    def _failed(self, failure: Failure) -> None:
        if failure.check(BlackjackError):
            self.error(str(failure.value))
            return
        _log.failure("command failed", failure)
        self.error("something went wrong on the server; please try again")

    def _ask(self, prompt: str, answer: Callable[[str], None], secret: bool = True) -> None:
        if secret:
            # A program reading JSON ends lines as it likes; only a client
            # that negotiated is sent telnet bytes then.
            self.hideInput(guess=not self.json_mode)
        self._answer = answer
        if self.json_mode:
            self.send_event({"event": "prompt_password", "prompt": prompt})
        else:
            self.sendPrompt(prompt + " ")

    def _peer(self) -> str:
        address: IAddress = self.transport.getPeer()
        return str(getattr(address, "host", address))

    def _me(self) -> Player:
        assert self.player is not None
        return self.player

    def _table(self) -> Table:
        table = self._me().table
        if table is None:
            raise CommandError("you are not at a table; type 'tables', then 'join TABLE'")
        return table

    # -- accounts ---------------------------------------------------------------

    def cmd_register(self, args: str) -> Deferred[None] | None:
        """register NAME [PASSWORD] - make an account (asks for the password if not given)."""
        name, _, password = args.partition(" ")
        self._check_login_allowed(name, "register")
        if password:
            return self._enter(self.accounts.register, name, password.strip())

        def confirm(first: str) -> None:
            def check(second: str) -> None:
                if first != second:
                    self.error("the passwords differ; type 'register NAME' to try again")
                    return
                self._run(self._enter(self.accounts.register, name, first))
            self._ask("Repeat the password:", check)
        self._ask("Choose a password:", confirm)
        return None

    def cmd_login(self, args: str) -> Deferred[None] | None:
        """login NAME [PASSWORD] - log in (asks for the password if not given)."""
        name, _, password = args.partition(" ")
        self._check_login_allowed(name, "login")
        if password:
            return self._enter(self.accounts.login, name, password.strip())
        self._ask("Password:", lambda pw: self._run(self._enter(self.accounts.login, name, pw)))
        return None

    def _check_login_allowed(self, name: str, verb: str) -> None:
        if self.player is not None:
            raise CommandError(f"you are logged in as {self.player.name}; "
                               "quit and connect again to change accounts")
        if self._busy:
            raise CommandError("one moment: still checking your last login")
        if not name:
            raise CommandError(f"usage: {verb} NAME [PASSWORD]")

    def _run(self, d: Deferred[Any] | None) -> None:
        if d is not None:
            d.addErrback(self._failed)

    def _enter(self, how: Callable[[str, str, str], Deferred[Any]], name: str,
               password: str) -> Deferred[None]:
        self._busy = True
        d = how(name, password, self._peer())

        def entered(account: Any) -> None:
            self._busy = False
            if not self.connected:
                return
            self.player = self.lobby.attach(account, self)
            table = self.player.table
            self.send_event({"event": "login", "name": account.name,
                             "balance": account.balance,
                             "resumed": table.name if table is not None else None})

        def failed(failure: Failure) -> Failure:
            self._busy = False
            return failure
        return d.addCallbacks(entered, failed)

    def cmd_balance(self, args: str) -> Deferred[None]:
        """balance - show your chips."""
        return self.storage.balance(self._me().account_id).addCallback(
            lambda n: self.send_event({"event": "balance", "balance": n}))

    def cmd_history(self, args: str) -> Deferred[None]:
        """history [N] - your last N hands (default 10)."""
        limit = int(args) if _digits(args) and 0 < int(args) <= 50 else 10

        def show(records: list[Any]) -> None:
            hands = []
            for r in records:
                details = r.details or {}
                outcome = details.get("outcome", {})
                hands.append({"round": r.round_id, "table": details.get("table", "?"),
                              "staked": r.staked, "payout": r.payout, "net": r.net,
                              "when": r.created,
                              "summary": _summary(outcome, details.get("players", {}),
                                                  self._me().name)})
            self.send_event({"event": "history", "hands": hands})
        return self.storage.history(self._me().account_id, limit).addCallback(show)

    # -- lobby ------------------------------------------------------------------

    def cmd_tables(self, args: str) -> None:
        """tables - list the tables, their rules, bets and seats."""
        self.send_event(self.lobby.tables_event())

    def cmd_who(self, args: str) -> None:
        """who - who is online, and where."""
        self.send_event(self.lobby.who_event())

    def cmd_join(self, args: str) -> None:
        """join TABLE [SEAT] - sit down (the lowest free seat unless you name one)."""
        parts = args.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and not _digits(parts[1])):
            raise CommandError("usage: join TABLE [SEAT], e.g. join main or join main 3")
        table = self.lobby.table(parts[0])
        table.sit(self._me(), int(parts[1]) if len(parts) == 2 else None)

    def cmd_watch(self, args: str) -> None:
        """watch TABLE - watch a table without playing."""
        if not args:
            raise CommandError("usage: watch TABLE, e.g. watch main")
        self.lobby.table(args).watch(self._me())

    def cmd_leave(self, args: str) -> Deferred[None]:
        """leave - stand up (a hand in play stands), or stop watching."""
        return self._table().leave(self._me())

    def cmd_look(self, args: str) -> None:
        """look - show the table you are at."""
        self.send_event(self._table().snapshot())

    def cmd_say(self, args: str) -> None:
        """say TEXT - talk to everyone at your table."""
        if not args:
            raise CommandError("usage: say TEXT, e.g. say good luck")
        table = self._table()
        if self._chat is not None:
            verdict = self._chat.check()
            if verdict is Verdict.WARN:
                raise CommandError(f"slow down: at most {self.limits.chat_rate:g} chat "
                                   "lines a second; faster ones are not sent")
            if verdict is not Verdict.ACCEPT:
                return
        table.say(self._me(), args[:300])

    # -- play -------------------------------------------------------------------

    def cmd_bet(self, args: str) -> Deferred[None]:
        """bet N - bet N chips in the betting window."""
        amount = parse_bet(args)
        return self._table().bet(self._me(), amount)

    def _play(self, action: Action) -> Deferred[None]:
        return self._table().act(self._me(), action)

    def cmd_hit(self, args: str) -> Deferred[None]:
        """hit (h) - take a card."""
        return self._play(Action.HIT)

    def cmd_stand(self, args: str) -> Deferred[None]:
        """stand (s) - take no more cards."""
        return self._play(Action.STAND)

    def cmd_double(self, args: str) -> Deferred[None]:
        """double (d) - double your bet, take one card and stand."""
        return self._play(Action.DOUBLE)

    def cmd_split(self, args: str) -> Deferred[None]:
        """split (p) - split a pair into two hands (stakes another bet)."""
        return self._play(Action.SPLIT)

    def cmd_surrender(self, args: str) -> Deferred[None]:
        """surrender (r) - give up half your bet (first decision only, where allowed)."""
        return self._play(Action.SURRENDER)

    def cmd_insurance(self, args: str) -> Deferred[None]:
        """insurance (i, y) - insure against a dealer blackjack for half your bet."""
        return self._play(Action.INSURANCE)

    def cmd_even(self, args: str) -> Deferred[None]:
        """even - with a blackjack under a dealer ace, take 1:1 now."""
        return self._play(Action.EVEN_MONEY)

    def cmd_no(self, args: str) -> Deferred[None]:
        """no (n) - decline insurance or even money."""
        return self._play(Action.NO_INSURANCE)

    def cmd_hint(self, args: str) -> None:
        """hint - the basic-strategy play for your hand, and what each choice is worth."""
        table, player = self._table(), self._me()
        rnd = table.round
        turn = rnd.turn if rnd is not None else None
        if rnd is None or turn is None or turn.seat != player.seat or rnd.dealer_upcard is None:
            raise CommandError("a hint needs your turn; wait for your move")
        legal = rnd.legal_actions(turn.seat)
        hand = rnd.hands(turn.seat)[turn.hand]
        action = advise(table.rules, hand, rnd.dealer_upcard, legal)
        values: dict[str, float] = {}
        if not action.is_insurance_decision:
            # Exact infinite-deck values of the choices open now (per chip of
            # this hand's bet), so a player learns why, not just what.
            exact = action_values(table.rules, hand, rnd.dealer_upcard,
                                  splits_done=len(rnd.hands(turn.seat)) - 1)
            values = {a.value: round(v, 4) for a, v in exact.items() if a in legal}
        self.send_event({"event": "hint", "action": action.value, "values": values})

    # -- this connection -----------------------------------------------------------

    def cmd_json(self, args: str) -> None:
        """json on|off - one JSON object per line instead of text, for programs."""
        self.json_mode = self._setting(args, "json")
        self.send_event({"event": "mode", "setting": "json", "on": self.json_mode})

    def cmd_ascii(self, args: str) -> None:
        """ascii on|off - show suits as letters (10S) instead of symbols (10♠)."""
        self.unicode = not self._setting(args, "ascii")
        self.send_event({"event": "mode", "setting": "ascii", "on": not self.unicode})

    @staticmethod
    def _setting(args: str, name: str) -> bool:
        value = _SETTINGS.get(args.lower())
        if value is None:
            raise CommandError(f"usage: {name} on, or {name} off")
        return value

    def cmd_help(self, args: str) -> None:
        """help [COMMAND] - list the commands, or explain one."""
        verb = args.split()[0].lower() if args else ""
        protocol: type = type(self)
        lines = _help_text(protocol, verb)
        if lines is None:
            raise CommandError(f"no command {args!r}; type 'help' for the list")
        self.send_event({"event": "help", "lines": lines})

    def cmd_quit(self, args: str) -> None:
        """quit - leave the card room (a seat in play is held for a while)."""
        self.close("Goodbye!")


def _find_command(owner: object, verb: str) -> Callable[..., Any] | None:
    """``owner.cmd_<verb>``, or the command for an action word or alias (``h``, ``dd``)."""
    method = getattr(owner, "cmd_" + verb, None)
    if method is not None:
        return method  # type: ignore[no-any-return]
    try:
        action = Action.parse(verb)
    except BlackjackError:
        return None
    return getattr(owner, "cmd_" + action.value.replace(" ", "_"), None)


@functools.lru_cache(maxsize=256)
def _help_text(protocol: type, verb: str) -> tuple[str, ...] | None:
    """The help lines for one command (``""``: the list of all), from the docstrings.

    Worked out once per command: the text is fixed, and help is asked for
    often.  ``None`` for a word that is not a command.
    """
    if not verb:
        return ("Commands (aliases in brackets):",) + tuple(
            "  " + (getattr(protocol, name).__doc__ or name).strip().splitlines()[0]
            for name in sorted(dir(protocol)) if name.startswith("cmd_"))
    command = _find_command(protocol, verb)
    if command is None or not command.__doc__:
        return None
    return tuple(line.strip() for line in command.__doc__.strip().splitlines())


def _summary(outcome: dict[str, Any], players: dict[str, str], me: str) -> str:
    """One line describing my hands in a recorded round."""
    seats = {int(s) for s, n in players.items() if n == me}
    parts = [f"{' '.join(h['cards'])} {h['result']}"
             for h in outcome.get("hands", ()) if h.get("seat") in seats]
    dealer = " ".join(outcome.get("dealer", ()))
    return "; ".join(parts) + (f" vs dealer {dealer}" if dealer else "")


class _Refusal(Protocol):
    """Says why a connection is refused, then closes it.

    ``buildProtocol`` returning ``None`` would close the socket with no word
    of explanation; this is what ``LimitTotalConnectionsFactory`` does instead.
    """

    transport: Any  # set by makeConnection before connectionMade

    def __init__(self, message: str) -> None:
        self.message = message

    def connectionMade(self) -> None:
        self.transport.write(self.message.encode("utf-8") + b"\r\n")
        self.transport.loseConnection()


class _CountedWire(TelnetWire):
    """A :class:`TelnetWire` that gives its place back to the factory when it closes."""

    factory: BlackjackFactory
    host: str | None = None

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        try:
            super().connectionLost(reason)
        finally:
            self.factory.connections.release(self.host)


class BlackjackFactory(ServerFactory):
    """Builds telnet-wrapped :class:`BlackjackProtocol` connections, within the caps.

    ``clock`` (an ``IReactorTime``; the global reactor if ``None``) runs the
    rate meters and idle timers.  ``twisted.protocols.policies``'
    ``LimitConnectionsByPeer`` is not used: on current Twisted it indexes
    the address (``addr[0]``) and fails on every ``IPv4Address``.
    """

    def __init__(self, lobby: Lobby, accounts: Any, storage: IStorage,
                 limits: Limits = Limits(), clock: Any = None) -> None:
        self.lobby = lobby
        self.accounts = accounts
        self.storage = storage
        self.limits = limits
        self.clock = clock
        self.connections = ConnectionCounter(limits.max_connections, limits.max_per_ip)
        self.clients: set[BlackjackProtocol] = set()
        self._all_gone: list[Deferred[None]] = []

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        """A telnet transport around a fresh protocol, or a refusal over the caps."""
        host = getattr(addr, "host", None)
        refusal = self.connections.admit(host)
        if refusal is not None:
            return _Refusal(refusal)
        wire = _CountedWire(BlackjackProtocol, self.lobby, self.accounts, self.storage)
        wire.factory = self
        wire.host = host
        return wire

    def client_gone(self, client: BlackjackProtocol) -> None:
        """Forget a closed connection; wake :meth:`all_gone` waiters on the last."""
        self.clients.discard(client)
        if not self.clients:
            waiters, self._all_gone = self._all_gone, []
            for d in waiters:
                d.callback(None)

    def all_gone(self) -> Deferred[None]:
        """Fire when no connection is left."""
        if not self.clients:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._all_gone.append(d)
        return d
