"""Events as text for people: what a terminal shows, and what it never can be made to show."""

from __future__ import annotations

import pytest

from blackjack.server.core import events
from blackjack.server.frontends.render import text_lines


def test_long_chat_is_wrapped_with_the_speaker_on_every_line() -> None:
    """In text mode a long chat line is split by the server, each piece naming the speaker."""
    say = events.SAY(table="main", player="bob",
                     text="gg " + "x" * 64 + " Dealer has blackjack: A♠ K♠.")
    lines = text_lines(say, "alice")
    assert len(lines) == 2 and all(line.startswith("[main] bob: ") for line in lines)
    assert lines[1] == "[main] bob: Dealer has blackjack: A♠ K♠."


@pytest.mark.parametrize("reason, shown", [
    ("left", "bob leaves seat 2."), ("timed out", "bob leaves seat 2 (disconnected)."),
    ("missed rounds", "bob leaves seat 2 (no bets for a while)."),
    ("idle", "bob leaves seat 2 (idle)."),
])
def test_others_are_told_why_a_player_left(reason: str, shown: str) -> None:
    """The left event's reason shows as a few words for the others at the table."""
    event = events.LEFT(table="main", seat=2, player="bob", reason=reason)
    assert text_lines(event, "alice") == [shown]


HEX = "ab" * 32


def test_a_fair_shuffle_names_the_shoe_its_commitment_and_whose_seeds_went_in() -> None:
    """A fair shuffle shows the shoe, its commitment and client seed, and the seeds' owners;
    an ordinary one stays one line."""
    fair = events.SHUFFLE(table="main", decks=6, shoe="main-1", commitment=HEX,
                          client_seed="cd" * 32, seeds=[{"player": "alice", "seed": "x"},
                                                        {"player": "bob", "seed": ""}])
    lines = text_lines(fair, "alice")
    assert lines[0] == f"* The dealer shuffles shoe main-1 (committed to as {HEX}),"
    assert lines[2] == "  made from the seeds of alice, bob."
    plain = events.SHUFFLE(table="main", decks=6, shoe=None, commitment=None, client_seed=None,
                           seeds=[])
    assert text_lines(plain, "alice") == ["* The dealer shuffles the shoe."]


def test_a_retired_shoe_shows_its_seed_and_how_to_get_its_record() -> None:
    """The retirement gives the whole seed on a line of its own, and the command for the record."""
    retired = events.SHOE_RETIRED(table="main", shoe="main-1", reason="cut card",
                                  commitment=HEX, server_seed="ef" * 32, client_seed="cd" * 32,
                                  rounds=1, cards=40)
    assert text_lines(retired, "alice") == [
        "* Shoe main-1 is retired (cut card) after 1 round; its server seed was",
        "  " + "ef" * 32,
        "  Type 'shoe main-1' for its record, to check with python -m blackjack.verify."]


def test_the_trainer_and_stats_say_what_a_choice_cost() -> None:
    """The trainer line names both plays and the cost; stats give the share matched."""
    trainer = events.TRAINER(seat=1, hand=0, action="hit", best="stand", cost=1.234,
                             values={"hit": -0.2, "stand": -0.0766}, model="exact")
    assert text_lines(trainer, "alice")[0] == (
        "Trainer: basic strategy plays stand here, not hit; yours cost 1.23 chips in "
        "expected value.")
    stats = events.STATS(rounds=4, hands=5, wins=2, losses=2, pushes=1, blackjacks=1, net=-5,
                         biggest_win=15, decisions=8, matched=6, cost=2.5, model="exact")
    assert text_lines(stats, "alice")[2] == (
        "Basic strategy agreed with 6 of your 8 decisions (75.0%); the others cost 2.50 chips "
        "in expected value (exact).")
    assert text_lines(events.STATS(rounds=0, hands=0, wins=0, losses=0, pushes=0, blackjacks=0,
                                   net=0, biggest_win=0, decisions=0, matched=0, cost=0.0,
                                   model="exact"), "alice") == ["No hands played yet."]
