"""The web site: the page's files with their types and security headers, and the Origin rule."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers

from blackjack.rules import Rules
from blackjack.server.core.accounts import Accounts
from blackjack.server.core.lobby import Lobby
from blackjack.server.core.passwords import FAST_INSECURE
from blackjack.server.core.table import Table
from blackjack.server.frontends.web.site import SECURITY_HEADERS, WebFrontEnd, same_origin

from conftest import wait

# Twisted's Agent warns about its own HTTP/1.1 transport when reading a body.
pytestmark = pytest.mark.filterwarnings("ignore:Using readBody:DeprecationWarning")

STATIC = Path(__file__).resolve().parent.parent / "blackjack/server/frontends/web/static"


@pytest_twisted.async_yield_fixture
async def site(storage: Any) -> AsyncIterator[str]:
    """The web front end on 127.0.0.1 port 0; yields its base URL."""
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ServerEndpoint

    front = WebFrontEnd(Lobby([Table("main", Rules(), storage, Clock())]),
                        Accounts(storage, Clock(), hasher=FAST_INSECURE), storage)
    port = await wait(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(front.site))
    yield f"http://127.0.0.1:{port.getHost().port}"
    await wait(port.stopListening())


async def get(url: str, **headers: str) -> tuple[int, Headers, bytes]:
    """GET ``url``: status, headers and body."""
    from twisted.internet import reactor

    response = await wait(Agent(reactor).request(
        b"GET", url.encode(), Headers({k.replace("_", "-"): [v] for k, v in headers.items()})))
    return response.code, response.headers, await wait(readBody(response))


@pytest.mark.parametrize("path, kind", [
    ("/", "text/html; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
    ("/style.css", "text/css; charset=utf-8"), ("/favicon.svg", "image/svg+xml")])
@pytest_twisted.ensureDeferred
async def test_the_page_is_served_with_its_type_and_security_headers(
        site: str, path: str, kind: str) -> None:
    """Each file has its type, an ETag, no-cache, and the CSP that forbids inline script."""
    code, headers, body = await get(site + path)
    assert code == 200 and body
    assert headers.getRawHeaders("content-type") == [kind]
    for name, value in SECURITY_HEADERS.items():
        assert headers.getRawHeaders(name.decode()) == [value.decode()], name
    csp = headers.getRawHeaders("content-security-policy")[0]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    etag = headers.getRawHeaders("etag")[0]
    again, _, nothing = await get(site + path, if_none_match=etag)
    assert (again, nothing) == (304, b"")


@pytest.mark.parametrize("path", ["/nothing", "/app.js/more", "/static/app.js", "/..%2fsite.py"])
@pytest_twisted.ensureDeferred
async def test_anything_else_is_not_found(site: str, path: str) -> None:
    """Only the page's own files are served: no listing, no other file of the package."""
    code, headers, _ = await get(site + path)
    assert code == 404 and headers.getRawHeaders("x-content-type-options") == ["nosniff"]


@pytest_twisted.ensureDeferred
async def test_the_socket_path_without_an_upgrade_is_a_bad_request(site: str) -> None:
    """A plain GET of /ws is refused by the WebSocket handshake, not served."""
    code, _, _ = await get(site + "/ws")
    assert code == 400


def test_the_page_has_no_inline_script_and_never_writes_html() -> None:
    """Scripts are modules from files; no handler attributes; text goes in as text, not HTML."""
    html = (STATIC / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="app.js">']
    assert not re.search(r"\son[a-z]+=", html) and "style=" not in html
    for script in STATIC.glob("*.js"):
        code = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, (script.name, sink)


@pytest.mark.parametrize("origin, host, secure, same", [
    ("http://localhost:8080", "localhost:8080", False, True),
    ("https://cards.example.org", "cards.example.org", True, True),
    ("https://cards.example.org", "cards.example.org:443", True, True),
    ("http://cards.example.org", "cards.example.org:80", False, True),
    ("http://[::1]:8080", "[::1]:8080", False, True),
    ("http://localhost:8080", "localhost:8081", False, False),
    ("http://evil.example", "localhost:8080", False, False),
    ("https://localhost:8080", "localhost:8080", False, False),
    ("null", "localhost:8080", False, False),
    ("http://localhost:99999", "localhost:99999", False, False),
    ("http://localhost:8080", None, False, False),
])
def test_same_origin_needs_scheme_host_and_port_to_match(
        origin: str, host: str | None, secure: bool, same: bool) -> None:
    """An Origin matches the Host it was sent to only with the same scheme, host and port."""
    assert same_origin(origin, host, secure) is same
