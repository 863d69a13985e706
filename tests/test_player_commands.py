"""The player's commands for hands, fair shoes and numbers, typed at a terminal.

``seed``, ``hand``, ``shoe``, ``stats``, ``trainer``, ``rebuy`` and ``top``
through the text protocol (StringTransport), as a person sees them, and the
JSON a program gets for ``shoe``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest_twisted
from twisted.internet.task import Clock

from blackjack.fair import ShoeTerms, commitment
from blackjack.rules import Rules
from blackjack.server.core.accounts import Accounts
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.core.table import Table, Timers
from blackjack.server.frontends.limits import Limits
from blackjack.server.frontends.telnet.protocol import BlackjackFactory
from blackjack.testing import StackedShoe
from blackjack.verify import ShoeRecord, verify

from conftest import wait
from test_server_protocol import Conn, logged_in, until


def room(storage: Any, *tables: Table, bankroll: int = 1000,
         clock: Clock | None = None) -> BlackjackFactory:
    """A card room with these tables, cheap hashing, and an accounts clock to turn."""
    accounts = Accounts(storage, clock or Clock(), bankroll, hasher=FAST_INSECURE,
                        rebuy_cooldown=3600)
    return BlackjackFactory(Lobby(list(tables)), accounts, storage, Limits(), Clock())


def stacked(storage: Any, cards: str) -> Table:
    """A one-deck table dealing ``cards`` in order."""
    return Table("main", Rules(decks=1), storage, Clock(), Timers(), shoe=StackedShoe(cards))


@pytest_twisted.ensureDeferred
async def test_seed_shows_and_sets_the_seed_for_the_next_shoe(storage: Any) -> None:
    """`seed TEXT` sets the seed (no escape reaches it); `seed` names the shoe it goes into."""
    table = Table("main", Rules(decks=6), storage, Clock(), Timers())
    conn = await logged_in(room(storage, table), "alice")
    conn.send("seed")
    await until(lambda: "You have no seed yet" in conn.text())
    conn.send("join main")
    conn.send("seed lucky \x1b[31mseven")
    await until(lambda: "Your seed: 'lucky [31mseven'." in conn.text())
    assert f"shuffle of shoe {table.shoes.next_id}, committed to as " \
           f"{table.shoes.next.commitment}." in conn.text()
    assert table.seats[1].seed == "lucky [31mseven"


@pytest_twisted.ensureDeferred
async def test_hand_replays_a_stored_hand_step_by_step(storage: Any) -> None:
    """`history` numbers the hands; `hand N` replays one, each play with its time."""
    conn = await logged_in(room(storage, stacked(storage, "TS 6H 9C TD 8S")), "alice")
    conn.send("join main")
    conn.send("bet 10")
    await until(lambda: "Your move" in conn.text())
    conn.send("stand")
    await until(lambda: "Results:" in conn.text())
    conn.send("history")
    await until(lambda: "Recent hands" in conn.text())
    number = re.search(r"  #(\d+) ", conn.text())
    assert number is not None
    conn.transport.clear()
    conn.send(f"hand {number.group(1)}")
    await until(lambda: "You staked 10" in conn.text())
    text = conn.text()
    assert f"Hand #{number.group(1)} at table main" in text
    assert re.search(r"   1\. You: 10♠  \(10\)", text)
    assert re.search(r"\d+\. You stand\.  \[00:00:00\]", text)
    assert "Basic strategy agreed with 1 of your 1 decisions." in text
    conn.send("hand 9999")
    await until(lambda: "you have no hand 9999" in conn.text())
    conn.send("hand nine")
    await until(lambda: "usage: hand ID" in conn.text())


@pytest_twisted.ensureDeferred
async def test_shoe_gives_a_dealing_shoes_commitment_and_a_retired_shoes_record(
        storage: Any) -> None:
    """A dealing shoe shows only its commitment; once retired, JSON mode gives a record
    that python -m blackjack.verify accepts as it is."""
    short = Table("short", Rules(decks=1, penetration=0.1), storage, Clock(), Timers())
    long = Table("long", Rules(decks=6), storage, Clock(), Timers())
    conn = await logged_in(room(storage, short, long), "alice")
    conn.send("join long")
    conn.send("bet 10")
    # A fair shoe deals what it deals: an ace up asks about insurance first.
    await until(lambda: any(s in conn.text() for s in ("Your move", "Results:", "Insurance?")))
    if "Insurance?" in conn.text():
        conn.send("no")
        await until(lambda: "Your move" in conn.text() or "Results:" in conn.text())
    dealing = long.shoes.dealing_id
    conn.send(f"shoe {dealing}")
    await until(lambda: "is still dealing" in conn.text())
    assert long.shoes.dealing is not None and long.shoes.dealing.commitment in conn.text()
    conn.send("stand")  # refused if a natural already ended the round: no matter
    await until(lambda: "Results:" in conn.text())
    conn.send("leave")
    mark = len(conn.text())
    conn.send("join short")
    conn.send("bet 10")
    await until(lambda: any(s in conn.text()[mark:] for s in ("Your move", "Insurance?"))
                or "* Shoe short-" in conn.text())
    if "Insurance?" in conn.text()[mark:]:
        conn.send("no")
        await until(lambda: "Your move" in conn.text()[mark:] or "* Shoe short-" in conn.text())
    conn.send("stand")
    await until(lambda: "* Shoe short-" in conn.text())
    retired = re.search(r"Shoe (short-\w+) is retired", conn.text())
    assert retired is not None
    conn.send(f"shoe {retired.group(1)}")
    await until(lambda: "Its whole record is one line" in conn.text())
    conn.send("json on")
    conn.transport.clear()
    conn.send(f"shoe {retired.group(1)}")
    await until(lambda: '"shoe_record"' in conn.text())
    line = next(l for l in conn.text().splitlines() if '"shoe_record"' in l)
    record = json.loads(line)["record"]
    assert commitment(record["server_seed"], ShoeTerms.of(1, 0.1)) == record["commitment"]
    assert verify(ShoeRecord.from_dict(record)).ok
    conn.send("shoe nope")
    await until(lambda: "no_such_shoe" in conn.text())


@pytest_twisted.ensureDeferred
async def test_trainer_says_the_best_play_and_stats_count_it(storage: Any) -> None:
    """With the trainer on, hitting 19 against a 6 is called out; stats then count it."""
    conn = await logged_in(room(storage, stacked(storage, "TS 6H 9C TD 8S")), "alice")
    conn.send("trainer on")
    await until(lambda: "* trainer on." in conn.text())
    conn.send("join main")
    conn.send("bet 10")
    await until(lambda: "Your move" in conn.text())
    conn.send("hit")
    await until(lambda: "Results:" in conn.text())
    assert re.search(r"Trainer: basic strategy plays stand here, not hit; yours cost "
                     r"\d+\.\d\d chips in expected value\.", conn.text())
    conn.send("stats")
    await until(lambda: "1 rounds, 1 hands" in conn.text())
    assert "Basic strategy agreed with 0 of your 1 decisions (0.0%)" in conn.text()


@pytest_twisted.ensureDeferred
async def test_rebuy_is_for_the_broke_and_once_an_hour(storage: Any) -> None:
    """A player with chips is told no; a broke one gets the bankroll; the next waits an hour."""
    from twisted.internet import reactor

    clock = Clock()
    clock.advance(reactor.seconds())  # the storage stamps rows with the reactor's time
    factory = room(storage, stacked(storage, "TS 6H 9C TD 8S"), bankroll=10, clock=clock)
    conn = await logged_in(factory, "alice")
    conn.send("rebuy")
    await until(lambda: "a rebuy is for players out of chips: you have 10" in conn.text())
    account = await wait(storage.get_account("alice"))
    await wait(storage.stake(account.id, "main-x1", "seat1:bet", 10))
    await wait(storage.settle("main-x1", {account.id: 0}))
    conn.send("rebuy")
    await until(lambda: "Balance: 10 chips." in conn.text())
    await wait(storage.stake(account.id, "main-x2", "seat1:bet", 10))
    await wait(storage.settle("main-x2", {account.id: 0}))
    conn.send("rebuy")
    await until(lambda: "one rebuy per 1 hour: the next is yours in 1 hour" in conn.text())
    clock.advance(3601)
    conn.transport.clear()
    conn.send("rebuy")
    await until(lambda: "Balance: 10 chips." in conn.text())
    assert (await wait(storage.books())).balanced


@pytest_twisted.ensureDeferred
async def test_top_lists_the_most_chips_and_the_weeks_winners(storage: Any) -> None:
    """`top` shows both boards, best first."""
    factory = room(storage, stacked(storage, "TS 6H 9C TD 8S"))
    alice = await logged_in(factory, "alice")
    await logged_in(factory, "bob")
    account = await wait(storage.get_account("bob"))
    await wait(storage.issue(account.id, 500))
    alice.send("top")
    await until(lambda: "Most won in the last 7 days:" in alice.text())
    assert re.search(r"Most chips:\r\n\s+1\. bob\s+1500\r\n\s+2\. alice\s+1000", alice.text())
