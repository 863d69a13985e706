"""A table's provably fair shoes: the one dealing, and the next one, already committed.

The table announces the next shoe's commitment as soon as a shoe starts
dealing (and when it opens), so players always see it long before that shoe
is shuffled, and may set their ``seed`` after seeing it.  When the table
needs a shoe it starts the committed one with the seated players' seeds and
commits to another; when the cut card has come out and the round is settled
it retires the dealing shoe, and only then may the seed be told.  The scheme
is :mod:`blackjack.fair`'s (``docs/fairness.md``).

This class holds the shoes and their bookkeeping; the table decides when,
and says so with events.  Nothing here ever puts a dealing shoe's seed in a
value that leaves it: :meth:`ShoeRotation.retire` is the one way out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from blackjack.fair import SCHEME, FairShoe, ShoeTerms, client_seed
from blackjack.rules import Rules

__all__ = ["ShoeRotation", "BURN"]

BURN = 1
"""Cards burnt after each opening shuffle, as casinos burn one."""


class ShoeRotation:
    """The dealing shoe (``None`` until the first deal) and the next, committed one."""

    def __init__(self, table: str, rules: Rules,
                 ids: Callable[[], str] | None = None) -> None:
        self.table = table
        self.terms = ShoeTerms.of(rules.decks, rules.penetration, BURN)
        self._ids = ids or (lambda: f"{table}-{uuid.uuid4().hex[:12]}")
        self.dealing: FairShoe | None = None
        self.dealing_id: str | None = None
        self.seeds: tuple[tuple[str, str], ...] = ()
        """The seated players' ``(name, seed)`` the dealing shoe was shuffled with."""
        self.rounds = 0
        """Rounds dealt from the dealing shoe so far."""
        self.next_id = self._ids()
        self.next = FairShoe(self.terms)

    def commitment(self, shoe_id: str, shoe: FairShoe) -> dict[str, Any]:
        """A shoe's public terms and commitment (a ``shoe_commitment`` in the catalogue)."""
        return {"shoe": shoe_id, "scheme": SCHEME, "decks": shoe.terms.decks,
                "cut": shoe.terms.cut, "burn": shoe.terms.burn,
                "commitment": shoe.commitment}

    def next_commitment(self) -> dict[str, Any]:
        """The next shoe's terms and commitment."""
        return self.commitment(self.next_id, self.next)

    def dealing_commitment(self) -> dict[str, Any] | None:
        """The dealing shoe's terms and commitment, if one deals."""
        if self.dealing is None or self.dealing_id is None:
            return None
        return self.commitment(self.dealing_id, self.dealing)

    @property
    def due(self) -> bool:
        """Whether the next round needs a new shoe (none deals yet, or it was retired)."""
        return self.dealing is None

    def start(self, seeds: Sequence[tuple[str, str]]) -> FairShoe:
        """Shuffle the committed shoe with these seats' seeds and commit to another."""
        if self.dealing is not None:
            raise RuntimeError(f"table {self.table}: shoe {self.dealing_id} still deals")
        self.seeds = tuple(seeds)
        self.next.start(client_seed(self.seeds))
        self.dealing, self.dealing_id = self.next, self.next_id
        self.rounds = 0
        self.next_id, self.next = self._ids(), FairShoe(self.terms)
        return self.dealing

    def sealed_seed(self) -> str:
        """The dealing shoe's seed, for the server's own database only.

        Stored when the shoe starts, so that a crash does not lose it and
        the shoe can be retired and revealed at the next start-up; never put
        in an event or a log line while the shoe deals.
        """
        if self.dealing is None:
            raise RuntimeError(f"table {self.table}: no shoe deals")
        return self.dealing.sealed_seed()

    def retire(self) -> tuple[str, FairShoe]:
        """Take the dealing shoe out of play; its id and the retired shoe (seed revealed)."""
        shoe, shoe_id = self.dealing, self.dealing_id
        if shoe is None or shoe_id is None:
            raise RuntimeError(f"table {self.table}: no shoe deals")
        shoe.retire()
        self.dealing, self.dealing_id = None, None
        return shoe_id, shoe
