"""The wire layer: telnet parsing, line framing and input sanitising.

Everything a real client puts on the socket is dealt with here, before any
text reaches game logic:

* :class:`TelnetWire` (a :class:`~twisted.conch.telnet.TelnetTransport`)
  strips IAC negotiation, survives malformed telnet (Twisted raises
  ``ValueError("Stumped", ...)``), ends a line on a bare CR at the end of a
  packet (PuTTY raw mode, some MUD clients) without double-counting a CRLF
  split across packets, and notes whether the client has ever spoken telnet.
  A packet with no IAC byte (nearly all of them) skips Twisted's
  byte-by-byte parser: its line ends are translated with ``bytes.replace``.
* :class:`LineWire` frames lines on LF, CR LF, CR NUL or a bare CR, decodes
  UTF-8 with replacement, applies backspaces, strips control characters (so
  no ESC sequence typed by one player reaches another's terminal), and
  refuses over-long lines with a message.  Subclasses override one hook,
  :meth:`LineWire.textReceived`, and write with :meth:`LineWire.sendLine`.
  The answers to all the lines of one packet leave in one write.

Password prompts turn client echo off with ``WILL ECHO`` only for clients
that have sent some telnet negotiation; a netcat user never sees an IAC byte.

The per-connection limits of :class:`~blackjack.server.frontends.limits.Limits` that
concern bytes and lines are enforced here too: the line length, the command
rate (excess lines dropped, a flood disconnected) and the output cap for a
client that stops reading (found with the producer/consumer API: the
transport pauses us when its buffer is full, and output written while paused
is counted and, past the cap, the connection is aborted).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from twisted.conch.telnet import ECHO, TelnetProtocol, TelnetTransport
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from blackjack.server.frontends.limits import CommandLimiter, Limits, Verdict

__all__ = ["TelnetWire", "LineWire", "sanitise"]

_BACKSPACES = frozenset("\b\x7f")

# Bidirectional embedding, override and isolate controls.  They are not
# terminal escapes, but a chat line holding them can reorder the text that
# follows it on the reader's screen ("Trojan Source", CVE-2021-42574), making
# one player's words appear to say something else or to come from someone
# else.  Nobody needs them to chat in a card room.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# LINE and PARAGRAPH SEPARATOR are line breaks to many programs (Python's
# str.splitlines among them), so one chat line would become two in a JSON
# client's reader.  They become plain spaces.
_LINE_BREAKS = frozenset("\u2028\u2029")


def sanitise(text: str) -> str:
    """Apply backspaces and drop control characters; trim surrounding spaces.

    C0 controls (ESC among them), DEL and C1 controls never survive, so a
    player cannot move another player's cursor or retitle their terminal; an
    ESC sequence loses its ESC and is left as harmless text.  Bidi override
    characters are dropped too.  Tabs and Unicode line separators become
    spaces.  Printable non-ASCII (``ÿ``, ``é``, ``♠``) is kept: a raw 0xFF
    byte (telnet IAC) cannot come out of UTF-8 decoding, and U+00FF is sent as
    two UTF-8 bytes that contain no 0xFF.
    """
    if text.isascii() and text.isprintable():
        # Nearly every line: nothing to apply or drop, so skip the scan.
        return text.strip()
    out: list[str] = []
    for ch in text:
        if ch in _BACKSPACES:
            if out:
                out.pop()
        elif ch == "\t" or ch in _LINE_BREAKS:
            out.append(" ")
        elif ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out).strip()


class TelnetWire(TelnetTransport):
    """A telnet transport that tolerates real clients and netcat alike."""

    # Twisted types ``transport`` as ``ITransport | None``; here it is the TCP (or UNIX) transport under the telnet layer,
    # which also provides IProducer/IConsumer, abortConnection and (above a
    # TelnetWire) will/wont.  It is set before any method below runs.
    transport: Any

    _log = Logger()

    speaks_telnet: bool = False
    """True once the client has sent any telnet command or subnegotiation."""

    _swallow_after_cr: bool = False

    def __init__(self, protocolFactory: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(protocolFactory, *args, **kwargs)
        # Made up front, so every connection's __dict__ shares one key table.
        self.state = "data"
        self.speaks_telnet = False
        self._swallow_after_cr = False

    @property
    def disconnecting(self) -> bool:  # type: ignore[override]
        """Whether the connection is closing.

        ``TelnetTransport`` leaves this ``False`` for ever, so ``LineReceiver``
        would go on handling the lines left in a packet after we hung up.
        """
        return bool(getattr(self.transport, "disconnecting", False))

    def connectionMade(self) -> None:
        """Turn off Nagle's algorithm, then start the telnet conversation.

        A game sends many small writes; with Nagle on, a second write within
        one round trip waits for the client's delayed ACK (~40 ms on Linux),
        which measured as a 5x slower table under load.
        """
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            try:
                set_no_delay(True)
            except OSError:  # not a TCP socket (a UNIX socket, say)
                pass
        super().connectionMade()

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Let the inner protocol watch the real transport's write buffer."""
        self.transport.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        """Undo :meth:`registerProducer`."""
        self.transport.unregisterProducer()

    def abortConnection(self) -> None:
        """Close at once, discarding unsent output (for clients that do not read)."""
        self.transport.abortConnection()

    def dataReceived(self, data: bytes) -> None:
        """Parse telnet, dropping the connection on malformed sequences."""
        if self.disconnecting:
            # We have hung up: what the client still sends is not our business.
            return
        if self._swallow_after_cr:
            # We already ended a line on the CR that closed the last packet;
            # the LF or NUL completing that CR LF / CR NUL is not another line.
            self._swallow_after_cr = False
            if data[:1] in (b"\n", b"\0"):
                data = data[1:]
        if not data:
            return
        if self.state == "data" and b"\xff" not in data:
            # No IAC: do what Telnet's byte-by-byte parser would, at C speed.
            # CR LF, CR NUL and a bare CR all end a line (as LineWire reads
            # them), and a CR closing the packet swallows the LF or NUL that
            # may open the next one.
            if b"\r" in data:
                self._swallow_after_cr = data[-1:] == b"\r"
                data = data.replace(b"\r\n", b"\n").replace(b"\r\0", b"\n").replace(b"\r", b"\n")
            self.applicationDataReceived(data)
            return
        try:
            super().dataReceived(data)
        except ValueError as exc:
            if exc.args[:1] != ("Stumped",):
                raise
            self._log.info("Malformed telnet input {args!r}; closing", args=exc.args)
            close = getattr(self.protocol, "close", None)
            if callable(close):
                close("Malformed telnet command; goodbye.")
            else:
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


