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
An admin command (``Command.admin``) runs only once
:meth:`~blackjack.server.core.admin.Admin.authorise` has read the account's
role again; anyone else gets ``admin_only``.
A table may answer later (one run by another node of a room), so its
answers are taken through ``maybeDeferred``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred, maybeDeferred, succeed
from twisted.logger import Logger

from blackjack.server import logevents
from blackjack.server.core import events
from blackjack.server.core.accounts import Accounts
from blackjack.server.core.admin import Admin
from blackjack.server.core.commands import ACTION_COMMANDS, COMMANDS, Command, find
from blackjack.server.core.events import Event
from blackjack.server.core.hands import hand_event, history_entry
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.player import ISeatClient, Player
from blackjack.server.core.seating import ITable, ask
from blackjack.server.core.serial import SerialQueue
from blackjack.server.core.coach import MODEL, Advice
from blackjack.server.errors import CommandError, ServerBusyError, ServerError
from blackjack.server.storage import Account, IStorage, PlayerStats
from blackjack.server.text import clean_chat

__all__ = ["Session", "help_lines", "hint_event"]

_log = Logger()


class Session:
    """What one connected client does in the card room, in the game's own terms."""

    MAX_WAITING = 64
    """Commands that may wait behind a slow one before more are refused."""

    def __init__(self, lobby: Lobby, accounts: Accounts, storage: IStorage,
                 client: ISeatClient, peer: str, admin: Admin | None = None) -> None:
        self.lobby = lobby
        self.accounts = accounts
        self.storage = storage
        self.client = client
        self.peer = peer
        """The client's address, for throttles and logs."""
        self.admin = admin if admin is not None else Admin(lobby, storage,
                                                           lambda: accounts.now())
        self.player: Player | None = None
        self._token: str | None = None
        """The resume token this session was last given, if any."""
        self._queue = SerialQueue()
        self._closed = False
        self.then_call: Callable[..., Any] = self._queue.call
        """Run a front end's own command (``help``, ``quit``...) in its place in the
        order: ``then_call(f, *args, **params)``, answered as :meth:`call` answers.
        The queue's own method, not a method that calls it: a front end's ``help``
        goes through it, and the extra call with its arguments packed again cost
        twice what the command does."""

    def run(self, command: Command, params: Mapping[str, Any]) -> Deferred[Event | None]:
        """Run a command after those already waiting; fires with its answer."""
        return maybeDeferred(self.call, command, params)

    def call(self, command: Command, params: Mapping[str, Any]) -> Any:
        """:meth:`run`'s fast twin: the plain answer of a command that finishes at once
        with nothing ahead of it (or its error, raised); else a Deferred, as from
        :meth:`run` (which is this, in a Deferred).  The order is the queue's
        (:meth:`SerialQueue.call <blackjack.server.core.serial.SerialQueue.call>`)."""
        if len(self._queue) >= self.MAX_WAITING:
            raise ServerBusyError(
                f"too many commands waiting (at most {self.MAX_WAITING}); send fewer at once")
        return self._queue.call(self._execute, command, params)

    def _execute(self, command: Command, params: Mapping[str, Any]) -> Any:
        if self._closed:
            return None
        if self.player is None and not command.anonymous:
            raise ServerError("log in first: type 'login NAME' or 'register NAME'",
                              code="login_required")
        action = ACTION_COMMANDS.get(command.name)
        if action is not None:
            return self._table().act_now(self._me(), action)
        method = getattr(self, "cmd_" + command.name, None)
        if method is None:
            raise CommandError(f"{command.name} is not a command of the card room")
        if command.admin:
            return self.admin.authorise(self._me(), command.name, self.peer).addCallback(
                lambda _: ensureDeferred(method(**params)))
        return method(**params)

    def closed(self, why: str = "client") -> None:
        """The client has gone (``why``, for the log): later commands do nothing, and a
        held seat starts its grace."""
        self._closed = True
        if self._token is not None:
            self.accounts.tokens.release(self._token)
        if self.player is not None:
            logevents.LOGOUT(_log, name=self.player.name, account_id=self.player.account_id,
                             peer=self.peer, why=why)
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
        return self.accounts.register(name, password, self.peer).addCallback(
            self.enter, "register")

    def cmd_login(self, name: str, password: str) -> Deferred[Event | None]:
        self._check_logged_out()
        return self.accounts.login(name, password, self.peer).addCallback(
            self.enter, "password")

    def cmd_resume(self, token: str) -> Deferred[Event | None]:
        self._check_logged_out()
        return self.accounts.resume(token, self.peer).addCallback(self.enter, "token")

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

    def enter(self, account: Account, how: str = "password") -> Deferred[Event | None]:
        """Log in as ``account`` (its password checked): the ``login`` answer."""
        if self._closed:
            return succeed(None)  # the client left while the password was checked
        return ask(self.lobby.arrive, account).addCallback(self._entered, account, how)

    def _entered(self, player: Player, account: Account,
                 how: str) -> Deferred[Event | None] | None:
        if self._closed:
            return None  # the client left while the room looked the account up
        # Known as this player before the table greets them (a held seat's
        # snapshot and prompt), so "You" is said to the right person.
        self.player = player
        player.admin, player.address = account.admin, self.peer
        if "mute" in account.sanctions:
            muted = account.sanctions["mute"]
            player.muted_until = float("inf") if muted is None else muted
        else:
            player.muted_until = 0.0
        logevents.LOGIN(_log, name=account.name, account_id=account.id, peer=self.peer,
                        how=how)
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
            lambda records: events.HISTORY(hands=[history_entry(r, me.name)
                                                  for r in records]))

    def cmd_hand(self, number: int) -> Deferred[Event]:
        return ensureDeferred(self._hand(number))

    async def _hand(self, id: int) -> Event:  # noqa: A002
        record = await self.storage.hand(self._me().account_id, id)
        if record is None:
            raise ServerError(f"you have no hand {id}; type 'history' for your hands' numbers",
                              code="no_such_hand")
        shoe = (record.details or {}).get("shoe")
        retired = None
        if shoe:
            found = await self.storage.shoe(shoe["shoe"])
            retired = found is not None and found.retired is not None
        return hand_event(record, retired)

    def cmd_stats(self) -> Deferred[Event]:
        return self.storage.stats(self._me().account_id).addCallback(_stats_event)

    def cmd_rebuy(self) -> Deferred[Event]:
        lowest = min((t.rules.min_bet for t in self.lobby.tables.values()), default=1)
        return self.accounts.rebuy(self._me().account_id, lowest).addCallback(
            lambda balance: events.BALANCE(balance=balance))

    def cmd_top(self) -> Deferred[Event]:
        return self.accounts.top()

    def cmd_shoe(self, shoe: str) -> Deferred[Event]:
        return ensureDeferred(self._shoe(shoe))

    async def _shoe(self, shoe: str) -> Event:
        found = await self.storage.shoe(shoe.strip())
        if found is None:
            raise ServerError(f"no shoe {shoe.strip()[:40]!r}; shoe ids are in 'hand' and at "
                              "the shuffle", code="no_such_shoe")
        return events.SHOE_RECORD(shoe=found.id, table=found.table,
                                  commitment=found.commitment, retired=found.retired,
                                  record=found.verification())

    # -- the lobby ----------------------------------------------------------------------

    def cmd_tables(self) -> Event | Deferred[Event]:
        return self.lobby.tables_event()

    def cmd_who(self) -> Event | Deferred[Event]:
        me = self.player
        if me is None or not me.admin:
            return self.lobby.who_event()
        # An admin sees addresses, once the role is read again (and the look recorded).
        return self.admin.authorise(me, "who", self.peer).addCallbacks(
            lambda _: ensureDeferred(self.admin.who(me)),
            lambda _: self.lobby.who_event())

    def cmd_join(self, table: str, seat: int | None = None) -> Deferred[None]:
        return ask(self.lobby.table(table).sit, self._me(), seat).addCallback(lambda _: None)

    def cmd_watch(self, table: str) -> None | Deferred[None]:
        return self.lobby.table(table).watch(self._me())

    def cmd_leave(self) -> Deferred[None]:
        return self._table().leave(self._me())

    def cmd_look(self) -> Event | Deferred[Event]:
        return self._table().snapshot()

    def cmd_say(self, text: str) -> None | Deferred[None]:
        table = self._table()
        self.admin.check_chat(self._me())
        return table.say(self._me(), text)

    # -- play ---------------------------------------------------------------------------

    def cmd_bet(self, amount: int) -> Deferred[None]:
        return self._table().bet(self._me(), amount)

    def cmd_hint(self) -> Deferred[Event]:
        return ask(self._table().hint, self._me()).addCallback(hint_event)

    def cmd_trainer(self, on: bool) -> Event:
        self._me().trainer = on
        return events.MODE(setting="trainer", on=on)

    def cmd_seed(self, seed: str | None = None) -> Event | Deferred[Event]:
        me = self._me()
        if seed is not None:
            cleaned = clean_chat(seed)[:64]
            if not cleaned:
                raise CommandError("a seed needs some visible text, e.g. seed my lucky day")
            me.seed = cleaned
        table = me.table
        if table is None:
            return events.SEED(seed=me.seed, next=None)
        return ask(table.next_shoe, me).addCallback(
            lambda found: events.SEED(seed=me.seed, next=found))


    # -- admins' (each authorised by _execute first) -----------------------------------

    async def cmd_announce(self, text: str) -> Event:
        return await self.admin.announce(self._me(), text)

    async def cmd_kick(self, name: str, reason: str = "") -> Event:
        return await self.admin.kick(self._me(), name, reason)

    async def cmd_ban(self, name: str, seconds: int | None = None, reason: str = "") -> Event:
        return await self.admin.ban(self._me(), name, seconds, reason)

    async def cmd_unban(self, name: str) -> Event:
        return await self.admin.unban(self._me(), name)

    async def cmd_mute(self, name: str, seconds: int | None = None, reason: str = "") -> Event:
        return await self.admin.mute(self._me(), name, seconds, reason)

    async def cmd_unmute(self, name: str) -> Event:
        return await self.admin.unmute(self._me(), name)

    async def cmd_grant(self, name: str, amount: int, reason: str) -> Event:
        return await self.admin.grant(self._me(), name, amount, reason)

    async def cmd_table_add(self, table: str, rules: str) -> Event:
        return await self.admin.add_table(self._me(), table, rules)

    async def cmd_table_close(self, table: str) -> Event:
        return await self.admin.close_table(self._me(), table)


