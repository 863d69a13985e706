"""One client's conversation, as every front end holds it: lines in, replies and events out.

A front end frames its input into lines (telnet) or messages (WebSocket) and
hands each to :meth:`Conversation.received`; it offers its transport through
the small :class:`Link` interface.  Everything between is here and shared:

* **Modes.** A connection starts in *text* mode, for people: commands are
  typed words, events are rendered as text.  ``json on`` switches to the older
  JSON mode (text commands, events as JSON).  A ``hello`` request switches to
  *protocol v1* (``docs/protocol.md``): requests are JSON objects, each
  answered by one reply carrying its ``id``.
* **Order.** Every request runs through the
  :class:`~blackjack.server.core.session.Session`, one after another, and is
  answered when it has finished; a front end's own commands (``help``,
  ``quit``, ``hello``, ``json``) take their place in the same line.
* **Limits that depend on the session**: the chat rate and the idle timeout.
* **What is counted and logged** of a connection: each command's latency
  (from its arrival to its answer, its wait in line included), the limits
  it trips, and why it ended (``disconnect`` and ``logout`` in the log).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from blackjack import __version__
from blackjack.server import logevents
from blackjack.server.core import events
from blackjack.server.core.accounts import Accounts
from blackjack.server.core.admin import Admin
from blackjack.server.core.commands import PROTOCOL_VERSIONS
from blackjack.server.core.events import Event
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.player import ISeatClient
from blackjack.server.core.session import Session, help_lines
from blackjack.server.errors import CommandError, ServerError, code_of
from blackjack.server.frontends.encoding import decode, encode_event, reply_error, reply_ok
from blackjack.server.frontends.limits import CommandLimiter, Limits, Verdict
from blackjack.server.frontends.render import text_lines
from blackjack.server.meter import Meter
from blackjack.server.frontends.requests import (
    MISSING_PASSWORD,
    NOT_A_REQUEST,
    Request,
    parse_request,
    parse_text,
    read_message,
    request_id,
)
from blackjack.server.storage import IStorage

__all__ = ["Conversation", "Link", "Mode", "SERVER_NAME"]

SERVER_NAME = "the Twisted Blackjack Room"
_log = Logger()

_HELP: dict[tuple[str | None, str, bool], Event] = {}
"""``help`` answers already made, by the words asked, where and whether for an admin."""
_MOST_HELP = 512
"""Kept answers before the cache starts again (a client may ask for any words)."""


class Mode(enum.Enum):
    """How a connection talks."""

    TEXT = "text"
    """Typed commands in, text for people out."""
    JSON = "json"
    """The older JSON mode: typed commands in, events as JSON out, no replies."""
    V1 = "v1"
    """Protocol v1: JSON requests in, replies with ids and events as JSON out."""


_TEXT_MODE, _V1_MODE = Mode.TEXT, Mode.V1
"""The modes as globals: on Python 3.11 reading a member from its enum class costs
about as much as a Python call, and every line and event asks for the mode."""


class Link(Protocol):
    """What a front end's transport offers a conversation."""

    frontend: str
    """The front end's name, for logs and metrics: ``telnet`` or ``web``."""

    def send_message(self, message: bytes) -> None:
        """Send one JSON message (a telnet line, a WebSocket text frame)."""

    def send_line(self, line: str) -> None:
        """Send one line of text for a person."""

    def send_prompt(self, text: str) -> None:
        """Ask a person something to answer on the same line."""

    def hide_input(self) -> None:
        """Ask the client not to echo what is typed next (a password)."""

    def show_input(self) -> None:
        """Undo :meth:`hide_input`."""

    def hang_up(self) -> None:
        """Close once what is queued is sent."""

    def peer(self) -> str:
        """The client's address, for throttles and logs."""


class _Services(Protocol):
    lobby: Lobby
    accounts: Accounts
    storage: IStorage
    limits: Limits
    clock: IReactorTime
    admin: Admin | None
    meter: Meter


