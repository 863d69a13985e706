"""One WebSocket connection: each text message a line for the conversation, each answer a frame.

:class:`GameSocket` is a :class:`twisted.web.websocket.WebSocketProtocol` that
hands every text message to a :class:`~blackjack.server.frontends.conversation.Conversation`
and offers it the socket as a :class:`~blackjack.server.frontends.conversation.Link`:
a JSON message or a line of text for people is one text frame.  It speaks
what telnet speaks (text commands, or protocol v1 after ``hello``); the page
says ``hello`` first.

The limits of telnet apply here, before anything reaches the conversation:

* **Message size**: a message longer than ``max_line`` bytes closes the
  connection (close code 1009), and so does a message still arriving in
  fragments once it is that long, so nobody can make the server buffer a
  huge message; a binary message closes it too (1003).
* **Rate**: the command limiter of telnet's line wire, per message (see
  :meth:`GameSocket._over_the_rate`).
* **Output cap**: telnet's :class:`~blackjack.server.frontends.output.OutputGuard`
  measures what the socket still holds unsent before each frame is written,
  and past ``output_cap`` the client that stopped reading is dropped.
* Text is cleaned (:func:`~blackjack.server.text.sanitise`) as a typed line
  is; the idle timeout and chat rate are the conversation's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Request
from twisted.web.websocket import WebSocketTransport
from wsproto.utilities import LocalProtocolError

from blackjack.server.core import events
from blackjack.server.core.events import Event
from blackjack.server.frontends.conversation import Conversation
from blackjack.server.frontends.encoding import encode_event
from blackjack.server.frontends.limits import ACCEPT, CommandLimiter, Verdict
from blackjack.server.frontends.output import OutputGuard
from blackjack.server.text import sanitise

if TYPE_CHECKING:
    from blackjack.server.frontends.web.site import WebFrontEnd

__all__ = ["GameSocket", "Refusal", "text_frame", "CLOSE_NORMAL", "CLOSE_TOO_BIG", "CLOSE_NOT_TEXT",
           "CLOSE_POLICY", "CLOSE_TRY_LATER"]

CLOSE_NORMAL = 1000
CLOSE_NOT_TEXT = 1003
"""RFC 6455: the endpoint cannot accept this type of data (a binary message)."""
CLOSE_POLICY = 1008
"""RFC 6455: a message violates the endpoint's policy (a flood)."""
CLOSE_TOO_BIG = 1009
"""RFC 6455: a message is too big to process."""
CLOSE_TRY_LATER = 1013
"""RFC 6455 registry: try again later (the card room or this address is at its cap)."""

_log = Logger()


