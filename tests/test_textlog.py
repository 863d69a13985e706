"""The text log: twistd's own lines, written by the server's faster observer."""

from __future__ import annotations

import io
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.logger import Logger, LogLevel, textFileLogObserver
from twisted.python.failure import Failure
from twisted.scripts.twistd import ServerOptions

from blackjack.server import logevents
from blackjack.server.hosting import textlog, twistdlog


def _twisted_line(event: dict[str, Any]) -> str:
    """What twistd's own text observer writes for ``event``."""
    out = io.StringIO()
    textFileLogObserver(out)(event)
    return out.getvalue()


def _our_line(event: dict[str, Any]) -> str:
    return textlog.classic_line(event) or ""


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(text=_TEXT | st.sampled_from(["round r1 at main settled", "a {who} b", "{{x}}", "",
                                     "two\nlines", "{0}", "}"]),
       when=st.one_of(st.none(), st.floats(-1e9, 4e9), st.integers(0, 2 ** 31)),
       system=st.one_of(st.none(), _TEXT, st.integers()),
       namespace=st.one_of(st.none(), _TEXT), level=st.sampled_from(
           [None, *LogLevel.iterconstants()]))
def test_a_line_is_what_twistds_observer_writes(text: str, when: Any, system: Any,
                                                namespace: Any, level: Any) -> None:
    """Any event (fields or none, odd systems, times, levels) gets twistd's own line."""
    event: dict[str, Any] = {"log_format": text, "who": "ann"}
    for key, value in (("log_time", when), ("log_system", system),
                       ("log_namespace", namespace), ("log_level", level)):
        if value is not None:
            event[key] = value
    assert _our_line(event) == _twisted_line(event)


def test_a_catalogue_event_and_a_failure_are_twistds_lines() -> None:
    """A settled round (the line a busy room writes most) and a failure with its
    traceback come out as twistd writes them."""
    seen: list[dict[str, Any]] = []
    log = Logger(namespace="blackjack.server.core.table", observer=seen.append)
    logevents.ROUND_SETTLED(log, table="main", round_id="main-1", hands=3, players=2,
                            staked=30, paid=45)
    try:
        1 / 0
    except ZeroDivisionError:
        log.failure("settling round {round_id} failed", Failure(), round_id="main-1")
    assert len(seen) == 2
    for event in seen:
        assert _our_line(event) == _twisted_line(event)
    assert " [blackjack.server.core.table#info] round main-1 at main settled: 3 hands, " \
           "30 staked, 45 paid\n" in _our_line(seen[0])
    assert "ZeroDivisionError" in _our_line(seen[1])


def test_twistd_logs_text_through_the_servers_observer(tmp_path: Path) -> None:
    """``twistd blackjack`` points twistd's --logger at the text observer, which writes
    twistd's lines to --logfile and rotates it on SIGUSR1 as twistd would; a host's
    own --logger or --syslog stays."""
    config = ServerOptions()
    log = tmp_path / "bj.log"
    config.parseOptions(["-n", "--logfile", str(log), "blackjack"])
    assert config["logger"] is textlog.observer
    before = signal.getsignal(signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    try:
        observer = config["logger"]()
        assert callable(signal.getsignal(signal.SIGUSR1))  # twistd's rotation on SIGUSR1
    finally:
        signal.signal(signal.SIGUSR1, before)
    event = {"log_format": "hello", "log_time": 1.5, "log_level": LogLevel.info,
             "log_namespace": "test"}
    observer(event)
    assert log.read_text() == _twisted_line(event)
    theirs = ServerOptions()
    theirs.parseOptions(["-n", "--logger", "twisted.logger.textFileLogObserver",
                         "blackjack"])
    assert theirs["logger"] is textFileLogObserver
    syslog = ServerOptions()
    syslog.parseOptions(["-n", "--syslog", "blackjack"])
    assert syslog["syslog"] and not syslog["logger"]


def test_a_daemon_cannot_log_to_standard_output() -> None:
    """``--logfile -`` without -n is refused, as twistd refuses it."""
    twistdlog._TWISTD.update(logfile="-", nodaemon=False)
    try:
        with pytest.raises(SystemExit, match="Daemons cannot log to stdout"):
            twistdlog.log_file()
    finally:
        twistdlog._TWISTD.clear()
