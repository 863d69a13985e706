"""The wire layer: telnet parsing, line framing and input sanitising.

Everything a real client puts on the socket is dealt with here, before any
text reaches game logic:

* :class:`TelnetWire` (a :class:`~twisted.conch.telnet.TelnetTransport`)
  strips IAC negotiation, survives malformed telnet (Twisted raises
  ``ValueError("Stumped", ...)``), ends a line on a bare CR at the end of a
  packet (PuTTY raw mode, some MUD clients) without double-counting a CRLF
  split across packets, and notes whether the client has ever spoken telnet.
* :class:`LineWire` frames lines on LF, CR LF, CR NUL or a bare CR, decodes
  UTF-8 with replacement, applies backspaces, strips control characters (so
  no ESC sequence typed by one player reaches another's terminal), and
  refuses over-long lines with a message.  Subclasses override one hook,
  :meth:`LineWire.textReceived`, and write with :meth:`LineWire.sendLine`.

Password prompts turn client echo off with ``WILL ECHO`` only for clients
that have sent some telnet negotiation; a netcat user never sees an IAC byte.

Hooks for the hardening work (rate limits, output caps, idle timeouts) are
:meth:`LineWire.textReceived` (every inbound line passes through it) and
:meth:`LineWire.sendLine` (every outbound line).
"""

from __future__ import annotations

import unicodedata

from twisted.conch.telnet import ECHO, TelnetProtocol, TelnetTransport
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

__all__ = ["TelnetWire", "LineWire", "sanitise"]

_BACKSPACES = frozenset("\b\x7f")


def sanitise(text: str) -> str:
    """Apply backspaces and drop control characters; trim surrounding spaces.

    C0 controls (ESC among them), DEL and C1 controls never survive, so a
    player cannot move another player's cursor or retitle their terminal.
    Tabs become spaces.
    """
    out: list[str] = []
    for ch in text:
        if ch in _BACKSPACES:
            if out:
                out.pop()
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out).strip()


class TelnetWire(TelnetTransport):
    """A telnet transport that tolerates real clients and netcat alike."""

    _log = Logger()

    speaks_telnet: bool = False
    """True once the client has sent any telnet command or subnegotiation."""

    _swallow_after_cr: bool = False

    def dataReceived(self, data: bytes) -> None:
        """Parse telnet, dropping the connection on malformed sequences."""
        if self._swallow_after_cr:
            # We already ended a line on the CR that closed the last packet;
            # the LF or NUL completing that CR LF / CR NUL is not another line.
            self._swallow_after_cr = False
            if data[:1] in (b"\n", b"\0"):
                data = data[1:]
        if not data:
            return
        try:
            super().dataReceived(data)
        except ValueError as exc:
            if exc.args[:1] != ("Stumped",):
                raise
            self._log.info("Malformed telnet input {args!r}; closing", args=exc.args)
            self.transport.loseConnection()
            return
        if self.state == "newline":
            # A packet ended on CR.  Twisted would wait for the next byte;
            # a client that ends lines with a bare CR would wait forever.
            self.state = "data"
            self._swallow_after_cr = True
            self.applicationDataReceived(b"\r")

    def commandReceived(self, command: bytes, argument: bytes | None) -> None:
        """Note that the peer speaks telnet, then handle the command."""
        self.speaks_telnet = True
        super().commandReceived(command, argument)

    def negotiate(self, data: bytes) -> None:
        """Note that the peer speaks telnet, then handle the subnegotiation."""
        self.speaks_telnet = True
        super().negotiate(data)


class LineWire(LineReceiver, TelnetProtocol):
    """Clean lines of text in, CRLF-terminated UTF-8 lines out.

    Run it inside :class:`TelnetWire`; it also works on a bare transport
    (then CR LF arrives as CR and LF, which makes an ignored empty line).
    """

    delimiter = b"\n"
    MAX_LENGTH = 1024
    """Longest accepted input line, in bytes."""

    _hiding_input = False

    def dataReceived(self, data: bytes) -> None:
        """Treat CR (from CR NUL, or a bare CR) as the end of a line."""
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        """Decode and sanitise one line, and hand it on unless it is blank."""
        text = sanitise(line.decode("utf-8", errors="replace"))
        if text or self._hiding_input:
            self.textReceived(text)

    def textReceived(self, text: str) -> None:
        """Override: one clean line of input (blank only at a password prompt)."""

    def lineLengthExceeded(self, line: bytes) -> None:
        """Say why, then close: a 1 KiB line is not something a person typed."""
        self.sendLine(f"! Line too long (over {self.MAX_LENGTH} bytes); goodbye.")
        self.transport.loseConnection()

    def sendLine(self, line: str | bytes) -> None:  # type: ignore[override]
        """Send one line of text; the telnet layer turns LF into CR LF."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        self._write(line + b"\n")

    def sendPrompt(self, text: str) -> None:
        """Send text that the user answers on the same line (no line end)."""
        self._write(text.encode("utf-8"))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not getattr(self.transport, "disconnecting", False):
            self.transport.write(data if isinstance(self.transport, TelnetWire)
                                 else data.replace(b"\n", b"\r\n"))

    @property
    def speaks_telnet(self) -> bool:
        """Whether the client has shown it understands telnet negotiation."""
        return bool(getattr(self.transport, "speaks_telnet", False))

    def hideInput(self) -> None:
        """Ask a telnet client to stop echoing (for a password); netcat is left alone."""
        self._hiding_input = True
        if self.speaks_telnet:
            self.transport.will(ECHO).addErrback(self._negotiation_failed)

    def showInput(self) -> None:
        """Undo :meth:`hideInput`, ending the line the unechoed Enter did not."""
        if not self._hiding_input:
            return
        self._hiding_input = False
        if self.speaks_telnet:
            self.transport.wont(ECHO).addErrback(self._negotiation_failed)
            self._write(b"\n")

    def enableLocal(self, option: bytes) -> bool:
        """Agree to echo (that is, not echo) only while a password is asked."""
        return option == ECHO and self._hiding_input

    def _negotiation_failed(self, failure: Failure) -> None:
        # A client that never answers leaves the option "negotiating"; that is
        # harmless, and must not become an unhandled error in a Deferred.
        return None

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        """Tell both bases the connection has gone."""
        LineReceiver.connectionLost(self, reason)
        TelnetProtocol.connectionLost(self, reason)
