"""The stock Linux ``telnet`` (inetutils) in a terminal: passwords never show on screen.

``telnet localhost PORT``, exactly as the README says, negotiates nothing on a
port other than 23, so the server must ask it to stop echoing on its own
initiative.  The real client runs under pexpect, in a pseudo-terminal, against
the real server (``twistd -n blackjack``); what the terminal shows is
everything the client printed, local echo included.

CI runs ``.ci/run``, which installs the client and sets ``BLACKJACK_CI=1``:
there a missing client fails the test.  Elsewhere it is skipped, saying so.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from test_crash import Server

PASSWORD = "correct-horse-battery"
TELNET = shutil.which("inetutils-telnet") or shutil.which("telnet")


@pytest.fixture
def telnet() -> str:
    """The telnet client's path; a failure in CI (BLACKJACK_CI set) if it is missing."""
    if TELNET is None:
        missing = "no telnet client on PATH (apt-get install inetutils-telnet)"
        if os.environ.get("BLACKJACK_CI"):
            pytest.fail(f"{missing}, and BLACKJACK_CI is set: CI must run this test "
                        "(.ci/run installs the client)")
        pytest.skip(f"{missing}; skipped only outside CI (in CI, where .ci/run installs it "
                    "and sets BLACKJACK_CI=1, a missing client fails)")
    return TELNET


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The real server, ``twistd -n blackjack``, on a free local port."""
    running = Server(tmp_path / "bj.sqlite3", tmp_path / "bj.log")
    try:
        yield running
    finally:
        running.stop()


def session(telnet: str, server: Server) -> tuple[pexpect.spawn, io.StringIO]:
    """``telnet localhost PORT`` in a terminal, and the record of what its screen shows."""
    child = pexpect.spawn(telnet, ["localhost", str(server.port)], timeout=10,
                          encoding="utf-8", dimensions=(24, 200))
    screen = io.StringIO()
    child.logfile_read = screen
    child.expect("Welcome")
    return child, screen


def finish(child: pexpect.spawn) -> None:
    """Type ``quit`` (shown on screen, as echo is back on) and wait for the client to exit."""
    child.sendline("quit")
    child.expect("Goodbye")
    child.expect(pexpect.EOF)
    child.close()


def test_register_and_login_passwords_never_show(telnet: str, server: Server) -> None:
    """Neither register prompt nor the login prompt shows the password typed; commands
    typed before and after them do show, so the check can see typing."""
    child, screen = session(telnet, server)
    child.sendline("register alice")
    child.expect("Choose a password: ")
    child.sendline(PASSWORD)
    child.expect("Repeat the password: ")
    child.sendline(PASSWORD)
    child.expect("Hello, alice")
    finish(child)
    shown = screen.getvalue()
    assert "register alice" in shown and "quit" in shown
    assert PASSWORD not in shown, shown

    child, screen = session(telnet, server)
    child.sendline("login alice")
    child.expect("Password: ")
    child.sendline(PASSWORD)
    child.expect("Hello, alice")
    child.sendline("who")
    child.expect("online")
    finish(child)
    shown = screen.getvalue()
    assert "login alice" in shown and "who" in shown
    assert PASSWORD not in shown, shown


def test_a_mistyped_repeat_does_not_show_either(telnet: str, server: Server) -> None:
    """Two different passwords at register: neither shows, and echo is back for what follows."""
    child, screen = session(telnet, server)
    child.sendline("register bob")
    child.expect("Choose a password: ")
    child.sendline(PASSWORD)
    child.expect("Repeat the password: ")
    child.sendline(PASSWORD + "-typo")
    child.expect("the passwords differ")
    finish(child)
    shown = screen.getvalue()
    assert PASSWORD not in shown, shown
    assert "quit" in shown
