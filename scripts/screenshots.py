"""Screenshots of the web page for the docs: the lobby, and a table in the middle of a round.

Starts ``twistd -n blackjack`` from this checkout on loopback ports, seats
three players at ``main`` (two in browsers, one over telnet), and saves
``docs/lobby.png``, ``docs/table.png`` (a desktop browser on its turn) and
``docs/table-phone.png`` (the other player, on a phone-sized screen).  Needs
Chromium (``apt-get install chromium``) and Playwright (the test extra)::

    python scripts/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "screenshot-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    """The server, listening: its process, telnet port and web port."""
    telnet, web = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "-n",
         "--pidfile=", "--logfile", str(folder / "server.log"), "blackjack",
         "--listen", f"tcp:{telnet}:interface=127.0.0.1",
         "--web", f"tcp:{web}:interface=127.0.0.1", "--db", str(folder / "bj.sqlite3"),
         "--password-cost", "fast-insecure", "--bet-time", "15", "--turn-time", "60"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    for port in (telnet, web):
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
    return process, telnet, web


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNG files")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        process, telnet_port, web = serve(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
                url = f"http://127.0.0.1:{web}/"
                desk = browser.new_context(viewport={"width": 1200, "height": 860}).new_page()
                phone = browser.new_context(viewport={"width": 390, "height": 844},
                                            device_scale_factor=1, is_mobile=True,
                                            has_touch=True).new_page()
                for page, name in ((desk, "alice"), (phone, "bob")):
                    page.goto(url)
                    page.fill("#login-name", name)
                    page.fill("#login-password", PASSWORD)
                    page.click("#login-form button[value=register]")
                    page.wait_for_selector("#lobby-view:not([hidden])")
                telnet = socket.create_connection(("127.0.0.1", telnet_port))
                telnet.sendall(f"register carol {PASSWORD} {PASSWORD}\r\njoin main 5\r\n"
                               "say good luck, all\r\n".encode())
                time.sleep(0.5)
                desk.click("#refresh-button")
                desk.wait_for_timeout(300)
                desk.screenshot(path=str(out / "lobby.png"),
                                clip={"x": 0, "y": 0, "width": 1200, "height": 540})
                desk.click("button[aria-label='Sit at main']")
                desk.wait_for_selector("#table-view:not([hidden])")
                phone.click("button[aria-label='Sit at main']")
                for page in (desk, phone):
                    page.wait_for_selector("#bet-controls:not([hidden])")
                desk.keyboard.press("2")
                desk.keyboard.press("b")
                phone.click("#bet-button")
                telnet.sendall(b"bet 50\r\n")
                # The desktop player has seat 1: the first turn is theirs.
                stand = desk.locator("#action-controls [data-action=stand]")
                insurance = desk.locator("#action-controls [data-action=no]")
                deadline = time.monotonic() + 30
                while not stand.is_visible() and time.monotonic() < deadline:
                    if insurance.is_visible():
                        insurance.click()
                        phone.click("#action-controls [data-action=no]")
                        telnet.sendall(b"no\r\n")
                    time.sleep(0.1)
                if not stand.is_visible():
                    raise SystemExit("the desktop player got no turn (a blackjack?); run again")
                desk.click("#hint-button")
                desk.wait_for_timeout(400)
                desk.screenshot(path=str(out / "table.png"))
                phone.wait_for_timeout(200)
                phone.screenshot(path=str(out / "table-phone.png"))
                browser.close()
                telnet.close()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    print(f"saved lobby.png, table.png and table-phone.png in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
