"""The table state machine: betting windows, escrow, turns, timers, settlement, shutdown."""

from __future__ import annotations

import json
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from blackjack.actions import Action
from blackjack.rules import Rules
from blackjack.server.core.player import Player
from blackjack.server.core.events import Event
from blackjack.server.core.table import Table, TableError, TablePhase, Timers
from blackjack.testing import StackedShoe

from conftest import FakeClient, make_player, wait

TIMERS = Timers(bet=20, turn=30, insurance=15, grace=60)


def make_table(storage: Any, cards: str, rules: Rules | None = None) -> tuple[Table, Clock]:
    """A table dealing ``cards`` in order, on a fake clock."""
    clock = Clock()
    table = Table("main", rules or Rules(decks=1), storage, clock, TIMERS,
                  shoe=StackedShoe(cards))
    return table, clock


async def dealt(storage: Any, cards: str, *names: str, rules: Rules | None = None,
                bankroll: int = 1000) -> tuple[Table, Clock, list[Player]]:
    """A table where each named player sat down and bet 10, in seat order."""
    table, clock = make_table(storage, cards, rules)
    players = [await make_player(storage, name, bankroll) for name in names]
    for player in players:
        table.sit(player)
    for player in players:
        await wait(table.bet(player, 10))
    return table, clock, players


def events(player: Player) -> FakeClient:
    """The fake client attached to a player."""
    client = player.client
    assert isinstance(client, FakeClient)
    return client


async def balance(storage: Any, player: Player) -> int:
    """The player's balance in storage."""
    return await wait(storage.balance(player.account_id))


async def books_balance(storage: Any) -> None:
    """Assert that no chip was created or lost."""
    books = await wait(storage.books())
    assert books.balanced, books


@pytest_twisted.ensureDeferred
async def test_sitting_opens_a_betting_window(storage: Any) -> None:
    """The first player to sit down opens a betting window with its length."""
    table, clock = make_table(storage, "TS 6H 9C TD")
    alice = await make_player(storage, "alice")
    assert table.sit(alice) == 1
    assert table.phase is TablePhase.BETTING
    assert events(alice).last("betting")["seconds"] == 20


@pytest_twisted.ensureDeferred
async def test_a_won_round_pays_and_opens_the_next_window(storage: Any) -> None:
    """A bet is escrowed, dealt when all have bet, and a win is paid at settlement."""
    table, clock, (alice,) = await dealt(storage, "TS 6H 9C TD 8S", "alice")
    assert events(alice).last("balance")["balance"] == 990
    assert table.phase is TablePhase.PLAYING
    await wait(table.act(alice, Action.STAND))
    assert events(alice).last("result")["net"] == {"1": 10}
    assert events(alice).last("balance")["balance"] == 1010
    assert await balance(storage, alice) == 1010
    assert table.phase is TablePhase.BETTING
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_a_bet_outside_the_limits_is_refused(storage: Any) -> None:
    """A bet below the table minimum is refused with the limits, and nothing is staked."""
    table, clock = make_table(storage, "TS 6H 9C TD")
    alice = await make_player(storage, "alice")
    table.sit(alice)
    with pytest.raises(TableError, match="bet 10 to 500"):
        await wait(table.bet(alice, 5))
    assert await balance(storage, alice) == 1000


@pytest_twisted.ensureDeferred
async def test_the_turn_timer_stands_the_hand(storage: Any) -> None:
    """A player who does not act within the turn time stands, and the round settles."""
    table, clock, (alice,) = await dealt(storage, "TS 6H 9C TD 8S", "alice")
    assert events(alice).last("prompt")["seconds"] == 30
    clock.advance(30)
    await wait(table.idle())
    assert events(alice).last("timeout")["action"] == "stand"
    assert await balance(storage, alice) == 1010


@pytest_twisted.ensureDeferred
async def test_betting_window_deals_when_time_is_up(storage: Any) -> None:
    """When the window closes, the seats that bet are dealt in and the others sit out."""
    table, clock = make_table(storage, "TS 6H 9C TD 8S")
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    await wait(table.bet(alice, 10))
    assert table.phase is TablePhase.BETTING
    clock.advance(20)
    await wait(table.idle())
    assert table.round is not None and set(table.round.bets) == {1}


@pytest_twisted.ensureDeferred
async def test_a_window_timer_that_fires_during_the_last_bet_leaves_the_next_window(
        storage: Any) -> None:
    """The window's time runs out while the last bet is being escrowed and that bet
    deals a round the dealer's blackjack ends at once: the next window stays open."""
    table, clock = make_table(storage, "9S TH 9C AD")
    alice = await make_player(storage, "alice")
    table.sit(alice)
    betting = table.bet(alice, 10)  # the stake is on its way to the database
    clock.advance(TIMERS.bet)
    await wait(betting)
    await wait(table.idle())
    assert events(alice).last("peek")["blackjack"] is True
    assert table.phase is TablePhase.BETTING
    assert events(alice).kinds()[-1] == "betting"


