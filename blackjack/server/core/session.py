"""One client's session with the card room: its commands, run one after another.

A front end turns what a client sends into a :class:`~blackjack.server.core.commands.Command`
and its parameters and calls :meth:`Session.run`; the Deferred it gets fires
with the command's answer (an event from the catalogue, or ``None`` for a
command that acts) or fails with a :class:`~blackjack.server.errors.ServerError`.

Commands of one session run strictly in order: the next starts only when the
one before has finished, every event it caused included.  So a command sent
right after ``login`` waits for the login, and answers never overtake each
other.  Each command is a small ``cmd_<name>`` method; the session holds no
rule of the game (tables do) and knows nothing of bytes (front ends do).
A table may answer later (one run by another node of a room), so its
answers are taken through ``maybeDeferred``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed

from blackjack.server.core import events
from blackjack.server.core.accounts import Accounts
from blackjack.server.core.commands import ACTION_COMMANDS, COMMANDS, Command, find
from blackjack.server.core.events import Event
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.player import ISeatClient, Player
from blackjack.server.core.seating import ITable, ask
from blackjack.server.core.serial import SerialQueue
from blackjack.server.core.table import Hint
from blackjack.server.errors import CommandError, ServerBusyError, ServerError
from blackjack.server.storage import Account, HandRecord, IStorage

__all__ = ["Session", "help_lines", "hint_event"]


class Session:
    """What one connected client does in the card room, in the game's own terms."""

    MAX_WAITING = 64
    """Commands that may wait behind a slow one before more are refused."""

    def __init__(self, lobby: Lobby, accounts: Accounts, storage: IStorage,
                 client: ISeatClient, peer: str) -> None:
        self.lobby = lobby
        self.accounts = accounts
        self.storage = storage
        self.client = client
        self.peer = peer
        """The client's address, for throttles and logs."""
        self.player: Player | None = None
        self._token: str | None = None
        """The resume token this session was last given, if any."""
        self._queue = SerialQueue()
        self._closed = False

    def run(self, command: Command, params: Mapping[str, Any]) -> Deferred[Event | None]:
        """Run a command after those already waiting; fires with its answer."""
        if len(self._queue) >= self.MAX_WAITING:
            return fail(ServerBusyError(
                f"too many commands waiting (at most {self.MAX_WAITING}); send fewer at once"))
        return self._queue.run(self._execute, command, params)

    def then(self, f: Callable[..., Any], **params: Any) -> Deferred[Any]:
        """Run a front end's own command (``help``, ``quit``...) in its place in the order."""
        return self._queue.run(f, **params)

    def _execute(self, command: Command, params: Mapping[str, Any]) -> Any:
        if self._closed:
            return None
        if self.player is None and not command.anonymous:
            raise ServerError("log in first: type 'login NAME' or 'register NAME'",
                              code="login_required")
        action = ACTION_COMMANDS.get(command.name)
        if action is not None:
            return self._table().act(self._me(), action)
        method = getattr(self, "cmd_" + command.name, None)
        if method is None:
            raise CommandError(f"{command.name} is not a command of the card room")
        return method(**params)

    def closed(self) -> None:
        """The client has gone: later commands do nothing, and a held seat starts its grace."""
        self._closed = True
        if self._token is not None:
            self.accounts.tokens.release(self._token)
        if self.player is not None:
            self.lobby.detach(self.player, self.client)

    # -- helpers -------------------------------------------------------------------

    def _me(self) -> Player:
        assert self.player is not None, "commands that need a login are refused before"
        return self.player

    def _table(self) -> ITable:
        table = self._me().table
        if table is None:
            raise ServerError("you are not at a table; type 'tables', then 'join TABLE'",
                              code="not_at_table")
        return table

    # -- accounts ---------------------------------------------------------------------

    def cmd_register(self, name: str, password: str) -> Deferred[Event | None]:
        self._check_logged_out()
        return self.accounts.register(name, password, self.peer).addCallback(self.enter)

    def cmd_login(self, name: str, password: str) -> Deferred[Event | None]:
        self._check_logged_out()
        return self.accounts.login(name, password, self.peer).addCallback(self.enter)

    def cmd_resume(self, token: str) -> Deferred[Event | None]:
        self._check_logged_out()
        return self.accounts.resume(token).addCallback(self.enter)

    def cmd_token(self) -> Event:
        tokens = self.accounts.tokens
        if self._token is not None:
            tokens.revoke(self._token)  # one live token per connection
        self._token = tokens.issue(self._me().account_id)
        return events.TOKEN(token=self._token, seconds=round(tokens.lifetime))

    def _check_logged_out(self) -> None:
        if self.player is not None:
            raise ServerError(f"you are logged in as {self.player.name}; "
                              "quit and connect again to change accounts",
                              code="already_logged_in")

    def enter(self, account: Account) -> Deferred[Event | None]:
        """Log in as ``account`` (its password checked): the ``login`` answer."""
        if self._closed:
            return succeed(None)  # the client left while the password was checked
        return ask(self.lobby.arrive, account).addCallback(self._entered, account)

    def _entered(self, player: Player, account: Account) -> Deferred[Event | None] | None:
        if self._closed:
            return None  # the client left while the room looked the account up
        # Known as this player before the table greets them (a held seat's
        # snapshot and prompt), so "You" is said to the right person.
        self.player = player
        table, seat = player.table, player.seat
        answer = events.LOGIN(name=account.name, balance=account.balance,
                              resumed=seat is not None,
                              table=table.name if table is not None else None, seat=seat)
        # Answered once the table has greeted the player, wherever it runs.
        return ask(self.lobby.attach, player, self.client).addCallback(lambda _: answer)

    def cmd_balance(self) -> Deferred[Event]:
        return self.storage.balance(self._me().account_id).addCallback(
            lambda n: events.BALANCE(balance=n))

    def cmd_history(self, limit: int = 10) -> Deferred[Event]:
        me = self._me()
        return self.storage.history(me.account_id, limit).addCallback(
            lambda records: events.HISTORY(hands=[_history_entry(r, me.name)
                                                  for r in records]))

    # -- the lobby ----------------------------------------------------------------------

    def cmd_tables(self) -> Event | Deferred[Event]:
        return self.lobby.tables_event()

    def cmd_who(self) -> Event:
        return self.lobby.who_event()

    def cmd_join(self, table: str, seat: int | None = None) -> Deferred[None]:
        return ask(self.lobby.table(table).sit, self._me(), seat).addCallback(lambda _: None)

    def cmd_watch(self, table: str) -> None | Deferred[None]:
        return self.lobby.table(table).watch(self._me())

    def cmd_leave(self) -> Deferred[None]:
        return self._table().leave(self._me())

    def cmd_look(self) -> Event | Deferred[Event]:
        return self._table().snapshot()

    def cmd_say(self, text: str) -> None | Deferred[None]:
        return self._table().say(self._me(), text)

    # -- play ---------------------------------------------------------------------------

    def cmd_bet(self, amount: int) -> Deferred[None]:
        return self._table().bet(self._me(), amount)

    def cmd_hint(self) -> Deferred[Event]:
        return ask(self._table().hint, self._me()).addCallback(hint_event)


