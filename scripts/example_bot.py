"""An example bot on ``blackjack.client``: log in (or register), sit down, play basic strategy.

Start a card room (``twistd -n blackjack``), then::

    python scripts/example_bot.py --name robot --password "a long password" --rounds 20

It connects (``hello`` is said for it), logs in, or registers the name if no
such account exists, sits at ``--table`` and lets a basic-strategy
:class:`~blackjack.client.Bot` play until it has played ``--rounds`` rounds,
printing each round's cards and result; then it prints its net and balance
and says ``quit``.  ``--pause`` keeps it under the server's command rate
(5 a second by default), as a person would be.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from twisted.internet import defer, task  # noqa: E402

from blackjack.client import Bot, Client, Message, RequestRefused, basic_strategy, connect  # noqa: E402
from blackjack.rules import Rules  # noqa: E402

__all__ = ["play", "main", "describe_result"]


def describe_result(result: Message, name: str) -> str:
    """One line about a settled round, as ``name`` saw it."""
    dealer = " ".join(result["dealer"])
    mine = [f"{' '.join(h['cards'])} ({h['total']}) {h['result']} {h['net']:+d}"
            for h in result["hands"] if h["player"] == name]
    return f"dealer {dealer} ({result['dealer_total']}); you " + ("; ".join(mine) or "sat out")


async def log_in(client: Client, name: str, password: str) -> Message:
    """Log in, or make the account if there is none by that name."""
    try:
        return await client.login(name, password)
    except RequestRefused as refused:
        if refused.code != "login_failed":
            raise
        failed = refused
    try:
        login = await client.register(name, password)
    except RequestRefused as refused:
        # The account exists: the password was wrong (or the name is close to another).
        raise failed if refused.code == "name_taken" else refused from None
    print(f"registered a new account, {name!r}")
    return login


async def play(reactor: Any, args: argparse.Namespace) -> int:
    """Connect, log in, play ``args.rounds`` rounds; 0 if all went well."""
    host, _, port = args.connect.rpartition(":")
    client = await connect(reactor, host, int(port))
    print(f"connected to {client.server['server']} {client.server['version']}"  # type: ignore[index]
          f" at {args.connect}")
    try:
        login = await log_in(client, args.name, args.password)
    except RequestRefused as refused:
        print(f"cannot log in: {refused.message}", file=sys.stderr)
        await client.close()
        return 1
    print(f"logged in as {login['name']} with {login['balance']} chips")

    played = 0

    def show(result: Message) -> None:
        nonlocal played
        if client.name in result["players"].values():
            played += 1
            print(f"round {played}: {describe_result(result, client.name or '')}")

    client.on("result", show)
    rules = Rules.from_spec(args.rules)
    bot = Bot(client, args.table, policy=basic_strategy(rules), bet=args.bet or None,
              pause=lambda: args.pause, hands=args.rounds)
    try:
        await bot.sit()
    except RequestRefused as refused:
        print(f"cannot sit at {args.table}: {refused.message}", file=sys.stderr)
        await client.close()
        return 1
    await bot.until(args.rounds)
    bot.stop()
    balance = await client.balance()
    print(f"played {bot.hands} rounds: net {bot.net:+d} chips, balance {balance}"
          + (f"; refused: {dict(bot.refusals)}" if bot.refusals else ""))
    await client.close()
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--connect", default="127.0.0.1:8023", help="HOST:PORT of the card room")
    p.add_argument("--name", default="robot", help="the account name")
    p.add_argument("--password", default="robot's long password", help="its password")
    p.add_argument("--table", default="main", help="the table to sit at")
    p.add_argument("--rounds", type=int, default=10, help="rounds to play")
    p.add_argument("--bet", type=int, default=0, help="chips a round (0: the table minimum)")
    p.add_argument("--pause", type=float, default=0.4,
                   help="seconds to think before each bet or play")
    p.add_argument("--rules", default="",
                   help="the table's rules (e.g. 'h17,decks=2'), for the strategy chart")
    return p


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, play, and exit with :func:`play`'s status."""
    args = _parser().parse_args(argv)

    async def go(reactor: Any) -> None:
        code = await play(reactor, args)
        if code:
            raise SystemExit(code)

    task.react(lambda reactor: defer.ensureDeferred(go(reactor)))


if __name__ == "__main__":
    main()