@pytest_twisted.ensureDeferred
async def test_double_without_the_chips_is_refused(storage: Any) -> None:
    """Doubling with too few chips is refused with the balance and the hand plays on."""
    table, clock, (alice,) = await dealt(storage, "6S 6H 5C TD 2C", "alice", bankroll=15)
    with pytest.raises(TableError, match="not enough chips to .*double: you have 5"):
        await wait(table.act(alice, Action.DOUBLE))
    assert table.round is not None and table.round.turn is not None
    await wait(table.act(alice, Action.HIT))
    assert await balance(storage, alice) == 5


@pytest_twisted.ensureDeferred
async def test_split_and_double_escrow_and_pay_each_hand(storage: Any) -> None:
    """A split hand that doubles stakes 30 in all, and two wins return 60."""
    table, clock, (alice,) = await dealt(storage, "8S 6H 8D TD 3C TC 9H 7S", "alice")
    await wait(table.act(alice, Action.SPLIT))
    await wait(table.act(alice, Action.DOUBLE))
    await wait(table.act(alice, Action.STAND))
    result = events(alice).last("result")
    assert [(h["stake"], h["result"]) for h in result["hands"]] == [(20, "win"), (10, "win")]
    assert await balance(storage, alice) == 1030
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_insurance_pays_against_a_dealer_blackjack(storage: Any) -> None:
    """Insurance costs half the bet and pays 2:1 when the dealer has blackjack."""
    table, clock, (alice,) = await dealt(storage, "TS AH 9C KD", "alice")
    assert events(alice).last("decide")["players"] == ["alice"]
    await wait(table.act(alice, Action.INSURANCE))
    assert events(alice).last("dealer")["blackjack"] is True
    assert await balance(storage, alice) == 1000


@pytest_twisted.ensureDeferred
async def test_the_insurance_timer_declines(storage: Any) -> None:
    """Seats that do not answer the insurance offer in time decline it."""
    table, clock, (alice,) = await dealt(storage, "TS AH 9C 7D", "alice")
    clock.advance(15)
    await wait(table.idle())
    assert events(alice).last("timeout")["action"] == "no"
    assert events(alice).last("prompt")["player"] == "alice"
    await wait(table.act(alice, Action.STAND))
    assert await balance(storage, alice) == 1010


@pytest_twisted.ensureDeferred
async def test_surrender_returns_half(storage: Any) -> None:
    """Late surrender returns half the bet."""
    table, clock, (alice,) = await dealt(storage, "TS 9H 6C 8D", "alice", rules=Rules(decks=1, surrender=True))
    await wait(table.act(alice, Action.SURRENDER))
    assert await balance(storage, alice) == 995


@pytest_twisted.ensureDeferred
async def test_acting_out_of_turn_names_who_is_playing(storage: Any) -> None:
    """A player acting on another seat's turn is told whose turn it is."""
    table, clock, (alice, bob) = await dealt(storage, "TS 9S 6H 9C 8C TD", "alice", "bob")
    with pytest.raises(TableError, match=r"not your turn: seat 1 \(alice\)"):
        await wait(table.act(bob, Action.STAND))


@pytest_twisted.ensureDeferred
async def test_nobody_sees_the_hole_card_before_the_reveal(storage: Any) -> None:
    """Players and spectators receive nothing naming the hole card until it is turned over."""
    table, clock = make_table(storage, "TS 9S 6H 9C 8C QD 5H 7S")
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    carol = await make_player(storage, "carol")
    table.sit(alice)
    table.sit(bob)
    table.watch(carol)
    await wait(table.bet(alice, 10))
    await wait(table.bet(bob, 10))
    await wait(table.act(alice, Action.STAND))
    await wait(table.act(bob, Action.HIT))
    for player in (alice, bob, carol):
        kinds = events(player).kinds()
        assert "reveal" in kinds
        before = events(player).events[:kinds.index("reveal")]
        assert "QD" not in json.dumps(before)
        assert events(player).last("reveal")["card"] == "QD"