@implementer(ISeatClient)
class Conversation:
    """The card room as one client sees it, over any front end."""

    def __init__(self, link: Link, services: _Services) -> None:
        self.link = link
        self.limits = services.limits
        self.clock = services.clock
        self.meter = services.meter
        # A meter that counts nothing (no --metrics) is not called per command,
        # nor the clock read for it: on the command path both cost as much as
        # a command's parsing.
        self._times_commands = self.meter.times_commands
        self.session = Session(services.lobby, services.accounts, services.storage, self,
                               link.peer(), services.admin)
        self.mode = Mode.TEXT
        self.unicode = True
        self._answer: Callable[[str], None] | None = None
        self._chat = (CommandLimiter(self.limits.chat_rate, self.limits.chat_burst,
                                     self.clock.seconds, flood=False)
                      if self.limits.chat_rate else None)
        self._idle_call: IDelayedCall | None = None
        # The shortest timeout that is on, for looking again wherever the
        # player is (in the lobby or at a table, each with its own).
        self._idle_every = min((t for t in (self.limits.idle_timeout,
                                            *(table.timers.idle
                                              for table in services.lobby.tables.values()))
                                if t), default=0.0)
        self._active_at = self.clock.seconds()
        self._gone = False
        self._why = "client"
        """Why the connection ends, once known: the client's doing unless we close it."""

    # -- the connection's life ---------------------------------------------------------

    def start(self, greet: bool = True) -> None:
        """The connection is open: start the idle timer, and greet a person."""
        if self._idle_every:
            self._idle_call = self.clock.callLater(self._idle_every, self._idle_check)
        if greet:
            self.send_event(events.WELCOME(server=SERVER_NAME, protocol=PROTOCOL_VERSIONS[-1]))

    def lost(self) -> None:
        """The connection has gone: stop the timer, leave the seat held, log why."""
        self._gone = True
        if self._idle_call is not None and self._idle_call.active():
            self._idle_call.cancel()
        self._idle_call = None
        player = self.session.player
        logevents.DISCONNECT(_log, peer=self.session.peer, frontend=self.link.frontend,
                             name=player.name if player is not None else "", why=self._why)
        self.session.closed(self._why)

    def limit_tripped(self, limit: str, closes: bool) -> None:
        """A limit acted on this connection: count it, and log it once a run.

        ``closes``: the connection is being closed for it (why it ends, then).
        """
        self.meter.limit_tripped(limit, closes)
        if closes:
            self._why = limit
        player = self.session.player
        logevents.LIMIT_TRIPPED(_log, peer=self.session.peer, limit=limit,
                                action="closed" if closes else "dropped",
                                name=player.name if player is not None else "")

    def _idle_check(self) -> None:
        """The idle timer: close a silent connection, or look again when it could be.

        Each line only notes the time (cheap: lines are the hot path); the
        timer, when it fires, works out whether the connection has really been
        silent for the whole timeout where the player is now: the lobby's
        ``--idle-timeout``, or the table's longer ``--table-idle-timeout``.
        """
        self._idle_call = None
        player = self.session.player
        table = player.table if player is not None else None
        timeout = table.timers.idle if table is not None else self.limits.idle_timeout
        left = self._active_at + timeout - self.clock.seconds() if timeout else self._idle_every
        if left > 0:
            self._idle_call = self.clock.callLater(left, self._idle_check)
            return
        self.limit_tripped("idle", True)
        if table is None or player is None:
            what = "not logged in" if player is None else "idle in the lobby"
            self.close(f"{what.capitalize()} for {timeout:g} seconds; goodbye.", "idle")
            return
        # Stood up first, through the table's queue, so a hand in play stands
        # and settles exactly as on 'leave'; then the goodbye.
        message = (f"Idle at table {table.name} for {timeout:g} seconds: you are stood "
                   "up (a hand in play stands and is paid as usual); goodbye.")
        table.leave(player, "idle").addErrback(self._log_leave_failure).addBoth(
            lambda _: self.close(message, "idle"))

    @staticmethod
    def _log_leave_failure(failure: Failure) -> None:
        if not failure.check(ServerError):
            _log.failure("standing up an idle player failed", failure)

    # -- ISeatClient --------------------------------------------------------------------

    def send_event(self, event: Event) -> None:
        """Send one event: rendered for a person, or as JSON for a program."""
        if self.mode is _TEXT_MODE:
            player = self.session.player
            for line in text_lines(event, player.name if player else None, self.unicode):
                self.link.send_line(line)
        else:
            self.link.send_message(encode_event(event))

    def close(self, message: str, why: str = "server") -> None:
        """Say why (``message``, for the client; ``why``, a word for the log), then hang up."""
        if self._why == "client":
            self._why = why
        self.send_event(events.BYE(message=message))
        self.link.hang_up()

    # -- input --------------------------------------------------------------------------

    def received(self, text: str) -> None:
        """One clean line from the client: a prompt's answer, a v1 request or a command.

        No exception gets past here: a bug in one command must not drop the
        connection (Twisted would) or leave the client without an answer.
        Every line passes through here, so the dispatch is written out in
        one place rather than a method a step.
        """
        self._active_at = self.clock.seconds()
        # What a failure logs of the line: its first word, unless it answers a
        # prompt (a password), of which nothing is logged.
        answering = self._answer is not None
        try:
            if answering:
                self._answer_prompt(text)
            elif text[:1] == "{":
                self._request(text)
            elif self.mode is _V1_MODE:
                self._refuse(None, CommandError(
                    "in protocol v1 every request is one JSON object on one line"), reply=True)
            else:
                try:
                    request = parse_text(text)
                except CommandError as error:
                    self._refuse(None, error)
                else:
                    self._run(request)
        except Exception:
            _log.failure("input {verb!r} failed",
                         verb="(an answer to a prompt)" if answering else text.split(" ")[0][:20])
            self._refuse(None, ServerError("something went wrong on the server; "
                                           "please try again"), reply=self.mode is Mode.V1)

    def _answer_prompt(self, text: str) -> None:
        assert self._answer is not None
        answer, self._answer = self._answer, None
        try:
            answer(text)
        finally:
            if self._answer is None:
                # Not before: a WONT ECHO between "Choose a password"
                # and "Repeat the password" would echo the second.
                self.link.show_input()

    def over_rate(self, line: bytes | str, first: bool) -> None:
        """A line was dropped for going over the command rate; ``first`` of a run or not.

        A person hears "slow down" once a run; a protocol v1 request is
        answered, every one, with ``rate_limited`` and its own id.
        """
        rid: Any = None
        is_request = line[:1] in (b"{", "{")
        if first:
            self.limit_tripped("rate", False)
        else:
            self.meter.limit_tripped("rate", False)
        if is_request:
            try:
                rid = request_id(read_message(line))
            except CommandError:
                pass
        elif not first:
            return
        self._refuse(rid, ServerError(
            f"slow down: at most {self.limits.rate:g} commands a second; "
            "commands sent faster are not run", code="rate_limited"),
            reply=is_request or self.mode is Mode.V1)

    def refuse_line(self, message: str) -> None:
        """A line the front end could not take (too long, say): tell the client why."""
        self._refuse(None, CommandError(message), reply=self.mode is Mode.V1)

    def _request(self, line: str) -> None:
        try:
            message = decode(line)
        except ValueError:
            message = None
        if type(message) is not dict:  # read_message's test, without its call
            self._refuse(None, CommandError(NOT_A_REQUEST), reply=True)
            return
        if self.mode is not _V1_MODE and message.get("cmd") != "hello":
            self._refuse(request_id(message), ServerError(
                'say hello first: {"id": 1, "cmd": "hello", "protocol": 1}',
                code="hello_required"), reply=True)
            return
        try:
            request = parse_request(message)
        except CommandError as error:
            self._refuse(request_id(message), error, reply=True)
            return
        self._run(request)

    def _run(self, request: Request) -> None:
        """Run a request in its turn, then answer it."""
        command = request.command
        name = command.name
        if name == "say" and self._chat is not None and not self._chat_allows(request):
            return
        params = request.params
        if name in _ASKS_PASSWORD and params.get("password") is MISSING_PASSWORD:
            self._ask_password(request)
            return
        own = _OWN.get(name)
        started = self._active_at  # the line's arrival (this turn)
        # The session's fast path: a command that finishes at once, with
        # nothing ahead of it, is answered now, without a Deferred (most are).
        try:
            done = (self.session.then_call(own, self, **params) if own is not None
                    else self.session.call(command, params))
        except Exception:
            self._answer_failed(Failure(), request, started)
            return
        if done is None or type(done) is Event or not isinstance(done, Deferred):
            self._answer_ok(done, request, started)
        else:
            done.addCallbacks(self._answer_ok, self._answer_failed,
                              callbackArgs=(request, started), errbackArgs=(request, started))

    def _chat_allows(self, request: Request) -> bool:
        """Count a chat line against the chat rate; over it, say so (or not) and refuse."""
        assert self._chat is not None
        verdict = self._chat.check()
        if verdict is Verdict.ACCEPT:
            return True
        if verdict is Verdict.WARN:
            self.limit_tripped("chat_rate", False)
        else:
            self.meter.limit_tripped("chat_rate", False)
        # People hear it once a run; a program's every request is answered.
        if verdict is Verdict.WARN or request.json:
            self._refuse(request.id, ServerError(
                f"slow down: at most {self.limits.chat_rate:g} chat lines a second; "
                "faster ones are not sent", code="rate_limited"), reply=request.json)
        return False

    def _answer_ok(self, result: Event | None, request: Request, started: float) -> None:
        name = request.command.name
        if self._times_commands:
            self.meter.command_done(name, self.clock.seconds() - started)
        if self._gone:
            return
        if request.json:
            self.link.send_message(reply_ok(request.id, result))
        elif result is not None:
            self.send_event(result)
        if name == "quit":
            self.close("Goodbye!", "quit")

    def _answer_failed(self, failure: Failure, request: Request, started: float) -> None:
        if self._times_commands:
            self.meter.command_done(request.command.name, self.clock.seconds() - started)
        error = failure.value
        if not isinstance(error, ServerError) and code_of(error) == "server_error":
            _log.failure("command {name} failed", failure, name=request.command.name)
            error = ServerError("something went wrong on the server; please try again")
        if not self._gone:
            self._refuse(request.id, error, reply=request.json)

    def _refuse(self, rid: Any, error: BaseException, reply: bool = False) -> None:
        """Tell the client a request was refused: a v1 reply, or an ``error`` event."""
        code, message = code_of(error), str(error)
        if reply:
            self.link.send_message(reply_error(rid, code, message))
        else:
            self.send_event(events.ERROR(code=code, message=message))

    def _ask_password(self, request: Request) -> None:
        """Text mode: ask for the password a person did not type on the command line."""
        params = dict(request.params)

        def run(password: str) -> None:
            self._run(Request(request.command, {**params, "password": password}))

        if request.command.name != "register":
            self._ask("Password:", run)
            return

        def confirm(first: str) -> None:
            def check(second: str) -> None:
                if first != second:
                    self._refuse(None, CommandError(
                        "the passwords differ; type 'register NAME' to try again"))
                    return
                run(first)
            self._ask("Repeat the password:", check)
        self._ask("Choose a password:", confirm)

    def _ask(self, prompt: str, answer: Callable[[str], None]) -> None:
        self.link.hide_input()
        self._answer = answer
        if self.mode is Mode.TEXT:
            self.link.send_prompt(prompt + " ")
        else:
            self.send_event(events.PROMPT_PASSWORD(prompt=prompt))

    # -- the front end's own commands ------------------------------------------------------

    def _own_hello(self, protocol: int) -> Event:
        if protocol not in PROTOCOL_VERSIONS:
            raise ServerError(f"protocol {protocol} is not spoken here; versions: "
                              + ", ".join(map(str, PROTOCOL_VERSIONS)),
                              code="unsupported_protocol")
        self.mode = Mode.V1
        return events.HELLO(protocol=protocol, server=SERVER_NAME, version=__version__)

    def _own_help(self, command: str | None = None) -> Event:
        player = self.session.player
        key = (command, "v1" if self.mode is _V1_MODE else "text",
               player is not None and player.admin)
        event = _HELP.get(key)
        if event is None:
            # The same few words are asked for over and over: one event each,
            # encoded once (events are shared and never changed once made).
            event = events.HELP(lines=help_lines(*key))
            if len(_HELP) >= _MOST_HELP:
                _HELP.clear()
            _HELP[key] = event
        return event

    def _own_json(self, on: bool) -> Event:
        self.mode = Mode.JSON if on else Mode.TEXT
        return events.MODE(setting="json", on=on)

    def _own_ascii(self, on: bool) -> Event:
        self.unicode = not on
        return events.MODE(setting="ascii", on=on)

    def _own_quit(self) -> None:
        return None


_OWN: dict[str, Callable[..., Any]] = {
    name[len("_own_"):]: method for name, method in vars(Conversation).items()
    if name.startswith("_own_")}
"""The front end's own commands (``help``, ``quit``...) by name, each taking the
conversation first: one look-up a request instead of building a method name."""

_ASKS_PASSWORD = frozenset(("login", "register"))
"""The commands a person may type without the password, to be asked for it."""
