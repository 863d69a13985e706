"""Tests for blackjack.server.frontends.turns: work held to the end of the reactor's turn."""

from __future__ import annotations

from twisted.internet.task import Clock

from blackjack.server.frontends.turns import EndOfTurn, end_of_turn


def test_what_is_added_runs_once_after_the_turn_with_one_timer() -> None:
    """Everything added in a turn runs, in order, when the turn is over, on one timer."""
    clock = Clock()
    turns = EndOfTurn(clock)
    ran: list[str] = []
    turns.add(lambda: ran.append("a"))
    turns.add(lambda: ran.append("b"))
    assert ran == [] and len(clock.getDelayedCalls()) == 1
    clock.advance(0)
    assert ran == ["a", "b"] and clock.getDelayedCalls() == []


def test_work_added_while_running_runs_on_a_timer_of_its_own() -> None:
    """What runs at the end of a turn and adds more gets a new timer (the reactor runs it
    at the end of its next turn), and nothing is lost or run twice."""
    clock = Clock()
    turns = EndOfTurn(clock)
    ran: list[str] = []
    turns.add(lambda: (ran.append("first"), turns.add(lambda: ran.append("later"))))
    clock.advance(0)  # a Clock runs the new timer in the same advance; the reactor does not
    clock.advance(0)
    assert ran == ["first", "later"] and clock.getDelayedCalls() == []


def test_one_per_clock() -> None:
    """Connections on one reactor share its EndOfTurn; another clock has its own."""
    one, other = Clock(), Clock()
    assert end_of_turn(one) is end_of_turn(one)
    assert end_of_turn(one) is not end_of_turn(other)
