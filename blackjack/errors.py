"""Every error the rules engine raises, in one place.

All of them derive from :class:`BlackjackError`, and each also subclasses the
builtin that fits, so callers may catch ``ValueError`` without knowing this
module.  Messages carry the context a player needs ("cannot double: hand has 3
cards"), because the server shows them verbatim.

Every public constructor and verb of the engine checks its arguments and
raises one of these, naming the argument, for a value of the wrong type as
well as for one out of range: ``Rules(penetration="0.5")`` is a
:class:`RulesError`, not a ``TypeError`` from deep inside.  An argument that
belongs to a domain raises that domain's error (rules and shoe settings
:class:`RulesError`, cards :class:`InvalidCardError`, bets and the seats that
place them :class:`InvalidBetError`, actions and the seats that play them
:class:`IllegalActionError`); any other argument of the wrong type or out of
range (a flag, a random source, a seat asked about) raises
:class:`InvalidArgumentError`.
"""

from __future__ import annotations

__all__ = [
    "BlackjackError",
    "InvalidCardError",
    "RulesError",
    "InvalidBetError",
    "IllegalActionError",
    "NotYourTurnError",
    "ShoeExhaustedError",
    "InvalidArgumentError",
    "FairShoeError",
    "RecordError",
]


class BlackjackError(Exception):
    """Base class of every error raised by the blackjack engine."""


class InvalidCardError(BlackjackError, ValueError):
    """Text could not be parsed as a card (``"AS"``, ``"TD"``, ``"9H"``), or a
    card, a hand or card points were given as something else."""


class RulesError(BlackjackError, ValueError):
    """A rules or shoe setting is of the wrong type, inconsistent or out of range."""


class InvalidBetError(BlackjackError, ValueError):
    """A bet is not a whole number within the table limits, or is misplaced
    (no such seat, or the cards are already out)."""


class IllegalActionError(BlackjackError, ValueError):
    """An action is unknown, or the rules do not allow it now; says why."""


class NotYourTurnError(IllegalActionError):
    """A seat tried to act while another seat (or nobody) has the turn."""


class ShoeExhaustedError(BlackjackError, RuntimeError):
    """A shoe has no card left to deal: a stacked test shoe ran out of the
    cards it was given, or every card of a real shoe is out on the table."""


class InvalidArgumentError(BlackjackError, TypeError, ValueError):
    """An argument has the wrong type or is out of range, and no error above
    is about it (a flag, a random source, a seat number in a query, a result
    value built by hand).  Both a ``TypeError`` and a ``ValueError``, so
    either idiom catches it."""


class FairShoeError(BlackjackError, RuntimeError):
    """A provably fair shoe was used out of its order: dealt from before its
    client seed was fixed, started or shuffled twice, or asked for its server
    seed while it could still deal."""


class RecordError(BlackjackError, ValueError):
    """A shoe's or a hand's record cannot be read: a field is missing or of
    the wrong type.  (A record that reads well but does not match its shoe is
    not an error: the verifier reports it as a finding.)"""
