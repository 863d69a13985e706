"""The web front end: the page and its WebSocket, as one ``twisted.web`` site.

:class:`WebFrontEnd` holds what every connection needs (the lobby, accounts,
storage, limits and clock, as the telnet factory does), the live
:class:`~blackjack.server.frontends.web.connection.GameSocket` connections,
and :attr:`WebFrontEnd.site`, which ``twistd blackjack`` listens with on each
``--web`` endpoint.  The site serves:

* ``/`` and the page's files: HTML, CSS and JavaScript modules shipped as
  package data in ``static/`` and read once at start-up, each with a strong
  ETag and a Content-Security-Policy that allows scripts, styles and
  connections from this origin only (no inline script, nothing from
  elsewhere);
* ``/ws``: the WebSocket, after two checks.  **Origin**: a browser names the
  page that opens a WebSocket; one from another site is refused (403), so a
  page elsewhere cannot play with a visitor's session.  A request with no
  ``Origin`` comes from a program, not a browser, and is let in.
  **Caps**: the per-address and total connection caps, shared with telnet
  when the service passes telnet's counter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from twisted.web.websocket import WebSocketProtocol, WebSocketResource

from blackjack.server.core.accounts import Accounts
from blackjack.server.core.admin import Admin
from blackjack.server.core.lobby import Lobby
from blackjack.server.frontends.clients import FrontDoor
from blackjack.server.frontends.limits import ConnectionCounter, Limits
from blackjack.server.frontends.web.connection import GameSocket, Refusal
from blackjack.server.meter import NULL_METER, Meter
from blackjack.server.storage import IStorage

__all__ = ["WebFrontEnd", "same_origin", "SECURITY_HEADERS", "SOCKET_PATH"]

SOCKET_PATH = b"ws"
"""The WebSocket's path under the site's root: ``/ws``."""

SECURITY_HEADERS: dict[bytes, bytes] = {
    b"content-security-policy": (
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
        b"frame-ancestors 'none'"),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
    b"cross-origin-resource-policy": b"same-origin",
}
"""Sent with every response of the site."""

_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
    ".webmanifest": b"application/manifest+json",
}
"""The kinds of file the page is made of; files of any other kind are not served."""


def _secure_headers(request: Request) -> None:
    for name, value in SECURITY_HEADERS.items():
        request.setHeader(name, value)


def same_origin(origin: str, host: str | None, secure: bool) -> bool:
    """Whether a browser's ``Origin`` header names the site the request was sent to.

    The scheme, host and port of ``origin`` must match the request's
    ``Host`` header (ports defaulting to 80 for http, 443 for https).
    """
    try:
        page = urlsplit(origin)
        asked = urlsplit("//" + (host or ""))
        if page.scheme not in ("http", "https") or not page.hostname or not asked.hostname:
            return False
        page_port = page.port or (443 if page.scheme == "https" else 80)
        asked_port = asked.port or (443 if secure else 80)
    except ValueError:  # a port that is not a number, or out of range
        return False
    return (page.scheme == ("https" if secure else "http")
            and page.hostname == asked.hostname and page_port == asked_port)


class _File(Resource):
    """One file of the page, held in memory, with its type, ETag and the site's headers."""

    isLeaf = True

    def __init__(self, body: bytes, content_type: bytes) -> None:
        super().__init__()
        self.body = body
        self.content_type = content_type
        self.etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'

    def render_GET(self, request: Request) -> bytes:
        _secure_headers(request)
        if request.postpath:  # /app.js/more is no file of ours
            request.setResponseCode(404)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"No such page.\n"
        request.setHeader(b"content-type", self.content_type)
        # Revalidated on every load, so a new release is picked up at once.
        request.setHeader(b"cache-control", b"no-cache")
        request.setHeader(b"etag", self.etag)
        if request.getHeader(b"if-none-match") == self.etag:
            request.setResponseCode(304)
            return b""
        return self.body


class _NotFound(Resource):
    isLeaf = True

    def render(self, request: Request) -> bytes:
        _secure_headers(request)
        request.setResponseCode(404)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return b"No such page.\n"


class _Root(Resource):
    """The page's files by name, ``/`` for the page itself, and the WebSocket."""

    def __init__(self, children: dict[bytes, Resource]) -> None:
        super().__init__()
        for name, child in children.items():
            self.putChild(name, child)

    def getChild(self, path: bytes, request: Request) -> Resource:
        return _NotFound()


class _SocketResource(WebSocketResource):
    """``/ws``: the WebSocket upgrade, for pages of this site (or allowed origins) only."""

    def __init__(self, front: WebFrontEnd) -> None:
        super().__init__(front)
        self.front = front

    def render_GET(self, request: Request) -> bytes | int:
        origin = request.getHeader(b"origin")
        if origin is not None and not self.front.origin_allowed(
                origin, request.getHeader(b"host"), request.isSecure()):
            _secure_headers(request)
            request.setResponseCode(403)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"This card room takes WebSockets from its own page only.\n"
        return super().render_GET(request)


def _page_files() -> dict[bytes, Resource]:
    """Every file of ``static/`` as a resource by name; ``index.html`` is also ``/``."""
    folder = files(__package__).joinpath("static")
    found: dict[bytes, Resource] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _TYPES and not entry.name.startswith("."):
            found[entry.name.encode()] = _File(entry.read_bytes(), _TYPES[suffix])
    found[b""] = found[b"index.html"]
    return found


class WebFrontEnd(FrontDoor):
    """The page and the WebSocket connections of one card room.

    ``connections`` counts open connections against the caps; pass telnet's
    counter so one cap covers both doors.  ``origins`` are further page
    origins allowed to open the WebSocket (``https://cards.example.org``),
    for a page served through a proxy under another name.
    """

    def __init__(self, lobby: Lobby, accounts: Accounts, storage: IStorage,
                 limits: Limits = Limits(), clock: Any = None, *,
                 connections: ConnectionCounter | None = None,
                 origins: Iterable[str] = (), admin: Admin | None = None,
                 meter: Meter = NULL_METER) -> None:
        if clock is None:
            from twisted.internet import reactor
            clock = reactor
        super().__init__(lobby, accounts, storage, limits, clock, connections=connections,
                         admin=admin, meter=meter)
        self.origins = frozenset(o.strip().rstrip("/").lower() for o in origins)
        socket = _SocketResource(self)
        self.site = Site(_Root({**_page_files(), SOCKET_PATH: socket}), reactor=clock)
        self.site.noisy = False

    def origin_allowed(self, origin: bytes | str, host: bytes | str | None,
                       secure: bool) -> bool:
        """Whether a page at ``origin`` may open the WebSocket of a request to ``host``."""
        text = origin.decode("latin-1") if isinstance(origin, bytes) else origin
        asked = host.decode("latin-1") if isinstance(host, bytes) else host
        return text.lower() in self.origins or same_origin(text, asked, secure)

    def buildProtocol(self, request: Request) -> WebSocketProtocol:
        """A connection for an upgraded request, or a refusal over the caps."""
        address = request.getClientAddress()
        host = getattr(address, "host", None)
        refusal = self.admit(host)
        if refusal is not None:
            return Refusal(refusal)
        return GameSocket(self, request, host)

    def client_gone(self, client: GameSocket) -> None:
        """A connection closed: give its place back and forget it."""
        self.connections.release(client.host)
        self.clients.gone(client)
