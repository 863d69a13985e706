"""Check a retired shoe's record: was every hand dealt, card for card, from that shoe?

``python -m blackjack.verify shoe.json`` reads a shoe's record (the
``blackjack-fair/1`` form in ``docs/fairness.md``: the commitment, the
revealed server seed, the players' seeds and client seed, the cut card and
burns, and every round dealt from the shoe) and checks, in order:

1. the revealed seed and the terms hash to the commitment (a moved cut card
   or an edited burn count is named as such);
2. the client seed is the hash of the players' seeds;
3. each round's cards are the shoe's next cards, position by position,
   reshuffles of the discards included, and no round was dealt after the
   cut card came out;
4. each round's decisions, played on its cards under its rules, deal exactly
   those cards and settle as recorded (an edited hand, result or payout).

It prints what it checked and every problem found, and exits 0 when there
is none, 1 when there is one, 2 when the record cannot be read.
"""

from __future__ import annotations

import argparse
import collections.abc
import json
import sys
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, TextIO

from blackjack._checks import flag, instance, text, tuple_of
from blackjack._cli import run
from blackjack.cards import Card
from blackjack.errors import (
    BlackjackError, InvalidArgumentError, RecordError, ShoeExhaustedError,
)
from blackjack.fair import (
    SCHEME, FairShoe, ShoeTerms, _client_hex, _seed_bytes, client_seed, commitment,
)
from blackjack.replay import ReplayError, RoundRecord, drawn_cards, replay

__all__ = ["ShoeRecord", "Report", "verify", "main"]

RETIRED = ("cut card", "table closed", "server restarted")
"""Why a shoe was retired: its cut card came out (the usual end), or its table
stopped dealing for good before that."""

_MOST_PER_ROUND = 3
"""Card mismatches reported one by one in a round before the rest are counted."""