@pytest_twisted.ensureDeferred
async def test_leaving_in_the_betting_window_returns_the_bet(storage: Any) -> None:
    """A bet withdrawn by leaving before the deal comes back in full."""
    table, clock = make_table(storage, "TS 6H 9C TD 8S")
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    await wait(table.bet(alice, 10))
    await wait(table.leave(alice))
    assert await balance(storage, alice) == 990  # held until the round is paid
    await wait(table.bet(bob, 20))
    await wait(table.act(bob, Action.STAND))
    assert await balance(storage, alice) == 1000
    assert await balance(storage, bob) == 1020
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_a_lone_withdrawn_bet_is_refunded(storage: Any) -> None:
    """If the only bet is withdrawn and the window closes, the round is refunded
    (and bob, still seated, gets a fresh window: seated players see windows pass)."""
    table, clock = make_table(storage, "TS 6H 9C TD")
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    await wait(table.bet(alice, 10))
    first = table.round_id
    await wait(table.leave(alice))
    clock.advance(20)
    await wait(table.idle())
    assert table.phase is TablePhase.BETTING and table.round_id != first
    assert await balance(storage, alice) == 1000


@pytest_twisted.ensureDeferred
async def test_leaving_mid_round_stands_and_settles(storage: Any) -> None:
    """A player who leaves with a hand in play stands; the hand settles; the seat frees."""
    table, clock, (alice,) = await dealt(storage, "TS 6H 9C TD 8S", "alice")
    await wait(table.leave(alice))
    assert table.seats == {}
    assert await balance(storage, alice) == 1010
    assert table.phase is TablePhase.IDLE


@pytest_twisted.ensureDeferred
async def test_a_disconnected_player_times_out_and_keeps_the_seat(storage: Any) -> None:
    """A dropped player's turn times out to stand, and logging back in finds the seat."""
    table, clock, (alice, bob) = await dealt(storage, "TS 9S 6H 9C 8C TD 8S", "alice", "bob")
    alice.client = None
    table.player_disconnected(alice)
    clock.advance(30)
    await wait(table.idle())
    await wait(table.act(bob, Action.STAND))
    assert await balance(storage, alice) == 1010  # 19 against the dealer's 16 + 8
    alice.client = FakeClient()
    table.player_reconnected(alice)
    assert events(alice).last("table")["seats"] == {"1": "alice", "2": "bob"}
    clock.advance(120)
    assert table.seats[1] is alice


@pytest_twisted.ensureDeferred
async def test_the_seat_frees_when_the_grace_period_ends(storage: Any) -> None:
    """A player who stays away past the grace period loses the seat (after the round)."""
    table, clock = make_table(storage, "TS 6H 9C TD 8S")
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    alice.client = None
    table.player_disconnected(alice)
    clock.advance(60)
    await wait(table.idle())
    assert list(table.seats) == [2]
    assert alice.table is None and alice.seat is None


@pytest_twisted.ensureDeferred
async def test_coming_back_as_the_grace_period_ends_keeps_the_seat_and_bet(
        storage: Any) -> None:
    """A player whose grace runs out while the table is busy, and who logs back in
    before the table gets to it, keeps the seat and the bet."""
    clock = Clock()
    table = Table("main", Rules(decks=1), storage, clock, Timers(bet=90, grace=60),
                  shoe=StackedShoe("TS 6H 9C TD 8S 7C"))
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    await wait(table.bet(alice, 10))
    alice.client = None
    table.player_disconnected(alice)
    clock.advance(59)
    busy: Deferred[None] = Deferred()
    table._queue.run(lambda: busy)  # the table is busy, as with a double being escrowed
    clock.advance(1)  # grace over: the leave waits in the queue
    alice.client = FakeClient()
    table.player_reconnected(alice)
    busy.callback(None)
    await wait(table.bet(bob, 10))
    await wait(table.idle())
    assert (alice.table, alice.seat) == (table, 1)
    assert table.round is not None and table.round.turn is not None
    assert table.round.turn.seat == 1  # her hand waits for her, not stood for her


@pytest_twisted.ensureDeferred
async def test_stopping_mid_round_settles_every_hand(storage: Any) -> None:
    """Shutdown stands every hand still in play and pays the round normally."""
    table, clock, (alice,) = await dealt(storage, "TS 6H 9C TD 8S", "alice")
    await wait(table.stop())
    assert table.phase is TablePhase.CLOSED
    assert events(alice).last("balance")["balance"] == 1010
    assert await balance(storage, alice) == 1010
    assert clock.getDelayedCalls() == []


@pytest_twisted.ensureDeferred
async def test_stopping_in_the_betting_window_refunds(storage: Any) -> None:
    """Shutdown before the deal returns every bet."""
    table, clock = make_table(storage, "TS 6H 9C TD")
    alice = await make_player(storage, "alice")
    table.sit(alice)
    table.sit(await make_player(storage, "bob"))
    await wait(table.bet(alice, 10))
    await wait(table.stop())
    assert await balance(storage, alice) == 1000
    assert events(alice).last("balance")["balance"] == 1000
    with pytest.raises(TableError, match="closed"):
        table.sit(await make_player(storage, "carol"))