def help_lines(word: str | None = None, where: str = "text", admin: bool = False) -> list[str]:
    """The help text: every command a client can send (``where``: ``text`` or ``v1``),
    or one command in full; the admin commands only for an admin."""
    places = ("both", where)
    if not word:
        lines = ["Commands (aliases in brackets):"] + [
            "  " + c.help for c in COMMANDS.values() if c.where in places and not c.admin]
        if admin:
            lines += ["Admin commands (each one goes in the audit trail):"] + [
                "  " + c.help for c in COMMANDS.values() if c.where in places and c.admin]
        return lines
    words = word.split()
    command = find(words[0])
    if command is not None and command.name == "tables" and len(words) > 1:
        command = find("table_" + words[1])  # help tables add
    if command is None or command.where not in places or (command.admin and not admin):
        raise CommandError(f"no command {word!r}; type 'help' for the list")
    return [command.help]


def hint_event(hint: Advice) -> Event:
    """The ``hint`` answer for a table's advice."""
    return events.HINT(action=hint.best.value, values=hint.rounded(), model=hint.model)


def _stats_event(stats: PlayerStats) -> Event:
    return events.STATS(rounds=stats.rounds, hands=stats.hands, wins=stats.wins,
                        losses=stats.losses, pushes=stats.pushes, blackjacks=stats.blackjacks,
                        net=stats.net, biggest_win=stats.biggest_win,
                        decisions=stats.decisions, matched=stats.matched,
                        cost=round(stats.cost, 2), model=MODEL)
