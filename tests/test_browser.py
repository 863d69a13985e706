"""The page in a real browser (Debian's Chromium through Playwright) against a real twistd.

Two browser players and a telnet player share a table; a reload mid-turn
returns to the seat; a round is played from the keyboard; the page works
over HTTPS and WSS.  Every frame each page received is kept, so the tests
can show that the dealer's hole card travels in none before it is turned
over.  See ``tests/browser.py`` for when these tests skip or fail.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import (  # noqa: F401 - chromium is a fixture
    PASSWORD,
    Server,
    Telnet,
    chromium,
    need_browser,
    open_page,
    register,
    sit,
    start_server,
)
from certificates import make_certificate

TIMERS = ["--bet-time", "8", "--turn-time", "20", "--insurance-time", "10"]
# One deck, so a card can be dealt only once a round: the hole card's name
# cannot turn up in a frame for any other reason before the reveal.
TABLES = ["-t", "solo:decks=1", "-t", "main:decks=1", "-t", "spare:decks=1"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One card room for the module, on loopback."""
    need_browser()
    running = start_server(tmp_path_factory.mktemp("browser"), *TIMERS, *TABLES)
    yield running
    running.stop()


def results(page: Any) -> list[dict[str, Any]]:
    return page.ws.events("result")


def click(page: Any, selector: str) -> None:
    """Click if it is there; a button that went away meanwhile is no failure (we poll again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.locator(selector).click(timeout=1000)
    except PlaywrightTimeout:
        pass


def play_along(page: Any, *, bet: bool) -> None:
    """Whatever the page offers now: bet, decline insurance, or stand."""
    if bet and page.is_visible("#bet-controls"):
        click(page, "#bet-button")
    for action in ("no", "stand"):
        selector = f"#action-controls [data-action={action}]"
        if page.is_visible(selector):
            click(page, selector)
            return


def hole_card_never_sent_early(raw: list[str]) -> int:
    """Each round's hole card is in no frame of that round before its reveal; rounds checked."""
    start = checked = 0
    for i, text in enumerate(raw):
        if text.startswith('{"event":"betting"'):
            start = i
        elif text.startswith('{"event":"reveal"'):
            card = json.loads(text)["card"]
            early = [t for t in raw[start:i] if f'"{card}"' in t]
            assert not early, f"{card} was sent before its reveal: {early}"
            checked += 1
    return checked


def test_the_hole_card_check_finds_a_leak() -> None:
    """The frame check below can fail: a hole card named before its reveal is caught."""
    fine = ['{"event":"betting"}', '{"event":"deal","card":"??"}',
            '{"event":"reveal","card":"7C","total":17}']
    assert hole_card_never_sent_early(fine) == 1
    with pytest.raises(AssertionError, match="7C was sent before its reveal"):
        hole_card_never_sent_early(fine[:2] + ['{"view":{"dealer":["9S","7C"]}}'] + fine[2:])


def test_two_browsers_and_a_telnet_player_play_the_same_rounds(
        chromium: Any, server: Server) -> None:
    """Rounds settle for all three, with the same dealer cards; chat is text; no hole card leaks."""
    ann, bea = open_page(chromium, server.url), open_page(chromium, server.url)
    register(ann, "ann")
    register(bea, "bea")
    sit(ann, "main")
    sit(bea, "main")
    tom = Telnet.connect(server.telnet, "tom")
    handled = len(tom.events)
    tom.say("join main")
    tom.wait_for("joined")
    tom.say('say <script>window.pwned=1</script><img src=x onerror="window.pwned=2"> gl')
    rounds, tom_results = 2, []
    deadline = time.monotonic() + 90
    while min(len(results(ann)), len(results(bea)), len(tom_results)) < rounds:
        assert time.monotonic() < deadline, (len(results(ann)), len(results(bea)), tom_results)
        for page in (ann, bea):
            play_along(page, bet=len(results(page)) < rounds)
        tom.poll()
        new, handled = tom.events[handled:], len(tom.events)
        for event in new:
            kind = event["event"]
            if kind == "result":
                tom_results.append(event)
            elif kind == "betting" and len(tom_results) < rounds:
                tom.say("bet 10")
            elif kind == "prompt" and event["player"] == "tom":
                tom.say("stand")
            elif kind == "decide" and "tom" in event["players"]:
                tom.say("no")
    dealt = [[r["dealer"] for r in seen[:rounds]] for seen in (results(ann), results(bea),
                                                               tom_results)]
    assert dealt[0] == dealt[1] == dealt[2]
    for result in tom_results[:rounds]:
        assert {h["player"] for h in result["hands"]} == {"ann", "bea", "tom"}
    # The page still shows the last round: the same dealer cards, drawn.
    last = results(ann)[rounds - 1]["dealer"]
    ann.wait_for_function("n => document.querySelectorAll('#dealer-cards [data-card]')"
                          ".length === n", arg=len(last))
    drawn = ann.eval_on_selector_all("#dealer-cards [data-card]",
                                     "cards => cards.map(c => c.dataset.card)")
    assert drawn == last
    # Chat from the terminal: shown as the characters typed, never run or parsed.
    ann.wait_for_selector("#chat-log li")
    assert "<script>window.pwned=1</script><img src=x" in ann.inner_text("#chat-log")
    assert ann.evaluate("window.pwned") is None
    assert ann.locator("#chat-log img, #chat-log script").count() == 0
    for page in (ann, bea):
        assert hole_card_never_sent_early(page.ws.raw) >= rounds
        assert page.errors == []
    tom.close()


