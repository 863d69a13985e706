"""python -m blackjack.history: hands exported as JSON lines, replayed as text, shoes printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock

from blackjack.rules import Rules
from blackjack.server.core.table import Table, TablePhase, Timers
from blackjack.server.storage.sqlite import SQLiteStorage
from blackjack.verify import ShoeRecord, verify

from conftest import conforms, make_player, wait

ROOT = Path(__file__).resolve().parent.parent


def history(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line in a fresh interpreter (it runs its own reactor)."""
    return subprocess.run([sys.executable, "-m", "blackjack.history", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def room(tmp_path: Path) -> Path:
    """A database where alice played two rounds at a table whose shoes retire each round."""
    path = tmp_path / "room.sqlite3"

    async def play() -> None:
        storage = SQLiteStorage(str(path), Clock().seconds)
        table = Table("main", Rules(decks=1, penetration=0.1), storage, Clock(), Timers())
        alice = await make_player(storage, "alice")
        table.sit(alice)
        for _ in range(2):
            await wait(table.bet(alice, 10))
            while table.phase is TablePhase.PLAYING:
                await wait(table.act(alice, _stand_or_decline(table)))
            await wait(table.idle())
        await wait(storage.close())

    pytest_twisted.blockon(ensureDeferred(play()))
    return path


def _stand_or_decline(table: Table) -> Any:
    from blackjack.actions import Action
    from blackjack.round import Phase

    rnd = table.round
    assert rnd is not None
    return Action.NO_INSURANCE if rnd.phase is Phase.INSURANCE else Action.STAND


def test_a_players_hands_export_as_json_lines_of_hand_events(room: Path) -> None:
    """--player NAME --json prints one ``hand`` event a line, newest first, each valid."""
    done = history("--db", str(room), "--player", "alice", "--json")
    assert done.returncode == 0, done.stderr
    hands = [conforms(json.loads(line)) for line in done.stdout.splitlines()]
    assert len(hands) == 2 and all(h["event"] == "hand" for h in hands)
    assert hands[0]["id"] > hands[1]["id"]
    assert all(h["shoe"]["retired"] and h["steps"] for h in hands)


def test_a_hand_replays_in_the_terminal_and_a_shoe_prints_its_record(room: Path) -> None:
    """--hand ID replays step by step as text; --shoe ID prints a record that verifies."""
    exported = history("--db", str(room), "--player", "alice", "--json")
    hand = json.loads(exported.stdout.splitlines()[0])
    done = history("--db", str(room), "--player", "alice", "--hand", str(hand["id"]),
                   "--ascii")
    assert done.returncode == 0, done.stderr
    assert f"Hand #{hand['id']} at table main" in done.stdout
    assert "   1. You: " in done.stdout and "You staked 10" in done.stdout
    shoe = history("--db", str(room), "--shoe", hand["shoe"]["shoe"])
    assert shoe.returncode == 0, shoe.stderr
    assert verify(ShoeRecord.from_dict(json.loads(shoe.stdout))).ok


def test_unknown_names_and_missing_options_are_clear(room: Path) -> None:
    """A player or shoe not in the database exits 1 saying so; no --player or --shoe is usage."""
    done = history("--db", str(room), "--player", "zed")
    assert done.returncode == 1 and "no player 'zed'" in done.stderr
    done = history("--db", str(room), "--shoe", "main-nothing")
    assert done.returncode == 1 and "no shoe 'main-nothing'" in done.stderr
    done = history("--db", str(room))
    assert done.returncode == 2 and "give --player NAME, or --shoe ID" in done.stderr
