"""What a protocol v1 client raises (or fails its Deferreds with), in one place.

Every class subclasses :class:`~blackjack.errors.BlackjackError` and the
builtin that fits, so a caller may catch ``TimeoutError`` or
``ConnectionError`` without knowing this module.
"""

from __future__ import annotations

from blackjack.errors import BlackjackError

__all__ = ["ClientError", "RequestRefused", "TimedOut", "ConnectionClosed",
           "ProtocolError"]


class ClientError(BlackjackError):
    """Base class of every error of :mod:`blackjack.client`."""


class RequestRefused(ClientError):
    """The server answered a request with an error: a stable ``code`` and a ``message``.

    ``code`` is one of the codes in ``docs/protocol.md`` ("Error codes");
    programs test it, never the message, which is for people.
    """

    def __init__(self, cmd: str, code: str, message: str) -> None:
        super().__init__(f"{cmd}: {message} ({code})")
        self.cmd = cmd
        """The command that was refused."""
        self.code = code
        """The stable error code, e.g. ``not_your_turn``."""
        self.message = message
        """What the server said, for people."""


class TimedOut(ClientError, TimeoutError):
    """No reply (or awaited event) came in time; the request may still run."""


class ConnectionClosed(ClientError, ConnectionError):
    """The connection closed before the reply (or event) came."""


class ProtocolError(ClientError, ValueError):
    """The server sent something that is not protocol v1 where a reply was due."""
