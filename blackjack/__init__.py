"""blackjack: a casino-grade blackjack rules engine, and a Twisted game server.

The engine (this package, stdlib only) is for embedding in games, bots,
teaching tools and simulations::

    from blackjack import Action, Phase, Round, Rules, Shoe
    game = Round(Rules(), Shoe(seed=7), bets={1: 10})
    game.deal()
    while game.phase is not Phase.FINISHED:
        legal = game.legal_actions()
        game.act(Action.STAND if Action.STAND in legal else Action.NO_INSURANCE)
    print(game.outcome.net(1))

The server lives in :mod:`blackjack.server` and is the only part that
imports Twisted.
"""

from blackjack.actions import Action
from blackjack.cards import Card, Rank, Suit, full_deck, parse_cards
from blackjack.errors import (
    BlackjackError, IllegalActionError, InvalidArgumentError, InvalidBetError,
    InvalidCardError, NotYourTurnError, RulesError, ShoeExhaustedError,
)
from blackjack.hand import Hand, score
from blackjack.round import (
    Event, HandResult, InsuranceResult, Phase, Result, Round, RoundOutcome,
    RoundView, Turn,
)
from blackjack.rules import PRESETS, DoubleRule, Rules
from blackjack.shoe import Shoe

__version__ = "0.2.0"
"""The release; the one place it is written (pyproject.toml reads it from here)."""

__all__ = [
    "Action", "Card", "Rank", "Suit", "full_deck", "parse_cards",
    "BlackjackError", "IllegalActionError", "InvalidArgumentError", "InvalidBetError",
    "InvalidCardError", "NotYourTurnError", "RulesError", "ShoeExhaustedError",
    "Hand", "score", "Event", "HandResult", "InsuranceResult", "Phase", "Result",
    "Round", "RoundOutcome", "RoundView", "Turn", "PRESETS", "DoubleRule", "Rules",
    "Shoe", "__version__",
]