@pytest_twisted.ensureDeferred
async def test_closing_mid_round_plays_the_round_out_first(storage: Any) -> None:
    """An admin's close lets the round in play go on as usual (no hand stands for the
    player, the turn timer still runs), refuses newcomers, and once the round is paid
    stands everyone up with reason 'closed' instead of opening a window."""
    table, clock, (alice,) = await dealt(storage, "TS 6H 9C TD 8S", "alice")
    bob = await make_player(storage, "bob")
    table.watch(bob)
    closed = table.close()
    assert not closed.called and table.phase is TablePhase.PLAYING
    assert "closes once this round is over" in events(alice).last("info")["message"]
    with pytest.raises(TableError, match="closed"):
        table.sit(await make_player(storage, "carol"))
    await wait(table.act(alice, Action.HIT))  # still her decision: 19 + 8 busts
    await wait(closed)
    assert table.phase is TablePhase.CLOSED
    assert events(alice).last("result")["net"] == {"1": -10}
    assert events(alice).last("left") == {"event": "left", "table": "main", "seat": 1,
                                          "player": "alice", "reason": "closed"}
    assert events(bob).last("left")["reason"] == "closed"
    assert (alice.table, alice.seat, bob.table) == (None, None, None)
    assert "betting" not in events(alice).kinds()[-3:]
    assert clock.getDelayedCalls() == []
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_closing_a_quiet_table_closes_it_at_once(storage: Any) -> None:
    """With no bet placed in the open window the table closes at once, and a bet
    withdrawn in that window is refunded."""
    table, clock = make_table(storage, "TS 6H 9C TD")
    alice, bob = await make_player(storage, "alice"), await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    await wait(table.bet(alice, 10))
    await wait(table.leave(alice))  # the bet is withdrawn: owed back with the round
    await wait(table.close())
    assert table.phase is TablePhase.CLOSED and table.closing
    assert events(bob).last("left")["reason"] == "closed" and bob.table is None
    await wait(table.idle())
    assert await balance(storage, alice) == 1000
    assert (await wait(table.close())) is None  # closing twice is harmless
    await books_balance(storage)


class BrokenClient(FakeClient):
    """A client whose rendering of round results blows up."""

    def send_event(self, event: dict[str, Any]) -> None:
        if event["event"] == "result":
            raise RuntimeError("cannot render this event")
        super().send_event(event)


@pytest_twisted.ensureDeferred
async def test_a_client_that_cannot_take_an_event_does_not_stall_the_round(
        storage: Any) -> None:
    """A spectator whose client raises on the result cannot leave the round unpaid in escrow."""
    table, clock = make_table(storage, "TS 6H 9C TD 8S")
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    bob.client = BrokenClient()
    table.watch(bob)
    table.sit(alice)
    await wait(table.bet(alice, 10))
    await wait(table.act(alice, Action.STAND))
    assert events(alice).last("balance")["balance"] == 1010
    assert table.phase is TablePhase.BETTING
    assert (await wait(storage.books())).escrow == 0
    assert events(bob).kinds()[-2:] == ["dealer", "betting"]  # all but the result


@pytest_twisted.ensureDeferred
async def test_full_table_and_taken_seat_are_explained(storage: Any) -> None:
    """Asking for a taken seat lists the free ones; a full table suggests watching."""
    table, clock = make_table(storage, "TS")
    players = [await make_player(storage, f"p{i}") for i in range(8)]
    table.sit(players[0], 3)
    with pytest.raises(TableError, match="seat 3 is taken; free seats: 1, 2, 4"):
        table.sit(players[1], 3)
    for p in players[1:7]:
        table.sit(p)
    with pytest.raises(TableError, match="full; try watch main"):
        table.sit(players[7])


@pytest_twisted.ensureDeferred
async def test_a_flood_of_refused_commands_does_not_freeze_the_table(storage: Any) -> None:
    """Thousands of commands queued behind a bet's escrow are all refused, and play goes on."""
    table, clock = make_table(storage, "TS 9C TH 7D TD 8S")
    alice, bob = [await make_player(storage, name) for name in ("alice", "bob")]
    table.sit(alice)
    table.sit(bob)
    escrow = table.bet(alice, 10)  # waits on the database: the flood queues behind it
    refused: list[str] = []
    for _ in range(3000):
        table.bet(bob, 1).addErrback(lambda failure: refused.append(str(failure.value)))
    await wait(escrow)
    await wait(table.idle())
    assert len(refused) == 3000 and "10" in refused[0]
    await wait(table.bet(bob, 10))
    await wait(table.act(alice, Action.STAND))
    await wait(table.act(bob, Action.STAND))
    assert events(bob).last("result")["net"] == {"1": -10, "2": 10}


