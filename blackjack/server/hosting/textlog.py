"""``--log-format text`` (the default): twistd's classic log lines, written faster.

Each line is exactly what twistd's own text observer writes
(``twisted.logger.formatEventAsClassicLogText`` with an RFC 3339 time):
``2026-12-01T19:02:19+0000 [blackjack.server.core.table#info] round ...``.
Twisted makes every line through its general formatter: a format string
parsed field by field, a time zone worked out and ``strftime`` called for
each event, the system put together with ``str.format``.  For a busy room
that was a tenth of a millisecond a line, one line for every settled round.
:func:`classic_line` writes the common line (a format with no fields, as
every event of the catalogue sends: :mod:`blackjack.server.logevents`
renders its text itself; no failure attached) from its parts, with the time
prefix made once a second, and hands every other event to Twisted's
formatter, so the text is the same either way.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import (
    FileLogObserver, ILogObserver, formatEventAsClassicLogText, formatTime,
    timeFormatRFC3339,
)

from blackjack.server.hosting.twistdlog import log_file

__all__ = ["classic_line", "observer"]

_second: list[Any] = [None, ""]
"""The last whole second formatted, and its time prefix."""


def _twisted_time(when: float | None) -> str:
    return formatTime(when, timeFormatRFC3339)


def classic_line(event: dict[str, Any]) -> str | None:
    """``event`` as twistd's text log writes it (``None`` for an event with no text)."""
    text = event.get("log_format")
    when = event.get("log_time")
    if (type(text) is not str or not text or "{" in text or "}" in text
            or "log_failure" in event or "log_flattened" in event
            or type(when) is not float):
        return formatEventAsClassicLogText(event, formatTime=_twisted_time)
    second = int(when)
    if when < 0 or when - second >= 0.999999:
        # Before 1970, or close enough to the next second that the
        # microsecond rounding of datetime.fromtimestamp reaches it.
        prefix = _twisted_time(when)
    elif _second[0] == second:
        prefix = _second[1]
    else:
        # %S shows the whole second, and the zone's offset does not change
        # within one: every time in this second has this second's prefix.
        prefix = _twisted_time(float(second))
        _second[0], _second[1] = second, prefix
    system = event.get("log_system")
    if system is None:
        level = event.get("log_level")
        system = f"{event.get('log_namespace', '-')}#{'-' if level is None else level.name}"
    elif type(system) is not str:
        return formatEventAsClassicLogText(event, formatTime=_twisted_time)
    return f"{prefix} [{system}] {text}".replace("\n", "\n\t") + "\n"


def observer() -> ILogObserver:
    """The text observer twistd starts (``--logger``), writing where its own would."""
    return FileLogObserver(log_file(), classic_line)
