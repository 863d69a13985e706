"""What the engine's command lines share: the rule options, and a clean exit."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from blackjack.rules import Rules


def run(main: Callable[[], int]) -> None:
    """Run ``main`` and exit with its status.

    A reader that stops early (``... | head``) closes the pipe; that is not
    an error worth a traceback.  As the Python docs advise, point stdout at
    devnull so the interpreter's final flush does not raise again.
    """
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 1
    sys.exit(status)


def add_rules_arguments(parser: argparse.ArgumentParser, *, penetration: bool = False) -> None:
    """Give a command the rule options every engine command shares.

    Each option is a shorthand for one item of ``--rules SPEC`` (the
    :meth:`Rules.from_spec` form) and is applied after it.
    """
    group = parser.add_argument_group("rules (applied on top of --rules)")
    group.add_argument("--rules", default="", metavar="SPEC",
                       help="rules in Rules.from_spec form, e.g. 'h17,ndas,ls', or a preset "
                            "(vegas, downtown, atlantic, european, sixfive, single)")
    group.add_argument("--decks", type=int, help="decks in the shoe, 1-8")
    group.add_argument("--h17", action="store_const", const="h17", dest="soft17",
                       help="dealer hits soft 17")
    group.add_argument("--s17", action="store_const", const="s17", dest="soft17",
                       help="dealer stands on soft 17")
    group.add_argument("--payout", metavar="N:D", help="blackjack payout, e.g. 3:2 or 6:5")
    group.add_argument("--double", choices=["any", "9-11", "10-11"],
                       help="which two-card totals may be doubled")
    group.add_argument("--ndas", action="store_true", help="no double after split")
    group.add_argument("--split", type=int, metavar="HANDS",
                       help="most hands a seat may split into (1 forbids splitting)")
    group.add_argument("--rsa", action="store_true", help="aces may be resplit")
    group.add_argument("--hsa", action="store_true", help="split aces may draw")
    group.add_argument("--surrender", action="store_true", help="late surrender")
    group.add_argument("--enhc", action="store_true",
                       help="European no hole card: the dealer does not peek")
    if penetration:
        group.add_argument("--penetration", type=float, metavar="F",
                           help="fraction of the shoe dealt before the cut card")


def rules_from_arguments(options: argparse.Namespace) -> Rules:
    """The rules value the options of :func:`add_rules_arguments` describe."""
    items = [options.rules]
    if options.decks is not None:
        items.append(f"decks={options.decks}")
    items.append(options.soft17 or "")
    if options.payout:
        items.append(f"payout={options.payout}")
    if options.double:
        items.append(f"double={options.double}")
    if options.split is not None:
        items.append(f"split={options.split}")
    items.extend(flag for flag in ("ndas", "rsa", "hsa", "enhc") if getattr(options, flag))
    if options.surrender:
        items.append("ls")
    if getattr(options, "penetration", None) is not None:
        items.append(f"pen={options.penetration}")
    return Rules.from_spec(",".join(item for item in items if item))