@dataclass(frozen=True)
class ShoeRecord:
    """A retired shoe's record: its terms, seeds, and the rounds dealt from it."""

    shoe_id: str
    terms: ShoeTerms
    commitment: str
    server_seed: str
    client_seed: str
    seeds: tuple[tuple[str, str], ...]
    """Each seated player's ``(name, seed text)`` at the shuffle, in seat order."""
    retired: str
    rounds: tuple[RoundRecord, ...]

    def __post_init__(self) -> None:
        for name in ("shoe_id", "commitment", "server_seed", "client_seed"):
            text(name, getattr(self, name), RecordError)
        instance("terms", self.terms, ShoeTerms, RecordError)
        seeds = tuple_of("seeds", self.seeds, tuple, RecordError)
        for pair in seeds:
            if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
                raise RecordError(f"seeds must be (player, seed text) pairs, not {pair!r}")
        object.__setattr__(self, "seeds", seeds)
        if self.retired not in RETIRED:
            raise RecordError(f"retired must be one of {', '.join(RETIRED)}, "
                              f"not {self.retired!r}")
        object.__setattr__(self, "rounds",
                           tuple_of("rounds", self.rounds, RoundRecord, RecordError))

    @classmethod
    def from_dict(cls, data: object) -> ShoeRecord:
        """Read the JSON form; a missing or mistyped member is a :class:`RecordError`."""
        if not isinstance(data, collections.abc.Mapping):
            raise RecordError(f"a shoe record is a JSON object, not {type(data).__name__}")
        scheme = data.get("scheme")
        if scheme != SCHEME:
            raise RecordError(f"this verifier knows the scheme {SCHEME}, not {scheme!r}")
        shoe_id = text("shoe", _member(data, "shoe"), RecordError)
        try:
            terms = ShoeTerms(_member(data, "decks"), _member(data, "cut"),
                              _member(data, "burn"))
        except BlackjackError as error:
            raise RecordError(f"shoe {shoe_id}: {error}") from None
        seeds = []
        for item in _list(data, "seeds"):
            if not isinstance(item, collections.abc.Mapping):
                raise RecordError(f"shoe {shoe_id}: a seed is an object, not {item!r}")
            seeds.append((text("player", _member(item, "player"), RecordError),
                          text("seed", _member(item, "seed"), RecordError)))
        retired = _member(data, "retired")
        return cls(shoe_id, terms,
                   text("commitment", _member(data, "commitment"), RecordError),
                   text("server_seed", _member(data, "server_seed"), RecordError),
                   text("client_seed", _member(data, "client_seed"), RecordError),
                   tuple(seeds), retired,
                   tuple(RoundRecord.from_dict(r) for r in _list(data, "rounds")))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :meth:`from_dict` reads."""
        return {"scheme": SCHEME, "shoe": self.shoe_id, "decks": self.terms.decks,
                "cut": self.terms.cut, "burn": self.terms.burn,
                "commitment": self.commitment, "server_seed": self.server_seed,
                "client_seed": self.client_seed,
                "seeds": [{"player": p, "seed": s} for p, s in self.seeds],
                "retired": self.retired, "rounds": [r.to_dict() for r in self.rounds]}


def _member(data: Mapping[str, Any], name: str) -> Any:
    try:
        return data[name]
    except KeyError:
        raise RecordError(f"the record has no {name!r} member") from None


def _list(data: Mapping[str, Any], name: str) -> list[Any]:
    value = _member(data, name)
    if not isinstance(value, list):
        raise RecordError(f"{name} must be a list, not {value!r}")
    return value


@dataclass(frozen=True)
class Report:
    """What :func:`verify` found: ``problems`` empty means the shoe checks out."""

    shoe_id: str
    checked: tuple[str, ...]
    """What was checked and held, one line each, in order."""
    problems: tuple[str, ...]
    cards: tuple[tuple[int, str, str], ...]
    """Every card checked: ``(position, card, round id)``."""

    def __post_init__(self) -> None:
        text("shoe_id", self.shoe_id, InvalidArgumentError)
        for name in ("checked", "problems"):
            object.__setattr__(self, name, tuple_of(name, getattr(self, name), str,
                                                    InvalidArgumentError))
        object.__setattr__(self, "cards", tuple_of("cards", self.cards, tuple,
                                                   InvalidArgumentError))

    @property
    def ok(self) -> bool:
        """Whether every check held."""
        return not self.problems

    def lines(self, every_card: bool = False) -> list[str]:
        """The report for people; ``every_card`` lists each card with its position."""
        every_card = flag("every_card", every_card, InvalidArgumentError)
        out = [f"shoe {self.shoe_id}"]
        out += [f"  ok  {line}" for line in self.checked]
        if every_card:
            out += [f"      card {position:>3}  {card}  {round_id}"
                    for position, card, round_id in self.cards]
        out += [f"  BAD {line}" for line in self.problems]
        if self.ok:
            out.append(f"VERIFIED: all {len(self.cards)} cards of every round were dealt "
                       "from this shoe, in order")
        else:
            out.append(f"NOT VERIFIED: {len(self.problems)} problem"
                       f"{'s' if len(self.problems) > 1 else ''}")
        return out


def verify(record: ShoeRecord) -> Report:
    """Check a shoe's record (see the module docstring for the checks)."""
    if not isinstance(record, ShoeRecord):
        raise RecordError(f"record must be a ShoeRecord, not {record!r}")
    checked: list[str] = []
    problems: list[str] = []
    cards: list[tuple[int, str, str]] = []
    terms = _check_commitment(record, checked, problems)
    if terms is None:
        return Report(record.shoe_id, tuple(checked), tuple(problems), ())
    client = record.client_seed
    if not record.seeds:
        problems.append("the record lists no players' seeds: the client seed cannot be checked")
    elif client_seed(record.seeds) == client:
        checked.append(f"client seed {client[:16]}... is the hash of the seeds of "
                       + ", ".join(name for name, _ in record.seeds))
    else:
        problems.append(f"the client seed {client[:16]}... is not the hash of the "
                        "players' seeds in the record")
    try:
        _client_hex(client)
    except BlackjackError:
        problems.append(f"the client seed {client!r} is not 64 hex digits")
        return Report(record.shoe_id, tuple(checked), tuple(problems), ())
    shoe = FairShoe(terms, record.server_seed)
    shoe.start(client)
    if terms.burn:
        checked.append("burnt: " + " ".join(map(str, shoe.burnt))
                       + (" (card 0)" if terms.burn == 1 else f" (cards 0-{terms.burn - 1})"))
    for rnd in record.rounds:
        if not _check_round_cards(rnd, shoe, checked, problems, cards):
            break
        _check_round_play(rnd, checked, problems)
    _check_retirement(record, shoe, checked, problems)
    return Report(record.shoe_id, tuple(checked), tuple(problems), tuple(cards))


