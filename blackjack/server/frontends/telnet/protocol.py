"""The telnet front end: a telnet (or netcat) connection, and the factory that makes them.

:class:`BlackjackProtocol` is a :class:`~blackjack.server.frontends.telnet.wire.LineWire`
(telnet parsing, line framing, the byte and line limits) that hands each clean
line to a :class:`~blackjack.server.frontends.conversation.Conversation`, and
offers it the socket as a :class:`~blackjack.server.frontends.conversation.Link`:
JSON messages and text lines end with CR LF; a password prompt turns the
client's echo off.  Nothing of the game is here.

:class:`BlackjackFactory` wraps each protocol in :class:`TelnetWire`, keeps
the set of live connections for shutdown, and refuses connections over the
per-address and total caps with a one-line message.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.python.failure import Failure

from blackjack.server.core.events import Event
from blackjack.server.core.player import Player
from blackjack.server.frontends.clients import FrontDoor
from blackjack.server.frontends.conversation import SERVER_NAME, Conversation, Mode
from blackjack.server.frontends.telnet.wire import LineWire, TelnetWire

__all__ = ["BlackjackProtocol", "BlackjackFactory", "SERVER_NAME"]


class BlackjackProtocol(LineWire):
    """One telnet connection: clean lines to a conversation, its answers to the socket.

    Limits come from the factory (:attr:`BlackjackFactory.limits`); see
    :class:`~blackjack.server.frontends.telnet.wire.LineWire` for the ones
    applied to every line.
    """

    frontend = "telnet"
    write_per_turn = True  # a round's events, several a turn, go out as one write

    def __init__(self, factory: BlackjackFactory | None = None) -> None:
        super().__init__()
        self.factory = factory
        self.conversation: Conversation | None = None

    @property
    def player(self) -> Player | None:
        """The logged-in player, if any."""
        return self.conversation.session.player if self.conversation is not None else None

    def connectionMade(self) -> None:
        """Apply the factory's limits, then start the conversation (which greets)."""
        if self.factory is not None:
            self.limits = self.factory.limits
            self.clock = self.factory.clock
            self.factory.clients.add(self)
        super().connectionMade()
        assert self.factory is not None, "a BlackjackProtocol is made by its factory"
        self.conversation = Conversation(self, self.factory)
        self.conversation.start()

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        """Leave the player's seat held for reconnection."""
        super().connectionLost(reason)
        if self.factory is not None:
            self.factory.client_gone(self)
        if self.conversation is not None:
            self.conversation.lost()

    def textReceived(self, text: str) -> None:
        """One clean line: the conversation's."""
        assert self.conversation is not None
        self.conversation.received(text)

    # -- what the wire says about limits, in the conversation's voice ---------------

    def error(self, message: str) -> None:
        """A limit's one-line complaint (a line too long), in the client's mode."""
        if self.conversation is not None:
            self.conversation.refuse_line(message)
        else:
            super().error(message)

    def limitTripped(self, limit: str, closes: bool) -> None:
        """A limit of the wire acted: the conversation counts and logs it."""
        if self.conversation is not None:
            self.conversation.limit_tripped(limit, closes)
        else:
            super().limitTripped(limit, closes)

    def lineRefused(self, line: bytes, first: bool) -> None:
        """A line over the rate: the conversation answers it as the client's mode needs."""
        if self.conversation is not None:
            self.conversation.over_rate(line, first)
        else:
            super().lineRefused(line, first)

    def close(self, message: str, why: str = "server") -> None:
        """Say why, then hang up."""
        if self.conversation is not None:
            self.conversation.close(message, why)
        else:
            super().close(message)

    def send_event(self, event: Event) -> None:
        """Send one event in the client's mode (shutdown notices use this)."""
        if self.conversation is not None:
            self.conversation.send_event(event)

    # -- Link ----------------------------------------------------------------------

    def send_message(self, message: bytes) -> None:
        """One JSON message as one line."""
        corked = self._corked
        if corked is not None:  # as _write does, without the call: every reply comes here
            corked += (message, b"\r\n")
        else:
            self._write(message + b"\r\n")

    def send_line(self, line: str) -> None:
        """One line of text for a person."""
        self.sendLine(line)

    def send_prompt(self, text: str) -> None:
        """A question answered on the same line."""
        self.sendPrompt(text)

    def hide_input(self) -> None:
        """Echo off for a password (telnet clients only).

        A program reading JSON ends lines as it likes; only a client that
        negotiated is sent telnet bytes then.
        """
        self.hideInput(guess=not self.json_mode)

    def show_input(self) -> None:
        """Echo back on."""
        self.showInput()

    def hang_up(self) -> None:
        """Close after what is queued."""
        self.hangUp()

    def peer(self) -> str:
        """The client's address."""
        address: IAddress = self.transport.getPeer()
        return str(getattr(address, "host", address))

    @property
    def json_mode(self) -> bool:
        """Whether events go out as JSON (older JSON mode or protocol v1)."""
        return self.conversation is not None and self.conversation.mode is not Mode.TEXT


class _Refusal(Protocol):
    """Says why a connection is refused, then closes it.

    ``buildProtocol`` returning ``None`` would close the socket with no word
    of explanation; this is what ``LimitTotalConnectionsFactory`` does instead.
    """

    transport: Any  # set by makeConnection before connectionMade

    def __init__(self, message: str) -> None:
        self.message = message

    def connectionMade(self) -> None:
        self.transport.write(self.message.encode("utf-8") + b"\r\n")
        self.transport.loseConnection()


class _CountedWire(TelnetWire):
    """A :class:`TelnetWire` that gives its place back to the factory when it closes."""

    factory: BlackjackFactory
    host: str | None = None

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        try:
            super().connectionLost(reason)
        finally:
            self.factory.connections.release(self.host)


class BlackjackFactory(FrontDoor, ServerFactory):
    """Builds telnet-wrapped :class:`BlackjackProtocol` connections, within the caps.

    ``clock`` (an ``IReactorTime``; the global reactor if ``None``) runs the
    rate meters and idle timers.  ``twisted.protocols.policies``'
    ``LimitConnectionsByPeer`` is not used: on current Twisted it indexes
    the address (``addr[0]``) and fails on every ``IPv4Address``.
    """

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        """A telnet transport around a fresh protocol, or a refusal over the caps."""
        host = getattr(addr, "host", None)
        refusal = self.admit(host)
        if refusal is not None:
            return _Refusal(refusal)
        if self.clock is None:
            from twisted.internet import reactor
            self.clock = reactor
        wire = _CountedWire(BlackjackProtocol, self)
        wire.factory = self
        wire.host = host
        return wire

    def client_gone(self, client: BlackjackProtocol) -> None:
        """Forget a closed connection."""
        self.clients.gone(client)