def help_lines(word: str | None = None, where: str = "text") -> list[str]:
    """The help text: every command a client can send (``where``: ``text`` or ``v1``),
    or one command in full."""
    if not word:
        return ["Commands (aliases in brackets):"] + [
            "  " + c.help for c in COMMANDS.values() if c.where in ("both", where)]
    command = find(word.split()[0])
    if command is None or command.where not in ("both", where):
        raise CommandError(f"no command {word!r}; type 'help' for the list")
    return [command.help]


def hint_event(hint: Hint) -> Event:
    """The ``hint`` answer for a hint."""
    return events.HINT(action=hint.action.value,
                       values={a.value: round(v, 4) for a, v in hint.values.items()},
                       model=hint.model)


def _history_entry(record: HandRecord, me: str) -> dict[str, Any]:
    """One settled round as the ``history`` event lists it: my hands and the dealer's."""
    details = record.details or {}
    outcome = details.get("outcome", {})
    players = details.get("players", {})
    mine = [{**h, "player": me} for h in outcome.get("hands", ())
            if players.get(str(h.get("seat"))) == me]
    return {"round": record.round_id, "table": details.get("table", "?"),
            "when": record.created, "staked": record.staked, "payout": record.payout,
            "net": record.net, "dealer": list(outcome.get("dealer", ())), "mine": mine}