@pytest_twisted.ensureDeferred
async def test_everyone_at_the_table_shares_one_copy_of_each_broadcast(storage: Any) -> None:
    """A table event reaches every seat as one shared Event, so it is encoded once for all."""
    table, clock, (alice, bob) = await dealt(storage, "TS 9C TH 7D TD 8S", "alice", "bob")
    deal_for_alice = events(alice).last("deal")
    assert isinstance(deal_for_alice, Event)
    assert deal_for_alice is events(bob).last("deal")


@pytest_twisted.ensureDeferred
async def test_the_insurance_offer_lists_only_the_answers_the_rules_allow(storage: Any) -> None:
    """Without a natural at the table, the offer is insurance or no; a natural adds even money."""
    table, clock, (alice,) = await dealt(storage, "TS AH 9C 7D", "alice")
    assert events(alice).last("decide")["legal"] == ["insurance", "no"]
    table2, clock2, (bob,) = await dealt(storage, "AS AH KC 7D", "bob")
    assert events(bob).last("decide")["legal"] == ["even", "no"]


class SlowCommits:
    """The real storage, but each stake's answer waits until ``commit()``: a slow disk."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self.waiting: list[tuple[Deferred[int], Deferred[int]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def stake(self, *args: Any, **kwargs: Any) -> Deferred[int]:
        answer: Deferred[int] = Deferred()
        self.waiting.append((self._storage.stake(*args, **kwargs), answer))
        return answer

    def commit(self, count: int | None = None) -> None:
        """Answer the first ``count`` stakes waiting (all of them by default)."""
        count = len(self.waiting) if count is None else count
        waiting, self.waiting = self.waiting[:count], self.waiting[count:]
        for real, answer in waiting:
            real.chainDeferred(answer)


async def slow_table(storage: Any, *names: str, bankroll: int = 1000,
                     ) -> tuple[Table, Clock, SlowCommits, list[Player]]:
    """Players seated at a table whose stakes commit only when the test says."""
    slow = SlowCommits(storage)
    table, clock = make_table(slow, " ".join(["TS 6H 9C TD 8S 7C 5D 4H"] * 4))
    players = [await make_player(storage, name, bankroll) for name in names]
    for player in players:
        table.sit(player)
    return table, clock, slow, players


@pytest_twisted.ensureDeferred
async def test_bets_at_one_table_go_to_the_database_together(storage: Any) -> None:
    """Seven bets in one window are escrowed side by side, not each after the last one commits."""
    names = ["ann", "bea", "cat", "dot", "eve", "fay", "gus"]
    table, clock, slow, players = await slow_table(storage, *names)
    placed = [table.bet(player, 10) for player in players]
    assert len(slow.waiting) == 7 and not any(d.called for d in placed)
    assert table.round is None  # nobody's bet is in yet, so nobody is dealt in
    slow.commit()
    for d in placed:
        await wait(d)
    await wait(table.idle())
    assert table.round is not None and sorted(table.round.bets) == list(range(1, 8))
    assert [e["seat"] for e in events(players[0]).events if e["event"] == "bet"] == list(range(1, 8))


@pytest_twisted.ensureDeferred
async def test_the_window_closes_only_once_the_stakes_in_flight_are_in(storage: Any) -> None:
    """Time running out while a bet commits deals that bet in, rather than leaving it in escrow."""
    table, clock, slow, (ann, bea) = await slow_table(storage, "ann", "bea")
    pending = table.bet(ann, 10)
    with pytest.raises(TableError, match="still being placed"):
        await wait(table.bet(ann, 10))
    clock.advance(TIMERS.bet)  # time is up while ann's stake is on its way
    assert table.round is None and table.phase is TablePhase.BETTING
    slow.commit()
    await wait(pending)
    await wait(table.idle())
    assert table.round is not None and list(table.round.bets) == [1]
    assert (await wait(storage.books())).escrow == 10


@pytest_twisted.ensureDeferred
async def test_leaving_while_a_bet_commits_gets_it_back(storage: Any) -> None:
    """A player who stands up before their stake commits is paid it back when the round settles."""
    table, clock, slow, (ann, bea) = await slow_table(storage, "ann", "bea")
    ann_bet, bea_bet = table.bet(ann, 10), table.bet(bea, 10)
    await wait(table.leave(ann))
    slow.commit()
    await wait(ann_bet)
    await wait(bea_bet)
    await wait(table.idle())
    assert "your bet is returned" in [e.get("message") for e in events(ann).events]
    assert table.round is not None and list(table.round.bets) == [2]
    while table.round is not None and table.round.turn is not None:
        await wait(table.act(bea, Action.STAND))
    await wait(table.idle())
    assert await balance(storage, ann) == 1000
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_a_refused_stake_in_flight_does_not_stop_the_others(storage: Any) -> None:
    """One bettor short of chips is told so; the other bets stand and the round deals."""
    table, clock, slow, (ann, bea) = await slow_table(storage, "ann", "bea", bankroll=5)
    await wait(storage.issue(bea.account_id, 100))
    ann_bet, bea_bet = table.bet(ann, 10), table.bet(bea, 10)
    slow.commit()
    with pytest.raises(TableError, match="not enough chips to bet: you have 5"):
        await wait(ann_bet)
    await wait(bea_bet)
    clock.advance(TIMERS.bet)
    await wait(table.idle())
    assert table.round is not None and list(table.round.bets) == [2]
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_stopping_while_a_bet_commits_returns_it(storage: Any) -> None:
    """A shutdown in the betting window refunds a stake still on its way, and the books balance."""
    table, clock, slow, (ann,) = await slow_table(storage, "ann")
    ann_bet = table.bet(ann, 10)
    stopped = table.stop()
    slow.commit()
    await wait(ann_bet)
    await wait(stopped)
    await wait(table.idle())
    assert await balance(storage, ann) == 1000
    assert (await wait(storage.books())).escrow == 0
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_a_refusal_that_closes_the_window_is_told_after_the_round_it_deals(
        storage: Any) -> None:
    """When the last stake in flight is refused after time ran out, the table deals (and here
    settles a blackjack) before the refusal is reported: nothing runs beside the table's queue."""
    slow = SlowCommits(storage)
    table, clock = make_table(slow, "AS 9C KD 7H")  # bea's blackjack against a 9: paid at once
    ann = await make_player(storage, "ann", 5)
    bea = await make_player(storage, "bea")
    table.sit(ann)
    table.sit(bea)
    bea_bet = table.bet(bea, 10)
    ann_bet = table.bet(ann, 10)
    slow.commit(1)
    await wait(bea_bet)
    clock.advance(TIMERS.bet)  # time is up; ann's stake is still on its way
    assert table.round is None
    told: Deferred[tuple[object, int]] = Deferred()
    ann_bet.addErrback(lambda failure: told.callback((failure.value, len(events(bea).events))))
    slow.commit()
    error, seen_by_then = await wait(told)
    assert isinstance(error, TableError)
    assert {"event": "balance", "balance": 1015} in events(bea).events[:seen_by_then]  # paid


