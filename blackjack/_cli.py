"""What the engine's command lines share: a clean exit when output is cut off."""

from __future__ import annotations

import os
import sys
from typing import Callable


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
