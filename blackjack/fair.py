"""Provably fair shoes: a shuffle anyone can recompute once the shoe is retired.

The scheme, ``blackjack-fair/1``, is specified in ``docs/fairness.md``; this
module is its reference implementation and :mod:`blackjack.verify` its
checker.  In short:

1. The dealer draws a 256-bit **server seed** from the OS CSPRNG and
   announces the **commitment**, the SHA-256 of one line of text naming the
   scheme, the shoe's **terms** (decks, cut-card position, burn cards) and
   the seed (:func:`commitment`).  Nothing about the order exists yet.
2. Before the shuffle the **client seed** is fixed from every seated
   player's seed text (:func:`client_seed`), which the dealer cannot choose.
3. The order is a Fisher-Yates shuffle driven by an HMAC-SHA256 counter
   stream keyed by the server seed (:func:`words`), integers drawn from it by
   rejection sampling (:func:`below`), so no value is more likely than
   another.  Every shuffle of a shoe's life has its own nonce: 0 for the
   opening shuffle of the whole shoe, 1, 2... for reshuffles of the discard
   tray should a round empty the shoe.
4. The server seed is revealed only when the shoe is retired, when no one
   can be dealt from it again; then anyone can recompute every card.

:class:`FairShoe` is a :class:`~blackjack.shoe.Shoe` a round deals from as
from any other.  It is slower to shuffle than a plain shoe (a few dozen
HMACs), which matters nowhere but in simulations; those use :class:`Shoe`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from collections.abc import Iterable, Iterator, Sequence

from blackjack._checks import count, text, whole_number
from blackjack.cards import Card, full_deck, parse_cards
from blackjack.errors import FairShoeError, InvalidArgumentError, ShoeExhaustedError
from blackjack.rules import _check_decks, _check_penetration
from blackjack.shoe import Shoe

__all__ = ["SCHEME", "ShoeTerms", "FairShoe", "new_server_seed", "preimage", "commitment",
           "client_seed", "words", "below", "shuffle_order", "canonical_order"]

SCHEME = "blackjack-fair/1"
"""The name and version of the scheme, written into every commitment."""

SEED_BYTES = 32
"""A server seed is 256 bits."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CANONICAL = {card: index for index, card in enumerate(full_deck())}
"""Each card's place in one deck's canonical order: spades, hearts, diamonds,
clubs, each ace to king (:func:`~blackjack.cards.full_deck`)."""


@dataclass(frozen=True, slots=True)
class ShoeTerms:
    """Everything besides the seeds that decides which card comes when.

    ``decks`` is the shoe's size in decks; ``cut`` how many cards leave the
    shoe (burn cards included) before the cut card comes out; ``burn`` how
    many cards are burnt, face down, right after the opening shuffle.
    """

    decks: int
    cut: int
    burn: int = 1

    def __post_init__(self) -> None:
        decks = _check_decks(self.decks)
        cut = whole_number("cut", self.cut, InvalidArgumentError)
        burn = count("burn", self.burn, InvalidArgumentError)
        if not 1 <= cut <= 52 * decks:
            raise InvalidArgumentError(
                f"cut must be 1 to {52 * decks} (the cards in {decks} decks), not {cut}")
        if burn >= cut:
            raise InvalidArgumentError(f"burn ({burn}) must be fewer cards than cut ({cut})")
        object.__setattr__(self, "decks", decks)
        object.__setattr__(self, "cut", cut)
        object.__setattr__(self, "burn", burn)

    @classmethod
    def of(cls, decks: int, penetration: float, burn: int = 1) -> ShoeTerms:
        """The terms of a table's shoe: the cut card at ``penetration`` of it, as
        :class:`~blackjack.shoe.Shoe` places it."""
        decks = _check_decks(decks)
        return cls(decks, int(52 * decks * _check_penetration(penetration)), burn)

    @property
    def size(self) -> int:
        """Cards in the shoe."""
        return 52 * self.decks


