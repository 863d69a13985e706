"""End to end: no byte the server sends, and no log line, carries a dealing shoe's seed.

A long run on the real service over loopback: a one-deck table with its cut
card at half the shoe retires a shoe every few rounds; players in text mode,
JSON mode and protocol v1 play, a spectator watches, and between rounds they
ask for everything that could show a shoe (``look``, ``seed``, ``shoe``,
``hand``, ``history``, ``stats``).  Every server seed the run draws is
recorded; in every client's bytes a seed may first appear only in the
announcement that retires its shoe, a never-dealt shoe's seed never, and no
log line holds any seed.  The retired shoes' records then verify.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import ensureDeferred
from twisted.logger import eventAsText, globalLogPublisher

import blackjack.fair
from blackjack.verify import ShoeRecord, verify

from conftest import wait
from test_server_e2e import Client, connect, enter, start

ROOT = Path(__file__).resolve().parent.parent


class Bot:
    """A player who bets 10 in every window and answers every prompt at random.

    It speaks the older JSON mode, or protocol v1 (``v1``); :meth:`run` reads
    its connection until :meth:`stop`.
    """

    def __init__(self, client: Client, rng: random.Random, v1: bool) -> None:
        self.client, self.rng, self.v1 = client, rng, v1
        self.ids = 0
        self.stopped = False

    def send(self, cmd: str, **params: Any) -> None:
        if self.v1:
            self.ids += 1
            self.client.say(json.dumps({"id": self.ids, "cmd": cmd, **params}))
        else:
            words = " ".join(str(v) for v in params.values())
            self.client.say(f"{cmd} {words}".strip())

    async def run(self) -> None:
        while not self.stopped:
            line = await self.client.queue.get()
            if not line.startswith('{"event"'):
                continue
            event = json.loads(line)
            if event["event"] == "betting":
                self.send("bet", amount=10)
                self.send("seed", seed=f"{self.rng.random()}")
            elif event["event"] == "prompt":
                self.send(self.rng.choice([a for a in event["legal"] if a in ("hit", "stand")]))
            elif event["event"] == "decide":
                self.send("no")
            elif event["event"] == "result":
                self.send("look")

    def stop(self) -> None:
        self.stopped = True
        self.client.queue.put("")


async def _play(bob: Client, rounds: int) -> None:
    """Bob, in text mode, plays ``rounds`` rounds and asks for everything between them."""
    rng = random.Random(7)
    played = 0
    hand = "1"
    while played < rounds:
        line = await wait(bob.queue.get(), 15)
        assert line, "bob was disconnected"
        if line.startswith("Place your bets"):
            bob.say("bet 10")
        elif line.startswith("> Seat"):  # the hand to play, in his prompt's view
            bob.say(rng.choice(["hit", "stand", "stand"]))
        elif line.startswith("Insurance?"):
            bob.say("no")
        elif line.startswith("  #"):  # a line of his history: its hand's number
            hand = line.split()[0][1:]
        elif line.startswith("Results:"):
            played += 1
            # Two commands a round, well inside the rate limit with the bet.
            bob.say(["look", f"seed bob {played}", "history 1", f"hand {hand}",
                     "stats"][played % 5])
            bob.say(["history 1", "stats", f"hand {hand}", "look", "top"][played % 5])


async def _reply(client: Client, request: int) -> dict[str, Any]:
    """The protocol v1 reply to request ``request`` (events before it are skipped)."""
    while True:
        line = await wait(client.queue.get())
        assert line, "the connection closed"
        if line.startswith('{"id"'):
            reply = json.loads(line)
            if reply["id"] == request:
                assert reply["ok"], reply
                return dict(reply)


def _first_sight(lines: list[str], seed: str) -> int | None:
    """The index of the first line showing ``seed`` in any of its forms, or None."""
    forms = (seed, seed.upper())
    return next((i for i, line in enumerate(lines) if any(f in line for f in forms)), None)


def _is_reveal(lines: list[str], index: int) -> bool:
    """Whether line ``index`` announces a shoe's retirement (JSON, v1, or text)."""
    line = lines[index]
    if line.startswith("{"):
        return json.loads(line).get("event") == "shoe_retired"
    return index > 0 and lines[index - 1].startswith("* Shoe ") and "is retired" in \
        lines[index - 1]


@pytest_twisted.ensureDeferred
async def test_no_byte_sent_and_no_log_line_carries_a_dealing_shoes_seed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeds first show in their shoe's retirement, unused ones never; logs hold none."""
    seeds: list[str] = []
    draw = blackjack.fair.new_server_seed

    def recorded() -> bytes:
        seed = draw()
        seeds.append(seed.hex())
        return seed

    monkeypatch.setattr(blackjack.fair, "new_server_seed", recorded)
    logged: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        logged.append(eventAsText(event, includeTimestamp=False) or "")

    globalLogPublisher.addObserver(observe)
    db = tmp_path / "room.sqlite3"
    # One deck with the cut card at half of it: a shoe retires every few rounds.
    service = start(str(db), "main:decks=1,pen=0.5,ls", turn_time="5")
    clients: list[Client] = []
    try:
        alice = await enter(service, "register", "alice")
        bob = await enter(service, "register", "bob", json_mode=False)
        carol = await connect(service)
        await carol.expect_text("Welcome")
        carol.say(json.dumps({"id": 0, "cmd": "hello", "protocol": 1}))
        await _reply(carol, 0)
        carol.say(json.dumps({"id": 1, "cmd": "register", "name": "carol",
                              "password": "secret-carol"}))
        await _reply(carol, 1)
        dave = await enter(service, "register", "dave", json_mode=False)
        clients += [alice, bob, carol, dave]
        dave.say("watch main")
        await dave.expect_text("You are watching table main")
        bots = [Bot(alice, random.Random(1), v1=False), Bot(carol, random.Random(2), v1=True)]
        running = [ensureDeferred(bot.run()) for bot in bots]
        for bot in bots:
            bot.send("seed", seed="first")
            bot.send("join", table="main")
        bob.say("join main")
        await _play(bob, 14)
        for bot in bots:
            bot.stop()
        for done in running:
            await wait(done)
        shoes = {json.loads(line)["shoe"] for line in alice.lines
                 if '"event":"shoe_retired"' in line}
        assert len(shoes) >= 3, "the run should retire several shoes"
        for shoe in sorted(shoes):
            bob.say(f"shoe {shoe}")
            alice.say(f"shoe {shoe}")
        bob.say("shoe " + json.loads(next(line for line in reversed(alice.lines)
                                          if '"event":"shuffle"' in line))["shoe"])
        await wait(service.lobby.table("main").idle())
    finally:
        await wait(service.stopService(), 15)
        globalLogPublisher.removeObserver(observe)
    assert len(seeds) >= len(shoes) + 2
    for client in clients:
        assert client.lines, "every client saw the game"
        for seed in seeds:
            first = _first_sight(client.lines, seed)
            assert first is None or _is_reveal(client.lines, first), (seed, client.lines[first])
            assert bytes.fromhex(seed) not in client.raw
    # The shoe committed to last was never dealt: its seed never left the server.
    assert all(_first_sight(c.lines, seeds[-1]) is None for c in clients)
    assert not [line for line in logged if any(s in line or s.upper() in line for s in seeds)]
    # Every retired shoe's record, exported from the database, verifies.
    for shoe in sorted(shoes):
        done = subprocess.run(
            [sys.executable, "-m", "blackjack.history", "--db", str(db), "--shoe", shoe],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert verify(ShoeRecord.from_dict(json.loads(done.stdout))).ok
