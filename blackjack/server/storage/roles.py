"""The host's command line for the admin role and the audit trail.

Run by whoever runs the server, on its machine, against its database::

    python -m blackjack.server.admin --db blackjack.sqlite3 grant alice
    python -m blackjack.server.admin --db blackjack.sqlite3 revoke alice
    python -m blackjack.server.admin --db blackjack.sqlite3 list
    python -m blackjack.server.admin --db blackjack.sqlite3 log --last 20

The admin role is given here and nowhere else: no command over the wire
can make anyone an admin.  A role change is an act in the audit trail
(its admin is ``host``), like every admin's act in the game, which ``log``
prints newest first.  A running server sees a change at once: it reads an
account's role again before each admin command.  The database is opened
through the storage itself, so an older schema is upgraded first, exactly
as the server would.  Exit status 0; 1 for an unknown account; 2 if the
database cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from blackjack.server.storage.interface import (
    AdminAct,
    DatabaseError,
    IStorage,
    UnknownAccountError,
)

__all__ = ["run", "main", "HOST", "describe_act"]

HOST = "host"
"""The name the audit trail gives the host's command line."""


def describe_act(act: AdminAct) -> str:
    """One line of the trail: when, who, what, on whom, why and the rest."""
    when = datetime.fromtimestamp(act.created, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    parts = [f"{act.id:>5}  {when}Z  {act.admin}: {act.act}"]
    if act.target:
        parts.append(act.target)
    parts.extend(f"{key}={value}" for key, value in sorted(act.detail.items()))
    if act.reason:
        parts.append(f"- {act.reason}")
    return " ".join(parts)


async def run(storage: IStorage, args: argparse.Namespace, out: Any = sys.stdout) -> int:
    """Carry out one parsed command on ``storage``; the exit status."""
    if args.command in ("grant", "revoke"):
        role = "admin" if args.command == "grant" else "player"
        try:
            account = await storage.set_role(args.name, role, AdminAct(
                HOST, "role", args.name, detail={"role": role}))
        except UnknownAccountError:
            print(f"no account called {args.name!r}", file=sys.stderr)
            return 1
        print(f"{account.name} is now {'an admin' if account.admin else 'a player'}", file=out)
    elif args.command == "list":
        for account in await storage.accounts_with_role("admin"):
            print(account.name, file=out)
    else:
        for act in await storage.admin_acts(args.last):
            print(describe_act(act), file=out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blackjack.server.admin",
        description="Give or take the admin role, list the admins, or read the audit trail "
                    "of admin acts.")
    parser.add_argument("--db", required=True,
                        help="the server's SQLite file or postgresql:// URL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("grant", help="make an account an admin").add_argument("name")
    commands.add_parser("revoke", help="make an admin a player again").add_argument("name")
    commands.add_parser("list", help="the admins, by name")
    log = commands.add_parser("log", help="the audit trail, newest first")
    log.add_argument("--last", type=int, default=50, metavar="N",
                     help="how many acts (default 50)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: opens the database, runs the command, closes it."""
    from twisted.internet import defer, task

    from blackjack.server.storage.audit import unreadable
    from blackjack.server.storage.backends import open_storage, redact

    args = _parser().parse_args(argv)
    status: list[int] = []

    def cannot(error: Exception) -> None:
        if not (isinstance(error, DatabaseError) or unreadable(error)):
            raise error
        print(f"cannot use {redact(args.db)}: {error}", file=sys.stderr)
        status.append(2)

    async def session(reactor: Any) -> None:
        try:
            storage = open_storage(args.db, reactor=reactor)
        except Exception as e:
            cannot(e)
            return
        try:
            status.append(await run(storage, args))
        except Exception as e:
            cannot(e)
        finally:
            await storage.close()

    try:
        task.react(lambda reactor: defer.ensureDeferred(session(reactor)))
    except SystemExit as done:
        if done.code not in (0, None):
            raise
    return status[0] if status else 2
