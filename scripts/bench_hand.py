"""Benchmark: server CPU per settled hand, in process, through the real stack, repeatably.

Bots on protocol v1 play basic strategy through the real ``BlackjackFactory``
(telnet wire, conversation, session, table, engine, coach) with the
in-memory storage, on a fake clock and string transports: no socket, no
database thread, no other process.  Every shoe is seeded, so a run plays the
same hands every time, and an instruction count (valgrind) is exact: the
difference between two lengths of run, divided by the hands between them,
is what one more settled hand costs.  The coach values each decision exactly
and keeps the answer, so the first few thousand hands of a server cost more
than the rest: ``--warm N`` plays N hands first and then deals the same
shoes again, so that every decision measured is one the coach has seen.
Run by hand::

    python scripts/bench_hand.py [--hands 300] [--per-table 1] [--players 7] [--warm 400] [--profile]
    valgrind --tool=cachegrind --cache-sim=no python scripts/bench_hand.py --hands 100
    valgrind --tool=cachegrind --cache-sim=no python scripts/bench_hand.py --hands 300

What is left out: sockets and epoll (which the thread-per-connection
baseline pays too), SQLite and its thread, the provably fair shoe (a
seeded test shoe deals), and the telnet front end's write-once-a-turn (it
works on real sockets only).  ``scripts/loadtest.py --baseline`` measures
all of it, side by side with the baseline, on a live server.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

# Run from a checkout without installing: scripts/ is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from blackjack.client import basic_strategy  # noqa: E402
from blackjack import strategy  # noqa: E402
from blackjack.rules import Rules  # noqa: E402
from blackjack.server.core.accounts import Accounts  # noqa: E402
from blackjack.server.core.lobby import Lobby  # noqa: E402
from blackjack.server.core.passwords import FAST_INSECURE  # noqa: E402
from blackjack.server.core.table import Table, Timers  # noqa: E402
from blackjack.server.frontends.limits import Limits  # noqa: E402
from blackjack.server.frontends.telnet.protocol import BlackjackFactory  # noqa: E402
from blackjack.server.storage.memory import MemoryStorage  # noqa: E402
from blackjack.shoe import Shoe  # noqa: E402

RULES = "min=1"


class _Bot:
    """One seat: reads its connection's lines, bets the minimum and plays the chart."""

    def __init__(self, room: _Room, index: int, table: str) -> None:
        self.room = room
        self.table = table
        self.name = f"bot{index:04d}"
        self.transport = StringTransport()
        self.wire = room.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000 + index))
        self.wire.makeConnection(self.transport)
        self.seat: int | None = None
        self.next_id = 1

    def send(self, cmd: str, **params: Any) -> None:
        self.next_id += 1
        self.wire.dataReceived(json.dumps({"id": self.next_id, "cmd": cmd, **params},
                                          separators=(",", ":")).encode() + b"\r\n")

    def read(self) -> bool:
        """Handle what has come; whether anything had."""
        data = self.transport.value()
        if not data:
            return False
        self.transport.clear()
        for line in data.split(b"\r\n"):
            if line.startswith(b'{"event"'):
                self.event(json.loads(line))
        return True

    def event(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "betting" and event["table"] == self.table:
            self.send("bet", amount=event["min"])
        elif kind == "prompt" and event["player"] == self.name:
            self.send(self.room.policy(event))
        elif kind == "decide" and self.name in event["players"]:
            self.send(self.room.policy(event))
        elif kind == "result":
            if any(h["player"] == self.name for h in event["hands"]):
                self.room.hands += 1


class _Room:
    """The card room on a fake clock, with ``players`` bots at tables of ``per_table``."""

    def __init__(self, players: int, per_table: int, seed: int) -> None:
        self.clock = Clock()
        rules = Rules.from_spec(RULES)
        strategy.prepare(rules)  # as the service does for each table's rules
        self.policy = basic_strategy(rules)
        self.storage = MemoryStorage(reactor=self.clock)
        self.rules, self.seed = rules, seed
        self.tables = [Table(f"t{n}", rules, self.storage, self.clock, Timers(),
                             shoe=Shoe(rules.decks, rng=random.Random(seed + n)))
                       for n in range(-(-players // per_table))]
        tables = self.tables
        accounts = Accounts(self.storage, self.clock, hasher=FAST_INSECURE)
        limits = Limits(rate=0, chat_rate=0, max_per_ip=0, idle_timeout=0)
        self.factory = BlackjackFactory(Lobby(tables), accounts, self.storage, limits,
                                        self.clock)
        self.hands = 0
        self.bots = [_Bot(self, i, f"t{i // per_table}") for i in range(players)]
        for bot in self.bots:
            bot.send("hello", protocol=1)
            made = self.storage.create_account(bot.name, "x", 1_000_000_000)
            self.clock.advance(0)
            account = made.result  # fired by the clock
            bot.wire.protocol.conversation.session.enter(account)
            bot.send("join", table=bot.table)

    def reshoe(self) -> None:
        """Give every table its first shoe again: the next rounds deal the same cards."""
        for n, table in enumerate(self.tables):
            table.shoe = Shoe(self.rules.decks, rng=random.Random(self.seed + n))

    def step(self) -> bool:
        """Let the answers due now arrive and every bot act on what it read; whether any did."""
        self.clock.advance(0)
        return any([bot.read() for bot in self.bots])

    def play(self, hands: int) -> None:
        """Play on until ``hands`` more hands have settled."""
        goal = self.hands + hands
        while self.hands < goal:
            if not self.step():
                # Nobody can move: a window or a turn waits for its timer.
                self.clock.advance(min(c.getTime() for c in self.clock.getDelayedCalls())
                                   - self.clock.seconds())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", type=int, default=300, help="hands to settle")
    parser.add_argument("--players", type=int, default=7)
    parser.add_argument("--per-table", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warm", type=int, default=0, metavar="HANDS",
                        help="first play this many hands, then deal the same shoes again "
                             "(the coach then knows every decision, as in a server that "
                             "has run a while)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile")
    args = parser.parse_args(argv)
    room = _Room(args.players, args.per_table, args.seed)
    room.play(args.players)  # everyone seated and playing
    if args.warm:
        room.play(args.warm)
        room.reshoe()
        room.play(args.players)  # the round in play finishes
    first = room.hands
    started = time.process_time()
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(room.play, args.hands)
    else:
        room.play(args.hands)
    spent = time.process_time() - started
    hands = room.hands - first
    print(f"{hands} hands settled ({args.players} players, {args.per_table} a table): "
          f"{1000 * spent / hands:.3f} ms of CPU per hand")
    if args.profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