def test_a_reload_mid_turn_comes_back_to_the_seat(chromium: Any, server: Server) -> None:
    """On its turn the page reloads; it logs in with its token and is asked for the move again."""
    page = open_page(chromium, server.url)
    register(page, "rita")
    sit(page, "spare")
    stand = page.locator("#action-controls [data-action=stand]")
    deadline = time.monotonic() + 60
    while not stand.is_visible():
        assert time.monotonic() < deadline, "no turn came"
        if page.is_visible("#bet-controls"):
            click(page, "#bet-button")
        if page.is_visible("#action-controls [data-action=no]"):
            click(page, "#action-controls [data-action=no]")
        time.sleep(0.05)
    seat = page.inner_text(".seat.mine h3")
    settled = len(results(page))
    page.reload()
    stand.wait_for()
    assert page.is_hidden("#login-view") and page.inner_text(".seat.mine h3") == seat
    stored = page.evaluate("JSON.stringify([Object.entries(sessionStorage), localStorage.length])")
    assert PASSWORD not in stored and json.loads(stored)[1] == 0
    assert len(page.ws.urls) == 2
    stand.click()
    page.wait_for_function("() => document.querySelector('.seat.mine .result') !== null")
    assert len(results(page)) == settled + 1 and page.errors == []


def test_a_round_is_played_with_the_keyboard_alone(chromium: Any, server: Server) -> None:
    """Register, sit, bet and play with keys only: Tab, Enter, digits, b, then n and s."""
    page = open_page(chromium, server.url)
    page.wait_for_selector("#login-view:not([hidden])")
    keys = page.keyboard
    keys.type("kim")  # the name field has the focus
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.press("Tab")  # Log in
    keys.press("Tab")  # Register
    keys.press("Enter")
    page.wait_for_selector("#lobby-view:not([hidden])")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-label')"
                           " === 'Sit at solo'")
    keys.press("Enter")
    page.wait_for_selector("#bet-controls:not([hidden])")
    keys.press("2")  # the second chip (25) on top of the table minimum (10)
    assert page.inner_text("#bet-amount") == "35"
    keys.press("c")
    keys.press("1")
    keys.press("b")
    deadline = time.monotonic() + 30
    while not results(page):
        assert time.monotonic() < deadline, "the round did not settle"
        if page.locator("#action-controls [data-action=no]").is_visible():
            keys.press("n")
        elif page.locator("#action-controls [data-action=stand]").is_visible():
            keys.press("s")
        time.sleep(0.05)
    assert results(page)[0]["hands"][0]["player"] == "kim"
    assert page.ws.events("bet")[0]["amount"] == 10 and page.errors == []


def test_a_round_over_https_and_wss(chromium: Any, tmp_path: Path) -> None:
    """Page over HTTPS, socket over WSS, with a certificate made for the test."""
    _ca, cert, key = make_certificate(tmp_path)
    tls = f"ssl:{{port}}:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    server = start_server(tmp_path, *TIMERS, "-t", "main", web=tls, scheme="https")
    try:
        page = open_page(chromium, server.url, ignore_https_errors=True)
        register(page, "tess")
        sit(page, "main")
        deadline = time.monotonic() + 30
        while not results(page):
            assert time.monotonic() < deadline, "the round did not settle"
            play_along(page, bet=True)
            time.sleep(0.05)
        assert page.ws.urls == [f"wss://127.0.0.1:{server.web}/ws"] and page.errors == []
    finally:
        server.stop()