def _check_commitment(record: ShoeRecord, checked: list[str],
                      problems: list[str]) -> ShoeTerms | None:
    """The terms the commitment is for, or ``None`` if the seed is not its seed."""
    terms = record.terms
    try:
        _seed_bytes(record.server_seed)
    except BlackjackError:
        problems.append(f"the server seed {record.server_seed!r} is not 64 hex digits")
        return None
    if commitment(record.server_seed, terms) == record.commitment:
        decks = f"{terms.decks} deck{'s' if terms.decks > 1 else ''}"
        checked.append(f"commitment {record.commitment[:16]}... is SHA-256 of the revealed "
                       f"seed with {decks}, the cut card at card {terms.cut} "
                       f"and {terms.burn} burn card{'s' if terms.burn != 1 else ''}")
        return terms
    committed = _committed_terms(record)
    if committed is None:
        problems.append("the revealed server seed is not the one committed to: "
                        f"SHA-256 of it gives {commitment(record.server_seed, terms)[:16]}..., "
                        f"the commitment is {record.commitment[:16]}...")
        return None
    for name, said, meant in (("decks", terms.decks, committed.decks),
                              ("cut card", terms.cut, committed.cut),
                              ("burn", terms.burn, committed.burn)):
        if said != meant:
            what = ("the cut card was moved" if name == "cut card"
                    else f"the {name} count was changed")
            problems.append(f"{what}: the record says {said}, the commitment is for {meant}")
    return committed


def _committed_terms(record: ShoeRecord) -> ShoeTerms | None:
    """The terms that, with the revealed seed, give the commitment, if any do."""
    for decks in range(1, 9):
        for cut in range(1, 52 * decks + 1):
            for burn in range(0, min(cut, 11)):
                terms = ShoeTerms(decks, cut, burn)
                if commitment(record.server_seed, terms) == record.commitment:
                    return terms
    return None


def _check_round_cards(rnd: RoundRecord, shoe: FairShoe, checked: list[str],
                       problems: list[str], cards: list[tuple[int, str, str]]) -> bool:
    """Deal the round's cards from the shoe and compare; False if the shoe ran out."""
    where = f"round {rnd.round_id}"
    if shoe.needs_shuffle:
        problems.append(f"{where} was dealt after the cut card came out (card "
                        f"{shoe.terms.cut}): the shoe should have been retired before it")
    if rnd.first is not None and rnd.first != shoe.position:
        problems.append(f"{where}: the record puts its first card at card {rnd.first}, "
                        f"the shoe is at card {shoe.position} (a round missing or added?)")
    first, shuffles = shoe.position, shoe.shuffles
    dealt: list[Card] = []
    wrong = 0
    for said in rnd.cards:
        position = shoe.position
        try:
            card = shoe.draw()
        except ShoeExhaustedError:
            problems.append(f"{where} has more cards than the shoe could deal")
            return False
        dealt.append(card)
        cards.append((position, str(card), rnd.round_id))
        if card != said:
            wrong += 1
            if wrong <= _MOST_PER_ROUND:
                problems.append(f"{where}, card {position}: the record says {said}, "
                                f"the shoe deals {card}")
    if wrong > _MOST_PER_ROUND:
        problems.append(f"{where}: {wrong - _MOST_PER_ROUND} more cards differ")
    if not wrong:
        checked.append(f"{where}: cards {first}-{shoe.position - 1} are the shoe's: "
                       + " ".join(map(str, dealt)))
    if shoe.shuffles != shuffles:
        checked.append(f"{where} emptied the shoe: the discards were reshuffled with nonce "
                       f"{shoe.shuffles - 1} to finish it")
    shoe.discard(dealt)
    return True


def _check_round_play(rnd: RoundRecord, checked: list[str], problems: list[str]) -> None:
    """Play the round's decisions on its own cards: same cards used, same settlement."""
    where = f"round {rnd.round_id}"
    try:
        played = replay(rnd)
    except ReplayError as error:
        problems.append(str(error))
        return
    used = drawn_cards(played)
    if len(used) != len(rnd.cards):
        problems.append(f"{where}: its decisions deal {len(used)} cards, the record has "
                        f"{len(rnd.cards)}")
        return
    if rnd.outcome is None:
        return
    outcome = played.outcome
    assert outcome is not None  # replay() returns only finished rounds
    found = _outcome_differences(outcome.to_dict(), rnd.outcome)
    if found:
        problems.extend(f"{where}: {line}" for line in found)
    else:
        checked.append(f"{where}: its decisions deal these cards and settle as recorded")


