"""Admin commands over real loopback connections: each one acts and is in the audit trail,
and each is refused, saying so, to a player who is not an admin.

The service is the real one (``makeService`` from the real options); the admin
role is given as the host gives it, through the storage's ``set_role`` (what
``python -m blackjack.server.admin`` runs), while the admin is logged in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.logger import globalLogPublisher

from blackjack.server.core.commands import COMMANDS
from blackjack.server.hosting.service import BlackjackService
from blackjack.server.storage import AdminAct
from blackjack.server.storage.roles import HOST
from blackjack.testing import StackedShoe

from conftest import wait
from test_e2e_accounts_chat_seats import (
    PASSWORD,
    connect,
    login,
    register,
    reply,
    start,
    stop,
)
from test_server_e2e import Client

ADMIN_LINES = {
    "announce": "announce the room closes at midnight",
    "kick": "kick bob rude",
    "ban": "ban bob 2h",
    "unban": "unban bob",
    "mute": "mute bob 30m spam",
    "unmute": "unmute bob",
    "grant": "grant bob 100 a gift",
    "table_add": "tables add high decks=8,min=100",
    "table_close": "tables close main",
}
"""One text line for each admin command."""


async def answer(client: Client) -> dict[str, Any]:
    """The next answer to a command: an ``admin`` event or an ``error``."""
    return await reply(client, "admin", "error")


async def v1_reply(client: Client, rid: int) -> dict[str, Any]:
    """The protocol v1 reply to request ``rid``."""
    while True:
        line = await wait(client.queue.get())
        assert line, "connection closed waiting for a reply"
        message = json.loads(line) if line.startswith("{") else {}
        if message.get("id") == rid and "ok" in message:
            return message


async def make_admin(service: BlackjackService, name: str) -> None:
    """Give ``name`` the admin role, as the host's command line does."""
    await wait(service.storage.set_role(name, "admin", AdminAct(HOST, "role", name)))


async def acts(service: BlackjackService) -> list[tuple[str, str, str, str]]:
    """The audit trail, oldest first: (admin, act, target, reason)."""
    trail = await wait(service.storage.admin_acts(100))
    return [(a.admin, a.act, a.target, a.reason) for a in reversed(trail)]


def test_every_admin_command_has_a_line_here() -> None:
    """The table of lines above covers every admin command of the catalogue."""
    assert set(ADMIN_LINES) == {c.name for c in COMMANDS.values() if c.admin}


@pytest_twisted.ensureDeferred
async def test_a_player_is_refused_every_admin_command(tmp_path: Path) -> None:
    """Each admin command, typed or sent as a v1 request by a player, is refused with
    admin_only and a clear message, changes nothing, and records no act; help does
    not list them."""
    service = start(tmp_path / "bj.sqlite3")
    clients: list[Client] = []
    try:
        bob = await register(service, "bob")
        mallory = await register(service, "mallory")
        clients += [bob, mallory]
        for name, line in ADMIN_LINES.items():
            mallory.say(line)
            refused = await answer(mallory)
            assert refused["code"] == "admin_only", (name, refused)
            assert f"'{name}' is for the card room's admins" in refused["message"]
        mallory.say('{"id": 1, "cmd": "hello", "protocol": 1}')
        assert (await v1_reply(mallory, 1))["ok"]
        mallory.say('{"id": 2, "cmd": "grant", "name": "mallory", "amount": 999999, '
                    '"reason": "mine"}')
        assert (await v1_reply(mallory, 2))["error"]["code"] == "admin_only"
        bob.say("help")
        help_text = (await reply(bob, "help"))["lines"]
        assert not any("grant" in line or "kick" in line for line in help_text)
        assert await acts(service) == []
        assert [t.name for t in service.lobby.tables.values()] == ["main"]
        assert await wait(service.storage.balance(2)) == 1000  # mallory granted nothing
        assert bob.transport.connected and not bob.closed
    finally:
        await stop(service, clients)


