"""The web front end: a page for browsers, and protocol v1 over a WebSocket.

:class:`~blackjack.server.frontends.web.site.WebFrontEnd` is what the
service listens with; :mod:`~blackjack.server.frontends.web.connection` is
one WebSocket connection; ``static/`` is the page (HTML, CSS and JavaScript
modules, no build step), shipped in the package.
"""

from blackjack.server.frontends.web.site import WebFrontEnd

__all__ = ["WebFrontEnd"]