@implementer(IPushProducer)
class _OutputGuard:
    """Counts what is written to a client while the transport says it is not reading.

    Registered as a streaming producer, it is paused by the transport when
    the kernel's socket buffer and Twisted's write buffer are full past the
    high-water mark, and resumed once they drain.  Output written while
    paused only grows memory, so past ``cap`` bytes ``overflow`` is called.
    """

    def __init__(self, cap: int, overflow: Callable[[], None]) -> None:
        self.cap = cap
        self.paused = False
        self.queued = 0
        self._overflow = overflow

    def pauseProducing(self) -> None:
        self.paused = True
        self.queued = 0

    def resumeProducing(self) -> None:
        self.paused = False
        self.queued = 0

    def stopProducing(self) -> None:
        self.paused = False

    def admit(self, size: int) -> bool:
        """Count ``size`` bytes about to be written; False (and cut off) past the cap."""
        if self.paused:
            self.queued += size
            if self.queued > self.cap:
                self._overflow()
                return False
        return True


class LineWire(TelnetProtocol):
    """Clean lines of text in, CRLF-terminated UTF-8 lines out, within limits.

    Run it inside :class:`TelnetWire`; it also works on a bare transport.
    Set :attr:`limits` and :attr:`clock` before the connection is made (or
    pass them to the constructor); :meth:`connectionMade` applies them.
    Subclasses override :meth:`textReceived`, and may override :meth:`error`
    and :meth:`close` to change how limit messages are sent.

    It frames lines itself rather than through ``LineReceiver``, and writes
    straight to the socket beneath the telnet layer: every command passes
    through here, and the layers cost more than the command (see
    ``docs/performance.md``).  Output is UTF-8 text, which never holds the
    byte 0xFF, so there is no IAC to double.
    """

    # Twisted types ``transport`` as ``ITransport | None``; here it is the TelnetWire around us (or a bare transport in tests),
    # which also provides IProducer/IConsumer, abortConnection and (above a
    # TelnetWire) will/wont.  It is set before any method below runs.
    transport: Any

    MAX_LENGTH = Limits.max_line
    """Longest accepted input line, in bytes (set from :attr:`limits`)."""

    limits: Limits = Limits()
    """The limits this connection is held to."""
    clock: Any = None
    """An ``IReactorTime`` for the rate meters and timers (``None``: the global reactor)."""

    _hiding_input = False
    _limiter: CommandLimiter | None = None
    _guard: _OutputGuard | None = None
    _aborted = False
    _done = False
    """True once we have hung up: no further input line is handled."""
    _buffer = b""
    _receiving = False
    _corked: list[bytes] | None = None
    """Output held back while a packet's lines are handled, then written at once."""
    _socket: Any = None
    _log = Logger()

    def __init__(self, limits: Limits | None = None, clock: Any = None) -> None:
        # Every attribute is made here, always in this order, so that all
        # connections share one key table for their __dict__ (PEP 412): one
        # added later, mid-connection, costs each connection ~800 bytes.
        self.transport = None
        self.connected = 0
        self.limits = limits if limits is not None else type(self).limits
        self.clock = clock if clock is not None else type(self).clock
        self.MAX_LENGTH = self.limits.max_line
        self._limiter = None
        self._guard = None
        self._socket = None
        self._buffer = b""
        self._receiving = False
        self._corked = None
        self._hiding_input = False
        self._aborted = False
        self._done = False

    def connectionMade(self) -> None:
        """Apply the limits: line length, command rate and the output cap."""
        if self.clock is None:
            from twisted.internet import reactor
            self.clock = reactor
        self.MAX_LENGTH = self.limits.max_line
        if self.limits.rate:
            self._limiter = CommandLimiter(self.limits.rate, self.limits.burst,
                                           self.clock.seconds)
        # The transport that owns the socket: beneath the telnet layer if any.
        self._socket = (self.transport.transport if isinstance(self.transport, TelnetWire)
                        else self.transport)
        self._guard = _OutputGuard(self.limits.output_cap, self._output_overflowed)
        self.transport.registerProducer(self._guard, True)

    def dataReceived(self, data: bytes) -> None:
        """Frame lines on LF, CR LF, CR NUL or a bare CR; hand each to :meth:`lineReceived`."""
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._buffer += data
        if self._receiving:
            # Called from inside a line handler: the loop below gets to it.
            return
        self._receiving = True
        self._corked = []
        try:
            while b"\n" in self._buffer:
                *lines, self._buffer = self._buffer.split(b"\n")
                for line in lines:
                    if self._done or self._socket.disconnecting:
                        self._buffer = b""
                        return
                    if len(line) > self.MAX_LENGTH:
                        self._buffer = b""
                        self.lineLengthExceeded(line)
                        return
                    self.lineReceived(line)
            if len(self._buffer) > self.MAX_LENGTH:
                line, self._buffer = self._buffer, b""
                self.lineLengthExceeded(line)
        finally:
            self._receiving = False
            self.uncork()

    def uncork(self) -> None:
        """Write the output held back while input was handled, as one write.

        A pipelining client sends many commands in one packet; one write
        for all their answers costs far less than one write each.  Anything
        that must go out in order with other output (telnet negotiation, a
        hang-up) calls this first.
        """
        corked, self._corked = self._corked, None
        if corked:
            self._write(corked[0] if len(corked) == 1 else b"".join(corked))

    def lineReceived(self, line: bytes) -> None:
        """Decode and sanitise one line, and hand it on unless blank or over the rate."""
        if self._limiter is not None:
            # Blank lines count too: a stream of bare newlines is still a flood.
            verdict = self._limiter.check()
            if verdict is Verdict.FLOOD:
                self._log.info("Closing a flooding connection from {peer}",
                               peer=self.transport.getPeer())
                self.close("Too many commands too fast; goodbye.")
                return
            if verdict is not Verdict.ACCEPT:
                self.overRate(line, warn=verdict is Verdict.WARN)
                return
        text = line.decode("utf-8", "replace")
        # Nearly every line is printable ASCII: nothing to apply or drop.
        text = text.strip() if text.isascii() and text.isprintable() else sanitise(text)
        if text or self._hiding_input:
            self.textReceived(text)

    def textReceived(self, text: str) -> None:
        """Override: one clean line of input (blank only at a password prompt)."""

    def overRate(self, line: bytes, warn: bool) -> None:
        """A line dropped for going over the command rate (``warn``: the first of a run).

        A person is told once a run; override to answer every line (a
        program that pipelines requests waits for one reply to each).
        """
        if warn:
            self.error(f"slow down: at most {self.limits.rate:g} commands a second; "
                       "commands sent faster are ignored")

    def error(self, message: str) -> None:
        """Tell the client one line about what went wrong (override to restyle)."""
        self.sendLine(f"! {message}")

    def close(self, message: str) -> None:
        """Say why, then hang up (override to restyle)."""
        self.sendLine(message)
        self.hangUp()

    def hangUp(self) -> None:
        """Close after sending what is queued; no later input line is handled."""
        self.uncork()
        self._done = True
        self.transport.loseConnection()

    def lineLengthExceeded(self, line: bytes) -> None:
        """Say why, then close: a 1 KiB line is not something a person typed."""
        self.close(f"Line too long (over {self.MAX_LENGTH} bytes); goodbye.")

    def sendLine(self, line: str | bytes) -> None:
        """Send one line of text, ended with CR LF."""
        if isinstance(line, str):
            if "\n" in line:
                line = line.replace("\r\n", "\n").replace("\n", "\r\n")
            self._write((line + "\r\n").encode("utf-8"))
        else:
            self._write(line.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n")

    def sendPrompt(self, text: str) -> None:
        """Send text that the user answers on the same line (no line end)."""
        self._write(text.encode("utf-8"))

    def _write(self, data: bytes) -> None:
        if self._corked is not None:
            self._corked.append(data)
            return
        socket = self._socket
        if socket is None or self._done or self._aborted or socket.disconnecting:
            return
        guard = self._guard
        if guard is not None and guard.paused and not guard.admit(len(data)):
            return
        socket.write(data)

    def _output_overflowed(self) -> None:
        # The client is not reading, so a goodbye would only join the queue.
        self._aborted = True
        self._log.info("Dropping {peer}: over {cap} bytes queued for a client not reading",
                       peer=self.transport.getPeer(), cap=self.limits.output_cap)
        self.transport.abortConnection()

    @property
    def speaks_telnet(self) -> bool:
        """Whether the client has shown it understands telnet negotiation."""
        return bool(getattr(self.transport, "speaks_telnet", False))

    def hideInput(self) -> None:
        """Ask a telnet client to stop echoing (for a password); netcat is left alone."""
        self._hiding_input = True
        if self.speaks_telnet:
            self.uncork()
            self.transport.will(ECHO).addErrback(self._negotiation_failed)

    def showInput(self) -> None:
        """Undo :meth:`hideInput`, ending the line the unechoed Enter did not."""
        if not self._hiding_input:
            return
        self._hiding_input = False
        if self.speaks_telnet:
            self.uncork()
            self.transport.wont(ECHO).addErrback(self._negotiation_failed)
            self._write(b"\r\n")

    def enableLocal(self, option: bytes) -> bool:
        """Agree to echo (that is, not echo) only while a password is asked."""
        return option == ECHO and self._hiding_input

    def _negotiation_failed(self, failure: Failure) -> None:
        # A client that never answers leaves the option "negotiating"; that is
        # harmless, and must not become an unhandled error in a Deferred.
        return None

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        """Handle no more input: the connection has gone."""
        self._done = True
        self._corked = None
        self._buffer = b""
        TelnetProtocol.connectionLost(self, reason)
