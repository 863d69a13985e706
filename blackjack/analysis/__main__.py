"""``python -m blackjack.analysis``: the house edge and strategy of a rules set.

Prints, for the table's shoe (``--decks``, 1-8), the exact whole-game
expectation of basic strategy and of composition-dependent strategy, the
dealer's final-total probabilities by upcard, and the basic-strategy chart
the advisor and the simulator use for those rules; ``--infinite`` does the
same for an infinite deck, and ``--json`` prints one JSON object for
machines.  Rules come from ``--rules SPEC`` (the :meth:`Rules.from_spec`
form, e.g. ``h17,ndas,ls`` or ``european``) with the individual options
applied on top.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from typing import Sequence, TextIO

from blackjack._cli import add_rules_arguments, rules_from_arguments
from blackjack.analysis import DealerOutcome, analyse, dealer_probabilities, house_edge, model
from blackjack.errors import RulesError
from blackjack.rules import Rules
from blackjack.strategy import Chart, chart

__all__ = ["main", "report"]

_COLUMNS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 1)
_OUTCOME_NAMES = {DealerOutcome.BUST: "bust", DealerOutcome.BLACKJACK: "blackjack"}
_SPLITS = ("by the reference programs' approximation: each split hand is valued "
           "from the shoe less as many pair cards as there are hands")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blackjack.analysis",
        description="Exact house edge and basic strategy of a blackjack game, "
                    "for its shoe of 1-8 decks (or an infinite deck).")
    add_rules_arguments(parser)
    parser.add_argument("--infinite", action="store_true",
                        help="analyse an infinite deck instead of the shoe")
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


def _dealer(rules: Rules, infinite: bool) -> dict[str, dict[str, float]]:
    return {_upcard_name(up): {_OUTCOME_NAMES.get(outcome, str(int(outcome))): chance
                               for outcome, chance in
                               dealer_probabilities(rules, up, infinite=infinite).items()}
            for up in _COLUMNS}


@dataclass(frozen=True)
class _Findings:
    """The figures the command prints, worked out once."""

    basic: float
    composition: float
    endless: float
    table: Chart
    seconds: dict[str, float]


def _find(rules: Rules, infinite: bool) -> _Findings:
    started = time.perf_counter()
    if infinite:
        value = house_edge(rules, infinite=True)
        return _Findings(value, value, value, chart(rules, infinite=True),
                         {"total": time.perf_counter() - started})
    found = analyse(rules)
    return _Findings(found.basic, found.composition, found.infinite, chart(rules),
                     {"basic": found.seconds_basic, "composition": found.seconds_composition})


def report(rules: Rules, *, infinite: bool = False) -> dict[str, object]:
    """Everything the command prints, as plain JSON-ready data."""
    found = _find(rules, infinite)
    data: dict[str, object] = {
        "rules": rules.to_spec(),
        "description": rules.describe(),
        "model": model(rules, infinite=infinite),
        "splits": _SPLITS,
        "player_expectation": found.basic,
        "house_edge": -found.basic,
        "composition_expectation": found.composition,
    }
    if not infinite:
        data["infinite_expectation"] = found.endless
    data["dealer_before_peek"] = _dealer(rules, infinite)
    data["strategy"] = _chart_json(found.table)
    data["seconds"] = found.seconds
    return data


def _print_text(rules: Rules, infinite: bool, out: TextIO) -> None:
    found = _find(rules, infinite)
    print(f"Rules: {rules.describe()}", file=out)
    print(f"Model: {model(rules, infinite=infinite)}; insurance never taken.", file=out)
    if infinite:
        print(f"House edge: {-found.basic * 100:.6f}%  (player expectation "
              f"{found.basic * 100:+.6f}% of the initial bet; basic and "
              "composition-dependent strategy coincide)", file=out)
    else:
        print(f"House edge, basic strategy (the chart below): {-found.basic * 100:.6f}%",
              file=out)
        print(f"House edge, composition-dependent strategy:   {-found.composition * 100:.6f}%",
              file=out)
        print(f"House edge, infinite deck (for comparison):   {-found.endless * 100:.6f}%",
              file=out)
        print(f"Splits: {_SPLITS}.", file=out)
    print("", file=out)
    print("Dealer final totals by upcard, before the peek:", file=out)
    print("   up " + "".join(f"{name:>10}" for name in _OUTCOME_COLUMNS), file=out)
    for name, chances in _dealer(rules, infinite).items():
        print(f"  {name:>3} " + "".join(f"{chances[column]:>10.6f}"
                                        for column in _OUTCOME_COLUMNS), file=out)
    print("", file=out)
    print(found.table.render(), file=out)
    print("Analysis took " + ", ".join(f"{value:.1f} s ({name})" for name, value
                                       in found.seconds.items()) + ".", file=out)


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
        json.dump(report(rules, infinite=options.infinite), out, indent=2)
        out.write("\n")
    else:
        _print_text(rules, options.infinite, out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    from blackjack._cli import run
    run(main)
