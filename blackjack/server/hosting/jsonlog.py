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
its own ``--logger`` option; :func:`~.twistdlog.use_with_twistd` points
that option at :func:`observer`, which writes where twistd would have
(``--logfile``, rotated as twistd rotates; standard output with ``-n`` and
no log file).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import IO, Any

from twisted.logger import FileLogObserver, ILogObserver, formatEvent
from twisted.python.failure import Failure

from blackjack.server.hosting.twistdlog import log_file
from blackjack.server.logevents import SECRET_FIELDS

__all__ = ["as_json", "json_lines_observer", "observer"]


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
    return json_lines_observer(log_file())
