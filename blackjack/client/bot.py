"""A bot for one seat: bets in every betting window and answers every decision by a policy.

A :class:`Bot` reads three events from its :class:`~blackjack.client.connection.Client`:
``betting`` (a window opens: bet), ``prompt`` (your move: play one of its
``legal`` actions) and ``decide`` (insurance is offered: answer it), and
counts each ``result``.  What to play is a :data:`Policy`, a function of the
``prompt`` or ``decide`` event; :func:`basic_strategy` is the one to use,
built on :func:`blackjack.strategy.advise`.  Scripts and tests share this
bot: the load test, the crash test and ``scripts/example_bot.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.actions import Action
from blackjack.cards import Card
from blackjack.client.connection import Client, Message
from blackjack.client.errors import ConnectionClosed, RequestRefused, TimedOut
from blackjack.hand import Hand
from blackjack.rules import Rules
from blackjack.strategy import advise

__all__ = ["Bot", "Policy", "basic_strategy"]

Policy = Callable[[Message], str | None]
"""What to answer a ``prompt`` or ``decide`` event: a command (``hit``, ``no``...),
or ``None`` to leave the decision to the table's timer."""

_ACTIONS = {action.value: action for action in Action}
_log = Logger()


def basic_strategy(rules: Rules | None = None) -> Policy:
    """The basic-strategy policy for ``rules`` (the default rules if ``None``).

    It plays the hand the event names against the dealer's upcard, among
    the event's ``legal`` actions, and always declines insurance.
    """
    rules = rules if rules is not None else Rules()

    def choose(event: Message) -> str | None:
        legal = {_ACTIONS[name] for name in event["legal"] if name in _ACTIONS}
        if not legal:
            return None
        view = event["view"]
        # A prompt names its seat and hand; insurance is asked of a seat's first hand.
        seat = event["seat"] if "seat" in event else event["seats"][0]
        hands = next(s for s in view["seats"] if s["seat"] == seat)["hands"]
        hand = Hand.of(*hands[event.get("hand", 0)]["cards"], from_split=len(hands) > 1)
        return advise(rules, hand, Card.parse(view["dealer"][0]), legal).value

    return choose


class Bot:
    """Plays one seat at ``table`` over ``client`` until stopped.

    ``bet`` is the stake for each round (an int, a function giving one, or
    ``None`` for the table minimum); ``pause``, if given, says how many
    seconds to wait before each bet or play (a person's thinking time);
    ``hands``, if given, is how many rounds to bet on: the bot then plays
    out its last hand and bets no more, so no chip is left in escrow.
    Call :meth:`sit` to join and play, or :meth:`start` to play a seat
    joined some other way (events caused by the join come before its reply,
    so start first).
    """

    def __init__(self, client: Client, table: str, *, policy: Policy | None = None,
                 bet: int | Callable[[], int] | None = None,
                 pause: Callable[[], float] | None = None, hands: int | None = None) -> None:
        self.client = client
        self.table = table
        self.policy = policy if policy is not None else basic_strategy()
        self.stake = bet
        self.pause = pause
        self.quota = hands
        self.bets = 0
        """Bets sent and not refused."""
        self.rounds = 0
        """Rounds settled at the table while the bot was there."""
        self.hands = 0
        """Rounds in which the bot had a hand."""
        self.net = 0
        """Chips won (or lost, if negative) over those rounds."""
        self.refusals: Counter[str] = Counter()
        """Refused requests, by error code."""
        self._bet_round: str | None = None
        self._later: IDelayedCall | None = None
        self._until: list[tuple[int, Deferred[None]]] = []
        self._listening = False

    # -- starting and stopping ------------------------------------------------------------

    def sit(self, seat: int | None = None) -> Deferred[None]:
        """Join the table (``seat``, or the lowest free one) and play."""
        self.start()
        return self.client.join(self.table, seat)

    def start(self) -> None:
        """Listen for betting windows, decisions and results."""
        if not self._listening:
            self._listening = True
            for kind, listener in self._listeners():
                self.client.on(kind, listener)

    def stop(self) -> None:
        """Stop playing (the seat stays: the table's timers play it)."""
        if self._listening:
            self._listening = False
            for kind, listener in self._listeners():
                self.client.off(kind, listener)
        if self._later is not None and self._later.active():
            self._later.cancel()
        self._later = None

    def _listeners(self) -> list[tuple[str, Callable[[Message], None]]]:
        return [("betting", self._on_betting), ("prompt", self._on_decision),
                ("decide", self._on_decision), ("result", self._on_result)]

    def until(self, hands: int) -> Deferred[None]:
        """Fires once the bot has played ``hands`` rounds in all."""
        if self.hands >= hands:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._until.append((hands, d))
        return d

    # -- what the table says -------------------------------------------------------------

    def _on_betting(self, event: Message) -> None:
        if event["table"] != self.table or event["round"] == self._bet_round:
            return
        if self.quota is not None and self.bets >= self.quota:
            return
        self._bet_round = event["round"]
        self.bets += 1
        stake = self.stake
        amount = (event["min"] if stake is None
                  else stake if isinstance(stake, int) else stake())
        self._soon("bet", amount=amount)

    def _on_decision(self, event: Message) -> None:
        choice = self.policy(event)
        if choice is not None:
            self._soon(choice)

    def _on_result(self, event: Message) -> None:
        if event["table"] != self.table:
            return
        self.rounds += 1
        name = self.client.name
        seats = [seat for seat, player in event["players"].items() if player == name]
        net = sum(event["net"].get(seat, 0) for seat in seats)
        if seats:
            self.hands += 1
            self.net += net
        self.settled(event, bool(seats), net)
        if seats and self._until:
            due = [d for n, d in self._until if self.hands >= n]
            self._until = [(n, d) for n, d in self._until if self.hands < n]
            for d in due:
                d.callback(None)

    def settled(self, result: Message, played: bool, net: int) -> None:
        """Override: a round at the table is settled (``played``: the bot had a hand)."""

    # -- requests ------------------------------------------------------------------------

    def _soon(self, cmd: str, **params: Any) -> None:
        """Send a request now, or after the pause."""
        wait = self.pause() if self.pause is not None else 0.0
        if wait <= 0:
            self._send(cmd, params)
            return
        if self._later is not None and self._later.active():
            self._later.cancel()  # a newer decision replaces one still being thought over
        clock = self.client.clock
        assert clock is not None, "the client is connected"
        self._later = clock.callLater(wait, self._send, cmd, params)

    def _send(self, cmd: str, params: dict[str, Any]) -> None:
        self._later = None
        if self._listening:
            self.request(cmd, **params).addErrback(self._refused, cmd)
        elif cmd == "bet":
            self.bets -= 1

    def request(self, cmd: str, **params: Any) -> Deferred[Any]:
        """Override to watch: send one of the bot's requests (a bet or a play)."""
        return self.client.call(cmd, **params)

    def _refused(self, failure: Failure, cmd: str) -> None:
        if cmd == "bet":
            self.bets -= 1
        error = failure.value
        if isinstance(error, RequestRefused):
            self.refusals[error.code] += 1
        elif isinstance(error, (ConnectionClosed, TimedOut)):
            self.refusals[type(error).__name__] += 1
        else:
            _log.failure("a bot's request failed", failure)