def _outcome_differences(real: Mapping[str, Any], said: Mapping[str, Any]) -> list[str]:
    """How a recorded settlement differs from the one the rules give."""
    found = []
    if list(said.get("dealer", ())) != real["dealer"]:
        found.append(f"the dealer's cards are recorded as {said.get('dealer')}, "
                     f"the rules give {real['dealer']}")
    recorded = {(h.get("seat"), h.get("hand")): h for h in said.get("hands", ())
                if isinstance(h, collections.abc.Mapping)}
    for hand in real["hands"]:
        mine = recorded.pop((hand["seat"], hand["hand"]), None)
        label = f"seat {hand['seat']} hand {hand['hand']}"
        if mine is None:
            found.append(f"{label} is missing from the record")
            continue
        for name in ("cards", "stake", "result", "payout"):
            if mine.get(name) != hand[name]:
                found.append(f"{label}: the record says {name} {mine.get(name)!r}, "
                             f"the rules give {hand[name]!r}")
    found += [f"seat {s} hand {h} is in the record but was never dealt" for s, h in recorded]
    said_insurance = [{k: i.get(k) for k in ("seat", "stake", "payout")}
                      for i in said.get("insurance", ()) if isinstance(i, Mapping)]
    real_insurance = [{k: i[k] for k in ("seat", "stake", "payout")}
                      for i in real["insurance"]]
    if said_insurance != real_insurance:
        found.append(f"insurance is recorded as {said_insurance}, the rules give "
                     f"{real_insurance}")
    return found


def _check_retirement(record: ShoeRecord, shoe: FairShoe, checked: list[str],
                      problems: list[str]) -> None:
    cut = shoe.terms.cut
    if shoe.needs_shuffle:
        checked.append(f"the cut card (card {cut}) came out in the last round, "
                       f"and the shoe was retired after it ({shoe.position} cards out)")
    elif record.retired == "cut card":
        problems.append(f"the shoe was retired at card {shoe.position}, before its cut card "
                        f"(card {cut}) came out")
    else:
        checked.append(f"the shoe was retired at card {shoe.position}, before its cut card "
                       f"(card {cut}): {record.retired}")


def _unwrapped(data: object) -> object:
    """The record itself, also from the card room's ``shoe_record`` event or reply to ``shoe``."""
    if isinstance(data, Mapping) and isinstance(data.get("result"), Mapping):
        data = data["result"]  # a protocol v1 reply
    if isinstance(data, Mapping) and data.get("event") == "shoe_record":
        if data.get("record") is None:
            raise RecordError(f"shoe {data.get('shoe')} still deals: its record comes once "
                              "it is retired")
        return data["record"]
    return data


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """``python -m blackjack.verify``: check a shoe record file (``-`` for stdin)."""
    out = sys.stdout if out is None else out
    if not callable(getattr(out, "write", None)):
        raise InvalidArgumentError(f"out must be a text file, not {out!r}")
    if argv is not None:
        argv = tuple_of("argv", argv, str, InvalidArgumentError)
    parser = argparse.ArgumentParser(
        prog="python -m blackjack.verify",
        description="Check that every hand of a retired provably fair shoe was dealt, "
                    "card for card, from that shoe (scheme blackjack-fair/1, "
                    "docs/fairness.md).")
    parser.add_argument("record", help="the shoe's record, a JSON file ('-' reads stdin); "
                        "the card room's shoe_record event or reply to 'shoe' will do")
    parser.add_argument("--cards", action="store_true",
                        help="list every card with its position in the shoe")
    args = parser.parse_args(argv)
    try:
        if args.record == "-":
            data = json.load(sys.stdin)
        else:
            with open(args.record, encoding="utf-8") as file:
                data = json.load(file)
        report = verify(ShoeRecord.from_dict(_unwrapped(data)))
    except (OSError, ValueError) as error:  # RecordError and JSON errors are ValueErrors
        print(f"cannot check {args.record}: {error}", file=out)
        return 2
    for line in report.lines(every_card=args.cards):
        print(line, file=out)
    return 0 if report.ok else 1


if __name__ == "__main__":
    run(main)