# --- seats are for playing: missed betting windows ------------------------------------


def silent_table(storage: Any, missed_rounds: int = 3) -> tuple[Table, Clock]:
    """A table whose seated players may let ``missed_rounds`` windows pass."""
    clock = Clock()
    timers = Timers(bet=20, turn=30, insurance=15, grace=60, missed_rounds=missed_rounds)
    return Table("main", Rules(decks=1), storage, clock, timers,
                 shoe=StackedShoe("TS 6H 9C TD 8S")), clock


async def windows(table: Table, clock: Clock, count: int) -> None:
    """Let ``count`` betting windows run out, one at a time (each opens the next)."""
    for _ in range(count):
        clock.advance(table.timers.bet)
        await wait(table.idle())


@pytest_twisted.ensureDeferred
async def test_a_player_who_never_bets_is_stood_up_after_missed_rounds(storage: Any) -> None:
    """Three windows without a bet: warned after the second, stood up after the third,
    chips untouched, everyone told why."""
    table, clock = silent_table(storage)
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    table.sit(alice)
    table.watch(bob)
    for window in range(2):
        clock.advance(20)
        await wait(table.idle())
        assert table.seats == {1: alice} and table.phase is TablePhase.BETTING
    assert "if the next one closes without your bet" in events(alice).last("info")["message"]
    clock.advance(20)
    await wait(table.idle())
    assert table.seats == {} and alice.table is None
    assert events(bob).last("left") == {"event": "left", "table": "main", "seat": 1,
                                        "player": "alice", "reason": "missed rounds"}
    assert "did not bet for 3 betting windows" in events(alice).last("info")["message"]
    assert table.phase is TablePhase.IDLE
    assert await balance(storage, alice) == 1000
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_a_bet_starts_the_count_again(storage: Any) -> None:
    """Two windows missed, a round played, two more missed: still seated."""
    table, clock = silent_table(storage)
    alice = await make_player(storage, "alice")
    table.sit(alice)
    await windows(table, clock, 2)
    await wait(table.bet(alice, 10))
    await wait(table.act(alice, Action.STAND))
    assert table.phase is TablePhase.BETTING
    await windows(table, clock, 2)
    assert table.seats == {1: alice}
    await windows(table, clock, 1)
    assert table.seats == {}


