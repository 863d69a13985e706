"""The wire layer: telnet parsing, line framing and input sanitising.

Everything a real client puts on the socket is dealt with here, before any
text reaches game logic:

* :class:`TelnetWire` (a :class:`~twisted.conch.telnet.TelnetTransport`)
  strips IAC negotiation, survives malformed telnet (Twisted raises
  ``ValueError("Stumped", ...)``), ends a line on a bare CR at the end of a
  packet (PuTTY raw mode, some MUD clients) without double-counting a CRLF
  split across packets, and notes whether the client has ever spoken telnet
  and whether it ends its lines the telnet way (CR LF or CR NUL).  Text is
  handled with ``bytes`` methods at C speed; only the telnet commands go
  through Twisted's byte-by-byte parser, and each counts against the
  connection's telnet budget (``Limits.telnet_commands``).
* :class:`LineWire` frames lines on LF, CR LF, CR NUL or a bare CR, decodes
  UTF-8 with replacement, applies backspaces, strips control characters (so
  no ESC sequence typed by one player reaches another's terminal), and
  refuses over-long lines with a message.  Subclasses override one hook,
  :meth:`LineWire.textReceived`, and write with :meth:`LineWire.sendLine`.
  The answers to all the lines of one packet leave in one write.

Password prompts turn client echo off with ``WILL ECHO`` for telnet clients:
those that have negotiated, and those that end lines with CR LF or CR NUL
(the stock ``telnet`` negotiates nothing on a port other than 23, but ends
its lines that way).  Netcat ends lines with LF and never sees an IAC byte.

The per-connection limits of :class:`~blackjack.server.frontends.limits.Limits` that
concern bytes and lines are enforced here too: the line length, the command
rate (excess lines dropped, a flood disconnected), the telnet budget, and the
output cap for a client that stops reading (the bytes still unsent in the
transport's write buffer, negotiation replies included, are measured before
each write; past the cap the connection is aborted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.conch.telnet import (
    DO,
    DONT,
    ECHO,
    IAC,
    SE,
    WILL,
    WONT,
    TelnetProtocol,
    TelnetTransport,
)
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.server.frontends.limits import (
    ACCEPT,
    CommandLimiter,
    Limits,
    TokenBucket,
    Verdict,
)
from blackjack.server.frontends.output import OutputGuard, write_through
from blackjack.server.frontends.turns import EndOfTurn, end_of_turn
from blackjack.server.text import sanitise  # the text rules' home; re-exported here

__all__ = ["TelnetWire", "LineWire", "sanitise"]


_NEGOTIATION = frozenset((WILL, WONT, DO, DONT))
"""The telnet verbs followed by an option byte: ``IAC WILL o`` is three bytes."""

_SUBNEGOTIATION_BYTES_PER_COMMAND = 64
"""A subnegotiation costs one telnet command more per this many bytes.

