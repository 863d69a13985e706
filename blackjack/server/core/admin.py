"""The host's powers in the game: what an admin may do, each act checked, done and recorded.

An admin is an account the host made one on the command line
(``python -m blackjack.server.admin --db DB grant NAME``); nothing said over
the wire can make one.  :class:`Admin` carries out the admin commands the
session hands it: before each, it reads the account's role again (a role
the host takes back stops the next command, not the next login); then it
acts, writes the act to the database's audit trail
(:class:`~blackjack.server.storage.AdminAct`, in the same transaction when
the act itself is a write) and logs it (:data:`~blackjack.server.logevents.ADMIN_ACT`).

Sanctions live in the database, so they outlast a restart: a ban refuses
the account's logins (:mod:`.accounts` checks it) and a mute its chat
(:meth:`Admin.check_chat`); each runs until a time or until lifted.

What an act does to a player's connection (remove it, mute it, tell it
something) is done by :meth:`Admin.touch` on the server the player is
connected to: here, or, in a room of several servers, another node, which
the lobby reaches (:meth:`~blackjack.server.core.lobby.Lobby.reach`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger

from blackjack.errors import RulesError
from blackjack.rules import Rules
from blackjack.server import logevents
from blackjack.server.core import events
from blackjack.server.core.events import Event
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.player import Player
from blackjack.server.errors import (
    AdminOnlyError,
    CommandError,
    InsufficientFundsError,
    LobbyError,
    ServerError,
    TableError,
)
from blackjack.server.meter import NULL_METER, Meter
from blackjack.server.storage import Account, AdminAct, IStorage
from blackjack.server.text import TABLE_NAME, clean_chat

__all__ = ["Admin", "describe_until"]

_log = Logger()


def describe_until(until: float | None, now: float) -> str:
    """When a sanction ends, for people: ``until lifted`` or ``for 2h 5m more``."""
    if until is None or math.isinf(until):
        return "until an admin lifts it"
    left = max(0, round(until - now))
    parts = [(left // 86400, "d"), (left % 86400 // 3600, "h"), (left % 3600 // 60, "m"),
             (left % 60, "s")]
    shown = " ".join([f"{n}{unit}" for n, unit in parts if n][:2])  # "2d 3h", "5m 10s"
    return f"for {shown or '0s'} more"


class Admin:
    """The admin commands, for one card room."""

    def __init__(self, lobby: Lobby, storage: IStorage, now: Callable[[], float],
                 meter: Meter = NULL_METER) -> None:
        self.lobby = lobby
        self.storage = storage
        self.now = now
        self.meter = meter

    # -- who may ----------------------------------------------------------------

    def authorise(self, player: Player, command: str, peer: str) -> Deferred[Account]:
        """The player's account, read again, if it is an admin's; else ``admin_only``."""
        return ensureDeferred(self._authorise(player, command, peer))

    async def _authorise(self, player: Player, command: str, peer: str) -> Account:
        account = await self.storage.get_account_by_id(player.account_id)
        if account is None or not account.admin:
            player.admin = False
            logevents.ADMIN_REFUSED(_log, name=player.name, account_id=player.account_id,
                                    peer=peer, command=command)
            raise AdminOnlyError(command)
        player.admin = True
        return account

    def check_chat(self, player: Player) -> None:
        """Refuse chat from a muted player, saying for how long."""
        if player.muted_until > self.now():
            raise TableError("an admin has muted you "
                             + describe_until(player.muted_until, self.now()),
                             code="muted")

    # -- the acts -----------------------------------------------------------------

    async def announce(self, admin: Player, text: str) -> Event:
        """Tell everyone logged in."""
        text = clean_chat(text)
        if not text:
            raise CommandError("nothing to announce: the text has no visible characters")
        await self._record(admin, "announce", "", text)
        self.lobby.announce(events.ANNOUNCE(admin=admin.name, text=text))  # the room's too
        return self._done("announce", "", "announced to everyone logged in")

    async def kick(self, admin: Player, name: str, reason: str = "") -> Event:
        """Stand a player up (a hand in play stands and is paid) and close their connection."""
        message = _because(f"{admin.name} removed you from the card room", reason)
        target = self.lobby.online(name)
        if target is None:
            # Perhaps connected to another server of the room.
            account = await self._account(name, admin)
            if not await self.lobby.reach(account.id, "remove",
                                          {"why": "kicked", "message": message}):
                raise LobbyError(f"nobody called {name[:20]!r} is here",
                                 code="no_such_player")
            await self._record(admin, "kick", account.name, reason)
            return self._done("kick", account.name, f"{account.name} is kicked")
        if target is admin:
            raise CommandError("that is you")
        await self._record(admin, "kick", target.name, reason)
        await self._remove(target, "kicked", message)
        return self._done("kick", target.name, f"{target.name} is kicked")

    async def ban(self, admin: Player, name: str, seconds: int | None = None,
                  reason: str = "") -> Event:
        """Refuse the account's logins until a time (or until lifted), and kick it if here."""
        account, until = await self._sanction(admin, "ban", name, seconds, reason)
        how_long = describe_until(until, self.now())
        await self._reach(account, "remove", {
            "why": "banned", "message": _because(f"{admin.name} banned you {how_long}", reason)})
        return self._done("ban", account.name, f"{account.name} is banned {how_long}")

    async def unban(self, admin: Player, name: str) -> Event:
        """Lift a ban."""
        account, was = await self._lift(admin, "ban", name)
        return self._done("unban", account.name, f"{account.name} is no longer banned"
                          if was else f"{account.name} was not banned")

    async def mute(self, admin: Player, name: str, seconds: int | None = None,
                   reason: str = "") -> Event:
        """Refuse a player's chat until a time (or until lifted)."""
        account, until = await self._sanction(admin, "mute", name, seconds, reason)
        how_long = describe_until(until, self.now())
        await self._reach(account, "mute", {
            "until": until, "message": _because(f"{admin.name} muted you {how_long}", reason)})
        return self._done("mute", account.name, f"{account.name} is muted {how_long}")

    async def unmute(self, admin: Player, name: str) -> Event:
        """Lift a mute."""
        account, was = await self._lift(admin, "mute", name)
        await self._reach(account, "unmute", {"message": f"{admin.name} lifted your mute"})
        return self._done("unmute", account.name, f"{account.name} may chat again"
                          if was else f"{account.name} was not muted")

    async def grant(self, admin: Player, name: str, amount: int, reason: str) -> Event:
        """Give chips (or take some back), with the reason in the ledger and the trail."""
        reason = clean_chat(reason)
        if amount == 0 or not reason:
            raise CommandError("usage: grant NAME AMOUNT REASON: an amount other than 0, "
                               "and a reason for the ledger")
        account = await self._account(name, admin)
        detail = {"amount": amount}
        try:
            balance = await self.storage.grant(account.id, amount, self._act(
                admin, "grant", account.name, reason, detail))
        except InsufficientFundsError as e:
            raise TableError(f"{account.name} has only {e.balance} chips; cannot take "
                             f"back {-amount}", code="insufficient_funds") from None
        self._logged(admin, "grant", account.name, reason, detail)
        verb = f"granted you {amount}" if amount > 0 else f"took back {-amount}"
        await self._reach(account, "tell", {"events": [
            events.INFO(message=f"{admin.name} {verb} chips: {reason}"),
            events.BALANCE(balance=balance)]})
        return self._done("grant", account.name,
                          f"{account.name} {'gets' if amount > 0 else 'gives back'} "
                          f"{abs(amount)} chips; balance {balance}")

    async def add_table(self, admin: Player, name: str, rules: str) -> Event:
        """Open a table with these rules (the ``--table`` spec)."""
        if not TABLE_NAME.fullmatch(name):
            raise CommandError(f"table name {name[:20]!r}: use 1-16 letters, digits, _ or -")
        try:
            parsed = Rules.from_spec(rules)
        except RulesError as e:
            raise CommandError(f"table {name}: {e}") from None
        self.lobby.check_new_table(name)
        await self._record(admin, "table_add", name, "", {"rules": parsed.describe()})
        table = self.lobby.add_table(name, parsed)
        return self._done("table_add", table.name,
                          f"table {table.name} is open: {parsed.describe()}")

    async def close_table(self, admin: Player, name: str) -> Event:
        """Close a table after the round in play; everyone there is stood up."""
        table = self.lobby.check_close(name)
        await self._record(admin, "table_close", table.name)
        self.lobby.close_table(table.name)
        return self._done("table_close", table.name,
                          f"table {table.name} closes once its round in play is over")

    async def who(self, admin: Player) -> Event:
        """``who`` with each player's address; looking is an act on the record."""
        await self._record(admin, "who", "")
        return self.lobby.who_event(addresses=True)

    # -- plumbing ---------------------------------------------------------------

    async def touch(self, target: Player, act: str, detail: Mapping[str, Any]) -> None:
        """Do to a player here what an admin's act does to their connection.

        ``act`` is ``remove`` (stand up and disconnect; ``detail``: ``why``,
        ``message``), ``mute`` (``until``, ``None`` for until lifted, and
        ``message``), ``unmute`` (``message``) or ``tell`` (``events`` to send).
        The details are plain JSON values: in a room they come from another node.
        """
        if act == "remove":
            await self._remove(target, str(detail["why"]), str(detail["message"]))
        elif act == "mute":
            until = detail["until"]
            target.muted_until = math.inf if until is None else float(until)
            target.send(events.INFO(message=str(detail["message"])))
        elif act == "unmute":
            if target.muted_until:
                target.muted_until = 0.0
                target.send(events.INFO(message=str(detail["message"])))
        elif act == "tell":
            for event in detail["events"]:
                target.send(Event(event))
        else:
            raise ValueError(f"no admin act {act!r} touches a player")

    async def _reach(self, account: Account, act: str, detail: Mapping[str, Any]) -> bool:
        """:meth:`touch` the account's player, here or on another server of the room;
        whether it was online anywhere."""
        target = self.lobby.online(account.name)
        if target is not None:
            await self.touch(target, act, detail)
            return True
        return await self.lobby.reach(account.id, act, detail)

    async def _account(self, name: str, admin: Player) -> Account:
        account = await self.storage.get_account(name)
        if account is None:
            raise LobbyError(f"no account called {name[:20]!r}", code="no_such_player")
        if account.id == admin.account_id:
            raise CommandError("that is you")
        return account

    async def _sanction(self, admin: Player, kind: str, name: str, seconds: int | None,
                        reason: str) -> tuple[Account, float | None]:
        """Put a ban or mute on the account (the act recorded with it); when it ends."""
        account = await self._account(name, admin)
        until = None if seconds is None else self.now() + seconds
        detail = {"seconds": seconds}
        await self.storage.sanction(account.id, kind, until,
                                    self._act(admin, kind, account.name, reason, detail))
        self._logged(admin, kind, account.name, reason, detail)
        return account, until

    async def _lift(self, admin: Player, kind: str, name: str) -> tuple[Account, bool]:
        """Lift a ban or mute (``unban``, ``unmute`` recorded); whether one was in force."""
        account = await self._account(name, admin)
        act = "un" + kind
        was = await self.storage.lift(account.id, kind, self._act(admin, act, account.name))
        self._logged(admin, act, account.name, "", {})
        return account, was

    async def _remove(self, target: Player, why: str, message: str) -> None:
        """Stand a player up through their table's queue, then close their connection."""
        table = target.table
        if table is not None:
            try:
                await table.leave(target, "kicked")
            except ServerError:
                pass  # they left meanwhile
        client = target.client
        if client is not None:
            client.close(message, why)

    @staticmethod
    def _act(admin: Player, act: str, target: str, reason: str = "",
             detail: Mapping[str, Any] | None = None) -> AdminAct:
        return AdminAct(admin.name, act, target, reason, dict(detail or {}),
                        admin_id=admin.account_id)

    async def _record(self, admin: Player, act: str, target: str, reason: str = "",
                      detail: Mapping[str, Any] | None = None) -> None:
        """Write an act that moves nothing to the trail, then log it."""
        await self.storage.record_act(self._act(admin, act, target, reason, detail))
        self._logged(admin, act, target, reason, detail or {})

    def _logged(self, admin: Player, act: str, target: str, reason: str,
                detail: Mapping[str, Any]) -> None:
        self.meter.admin_act(act)
        logevents.ADMIN_ACT(_log, admin=admin.name, admin_id=admin.account_id, act=act,
                            target=target, reason=reason, detail=dict(detail))

    @staticmethod
    def _done(act: str, target: str, message: str) -> Event:
        return events.ADMIN(act=act, target=target, message=message)


def _because(what: str, reason: str) -> str:
    return f"{what}: {reason}" if reason else f"{what}."