@pytest_twisted.ensureDeferred
async def test_a_window_counts_only_for_those_seated_for_half_of_it(storage: Any) -> None:
    """Sitting down with seconds left in a window does not count that window as missed."""
    table, clock = silent_table(storage, missed_rounds=1)
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    carol = await make_player(storage, "carol")
    table.sit(bob)
    clock.advance(10)
    table.sit(carol)  # half the window left: it counts
    clock.advance(1)
    table.sit(alice)
    clock.advance(9)  # the first window closes
    await wait(table.idle())
    assert table.seats == {3: alice}
    await windows(table, clock, 1)
    assert table.seats == {}


@pytest_twisted.ensureDeferred
async def test_a_dropped_player_is_left_to_the_grace_timer(storage: Any) -> None:
    """Windows missed while disconnected are not counted; the grace period decides."""
    table, clock = silent_table(storage, missed_rounds=1)
    alice = await make_player(storage, "alice")
    bob = await make_player(storage, "bob")
    carol = await make_player(storage, "carol")
    table.sit(alice)
    table.sit(bob)
    table.watch(carol)
    alice.client = None
    table.player_disconnected(alice)
    await windows(table, clock, 1)
    assert table.seats == {1: alice}
    clock.advance(40)
    await wait(table.idle())
    left = [e for e in events(carol).events if e["event"] == "left"]
    assert [(e["player"], e["reason"]) for e in left] == [("bob", "missed rounds"),
                                                         ("alice", "timed out")]


@pytest_twisted.ensureDeferred
async def test_coming_back_to_a_quiet_table_opens_a_window(storage: Any) -> None:
    """A player back at a table that went idle while they were away sees windows again,
    so the count of missed ones can free the seat."""
    table, clock = silent_table(storage, missed_rounds=1)
    alice = await make_player(storage, "alice")
    table.sit(alice)
    alice.client = None
    table.player_disconnected(alice)
    await windows(table, clock, 1)
    assert table.phase is TablePhase.IDLE
    alice.client = FakeClient()
    table.player_reconnected(alice)
    assert table.phase is TablePhase.BETTING
    await windows(table, clock, 1)
    assert table.seats == {}


@pytest_twisted.ensureDeferred
async def test_missed_rounds_zero_lets_a_silent_player_keep_the_seat(storage: Any) -> None:
    """With the rule off, a window with no bets leaves the table idle, as before."""
    table, clock = silent_table(storage, missed_rounds=0)
    alice = await make_player(storage, "alice")
    table.sit(alice)
    await windows(table, clock, 10)
    assert table.seats == {1: alice} and table.phase is TablePhase.IDLE


@pytest_twisted.ensureDeferred
async def test_seven_silent_players_free_a_full_table(storage: Any) -> None:
    """A table filled by seven players who never bet is empty after three windows."""
    table, clock = silent_table(storage)
    sitters = [await make_player(storage, f"quiet{n}") for n in range(7)]
    for player in sitters:
        table.sit(player)
    newcomer = await make_player(storage, "newcomer")
    with pytest.raises(TableError, match="table main is full"):
        table.sit(newcomer)
    await windows(table, clock, 2)
    with pytest.raises(TableError, match="table main is full"):
        table.sit(newcomer)
    await windows(table, clock, 1)
    assert table.seats == {}
    assert table.sit(newcomer) == 1
    for player in sitters:
        assert await balance(storage, player) == 1000


def test_timers_refuse_nonsense() -> None:
    """Negative missed rounds or idle time, or a window of no time, cannot be built."""
    for bad in ({"missed_rounds": -1}, {"idle": -5.0}, {"bet": 0.0}):
        with pytest.raises(ValueError):
            Timers(**bad)  # type: ignore[arg-type]


# -- handing the table to another node ------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_a_pause_lets_the_round_in_play_finish_then_opens_no_window(
        storage: Any) -> None:
    """Paused mid-round, the table plays the round out and pays it, then rests: no new
    window, and a bet that would open one is refused as moving."""
    table, clock, (alice,) = await dealt(storage, "TS 6H 9C TD 8S", "alice")
    paused = table.pause()
    await wait(table.idle())
    assert not paused.called
    await wait(table.act(alice, Action.STAND))
    await wait(paused)
    assert table.phase is TablePhase.IDLE and events(alice).last("result")["net"] == {"1": 10}
    assert events(alice).kinds().count("betting") == 1
    with pytest.raises(TableError) as refused:
        await wait(table.bet(alice, 10))
    assert refused.value.code == "table_moving"
    assert await balance(storage, alice) == 1010


