"""Helpers for the browser tests: a real ``twistd blackjack``, Chromium, and a telnet player.

The server runs as its own process (the command a host types), so the test
drives the browser and a telnet client with plain blocking calls while the
server plays.  Chromium is Debian's (``/usr/bin/chromium``), driven through
Playwright, which also sees every WebSocket frame the page receives.

Without Chromium or Playwright the tests are skipped with the reason, unless
``BLACKJACK_BROWSER_TESTS=required`` or ``BLACKJACK_CI=1`` (``.ci/run`` sets
both), when they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("BLACKJACK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "browser-secret-pw"


def need_browser() -> None:
    """Skip (or, where a browser is required, fail) without Chromium and Playwright."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright (pip install '.[test]')")
    if missing:
        reason = "browser tests need " + " and ".join(missing)
        if (os.environ.get("BLACKJACK_BROWSER_TESTS") == "required"
                or os.environ.get("BLACKJACK_CI") == "1"):
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``twistd -n blackjack`` process on loopback ports."""

    process: subprocess.Popen[bytes]
    telnet: int
    web: int
    log: Path
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.web}/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_server(workdir: Path, *options: str, listen: str = "tcp:{port}:interface=127.0.0.1",
                 web: str = "tcp:{port}:interface=127.0.0.1", scheme: str = "http") -> Server:
    """``twistd -n blackjack`` from this checkout, with cheap hashing, on fresh ports."""
    telnet, web_port = free_port(), free_port()
    log = workdir / "server.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
               "-n", "--pidfile=", "--logfile", str(log), "blackjack",
               "--listen", listen.format(port=telnet), "--web", web.format(port=web_port),
               "--db", str(workdir / "bj.sqlite3"), "--password-cost", "fast-insecure",
               *options]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = Server(process, telnet, web_port, log, scheme)
    deadline = time.monotonic() + 30
    for port in (telnet, web_port):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{server.tail()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"the server did not listen:\n{server.tail()}")
            time.sleep(0.1)
    return server


@dataclass
class Telnet:
    """A telnet player in the older JSON mode: plain lines in, JSON events out."""

    sock: socket.socket
    events: list[dict[str, Any]] = field(default_factory=list)
    _buffer: bytes = b""

    @classmethod
    def connect(cls, port: int, name: str) -> Telnet:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        player = cls(sock)
        player.say("json on")
        player.say(f"register {name} {PASSWORD} {PASSWORD}")
        player.wait_for("login")
        return player

    def say(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def poll(self, seconds: float = 0.05) -> list[dict[str, Any]]:
        """The events that arrived within ``seconds`` (none is fine)."""
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return []
        if not data:
            raise ConnectionError("the server closed the telnet connection")
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        new = [json.loads(line) for line in lines if line.startswith(b"{")]
        self.events += new
        return new

    def wait_for(self, kind: str, seconds: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        seen = len(self.events)
        while time.monotonic() < deadline:
            self.poll()
            for event in self.events[seen:]:
                if event["event"] == kind:
                    return event
        raise AssertionError(f"no {kind} event in {seconds} s: {self.events[-5:]}")

    def close(self) -> None:
        self.sock.close()


class Frames:
    """Every WebSocket frame a page received (across reloads), and the sockets' URLs."""

    def __init__(self, page: Any) -> None:
        self.raw: list[str] = []
        self.urls: list[str] = []
        page.on("websocket", self._socket)

    def _socket(self, ws: Any) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", lambda payload: self.raw.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))

    def events(self, kind: str) -> list[dict[str, Any]]:
        found = []
        for text in self.raw:
            if text.startswith('{"event":"' + kind + '"'):
                found.append(json.loads(text))
        return found


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (a fresh profile per launch)."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser: Any, url: str, **context: Any) -> Any:
    """A page in a fresh context (its own cookies and storage) that fails on script errors."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}, **context).new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: (page.errors.append(f"dialog: {dialog.message}"),
                                      dialog.dismiss()))
    page.set_default_timeout(15_000)
    page.ws = Frames(page)
    page.goto(url)
    return page


def register(page: Any, name: str) -> None:
    """Register on the login form; wait for the lobby."""
    page.wait_for_selector("#login-view:not([hidden])")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[value=register]")
    page.wait_for_selector("#lobby-view:not([hidden])")


def sit(page: Any, table: str) -> None:
    page.click(f"button[aria-label='Sit at {table}']")
    page.wait_for_selector("#table-view:not([hidden])")
