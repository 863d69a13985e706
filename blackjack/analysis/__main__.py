"""``python -m blackjack.analysis``: the house edge and strategy of a rules set.

Prints the whole-game expectation of optimal infinite-deck play, the
dealer's final-total probabilities by upcard, and the basic-strategy charts
the advisor uses for those rules; ``--json`` prints the same as one JSON
object for machines.  Rules come from ``--rules SPEC`` (the
:meth:`Rules.from_spec` form, e.g. ``h17,ndas,ls`` or ``european``) with the
individual options applied on top.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from typing import Sequence, TextIO

from blackjack._cli import add_rules_arguments, rules_from_arguments
from blackjack.analysis import DealerOutcome, dealer_probabilities, house_edge
from blackjack.errors import RulesError
from blackjack.rules import Rules
from blackjack.strategy import SHOE_DECKS, SHOE_OVERRIDES, Chart, chart

__all__ = ["main", "report"]

_COLUMNS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 1)
_OUTCOME_NAMES = {DealerOutcome.BUST: "bust", DealerOutcome.BLACKJACK: "blackjack"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blackjack.analysis",
        description="Exact infinite-deck house edge and basic strategy of a blackjack game.")
    add_rules_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _upcard_name(points: int) -> str:
    return "A" if points == 1 else str(points)


def _chart_json(table: Chart) -> dict[str, dict[str, dict[str, str]]]:
    rows = {"hard": (table.hard, range(4, 22)), "soft": (table.soft, range(12, 22)),
            "pairs": (table.pairs, (*range(2, 11), 1))}
    return {name: {_upcard_name(row): {_upcard_name(up): cells[row][up] for up in _COLUMNS}
                   for row in keys}
            for name, (cells, keys) in rows.items()}


def _kept_cells(rules: Rules, table: Chart) -> list[str]:
    """The published cells the chart keeps over the infinite-deck optimum."""
    if rules.decks < SHOE_DECKS:
        return []
    return [f"{name} {row} v {_upcard_name(up)}: {code}"
            for (name, row, up), code in SHOE_OVERRIDES.items()
            if getattr(table, name)[row][up] == code
            and _derived(rules, name, row, up) != code]


def _derived(rules: Rules, name: str, row: int, up: int) -> str:
    """A cell of the pure infinite-deck chart (as for a one-deck game)."""
    table = chart(replace(rules, decks=1))
    return str(getattr(table, name)[row][up])


def report(rules: Rules) -> dict[str, object]:
    """Everything the command prints, as plain JSON-ready data."""
    started = time.perf_counter()
    player = house_edge(rules)
    dealer = {
        _upcard_name(up): {_OUTCOME_NAMES.get(outcome, str(int(outcome))): chance
                           for outcome, chance in dealer_probabilities(rules, up).items()}
        for up in _COLUMNS}
    table = chart(rules)
    return {
        "rules": rules.to_spec(),
        "description": rules.describe(),
        "model": _MODEL,
        "player_expectation": player,
        "house_edge": -player,
        "dealer_before_peek": dealer,
        "strategy": _chart_json(table),
        "published_cells_kept": _kept_cells(rules, table),
        "seconds": time.perf_counter() - started,
    }


_MODEL = "infinite deck, optimal total-dependent strategy, insurance never taken"


def _print_text(rules: Rules, out: TextIO) -> None:
    started = time.perf_counter()
    player = house_edge(rules)
    table = chart(rules)
    print(f"Rules: {rules.describe()}", file=out)
    print(f"House edge: {-player * 100:.6f}%  (player expectation {player * 100:+.6f}% "
          "of the initial bet)", file=out)
    print(f"Model: {_MODEL}.", file=out)
    print("", file=out)
    print("Dealer final totals by upcard, before the peek:", file=out)
    print("   up " + "".join(f"{name:>10}" for name in _OUTCOME_COLUMNS), file=out)
    for up in _COLUMNS:
        chances = dealer_probabilities(rules, up)
        print(f"  {_upcard_name(up):>3} "
              + "".join(f"{chances[outcome]:>10.6f}" for outcome in _OUTCOME_ORDER),
              file=out)
    print("", file=out)
    print(table.render(), file=out)
    kept = _kept_cells(rules, table)
    if kept:
        print("Published 4-8 deck cells kept over the infinite-deck optimum: "
              + "; ".join(kept), file=out)
    print(f"Analysis took {time.perf_counter() - started:.3f} s.", file=out)


_OUTCOME_ORDER = (DealerOutcome.SEVENTEEN, DealerOutcome.EIGHTEEN, DealerOutcome.NINETEEN,
                  DealerOutcome.TWENTY, DealerOutcome.TWENTY_ONE, DealerOutcome.BUST,
                  DealerOutcome.BLACKJACK)
_OUTCOME_COLUMNS = ("17", "18", "19", "20", "21", "bust", "blackjack")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; returns the exit status."""
    out = out if out is not None else sys.stdout
    parser = _parser()
    options = parser.parse_args(argv)
    try:
        rules = rules_from_arguments(options)
    except RulesError as error:
        parser.error(str(error))
    if options.json:
        json.dump(report(rules), out, indent=2)
        out.write("\n")
    else:
        _print_text(rules, out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    from blackjack._cli import run
    run(main)
