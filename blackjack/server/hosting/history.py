"""``python -m blackjack.history``: a card room's stored hands and shoes, from its database.

For operators and players with the database at hand:

* ``--player NAME --json`` exports the player's hands, newest first, as JSON
  lines (each the ``hand`` event that ``hand ID`` answers: the round in
  full, its decisions, and its replay step by step);
* ``--player NAME`` lists them as ``history`` does, one line each;
* ``--player NAME --hand ID`` replays one hand in the terminal, card by card
  (``--step`` waits for Enter between steps);
* ``--shoe ID`` prints a retired shoe's record for ``python -m blackjack.verify``.

It opens the database as the server does (a file path, ``sqlite:///...``
or a ``postgresql://`` URL) and only reads.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from twisted.internet import defer, task

from blackjack.server.core.hands import hand_event, history_entry
from blackjack.server.frontends.encoding import encode
from blackjack.server.frontends.render import text_lines
from blackjack.server.storage import HandRecord, IStorage

__all__ = ["main"]


class _Refused(Exception):
    """What the command line cannot do: the message says why (exit status 1)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blackjack.history",
        description="Export or replay a card room's stored hands, or a retired shoe's "
                    "record for python -m blackjack.verify.")
    parser.add_argument("--db", required=True,
                        help="the database: a file, sqlite:///PATH or postgresql://...")
    parser.add_argument("--player", help="whose hands")
    parser.add_argument("--json", action="store_true",
                        help="the hands as JSON lines (the 'hand' event of each)")
    parser.add_argument("--limit", type=int, default=1000,
                        help="the most hands, newest first (default 1000)")
    parser.add_argument("--hand", type=int, metavar="ID",
                        help="replay this hand of the player, step by step")
    parser.add_argument("--step", action="store_true",
                        help="with --hand: wait for Enter between steps")
    parser.add_argument("--shoe", metavar="ID", help="print this retired shoe's record")
    parser.add_argument("--ascii", action="store_true", help="suits as letters (TS)")
    return parser


async def _with_shoe(storage: IStorage, record: HandRecord) -> dict[str, Any]:
    """The ``hand`` event of a record, knowing whether its shoe is retired."""
    shoe = (record.details or {}).get("shoe")
    retired = None
    if shoe:
        found = await storage.shoe(shoe["shoe"])
        retired = found is not None and found.retired is not None
    return dict(hand_event(record, retired))


async def _run(storage: IStorage, args: argparse.Namespace, out: TextIO,
               stdin: TextIO) -> None:
    if args.shoe is not None:
        found = await storage.shoe(args.shoe)
        if found is None:
            raise _Refused(f"no shoe {args.shoe!r} in {args.db}")
        verification = found.verification()
        if verification is None:
            raise _Refused(f"shoe {args.shoe} still deals: its seed is secret until it is "
                           "retired")
        out.write(encode(verification).decode("utf-8") + "\n")
        return
    account = await storage.get_account(args.player)
    if account is None:
        raise _Refused(f"no player {args.player!r} in {args.db}")
    if args.hand is not None:
        hand = await storage.hand(account.id, args.hand)
        if hand is None:
            raise _Refused(f"{account.name} has no hand {args.hand}")
        event = await _with_shoe(storage, hand)
        lines = text_lines(event, account.name, unicode=not args.ascii)
        for number, line in enumerate(lines):
            out.write(line + "\n")
            if args.step and line.startswith("  ") and line.strip()[:1].isdigit() \
                    and number + 1 < len(lines):
                out.flush()
                stdin.readline()
        return
    records = await storage.history(account.id, args.limit)
    if args.json:
        for record in records:
            out.write(encode(await _with_shoe(storage, record)).decode("utf-8") + "\n")
        return
    entries = [history_entry(r, account.name) for r in records]
    for line in text_lines({"event": "history", "hands": entries}, account.name,
                           unicode=not args.ascii):
        out.write(line + "\n")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         stdin: TextIO | None = None) -> int:
    """Run the command line; the exit status."""
    from blackjack.server.storage.backends import open_storage

    args = _parser().parse_args(argv)
    if args.shoe is None and args.player is None:
        _parser().error("give --player NAME, or --shoe ID")
    if args.hand is not None and args.player is None:
        _parser().error("--hand needs --player")
    out = sys.stdout if out is None else out
    stdin = sys.stdin if stdin is None else stdin
    status: list[int] = []

    async def run(reactor: Any) -> None:
        storage = open_storage(args.db)
        try:
            await _run(storage, args, out, stdin)
            status.append(0)
        except _Refused as refused:
            print(refused, file=sys.stderr)
            status.append(1)
        finally:
            await storage.close()

    try:
        task.react(lambda reactor: defer.ensureDeferred(run(reactor)))
    except SystemExit as exit_:
        if exit_.code not in (0, None) and not status:
            return int(exit_.code) if isinstance(exit_.code, int) else 1
    return status[0] if status else 1
