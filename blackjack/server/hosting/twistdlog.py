"""The server's own log observer in twistd's place, writing where twistd's would.

``twistd`` picks its log observer before the plugin's service exists, from
its own ``--logger`` option.  :func:`use_with_twistd` points that option at
the observer of ``--log-format`` (:mod:`.textlog` for text, the default;
:mod:`.jsonlog` for JSON), which opens what twistd would have opened: the
``--logfile`` (``twistd.log`` by default), rotated by size and on SIGUSR1
as twistd rotates it, or standard output with ``-n`` and no log file.  A
host who gives twistd's own ``--logger`` or ``--syslog`` keeps it, with the
text format (the JSON format writes the log itself, and says so).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import IO, Any

from twisted.python import logfile
from twisted.python.usage import Options, UsageError

__all__ = ["log_file", "use_with_twistd"]

_TWISTD: dict[str, Any] = {}
"""twistd's --logfile and --nodaemon, noted by :func:`use_with_twistd` for :func:`log_file`."""


def log_file() -> IO[Any]:
    """Where twistd would write its log, opened as twistd opens it.

    As ``twisted.scripts._twistd_unix.UnixAppLogger`` does: standard output
    for ``--logfile -`` (refused for a daemon) or ``-n`` without a log file;
    else a :class:`~twisted.python.logfile.LogFile`, rotated on SIGUSR1
    unless a handler is already set.
    """
    name = _TWISTD.get("logfile") or ""
    nodaemon = bool(_TWISTD.get("nodaemon"))
    if name == "-":
        if not nodaemon:
            sys.exit("Daemons cannot log to stdout, exiting!")
        return sys.stdout
    if not name and nodaemon:
        return sys.stdout
    opened = logfile.LogFile.fromFullPath(name or "twistd.log")
    if not signal.getsignal(signal.SIGUSR1):
        def rotate(signum: int, frame: Any) -> None:
            from twisted.internet import reactor

            reactor.callFromThread(opened.rotate)  # type: ignore[attr-defined]
        signal.signal(signal.SIGUSR1, rotate)
    return opened


def use_with_twistd(parent: Options | None, observer: Callable[[], Any], *,
                    required: bool) -> None:
    """Point twistd's ``--logger`` at ``observer`` (a module-level function).

    Called from the plugin's options while twistd parses its command line;
    ``parent`` is twistd's own options (``None`` outside twistd: nothing to
    do).  Where the host gave twistd a ``--logger`` or ``--syslog`` of their
    own, theirs stays, or (``required``) it is a usage error.
    """
    if parent is None:
        return
    if parent.get("logger") or parent.get("syslog"):
        if required:
            raise UsageError("--log-format json writes the log itself: leave out twistd's "
                             "--logger and --syslog")
        return
    _TWISTD.update(logfile=parent.get("logfile"), nodaemon=parent.get("nodaemon"))
    parent["logger"] = f"{observer.__module__}.{observer.__name__}"