def new_server_seed() -> bytes:
    """A fresh server seed from the operating system's CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def _seed_bytes(seed: bytes | str) -> bytes:
    """A server seed as 32 bytes, from bytes or 64 lowercase hex digits."""
    if isinstance(seed, str):
        if not _HEX64.fullmatch(seed):
            raise InvalidArgumentError(
                f"a server seed in text is 64 lowercase hex digits, not {seed!r}")
        return bytes.fromhex(seed)
    if isinstance(seed, bytes) and len(seed) == SEED_BYTES:
        return seed
    raise InvalidArgumentError(f"a server seed is {SEED_BYTES} bytes, not {seed!r}")


def _client_hex(seed: str) -> str:
    if isinstance(seed, str) and _HEX64.fullmatch(seed):
        return seed
    raise InvalidArgumentError(f"a client seed is 64 lowercase hex digits, not {seed!r}")


def preimage(server_seed: bytes | str, terms: ShoeTerms) -> str:
    """The line of text whose SHA-256 is the commitment."""
    if not isinstance(terms, ShoeTerms):
        raise InvalidArgumentError(f"terms must be ShoeTerms, not {terms!r}")
    return (f"{SCHEME} decks={terms.decks} cut={terms.cut} burn={terms.burn} "
            f"seed={_seed_bytes(server_seed).hex()}")


def commitment(server_seed: bytes | str, terms: ShoeTerms) -> str:
    """The commitment to a shoe: SHA-256 (hex) of :func:`preimage`."""
    return hashlib.sha256(preimage(server_seed, terms).encode("ascii")).hexdigest()


def client_seed(contributions: Iterable[tuple[str, str]]) -> str:
    """The client seed from each seated player's ``(name, seed text)``, in seat order.

    SHA-256 (hex) of one line per player, ``name:`` then the SHA-256 (hex)
    of their seed text in UTF-8, each line ending in a line feed.  Hashing
    each seed first means no seed text can pass for another player's line.
    """
    try:
        items = list(contributions)
    except TypeError:
        raise InvalidArgumentError(f"contributions must be (name, seed text) pairs, not "
                                   f"{contributions!r}") from None
    lines = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise InvalidArgumentError(f"a contribution is (name, seed text), not {item!r}")
        name, seed = item
        if not (isinstance(name, str) and isinstance(seed, str)):
            raise InvalidArgumentError(f"a contribution is (name, seed text), not {item!r}")
        if not name or ":" in name or "\n" in name:
            raise InvalidArgumentError(f"a contribution's name has no ':' or line break "
                                       f"and is not empty: {name!r}")
        lines.append(f"{name}:{hashlib.sha256(seed.encode('utf-8')).hexdigest()}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def words(server_seed: bytes | str, client: str, nonce: int) -> Iterator[int]:
    """The endless stream of 32-bit words for one shuffle.

    Block ``i`` (from 0) is ``HMAC-SHA256(key=server seed, message=
    "<client seed>:<nonce>:<i>")`` with the message in ASCII; each block
    gives eight words, its bytes read four at a time, big-endian.
    """
    key = _seed_bytes(server_seed)
    prefix = f"{_client_hex(client)}:{count('nonce', nonce, InvalidArgumentError)}:"
    return _blocks(key, prefix)


def _blocks(key: bytes, prefix: str) -> Iterator[int]:
    block = 0
    while True:
        digest = hmac.new(key, f"{prefix}{block}".encode("ascii"), hashlib.sha256).digest()
        for offset in range(0, 32, 4):
            yield int.from_bytes(digest[offset:offset + 4], "big")
        block += 1


def below(stream: Iterator[int], n: int) -> int:
    """A uniform integer in ``[0, n)`` from ``stream`` by rejection sampling.

    Words at or above the largest multiple of ``n`` that fits in 32 bits are
    skipped; the first word below it gives ``word % n``.  So every value has
    exactly the same number of words mapping to it: no modulo bias.
    """
    n = whole_number("n", n, InvalidArgumentError)
    if not 1 <= n <= 2**32:
        raise InvalidArgumentError(f"n must be 1 to 2**32, not {n!r}")
    if not isinstance(stream, Iterator):
        raise InvalidArgumentError(f"stream must be an iterator of 32-bit words, not {stream!r}")
    limit = 2**32 - 2**32 % n
    for word in stream:
        if type(word) is not int or not 0 <= word < 2**32:
            raise InvalidArgumentError(f"stream must give 32-bit words, not {word!r}")
        if word < limit:
            return word % n
    raise InvalidArgumentError("the stream of words ended before a word was accepted")


def shuffle_order(cards: Sequence[Card], server_seed: bytes | str, client: str,
                  nonce: int) -> list[Card]:
    """``cards`` shuffled by Fisher-Yates on the stream of ``nonce``.

    For ``i`` from the last index down to 1, swap item ``i`` with item
    ``below(stream, i + 1)``.  Index 0 of the result is dealt first.
    """
    order = parse_cards(cards)
    stream = words(server_seed, client, nonce)
    for i in range(len(order) - 1, 0, -1):
        j = below(stream, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def canonical_order(cards: Iterable[Card | str]) -> list[Card]:
    """Cards sorted into the canonical order that every shuffle starts from.

    Cards go in :func:`~blackjack.cards.full_deck` order (spades, hearts,
    diamonds, clubs; ace to king in each), copies of a card side by side: a
    two-deck shoe starts ``AS AS 2S 2S ...``.  A discard tray is sorted the
    same way before it is reshuffled, so how the dealer gathered it makes
    no difference.
    """
    return sorted(parse_cards(cards), key=_CANONICAL.__getitem__)


class FairShoe(Shoe):
    """A shoe dealt by the ``blackjack-fair/1`` scheme.

    Made committed: the server seed is drawn (or given, for tests and
    verification) and :attr:`commitment` may be announced.  :meth:`start`
    fixes the client seed, shuffles and burns; then rounds deal from it like
    from any shoe.  Once the cut card is out (:attr:`needs_shuffle`) the
    table finishes the round and retires the shoe (:meth:`retire`); only
    then does :meth:`reveal` give the server seed.  A fair shoe never reshuffles
    between rounds: the next shoe is a new :class:`FairShoe`.

    :attr:`position` counts the cards that have left the shoe, burns
    included, over every shuffle of its life: the next card dealt is card
    number ``position`` (from 0) of the shoe.
    """

    def __init__(self, terms: ShoeTerms, server_seed: bytes | str | None = None) -> None:
        if not isinstance(terms, ShoeTerms):
            raise InvalidArgumentError(f"terms must be ShoeTerms, not {terms!r}")
        self.terms = terms
        self.decks = terms.decks
        self.penetration = terms.cut / terms.size
        self._seed = new_server_seed() if server_seed is None else _seed_bytes(server_seed)
        self.commitment = commitment(self._seed, terms)
        """SHA-256 of the preimage: what the table announces before the shuffle."""
        self.client_seed: str | None = None
        """Fixed by :meth:`start`."""
        self.position = 0
        self.burnt: tuple[Card, ...] = ()
        """The burn cards, once started (secret while the shoe deals)."""
        self._cards: list[Card] = []
        self._discards: list[Card] = []
        self._cut = terms.cut
        self.shuffles = 0
        self._retired = False

    @property
    def started(self) -> bool:
        """Whether the client seed is fixed and the shoe shuffled."""
        return self.client_seed is not None

    @property
    def retired(self) -> bool:
        """Whether the shoe is done with, and its seed may be revealed."""
        return self._retired

    @property
    def needs_shuffle(self) -> bool:
        """Whether the cut card has come out: finish the round, then retire the shoe."""
        return self.position >= self._cut

    def start(self, client: str) -> None:
        """Fix the client seed, shuffle the whole shoe (nonce 0) and burn."""
        if self.client_seed is not None:
            raise FairShoeError("this shoe is already shuffled; a new shoe is a new FairShoe")
        if self._retired:
            raise FairShoeError("this shoe is retired")
        self.client_seed = _client_hex(client)
        order = shuffle_order(canonical_order(full_deck() * self.decks), self._seed,
                              self.client_seed, 0)
        order.reverse()  # dealt from the end: position 0 last in the list
        self._cards = order
        self.shuffles = 1
        self.burnt = tuple(self._take() for _ in range(self.terms.burn))
        self._discards.extend(self.burnt)

    def shuffle(self) -> None:
        """Refused: a fair shoe is shuffled once, by :meth:`start`."""
        raise FairShoeError("a fair shoe is shuffled once, by start(); "
                            "retire it and deal from a new FairShoe")

    def draw(self) -> Card:
        """Deal the next card, reshuffling the discards (the next nonce) if the shoe is empty."""
        if self.client_seed is None:
            raise FairShoeError("the shoe is not shuffled yet: start() it with the client seed")
        if self._retired:
            raise FairShoeError("this shoe is retired")
        if not self._cards:
            if not self._discards:
                raise ShoeExhaustedError("every card is out on the table")
            order = shuffle_order(canonical_order(self._discards), self._seed,
                                  self.client_seed, self.shuffles)
            order.reverse()
            self._cards = order
            self._discards = []
            self.shuffles += 1
        return self._take()

    def _take(self) -> Card:
        self.position += 1
        return self._cards.pop()

    def retire(self) -> str:
        """Take the shoe out of play for good; returns the server seed (hex)."""
        self._retired = True
        return self.reveal()

    def reveal(self) -> str:
        """The server seed (hex), once the shoe is retired."""
        if not self._retired:
            raise FairShoeError("the server seed of a shoe in play is never revealed")
        return self._seed.hex()

    def sealed_seed(self) -> str:
        """The server seed (hex) for the dealer's own safe keeping, never for players.

        A server stores it when the shoe starts, so that a crash cannot lose
        it (the shoe is then retired and revealed at the next start-up).  It
        must not reach a player, an event or a log while the shoe deals.
        """
        return self._seed.hex()

    def __repr__(self) -> str:
        state = "retired" if self._retired else "dealing" if self.started else "committed"
        return (f"<FairShoe {state} decks={self.decks} position={self.position} "
                f"commitment={self.commitment[:12]}>")