@pytest_twisted.ensureDeferred
async def test_each_admin_command_acts_and_is_recorded(tmp_path: Path) -> None:
    """An admin (made one while logged in) announces, grants, mutes, unmutes, sees
    addresses in who, kicks, bans, unbans, adds and closes tables; each act does what it
    says to the other player, and the audit trail and the log hold every one, in order."""
    service = start(tmp_path / "bj.sqlite3", "--bet-time", "30")
    clients: list[Client] = []
    logged: list[dict[str, Any]] = []

    def spy(event: dict[str, Any]) -> None:
        if event.get("event") == "admin_act":
            logged.append(event)
    globalLogPublisher.addObserver(spy)
    try:
        alice = await register(service, "alice")
        bob = await register(service, "bob", "127.0.0.2")
        clients += [alice, bob]
        await make_admin(service, "alice")  # no new login needed: the role is read again

        alice.say("announce the room closes at midnight")
        assert (await answer(alice))["act"] == "announce"
        said = await bob.expect("announce")
        assert (said["admin"], said["text"]) == ("alice", "the room closes at midnight")

        alice.say("grant bob 250 lost chips in the crash")
        assert "balance 1250" in (await answer(alice))["message"]
        assert (await bob.expect("balance"))["balance"] == 1250
        [entry, *_] = await wait(service.storage.ledger(2))
        assert (entry.kind, entry.key, entry.amount, entry.note) == (
            "issue", "grant", 250, "alice: lost chips in the crash")

        alice.say("mute bob 30m spam")
        assert (await answer(alice))["message"].startswith("bob is muted for 30m")
        bob.say("join main")
        await bob.expect("joined", player="bob")
        bob.say("say hello")
        refused = await reply(bob, "error")
        assert refused["code"] == "muted" and "for 30m" in refused["message"]
        alice.say("unmute bob")
        await answer(alice)
        bob.say("say hello again")
        assert (await bob.expect("say"))["text"] == "hello again"

        alice.say("who")  # the first admin command since the role came: help knows now
        who = {p["name"]: p for p in (await reply(alice, "who"))["players"]}
        assert who["bob"]["address"] == "127.0.0.2" and who["alice"]["address"] == "127.0.0.1"
        bob.say("who")
        assert all("address" not in p for p in (await reply(bob, "who"))["players"])
        alice.say("help")
        lines = (await reply(alice, "help"))["lines"]
        assert "Admin commands (each one goes in the audit trail):" in lines
        assert any(line.startswith("  grant NAME AMOUNT REASON") for line in lines)

        alice.say("kick bob rude")
        assert (await answer(alice))["message"] == "bob is kicked"
        bye = await bob.expect("bye")
        assert "alice removed you from the card room: rude" in bye["message"]
        await wait(bob.queue.get())  # the connection closes
        assert bob.closed and service.lobby.table("main").seats == {}

        alice.say("ban bob 2h")
        assert (await answer(alice))["message"] == "bob is banned for 2h more"
        again = await connect(service, "127.0.0.2")
        clients.append(again)
        banned = await login(again, "bob", PASSWORD)
        assert banned["code"] == "banned" and "banned for 2h" in banned["message"]
        alice.say("unban bob")
        assert (await answer(alice))["message"] == "bob is no longer banned"
        assert (await login(again, "bob", PASSWORD))["event"] == "login"

        alice.say("tables add high decks=8,min=100")
        assert (await answer(alice))["target"] == "high"
        again.say("tables")
        listed = {t["name"]: t for t in (await reply(again, "tables"))["tables"]}
        assert listed["high"]["min"] == 100
        alice.say("tables add high s17")
        assert (await answer(alice))["code"] == "table_exists"

        # Closing a table with a round in play: the round is played out first.
        again.say("join main")
        await again.expect("betting")
        service.lobby.table("main").shoe = StackedShoe("TS 6H 9C TD 8S")
        again.say("bet 10")
        await again.expect("prompt", player="bob")
        alice.say("tables close main")
        assert "closes once its round in play is over" in (await answer(alice))["message"]
        again.say("stand")
        assert (await again.expect("result"))["net"] == {"1": 10}
        assert (await again.expect("left", player="bob"))["reason"] == "closed"
        alice.say("tables")
        assert [t["name"] for t in (await reply(alice, "tables"))["tables"]] == ["high"]

        assert await acts(service) == [
            (HOST, "role", "alice", ""),
            ("alice", "announce", "", "the room closes at midnight"),
            ("alice", "grant", "bob", "lost chips in the crash"),
            ("alice", "mute", "bob", "spam"),
            ("alice", "unmute", "bob", ""),
            ("alice", "who", "", ""),
            ("alice", "kick", "bob", "rude"),
            ("alice", "ban", "bob", ""),
            ("alice", "unban", "bob", ""),
            ("alice", "table_add", "high", ""),
            ("alice", "table_close", "main", ""),
        ]
        assert [(e["admin"], e["act"], e["target"], e["reason"]) for e in logged] \
            == (await acts(service))[1:]
        audit = await wait(service.storage.audit())
        assert audit.balanced and audit.granted == 250
    finally:
        globalLogPublisher.removeObserver(spy)
        await stop(service, clients)


@pytest_twisted.ensureDeferred
async def test_the_host_taking_the_role_back_stops_the_next_command(tmp_path: Path) -> None:
    """An admin whose role the host revokes is refused at the next admin command, at once."""
    service = start(tmp_path / "bj.sqlite3")
    clients: list[Client] = []
    try:
        alice = await register(service, "alice")
        bob = await register(service, "bob")
        clients += [alice, bob]
        await make_admin(service, "alice")
        alice.say("mute bob 1h")
        assert (await answer(alice))["act"] == "mute"
        await wait(service.storage.set_role("alice", "player", AdminAct(HOST, "role", "alice")))
        alice.say("unmute bob")
        assert (await answer(alice))["code"] == "admin_only"
        assert [a[1] for a in await acts(service)] == ["role", "mute", "role"]
    finally:
        await stop(service, clients)
