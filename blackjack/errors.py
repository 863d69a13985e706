"""Every error the rules engine raises, in one place.

All of them derive from :class:`BlackjackError`, and each also subclasses the
builtin that fits, so callers may catch ``ValueError`` without knowing this
module.  Messages carry the context a player needs ("cannot double: hand has 3
cards"), because the server shows them verbatim.
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
]


class BlackjackError(Exception):
    """Base class of every error raised by the blackjack engine."""


class InvalidCardError(BlackjackError, ValueError):
    """Text could not be parsed as a card (``"AS"``, ``"TD"``, ``"9H"``)."""


class RulesError(BlackjackError, ValueError):
    """A rules value is inconsistent or out of range."""


class InvalidBetError(BlackjackError, ValueError):
    """A bet is not a whole number within the table limits, or is misplaced."""


class IllegalActionError(BlackjackError, ValueError):
    """An action was parsed but the rules do not allow it now; says why."""


class NotYourTurnError(IllegalActionError):
    """A seat tried to act while another seat (or nobody) has the turn."""


class ShoeExhaustedError(BlackjackError, RuntimeError):
    """A stacked test shoe ran out of the cards it was given."""