Twisted parses it a byte at a time (about 4 MB/s), and accepts 4 KiB of it.
"""


class TelnetWire(TelnetTransport):
    """A telnet transport that tolerates real clients and netcat alike, within a budget."""

    # Twisted types ``transport`` as ``ITransport | None``; here it is the TCP (or UNIX) transport under the telnet layer,
    # which also provides IProducer/IConsumer, abortConnection and (above a
    # TelnetWire) will/wont.  It is set before any method below runs.
    transport: Any
    protocol: LineWire  # type: ignore[assignment]  # Twisted types it None until connected

    _log = Logger()

    speaks_telnet: bool = False
    """True once the client has sent any telnet command or subnegotiation."""
    crlf_line_ends: bool = False
    """True once the client has ended a line with CR LF or CR NUL, as telnet clients do."""

    _swallow_after_cr: bool = False
    _budget: TokenBucket | None = None

    def __init__(self, protocolFactory: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(protocolFactory, *args, **kwargs)
        # Made up front, so every connection's __dict__ shares one key table.
        self.state = "data"
        self.speaks_telnet = False
        self.crlf_line_ends = False
        self._swallow_after_cr = False
        self._budget = None

    @property
    def disconnecting(self) -> bool:  # type: ignore[override]
        """Whether the connection is closing (or the protocol has hung up).

        ``TelnetTransport`` leaves this ``False`` for ever, so ``LineReceiver``
        would go on handling the lines left in a packet after we hung up.
        """
        return bool(getattr(self.transport, "disconnecting", False)
                    or getattr(self.protocol, "_done", False))

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

    def _write(self, data: bytes) -> None:
        # Twisted writes negotiation (our WILL ECHO, its DONT/WONT answers)
        # straight to the socket; through the protocol it keeps its place
        # among the text and counts against the output cap.
        self.protocol.sendRaw(data)

    def dataReceived(self, data: bytes) -> None:
        """Hand text on at C speed; parse telnet commands one at a time, within the budget.

        Twisted's parser walks every byte in Python, so a packet of text with
        one IAC in it would cost as much as a packet of commands.  Here only
        the command itself is fed to it, and each one is counted first.
        """
        while data and not self.disconnecting:
            state = self.state
            if state == "data":
                if self._swallow_after_cr:
                    # We already ended a line on the CR that closed the last
                    # piece; the LF or NUL completing that CR LF / CR NUL is
                    # not another line.
                    self._swallow_after_cr = False
                    if data[:1] in (b"\n", b"\0"):
                        self.crlf_line_ends = True
                        data = data[1:]
                        continue
                iac = data.find(IAC)
                if iac:  # text first (iac > 0), or nothing but text (iac < 0)
                    text, data = (data, b"") if iac < 0 else (data[:iac], data[iac:])
                    self._text(text)
                    continue
                if data[1:2] == b"\xfa":  # IAC SB ...: up to its IAC SE
                    end = data.find(IAC + SE, 2)
                    size = len(data) if end < 0 else end + 2
                else:
                    size = 3 if data[1:2] in _NEGOTIATION else 2
            elif state == "subnegotiation":  # one that began in an earlier packet
                end = data.find(IAC + SE)
                size = len(data) if end < 0 else end + 2
            else:  # the rest of a command cut in two by the packet boundary
                size = 1
            piece, data = data[:size], data[size:]
            if not self._spend(1 + len(piece) // _SUBNEGOTIATION_BYTES_PER_COMMAND):
                return
            if not self._parse(piece):
                return

    def _text(self, data: bytes) -> None:
        """What Telnet's parser does to text, with ``bytes.replace``.

        CR LF, CR NUL and a bare CR all end a line (as LineWire reads them),
        and a CR closing the piece swallows the LF or NUL that may open the
        next one.
        """
        if b"\r" in data:
            if not self.crlf_line_ends and (b"\r\n" in data or b"\r\0" in data):
                self.crlf_line_ends = True
            self._swallow_after_cr = data[-1:] == b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\r\0", b"\n").replace(b"\r", b"\n")
        self.applicationDataReceived(data)

    def _spend(self, cost: int) -> bool:
        """Count ``cost`` telnet commands; past the budget, say why and close (False)."""
        budget = self._budget
        if budget is None:
            # Made at the first command: most connections (netcat, bots) never send one.
            limits, clock = self.protocol.limits, self.protocol.clock
            budget = self._budget = TokenBucket(limits.telnet_commands / 3600.0,
                                                limits.telnet_commands, clock.seconds)
        if budget.take(cost):
            return True
        self.protocol.limitTripped("telnet_commands", True)
        self.protocol.close(f"Too many telnet commands (at most "
                            f"{self.protocol.limits.telnet_commands} an hour); goodbye.")
        return False

    def _parse(self, piece: bytes) -> bool:
        """Run Twisted's parser on one command; False (and closed) if it was malformed."""
        try:
            super().dataReceived(piece)
        except ValueError as exc:
            if exc.args[:1] != ("Stumped",):
                raise
            self._log.info("Malformed telnet input {args!r} from {peer}; closing",
                           args=exc.args, peer=self.transport.getPeer())
            self.protocol.close("Malformed telnet command; goodbye.")
            return False
        return True

    def commandReceived(self, command: bytes, argument: bytes | None) -> None:
        """Note that the peer speaks telnet, then handle the command."""
        self.speaks_telnet = True
        super().commandReceived(command, argument)
        if argument is not None:
            # Twisted keeps a state for every option ever named; one refused
            # and settled is the same as none, so a client naming all 256
            # options leaves nothing behind.
            option = self.options.get(argument)
            if option is not None and option.us.state == option.him.state == "no" and \
                    not (option.us.negotiating or option.him.negotiating):
                del self.options[argument]

    def negotiate(self, data: bytes) -> None:
        """Note that the peer speaks telnet, then handle the subnegotiation."""
        self.speaks_telnet = True
        super().negotiate(data)


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

    A line over :attr:`MAX_LENGTH` is refused with a message saying the
    limit, and the rest of it is discarded up to the next line end; it counts
    as a command for the rate.  Over-long input keeps memory at
    :attr:`MAX_LENGTH` however long it runs, but a connection that sends more
    than :attr:`OVERLONG_FACTOR` times the limit of it without a good line in
    between is a stream, not a typo, and is closed.
    """

    # Twisted types ``transport`` as ``ITransport | None``; here it is the TelnetWire around us (or a bare transport in tests),
    # which also provides IProducer/IConsumer, abortConnection and (above a
    # TelnetWire) will/wont.  It is set before any method below runs.
    transport: Any

    MAX_LENGTH = Limits.max_line
    """Longest accepted input line, in bytes (set from :attr:`limits`)."""
    OVERLONG_FACTOR = 64
    """Over-long input (in multiples of :attr:`MAX_LENGTH`) since the last good line that closes."""

    limits: Limits = Limits()
    """The limits this connection is held to."""
    clock: Any = None
    """An ``IReactorTime`` for the rate meters and timers (``None``: the global reactor)."""

    _hiding_input = False
    _asked_no_echo = False
    _limiter: CommandLimiter | None = None
    _guard: OutputGuard | None = None
    _done = False
    """True once we have hung up (or cut the client off): no further input or output."""
    _buffer = b""
    _discarding = False
    """True while the rest of an over-long line is being thrown away."""
    _overlong = 0
    """Bytes of over-long input since the last good line."""
    _receiving = False
    _corked: list[bytes] | None = None
    """Output held back while a packet's lines are handled, or until the reactor's turn
    is over, then written at once."""
    write_per_turn = False
    """Hold output until the reactor's turn is over and write it as one piece (on a
    real socket only: a test's StringTransport gets every write at once)."""
    _turns: EndOfTurn | None = None
    """Where output waits for the end of the turn, if it does."""
    _socket: Any = None
    _write_out: Callable[[bytes], None] | None = None
    """How output reaches the socket: straight to the kernel when nothing waits
    (:func:`~blackjack.server.frontends.output.write_through`)."""
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
        self._write_out = None
        self._buffer = b""
        self._discarding = False
        self._overlong = 0
        self._receiving = False
        self._corked = None
        self._turns = None
        self._hiding_input = False
        self._asked_no_echo = False
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
        self._guard = OutputGuard(self._socket, self.limits.output_cap,
                                   self._output_overflowed)
        self._write_out = write_through(self._socket)
        if self.write_per_turn and self._guard.measures_socket:
            # The socket sends once a turn: so do we write once a turn.
            self._turns = end_of_turn(self.clock)

    def dataReceived(self, data: bytes) -> None:
        """Frame lines on LF, CR LF, CR NUL or a bare CR; hand each to :meth:`lineReceived`."""
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._buffer += data
        if self._receiving:
            # Called from inside a line handler: the loop below gets to it.
            return
        self._receiving = True
        # Already corked until the turn ends, the end of the turn writes it all.
        corked_here = self._corked is None
        if corked_here:
            self._corked = []
        try:
            while self._buffer and not (self._done or self._socket.disconnecting):
                if self._discarding and not self._discard():
                    break
                if b"\n" not in self._buffer:
                    if len(self._buffer) > self.MAX_LENGTH:
                        self._begin_discarding()
                        continue
                    break
                *lines, self._buffer = self._buffer.split(b"\n")
                for line in lines:
                    if self._done or self._socket.disconnecting:
                        break
                    if len(line) > self.MAX_LENGTH:
                        self._overlong += len(line)
                        self.lineLengthExceeded(line)
                    else:
                        self.lineReceived(line)
        finally:
            self._receiving = False
            if self._done:
                self._buffer = b""
            if corked_here:
                self.uncork()

    def _begin_discarding(self) -> None:
        """The line being received is too long: refuse it now, and skip the rest of it."""
        line, self._buffer = self._buffer, b""
        self._discarding = True
        self._overlong += len(line)
        self.lineLengthExceeded(line)

    def _discard(self) -> bool:
        """Drop input up to the end of the over-long line; True if the end has come."""
        end = self._buffer.find(b"\n")
        if end < 0:
            self._overlong += len(self._buffer)
            self._buffer = b""
            self._check_overlong()
            return False
        self._overlong += end
        self._buffer = self._buffer[end + 1:]
        self._discarding = False
        self._check_overlong()
        return True

    def _check_overlong(self) -> None:
        if self._overlong > self.OVERLONG_FACTOR * self.MAX_LENGTH and not self._done:
            self.limitTripped("max_line", True)
            self.close(f"Lines far over the limit of {self.MAX_LENGTH} bytes; goodbye.")

    def uncork(self) -> None:
        """Write the output held back (while input was handled, or until the end of the
        reactor's turn) as one write.

        A pipelining client sends many commands in one packet, and a table
        sends several events in one turn; one write for them all costs far
        less than one write each.
        """
        corked, self._corked = self._corked, None
        if corked:
            self._send(corked[0] if len(corked) == 1 else b"".join(corked))

    def _rate(self, line: bytes = b"") -> bool:
        """Count one line against the command rate; whether to handle it."""
        if self._limiter is None:
            return True
        # Blank and over-long lines count too: a stream of them is still a flood.
        verdict = self._limiter.check()
        if verdict is ACCEPT:
            return True
        if verdict is Verdict.FLOOD:
            self.limitTripped("flood", True)
            self.close("Too many commands too fast; goodbye.")
            return False
        self.lineRefused(line, first=verdict is Verdict.WARN)
        return False

    def limitTripped(self, limit: str, closes: bool) -> None:
        """A limit acted (``closes``: it closes the connection): override to count and log.

        ``limit`` names it as the options do: ``flood``, ``max_line``,
        ``telnet_commands``, ``output_cap``.
        """
        self._log.info("{peer} went over the {limit} limit", peer=self.transport.getPeer(),
                       limit=limit)

    def lineRefused(self, line: bytes, first: bool) -> None:
        """A line dropped for going over the rate (override to answer each one).

        By default the first of a run is answered with "slow down", and the
        rest are dropped silently: one warning is enough for a person.
        """
        if first:
            self.error(f"slow down: at most {self.limits.rate:g} commands a second; "
                       "commands sent faster are ignored")

    def lineReceived(self, line: bytes) -> None:
        """Decode and sanitise one line, and hand it on unless blank or over the rate."""
        if self._hiding_input and self._echo_is_off():
            # The client echoed nothing, not even the Enter: end its line.
            self._write(b"\r\n")
        if self._limiter is not None and not self._rate(line):
            return
        self._overlong = 0
        text = line.decode("utf-8", "replace")
        # Nearly every line is printable ASCII: nothing to apply or drop.
        text = text.strip() if text.isascii() and text.isprintable() else sanitise(text)
        if text or self._hiding_input:
            self.textReceived(text)

    def textReceived(self, text: str) -> None:
        """Override: one clean line of input (blank only at a password prompt)."""

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
        if self._guard is not None:
            self._guard.release()
        self.transport.loseConnection()

    def lineLengthExceeded(self, line: bytes) -> None:
        """Refuse a line over the limit, saying what the limit is; the connection stays.

        Called as soon as the line passes the limit, with what has come of it
        so far; the rest, up to the line end, is discarded unread.
        """
        if self._rate():
            self.error(f"line too long: at most {self.MAX_LENGTH} bytes a line; "
                       "it was ignored")
        self._check_overlong()

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

    def sendRaw(self, data: bytes) -> None:
        """Send bytes as they are (telnet negotiation), in order and within the output cap."""
        self._write(data)

    def _write(self, data: bytes) -> None:
        corked = self._corked
        if corked is not None:
            corked.append(data)
            return
        turns = self._turns
        if turns is not None and not self._done:
            self._corked = [data]
            turns.add(self.uncork)
            return
        self._send(data)

    def _send(self, data: bytes) -> None:
        socket = self._socket
        if socket is None or self._done or socket.disconnecting:
            return
        guard = self._guard
        if guard is not None and not guard.admit(len(data)):
            return
        write = self._write_out
        if write is None:
            socket.write(data)
        else:
            write(data)

    def _output_overflowed(self, unsent: int) -> None:
        # The client is not reading, so a goodbye would only join the queue.
        self._done = True
        self.limitTripped("output_cap", True)
        self.transport.abortConnection()

    @property
    def speaks_telnet(self) -> bool:
        """Whether the client has shown it understands telnet negotiation."""
        return bool(getattr(self.transport, "speaks_telnet", False))

    def _echo_is_off(self) -> bool:
        """Whether the client agreed to our WILL ECHO (and so echoes nothing itself)."""
        options = getattr(self.transport, "options", None)
        state = options.get(ECHO) if options else None
        return state is not None and state.us.state == "yes"

    def hideInput(self, guess: bool = True) -> None:
        """Ask a telnet client to stop echoing (for a password); netcat is left alone.

        A client that negotiated is a telnet client.  So, with ``guess``, is
        one that ends its lines with CR LF or CR NUL: the stock ``telnet`` on a
        port other than 23 negotiates nothing until asked, and netcat ends
        lines with a bare LF.  A program reading JSON passes ``guess=False``.
        Calling it again while input is hidden changes nothing, so echo stays
        off from one password prompt to the next.
        """
        if self._hiding_input:
            return
        self._hiding_input = True
        crlf = getattr(self.transport, "crlf_line_ends", False)
        if self.speaks_telnet or (guess and crlf):
            self._asked_no_echo = True
            self.transport.will(ECHO).addErrback(self._negotiation_failed)

    def showInput(self) -> None:
        """Undo :meth:`hideInput`."""
        if not self._hiding_input:
            return
        self._hiding_input = False
        if self._asked_no_echo:
            self._asked_no_echo = False
            self.transport.wont(ECHO).addErrback(self._negotiation_failed)

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
