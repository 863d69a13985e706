"""``--log-format json``: the log as JSON Lines, one object per event, for programs.

Each line is one JSON object: ``time`` (ISO 8601, UTC), ``level``,
``namespace`` (the module that logged), ``text`` (the line the text log
would show), ``event`` and its fields for the events of the catalogue
(:mod:`blackjack.server.logevents`), any other fields the event carries, and
``traceback`` for a failure.  JSON Lines rather than Twisted's own
``jsonFileLogObserver`` (RFC 7464 records of Twisted's internal event
format): what ``jq``, Vector, Loki or a ``grep`` read without a special mode.

No key that could hold a secret (:data:`~blackjack.server.logevents.SECRET_FIELDS`)
is ever written, whoever logged it.

``twistd`` picks a log observer before the plugin's service exists, from
its own ``--logger`` option; :func:`use_with_twistd` points that option at
:func:`observer`, which writes where twistd would have (``--logfile``,
rotated as twistd rotates; standard output with ``-n`` and no log file).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import IO, Any

from twisted.logger import FileLogObserver, ILogObserver, formatEvent
from twisted.python import logfile
from twisted.python.failure import Failure
from twisted.python.usage import Options, UsageError

from blackjack.server.logevents import SECRET_FIELDS

__all__ = ["as_json", "json_lines_observer", "observer", "use_with_twistd"]

_TWISTD: dict[str, Any] = {}
"""twistd's --logfile and --nodaemon, noted by :func:`use_with_twistd` for :func:`observer`."""


def as_json(event: dict[str, Any]) -> str:
    """One log event as one line of JSON (with its newline)."""
    when = event.get("log_time")
    record: dict[str, Any] = {
        "time": (datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="milliseconds")
                 if isinstance(when, (int, float)) else None),
        "level": getattr(event.get("log_level"), "name", None),
        "namespace": event.get("log_namespace"),
        "text": formatEvent(event),
    }
    for key, value in event.items():
        if key.startswith("log_") or key in record or key.lower() in SECRET_FIELDS:
            continue
        record[key] = value
    failure = event.get("log_failure")
    if isinstance(failure, Failure):
        record["traceback"] = failure.getTraceback()
    return json.dumps(record, default=str, ensure_ascii=False) + "\n"


def json_lines_observer(out: IO[str]) -> ILogObserver:
    """An observer writing each event to ``out`` as one JSON line."""
    return FileLogObserver(out, as_json)


def observer() -> ILogObserver:
    """The JSON observer twistd starts (``--logger``), writing where its own would."""
    name = _TWISTD.get("logfile") or ""
    if name == "-" or (not name and _TWISTD.get("nodaemon")):
        return json_lines_observer(sys.stdout)
    return json_lines_observer(logfile.LogFile.fromFullPath(name or "twistd.log"))


def use_with_twistd(parent: Options | None) -> None:
    """Make twistd log as JSON: point its ``--logger`` at :func:`observer`.

    Called from the plugin's options while twistd parses its command line;
    ``parent`` is twistd's own options (``None`` outside twistd: nothing to do).
    """
    if parent is None:
        return
    if parent.get("logger") or parent.get("syslog"):
        raise UsageError("--log-format json writes the log itself: leave out twistd's "
                         "--logger and --syslog")
    _TWISTD.update(logfile=parent.get("logfile"), nodaemon=parent.get("nodaemon"))
    parent["logger"] = f"{__name__}.observer"
