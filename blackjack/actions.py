"""The closed set of decisions a player can make in a round."""

from __future__ import annotations

import enum

from blackjack.errors import IllegalActionError

__all__ = ["Action"]


class Action(enum.Enum):
    """A player's decision; the value is the command word."""

    HIT = "hit"
    """Take one more card."""
    STAND = "stand"
    """Take no more cards; the next hand or seat plays."""
    DOUBLE = "double"
    """Double the bet, take exactly one card, and stand."""
    SPLIT = "split"
    """Split a pair into two hands, each with the original bet."""
    SURRENDER = "surrender"
    """Give up half the bet and end the hand (late surrender)."""
    INSURANCE = "insurance"
    """Take insurance: half the bet on the dealer having blackjack, paid 2:1."""
    EVEN_MONEY = "even"
    """With a natural under a dealer ace, take 1:1 now instead of risking a push."""
    NO_INSURANCE = "no"
    """Decline insurance or even money."""

    @classmethod
    def parse(cls, word: str) -> Action:
        """Read a command word or its alias (``h``, ``s``, ``d``, ``p``, ``r``...)."""
        if not isinstance(word, str):
            raise IllegalActionError(f"word must be text such as 'hit', not {word!r}")
        action = _ALIASES.get(word.strip().lower())
        if action is None:
            raise IllegalActionError(
                f"unknown action {word!r}; use hit, stand, double, split, "
                "surrender, insurance, even or no")
        return action

    @classmethod
    def _missing_(cls, value: object) -> Action:
        # Action("h") reads aliases as Action.parse does; anything else that
        # is not a command word is the engine's error, not enum's ValueError.
        if isinstance(value, str):
            return cls.parse(value)
        raise IllegalActionError(
            f"action must be an Action or a command word such as 'hit', not {value!r}")

    @property
    def phrase(self) -> str:
        """The decision as a verb phrase ("hit", "take insurance", "decline insurance")."""
        return _PHRASES.get(self, self.value)

    @property
    def is_insurance_decision(self) -> bool:
        """Whether this answers the insurance offer rather than plays a hand."""
        return self in _INSURANCE_DECISIONS


_INSURANCE_DECISIONS = (Action.INSURANCE, Action.EVEN_MONEY, Action.NO_INSURANCE)
"""Kept, not built for each ask: the strategy tables and the round ask very often."""

_PHRASES = {Action.INSURANCE: "take insurance", Action.EVEN_MONEY: "take even money",
            Action.NO_INSURANCE: "decline insurance"}

_ALIASES = {action.value: action for action in Action}
_ALIASES.update({
    "h": Action.HIT, "s": Action.STAND, "d": Action.DOUBLE, "p": Action.SPLIT,
    "r": Action.SURRENDER, "sur": Action.SURRENDER, "i": Action.INSURANCE,
    "ins": Action.INSURANCE, "insure": Action.INSURANCE, "y": Action.INSURANCE,
    "yes": Action.INSURANCE, "evenmoney": Action.EVEN_MONEY,
    "n": Action.NO_INSURANCE, "decline": Action.NO_INSURANCE, "dd": Action.DOUBLE,
})