@pytest_twisted.ensureDeferred
async def test_a_pause_closes_a_window_with_no_bets_at_once(storage: Any) -> None:
    """An open window nobody has bet in closes when the table pauses."""
    table, clock = make_table(storage, "TS 6H 9C TD")
    alice = await make_player(storage, "alice")
    table.sit(alice)
    assert table.phase is TablePhase.BETTING
    await wait(table.pause())
    assert table.phase is TablePhase.IDLE and alice.seat == 1
    clock.advance(TIMERS.bet)
    assert events(alice).kinds().count("betting") == 1


@pytest_twisted.ensureDeferred
async def test_a_pause_deals_a_window_that_holds_bets(storage: Any) -> None:
    """A window with a bet in it is dealt and played when it closes, not refunded."""
    table, clock = make_table(storage, "TS 6H 9C TD 8S")
    alice, bob = await make_player(storage, "alice"), await make_player(storage, "bob")
    table.sit(alice)
    table.sit(bob)
    await wait(table.bet(alice, 10))
    paused = table.pause()
    await wait(table.idle())
    assert table.phase is TablePhase.BETTING and not paused.called
    clock.advance(TIMERS.bet)
    await wait(table.idle())
    assert table.phase is TablePhase.PLAYING
    await wait(table.act(alice, Action.STAND))
    await wait(paused)
    assert await balance(storage, alice) == 1010
    await books_balance(storage)


@pytest_twisted.ensureDeferred
async def test_releasing_forgets_everyone_without_a_word(storage: Any) -> None:
    """A released table names who sat where and who watched, stops its timers (a held
    seat's grace too) and sends nothing more."""
    table, clock = make_table(storage, "TS 6H 9C TD")
    alice, bob, carol = [await make_player(storage, n) for n in ("alice", "bob", "carol")]
    table.sit(alice)
    table.sit(carol)
    table.watch(bob)
    carol.client = None
    table.player_disconnected(carol)
    await wait(table.pause())
    sent = [len(events(p).events) for p in (alice, bob)]
    assert table.release() == {alice: 1, carol: 2, bob: None}
    assert (alice.table, alice.seat, bob.table, carol.seat) == (None, None, None, None)
    clock.advance(TIMERS.grace + TIMERS.bet)
    assert [len(events(p).events) for p in (alice, bob)] == sent
    assert table.phase is TablePhase.CLOSED and table.seats == {}


@pytest_twisted.ensureDeferred
async def test_a_round_whose_lease_moved_is_not_paid(storage: Any) -> None:
    """Once another node took the table over, the round in play here cannot be settled:
    the players hear it is void, and the takeover's refund is all that moved."""
    from blackjack.server.storage.memory import MemoryDatabase, MemoryStorage

    database = MemoryDatabase()
    here, there = MemoryStorage(database), MemoryStorage(database)
    table, clock = make_table(here, "TS 6H 9C TD 8S")
    table.fence = (await wait(here.take_table("main", "n1", 0))).fence
    alice = await make_player(here, "alice")
    table.sit(alice)
    await wait(table.bet(alice, 10))
    taken = await wait(there.take_table("main", "n2", 60))
    assert [amount for _, _, amount in taken.refunded] == [10]
    await wait(table.act(alice, Action.STAND))
    error = events(alice).last("error")
    assert error["code"] == "table_moving" and "void" in error["message"]
    assert "result" in events(alice).kinds()  # the cards were played; the chips did not move
    assert await balance(here, alice) == 1000
    await books_balance(here)


@pytest_twisted.ensureDeferred
async def test_every_seat_taken_or_given_up_is_reported(storage: Any) -> None:
    """The seat hook fires as seats are taken and given up, and the held seats say who
    still holds one (not a player who left mid-round)."""
    table, clock, (alice, bob) = await dealt(storage, "TS 6H 9C TD 8S 7C 2D", "alice", "bob")
    reports: list[dict[int, str]] = []
    table.on_seats_changed = lambda: reports.append(
        {s: p.name for s, p in table.held_seats.items()})
    await wait(table.leave(bob))
    carol = await make_player(storage, "carol")
    table.sit(carol)
    assert reports == [{1: "alice"}, {1: "alice", 3: "carol"}]