class GameSocket:
    """One browser (or program) on the WebSocket: a conversation's link, within limits.

    ``host`` is the address counted against the connection caps; the
    :class:`~blackjack.server.frontends.web.site.WebFrontEnd` that made this
    connection gives the place back when it closes.
    """

    frontend = "web"

    def __init__(self, front: WebFrontEnd, request: Request, host: str | None) -> None:
        self.front = front
        self.limits = front.limits
        self.host = host
        self.request = request
        self.transport: Any = request.channel.transport
        """The TCP (or TLS) transport under the WebSocket (``abortConnection`` drops it)."""
        self.wire: WebSocketTransport | None = None
        self.conversation: Conversation | None = None
        self._limiter = (CommandLimiter(self.limits.rate, self.limits.burst,
                                        front.clock.seconds)
                         if self.limits.rate else None)
        self._guard = OutputGuard(self.transport, self.limits.output_cap,
                                  self._output_overflowed)
        self._close_code = CLOSE_NORMAL
        self._hiding_input = False
        self._done = False

    # -- WebSocketProtocol --------------------------------------------------------

    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        """The upgrade is under way: keep the WebSocket transport."""
        self.wire = transport

    def negotiationFinished(self) -> None:
        """The WebSocket is open: apply the limits, then start the conversation (which greets)."""
        self._guard_message_size()
        self.front.clients.add(self)
        self.conversation = Conversation(self, self.front)
        self.conversation.start()

    def textMessageReceived(self, message: str) -> None:
        """One message: a typed command or a v1 request, if within the limits."""
        if self._done or self.conversation is None:
            return
        limit = self.limits.max_line
        if len(message) > limit or (not message.isascii()
                                    and len(message.encode("utf-8")) > limit):
            self._too_big()
            return
        if self._over_the_rate(message):
            return
        text = message.strip() if message.isascii() and message.isprintable() \
            else sanitise(message)
        if text or self._hiding_input:
            self.conversation.received(text)

    def bytesMessageReceived(self, data: bytes | bytearray) -> None:
        """Binary frames carry nothing of ours: say so and close."""
        self.close("Send text: one command or JSON request a message; goodbye.",
                   CLOSE_NOT_TEXT)

    def pongReceived(self, payload: bytes) -> None:
        """We send no pings; an unsolicited pong is ignored, as RFC 6455 says."""

    def connectionLost(self, reason: Failure) -> None:
        """Leave the player's seat held, and give the connection's place back."""
        self._done = True
        self._guard.release()
        self.front.client_gone(self)
        if self.conversation is not None:
            self.conversation.lost()

    # -- limits ---------------------------------------------------------------------

    def _over_the_rate(self, message: str) -> bool:
        """The telnet line wire's command rate, per message: True to drop the message.

        The one place the rate is applied here, so it leaves in one piece
        when the conversation takes the rate over for every front end.
        """
        if self._limiter is None:
            return False
        verdict = self._limiter.check()
        if verdict is ACCEPT:
            return False
        if verdict is Verdict.FLOOD:
            self._tripped("flood")
            self.close("Too many commands too fast; goodbye.", CLOSE_POLICY)
            return True
        if self.conversation is not None:
            self.conversation.over_rate(message, first=verdict is Verdict.WARN)
        return True

    def _guard_message_size(self) -> None:
        """Close the connection while a message too long for ``max_line`` is still arriving.

        Twisted gathers a fragmented message in the WebSocket wire's buffer
        and hands it over only when it is complete, so a client could make it
        as large as it likes.  After each read, what that buffer holds is
        measured (Twisted offers no public hook, so its private buffers are
        read here; ``tests/test_web_connection.py`` fails if they change).
        """
        channel: Any = self.request.channel
        received = channel.dataReceived
        wire: Any = self.wire
        limit = self.limits.max_line

        def guarded(data: bytes) -> None:
            received(data)
            if not self._done and (len(wire._textBuffer.data)
                                   + len(wire._bytesBuffer.data)) > limit:
                self._too_big()

        # Twisted itself points the channel's dataReceived at the wire on upgrade.
        channel.dataReceived = guarded

    def _too_big(self) -> None:
        self._tripped("max_line")
        self.close(f"Message too long (over {self.limits.max_line} bytes); goodbye.",
                   CLOSE_TOO_BIG)

    def _output_overflowed(self, unsent: int) -> None:
        # The client is not reading, so a goodbye would only join the queue.
        self._done = True
        self._tripped("output_cap")
        self.transport.abortConnection()

    def _tripped(self, limit: str) -> None:
        """A limit closes this connection: the conversation counts and logs it."""
        if self.conversation is not None:
            self.conversation.limit_tripped(limit, True)
        else:
            _log.info("{peer} went over the {limit} limit", peer=self.host, limit=limit)

    # -- Link -------------------------------------------------------------------------

    def send_message(self, message: bytes) -> None:
        """One JSON message (already UTF-8) as one text frame."""
        self._send(message)

    def send_line(self, line: str) -> None:
        """One line of text for a person, as one text frame."""
        self._send(line.encode("utf-8"))

    def send_prompt(self, text: str) -> None:
        """A question: a frame like any other line."""
        self._send(text.encode("utf-8"))

    def hide_input(self) -> None:
        """A password comes next: a blank answer is passed on too."""
        self._hiding_input = True

    def show_input(self) -> None:
        """Undo :meth:`hide_input`."""
        self._hiding_input = False

    def hang_up(self) -> None:
        """Close with the close frame, after what is already queued."""
        if self._done or self.wire is None:
            return
        self._done = True
        try:
            self.wire.loseConnection(self._close_code)
        except LocalProtocolError:  # the client's close frame came first
            self.transport.loseConnection()

    def peer(self) -> str:
        """The client's address."""
        return self.host or "?"

    def _send(self, payload: bytes) -> None:
        if self._done or self.transport.disconnecting:
            return  # closing (our close frame, or the answer to the client's, is out)
        frame = text_frame(payload)
        if not self._guard.admit(len(frame)):
            return
        self.transport.write(frame)

    # -- what the service asks of every connection -----------------------------------

    def send_event(self, event: Event) -> None:
        """Send one event in the client's mode (shutdown notices use this)."""
        if self.conversation is not None:
            self.conversation.send_event(event)

    def close(self, message: str, code: int = CLOSE_NORMAL, why: str = "server") -> None:
        """Say why (a ``bye`` event, in the client's mode), then close with ``code``."""
        self._close_code = code
        if self.conversation is not None:
            self.conversation.close(message, why)
        else:
            self.hang_up()


def text_frame(payload: bytes) -> bytes:
    """A whole text message as one unmasked frame, as a server sends it (RFC 6455, 5.2).

    Events are JSON already encoded to UTF-8 (once, for every reader), so the
    frame is made here from the bytes: wsproto's sender takes text, which
    would mean decoding each event to encode it again, at 16 times the cost
    of the frame header.  No extension is negotiated, so the header is all.
    """
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload


class Refusal:
    """A WebSocket over the connection caps: told why in a ``bye`` message, then closed.

    Browsers do not show a script why an upgrade was refused, so the refusal
    is an accepted WebSocket that says one thing and closes (as telnet says
    one line), with the "try again later" close code.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        self.wire: WebSocketTransport | None = None

    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        self.wire = transport

    def negotiationFinished(self) -> None:
        assert self.wire is not None
        self.wire.sendTextMessage(
            encode_event(events.BYE(message=self.message)).decode("utf-8"))
        self.wire.loseConnection(CLOSE_TRY_LATER)

    def textMessageReceived(self, message: str) -> None:
        """Nothing is read from a refused connection."""

    def bytesMessageReceived(self, data: bytes | bytearray) -> None:
        """Nothing is read from a refused connection."""

    def pongReceived(self, payload: bytes) -> None:
        """Nothing is read from a refused connection."""

    def connectionLost(self, reason: Failure) -> None:
        """Nothing to clean up: a refusal was never counted."""
