"""The wire layer: telnet negotiation, every line ending, bad bytes, echo, limits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.conch.telnet import DO, DONT, ECHO, IAC, NOP, SB, SE, WILL, WONT
from twisted.internet.abstract import FileDescriptor
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransportWithDisconnection

from blackjack.server.frontends.limits import Limits
from blackjack.server.frontends.telnet.wire import LineWire, TelnetWire, sanitise


class Recorder(LineWire):
    """A LineWire that keeps every line it is given."""

    def __init__(self, limits: Limits | None = None, clock: Any = None) -> None:
        super().__init__(limits, clock)
        self.lines: list[str] = []

    def textReceived(self, text: str) -> None:
        self.lines.append(text)


def connect(limits: Limits | None = None, clock: Any = None, cls: type[Recorder] = Recorder,
            ) -> tuple[TelnetWire, Recorder, StringTransportWithDisconnection]:
    """A Recorder (or ``cls``) behind a TelnetWire on a string transport."""
    wire = TelnetWire(cls, limits, clock)
    transport = StringTransportWithDisconnection()
    transport.protocol = wire
    wire.makeConnection(transport)
    recorder = wire.protocol
    assert isinstance(recorder, Recorder)
    return wire, recorder, transport


def feed(*chunks: bytes) -> tuple[list[str], StringTransportWithDisconnection]:
    """The lines a fresh connection makes of these packets, and its transport."""
    wire, recorder, transport = connect()
    for chunk in chunks:
        wire.dataReceived(chunk)
    return recorder.lines, transport


def test_every_line_ending_makes_one_line() -> None:
    """CRLF, LF, CR NUL and a bare CR each end exactly one line."""
    assert feed(b"a\r\nb\nc\r\0d\r")[0] == ["a", "b", "c", "d"]


def test_crlf_split_across_packets_is_one_line_end() -> None:
    """A CR closing one packet and the LF opening the next make one line end."""
    assert feed(b"bet 10\r", b"\nhit\r", b"\0stand\r\n")[0] == ["bet 10", "hit", "stand"]


def test_bare_cr_at_packet_end_is_not_held_back() -> None:
    """A client that ends lines with a lone CR gets its line handled at once."""
    wire, recorder, transport = connect()
    wire.dataReceived(b"login alice\r")
    assert recorder.lines == ["login alice"]


def test_negotiation_in_the_first_packet_never_reaches_the_game() -> None:
    """IAC option offers in front of the first line are stripped, and noted."""
    wire, recorder, transport = connect()
    wire.dataReceived(b"\xff\xfb\x1f\xff\xfb\x18\xff\xfd\x03login alice\r\n")
    assert recorder.lines == ["login alice"]
    assert wire.speaks_telnet


def test_netcat_is_not_taken_for_telnet() -> None:
    """A client that sends no IAC is not marked as speaking telnet."""
    wire, recorder, transport = connect()
    wire.dataReceived(b"login alice\n")
    assert not wire.speaks_telnet


def test_malformed_telnet_closes_the_connection_cleanly() -> None:
    """An unknown command after IAC ("Stumped") drops the connection without raising."""
    lines, transport = feed(b"\xff\xechello\r\n")
    assert lines == []
    assert not transport.connected


def test_bad_utf8_is_replaced_not_fatal() -> None:
    """Invalid UTF-8 is decoded with replacement characters."""
    assert feed(b"say caf\xe9 \xc3\xa9t\xc3\xa9\n")[0] == ["say caf\ufffd été"]


def test_control_characters_and_escapes_are_stripped() -> None:
    """ESC sequences, C1 controls and DEL never reach game logic; backspace edits."""
    assert feed(b"say \x1b[2Jhi\xc2\x9b\x07 there\n", b"hitx\x08\n")[0] == \
        ["say [2Jhi there", "hit"]


def test_blank_lines_are_ignored() -> None:
    """Empty and whitespace-only lines are not commands."""
    assert feed(b"\r\n  \n\r\0hit\n")[0] == ["hit"]


def test_an_over_long_line_is_refused_saying_the_limit_and_the_connection_kept() -> None:
    """A line over MAX_LENGTH gets one message naming the limit; the rest of it is skipped."""
    lines, transport = feed(b"bet " + b"9" * 5000, b"9" * 3000 + b"\nhit\n")
    assert transport.value() == b"! line too long: at most 1024 bytes a line; it was ignored\r\n"
    assert transport.connected
    assert lines == ["hit"]


def test_an_over_long_line_in_one_packet_with_good_ones_loses_only_itself() -> None:
    """The lines before and after an over-long one in the same packet are handled."""
    lines, transport = feed(b"one\n" + b"x" * 2000 + b"\ntwo\n")
    assert lines == ["one", "two"]
    assert transport.value().count(b"line too long") == 1


def test_memory_holds_no_more_than_one_line_of_an_endless_line() -> None:
    """While an over-long line is skipped, nothing of it is kept."""
    wire, recorder, transport = connect()
    for _ in range(40):
        wire.dataReceived(b"x" * 1000)
        assert len(recorder._buffer) <= 1024
    assert transport.connected


def test_over_long_input_far_past_the_limit_closes() -> None:
    """64 times the limit of over-long input with no good line between is a stream: closed."""
    wire, recorder, transport = connect(Limits(max_line=100, rate=0))
    for _ in range(60):
        wire.dataReceived(b"x" * 101 + b"\n")
    wire.dataReceived(b"ok\n")  # a good line resets the count
    for _ in range(63):
        wire.dataReceived(b"x" * 101 + b"\n")
    assert transport.connected
    wire.dataReceived(b"x" * 200)
    assert b"Lines far over the limit of 100 bytes; goodbye." in transport.value()
    assert not transport.connected
    assert recorder.lines == ["ok"]


def test_over_long_lines_count_against_the_command_rate() -> None:
    """Over-long lines are commands for the rate: past the burst they are not answered."""
    wire, recorder, transport = connect(Limits(max_line=10, rate=1, burst=3), Clock())
    wire.dataReceived(b"".join(b"x" * 20 + b"\n" for _ in range(10)))
    assert transport.value().count(b"line too long") == 3
    assert transport.value().count(b"slow down") == 1


def test_output_lines_end_with_crlf() -> None:
    """Lines are sent as UTF-8 ending in CR LF."""
    wire, recorder, transport = connect()
    recorder.sendLine("10♠")
    assert transport.value() == "10♠\r\n".encode()


def test_password_echo_is_turned_off_only_for_telnet_clients() -> None:
    """WILL ECHO goes to a client that spoke telnet, and nothing to a netcat user."""
    wire, recorder, transport = connect()
    wire.dataReceived(b"login alice\n")  # netcat: LF
    recorder.hideInput()
    wire.dataReceived(b"secret\n")
    recorder.showInput()
    assert b"\xff" not in transport.value()
    assert recorder.lines == ["login alice", "secret"]

    wire, recorder, transport = connect()
    wire.dataReceived(b"\xff\xfb\x18")  # WILL TERMINAL-TYPE: a telnet client
    transport.clear()
    recorder.hideInput()
    assert transport.value() == IAC + WILL + ECHO
    wire.dataReceived(b"\xff\xfd\x01secret\r\n")  # DO ECHO, then the password
    assert recorder.lines == ["secret"]
    assert transport.value() == IAC + WILL + ECHO + b"\r\n"  # the Enter it did not echo
    transport.clear()
    recorder.showInput()
    assert transport.value() == IAC + WONT + ECHO


@pytest.mark.parametrize("ending", [b"\r\n", b"\r\0", b"\r", b"\r\n"[:1] + b"|\n"])
def test_a_client_ending_lines_the_telnet_way_is_asked_not_to_echo(ending: bytes) -> None:
    """CR LF or CR NUL (even split across packets) mark a telnet client; a bare CR does not."""
    wire, recorder, transport = connect()
    first, _, second = (b"login alice" + ending).partition(b"|")
    wire.dataReceived(first)
    if second:
        wire.dataReceived(second)
    recorder.hideInput()
    telnet = ending != b"\r"
    assert (IAC + WILL + ECHO in transport.value()) is telnet
    assert wire.crlf_line_ends is telnet
    assert recorder.lines[0] == "login alice"


def test_a_json_reader_is_sent_no_telnet_bytes_on_a_guess() -> None:
    """With guess=False only a client that negotiated gets WILL ECHO, whatever its line ends."""
    wire, recorder, transport = connect()
    wire.dataReceived(b"json on\r\n")
    recorder.hideInput(guess=False)
    recorder.showInput()
    assert b"\xff" not in transport.value()


def test_echo_stays_off_from_one_password_prompt_to_the_next() -> None:
    """Hiding input twice in a row sends one WILL ECHO and no WONT ECHO between."""
    wire, recorder, transport = connect()
    wire.dataReceived(b"register alice\r\n")
    recorder.hideInput()
    wire.dataReceived(b"\xff\xfd\x01first-pw\r\n")
    recorder.hideInput()
    wire.dataReceived(b"first-pw\r\n")
    assert transport.value() == IAC + WILL + ECHO + b"\r\n\r\n"
    recorder.showInput()
    assert transport.value().endswith(IAC + WONT + ECHO)


def test_an_unanswered_echo_request_is_harmless() -> None:
    """A telnet client that never answers WILL ECHO does not break showInput."""
    wire, recorder, transport = connect()
    wire.dataReceived(b"\xff\xfb\x18")
    recorder.hideInput()
    recorder.showInput()  # WONT fails with AlreadyNegotiating, which is swallowed
    wire.dataReceived(b"hit\n")
    assert recorder.lines == ["hit"]


def test_sanitise_trims_and_keeps_printable_unicode() -> None:
    """Surrounding space goes, tabs become spaces, printable unicode stays."""
    assert sanitise("  say\tné ♠ \x00") == "say né ♠"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_no_byte_sequence_breaks_the_wire(chunks: list[bytes]) -> None:
    """Arbitrary packets never raise, and no control character reaches a line."""
    wire, recorder, transport = connect()
    for chunk in chunks:
        if transport.connected:
            wire.dataReceived(chunk)
    for line in recorder.lines:
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in line)


class Quitter(Recorder):
    """A Recorder that hangs up on ``quit``."""

    def textReceived(self, text: str) -> None:
        super().textReceived(text)
        if text == "quit":
            self.close("Goodbye!")


def test_lines_after_a_hangup_in_the_same_packet_are_not_handled() -> None:
    """Once the connection is closing, the rest of the packet is ignored."""
    wire, recorder, transport = connect(cls=Quitter)
    transport.loseConnection = lambda: setattr(transport, "disconnecting", True)  # type: ignore
    wire.dataReceived(b"one\nquit\ntwo\n")
    wire.dataReceived(b"three\n")
    assert recorder.lines == ["one", "quit"]
    assert transport.value().count(b"Goodbye!") == 1


def test_text_and_telnet_commands_mixed_in_packets_make_the_same_lines() -> None:
    """Commands in the middle of a word, or of a CR LF, are taken out and the text kept."""
    assert feed(b"wh\xff\xf1o\r\n\xff\xfb\x18hit\r", b"\xff\xf1\n\xff", b"\xf1stand\n")[0] == \
        ["who", "hit", "stand"]


def test_a_flood_of_telnet_commands_is_closed_past_the_budget() -> None:
    """Past ``telnet_commands``, the connection is told why and closed; no more are parsed."""
    wire, recorder, transport = connect(Limits(telnet_commands=50), Clock())
    parsed: list[bytes] = []
    handle = wire.commandReceived
    wire.commandReceived = lambda c, a: (parsed.append(c), handle(c, a))  # type: ignore
    wire.dataReceived(b"hi\n" + IAC + NOP + b"there\n")
    wire.dataReceived((IAC + NOP) * 20000 + b"hit\n")
    assert len(parsed) == 50
    assert b"Too many telnet commands (at most 50 an hour); goodbye." in transport.value()
    assert not transport.connected
    assert recorder.lines == ["hi", "there"]


def test_the_telnet_budget_refills_over_the_hour() -> None:
    """The budget is spent at once if need be, and comes back at its size an hour."""
    clock = Clock()
    wire, recorder, transport = connect(Limits(telnet_commands=10), clock)
    wire.dataReceived((IAC + NOP) * 10)
    clock.advance(1800)
    wire.dataReceived((IAC + WILL + b"\x18") * 5)
    assert transport.connected
    wire.dataReceived(IAC + NOP)
    assert not transport.connected


def test_a_subnegotiation_costs_one_more_per_64_bytes() -> None:
    """A 4 KB subnegotiation spends 64 of the budget, however it is cut into packets."""
    wire, recorder, transport = connect(Limits(telnet_commands=100), Clock())
    sb = IAC + SB + b"\x18" + b"A" * 4000 + IAC + SE
    wire.dataReceived(sb[:2000])
    wire.dataReceived(sb[2000:] + b"hit\n")
    assert transport.connected and recorder.lines == ["hit"]
    wire.dataReceived(sb)
    assert b"Too many telnet commands" in transport.value()


def test_naming_every_option_leaves_no_option_state_behind() -> None:
    """Refused option offers and requests keep no per-option state, so 256 options cost nothing."""
    wire, recorder, transport = connect(Limits(telnet_commands=10000), Clock())
    wire.dataReceived(b"".join(IAC + verb + bytes([o]) for o in range(256)
                               for verb in (WILL, DO, WONT, DONT)))
    assert transport.connected
    assert wire.options == {}


def test_malformed_telnet_says_goodbye_first() -> None:
    """A client stumping the telnet parser is told why it is being closed."""
    lines, transport = feed(b"\xff\xec")
    assert b"Malformed telnet command; goodbye." in transport.value()


def test_a_line_over_a_configured_max_line_is_refused() -> None:
    """``max_line`` sets the longest line; one byte more is refused, saying the limit."""
    wire, recorder, transport = connect(Limits(max_line=10))
    wire.dataReceived(b"0123456789\n")
    assert recorder.lines == ["0123456789"] and transport.connected
    wire.dataReceived(b"0123456789A\nhit\n")
    assert b"line too long: at most 10 bytes a line" in transport.value()
    assert recorder.lines == ["0123456789", "hit"] and transport.connected


def test_commands_over_the_rate_are_dropped_with_one_warning() -> None:
    """Past the burst, lines are dropped and "slow down" is said once; time restores the rate."""
    clock = Clock()
    wire, recorder, transport = connect(Limits(rate=1, burst=3), clock)
    wire.dataReceived(b"".join(b"cmd%d\n" % i for i in range(10)))
    assert recorder.lines == ["cmd0", "cmd1", "cmd2"]
    assert transport.value().count(b"slow down") == 1
    assert transport.connected
    clock.advance(2)
    wire.dataReceived(b"later\n")
    assert recorder.lines[-1] == "later"


def test_a_flood_is_disconnected_with_a_message() -> None:
    """Thousands of lines at once close the connection, saying why, and stop being read."""
    wire, recorder, transport = connect(Limits(rate=5, burst=20), Clock())
    wire.dataReceived(b"hit\n" * 5000)
    assert b"Too many commands too fast; goodbye." in transport.value()
    assert not transport.connected
    assert len(recorder.lines) == 20


def test_a_rate_of_zero_turns_the_limit_off() -> None:
    """With ``rate=0`` (load tests) every line gets through."""
    wire, recorder, transport = connect(Limits(rate=0), Clock())
    wire.dataReceived(b"hit\n" * 5000)
    assert len(recorder.lines) == 5000 and transport.connected


class _NoLoop:
    """Just enough of ``IReactorFDSet`` for a FileDescriptor; nothing runs it."""

    def addReader(self, reader: object) -> None: ...
    def removeReader(self, reader: object) -> None: ...
    def addWriter(self, writer: object) -> None: ...
    def removeWriter(self, writer: object) -> None: ...


class SocketTo(FileDescriptor):
    """Twisted's own write buffering (``FileDescriptor``) in front of a client that reads
    ``reading`` bytes each time the reactor would flush (:meth:`flush`)."""

    def __init__(self, reading: int) -> None:
        super().__init__(_NoLoop())  # type: ignore[arg-type]
        self.connected = 1
        self.reading = reading
        self.sent = bytearray()
        self.aborted = False
        self.peak = 0

    def writeSomeData(self, data: bytes) -> int:
        taken = bytes(data[:self.reading])
        self.sent += taken
        return len(taken)

    def unsent(self) -> int:
        return len(self.dataBuffer) - self.offset + self._tempDataLen

    def write(self, data: bytes) -> None:
        super().write(data)
        self.peak = max(self.peak, self.unsent())

    def flush(self) -> None:
        self.doWrite()

    def getPeer(self) -> IPv4Address:
        return IPv4Address("TCP", "10.0.0.9", 40000)

    def getHost(self) -> IPv4Address:
        return IPv4Address("TCP", "127.0.0.1", 8023)

    def abortConnection(self) -> None:
        self.aborted = True


class _PerTurnRecorder(Recorder):
    write_per_turn = True


def on_socket(socket: SocketTo, limits: Limits) -> tuple[TelnetWire, Recorder]:
    """A Recorder behind a TelnetWire on ``socket``."""
    wire = TelnetWire(Recorder, limits, Clock())
    wire.makeConnection(socket)
    assert isinstance(wire.protocol, Recorder)
    return wire, wire.protocol


def test_output_to_a_client_that_stopped_reading_is_cut_off_at_the_cap() -> None:
    """Once more than output_cap bytes wait unsent, the next write aborts instead."""
    socket = SocketTo(reading=0)
    wire, recorder = on_socket(socket, Limits(output_cap=1000))
    for _ in range(10):
        recorder.sendLine("x" * 98)  # 100 bytes with CR LF
        socket.flush()
    assert not socket.aborted  # exactly at the cap
    recorder.sendLine("x" * 98)
    assert not socket.aborted and socket.unsent() == 1100
    recorder.sendLine("this one is never written")
    assert socket.aborted
    assert socket.peak == 1100  # the cap plus one write
    recorder.sendLine("nor this")
    assert socket.unsent() == 1100


def test_a_client_that_reads_is_never_cut_off() -> None:
    """A reading client gets any amount of output, even one write larger than the cap."""
    socket = SocketTo(reading=64 * 1024)
    wire, recorder = on_socket(socket, Limits(output_cap=1000))
    recorder.sendLine("y" * 5000)  # one write over the cap, to an empty queue
    socket.flush()
    for _ in range(200):
        for _ in range(9):
            recorder.sendLine("x" * 98)
        socket.flush()
    assert not socket.aborted
    assert len(socket.sent) == 5002 + 200 * 900


def test_a_slow_reader_is_cut_off_only_once_the_backlog_passes_the_cap() -> None:
    """A client reading less than it is sent is kept until its backlog passes the cap."""
    socket = SocketTo(reading=50)
    wire, recorder = on_socket(socket, Limits(output_cap=1000))
    for turn in range(1, 100):
        recorder.sendLine("x" * 98)
        socket.flush()
        if socket.aborted:
            break
    assert turn == 22  # 50 bytes a turn behind: over 1000 after 21 turns
    assert socket.peak <= 1100


def test_telnet_answers_count_against_the_output_cap() -> None:
    """Twisted's answers to IAC DO go through the cap: a non-reader flooding them is cut off."""
    socket = SocketTo(reading=0)
    wire, recorder = on_socket(socket, Limits(output_cap=300))
    for first in range(2, 200, 10):  # ten to a packet; the reactor flushes between them
        wire.dataReceived(b"".join(IAC + DO + bytes([o]) for o in range(first, first + 10)))
        socket.flush()
    assert socket.aborted
    assert socket.peak <= 300 + 3
    assert recorder._done


class PausingTransport(StringTransportWithDisconnection):
    """A transport whose buffer cannot be seen, pausing its producer as Twisted does:
    on EVERY write while more than ``bufferSize`` bytes wait, not just the first."""

    bufferSize = 500

    def __init__(self) -> None:
        super().__init__(peerAddress=IPv4Address("TCP", "10.0.0.9", 40000))
        self.unsent = 0
        self.aborted = False

    def write(self, data: bytes) -> None:
        super().write(data)
        self.unsent += len(data)
        if self.producer is not None and self.streaming and self.unsent > self.bufferSize:
            self.producer.pauseProducing()

    def drain(self) -> None:
        self.unsent = 0
        if self.producer is not None:
            self.producer.resumeProducing()

    def abortConnection(self) -> None:
        self.aborted = True


def fallback(limits: Limits) -> tuple[PausingTransport, Recorder]:
    """A Recorder behind a TelnetWire on a PausingTransport."""
    transport = PausingTransport()
    wire = TelnetWire(Recorder, limits, Clock())
    transport.protocol = wire
    wire.makeConnection(transport)
    assert isinstance(wire.protocol, Recorder)
    return transport, wire.protocol


def test_where_the_buffer_is_hidden_output_after_the_first_pause_is_capped() -> None:
    """Repeated pauses do not restart the count: past the cap after the first, it is cut off."""
    transport, recorder = fallback(Limits(output_cap=1000))
    assert transport.producer is not None and transport.streaming
    for _ in range(6):
        recorder.sendLine("x" * 98)  # the sixth write fills the buffer: paused
    for _ in range(10):
        recorder.sendLine("x" * 98)
    assert not transport.aborted  # 1000 bytes since the pause: at the cap
    recorder.sendLine("x" * 98)
    recorder.sendLine("this one is never written")
    assert transport.aborted
    assert b"never written" not in transport.value()


def test_where_the_buffer_is_hidden_a_client_that_catches_up_gets_its_allowance_back() -> None:
    """resumeProducing (the buffer drained) restarts the count."""
    transport, recorder = fallback(Limits(output_cap=1000))
    for _ in range(20):
        for _ in range(14):
            recorder.sendLine("x" * 98)
        transport.drain()
    assert not transport.aborted


def test_hanging_up_lets_go_of_the_transport() -> None:
    """A registered producer is unregistered on hang-up, or Twisted would never close the socket."""
    transport, recorder = fallback(Limits())
    recorder.close("bye")
    assert transport.producer is None


@pytest.mark.parametrize("typed, shown", [
    ("say \u202eevil\u202c ok", "say evil ok"),
    ("say \u2066a\u2067b\u2068c\u2069", "say abc"),
    ("say one\u2028two\u2029three", "say one two three"),
    ("say \x1b]0;pwned\x07title", "say ]0;pwnedtitle"),
    ("say \x9b31mred", "say 31mred"),
    ("say na\u00efve ÿ ♠", "say na\u00efve ÿ ♠"),
])
def test_sanitise_removes_what_could_fool_another_reader(typed: str, shown: str) -> None:
    """Bidi overrides, line separators, ESC/OSC and C1 go; printable letters like ÿ stay."""
    assert sanitise(typed) == shown


def test_a_raw_iac_byte_never_reaches_a_line_but_y_umlaut_does() -> None:
    """0xFF in input is telnet's business; U+00FF typed as UTF-8 arrives as a letter."""
    lines, transport = feed(b"say \xff\xff caf\xc3\xbf\n")
    assert lines == ["say \ufffd caf\u00ff"]
    assert "\u00ff".encode() == b"\xc3\xbf"  # so echoing it sends no 0xFF byte


_ASCII_LINES = st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
                        min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(lines=_ASCII_LINES, endings=st.lists(st.sampled_from([b"\n", b"\r\n", b"\r\0", b"\r"]),
                                            min_size=8, max_size=8),
       cuts=st.lists(st.integers(0, 400), max_size=6), negotiate=st.booleans())
def test_packets_make_the_same_lines_however_they_are_cut(
        lines: list[str], endings: list[bytes], cuts: list[int], negotiate: bool) -> None:
    """Lines come out whole and unchanged, whatever the line ends, whether a packet takes the fast path (no IAC) or the parser."""
    data = (b"\xff\xfb\x1f" if negotiate else b"") + b"".join(
        line.encode() + ending for line, ending in zip(lines, endings))
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    assert feed(*chunks)[0] == [line.strip() for line in lines if line.strip()]


def test_nagle_is_turned_off_for_tcp_clients() -> None:
    """Each connection asks its TCP socket for TCP_NODELAY, so small writes are not held back."""

    class TcpTransport(StringTransportWithDisconnection):
        no_delay: bool | None = None

        def setTcpNoDelay(self, enabled: bool) -> None:
            self.no_delay = enabled

    wire = TelnetWire(Recorder)
    transport = TcpTransport()
    transport.protocol = wire
    wire.makeConnection(transport)
    assert transport.no_delay is True


def test_output_held_to_the_turn_end_goes_as_one_write_within_the_cap() -> None:
    """With write_per_turn, a turn's lines reach the socket as one write when the turn
    is over, and a client that stopped reading is still cut off at the cap."""
    socket = SocketTo(reading=0)
    clock = Clock()
    wire = TelnetWire(_PerTurnRecorder, Limits(output_cap=1000), clock)
    wire.makeConnection(socket)
    recorder = wire.protocol
    writes: list[bytes] = []
    write = socket.write
    socket.write = lambda data: (writes.append(data), write(data))[1]  # type: ignore
    for _ in range(10):
        recorder.sendLine("x" * 98)
    assert writes == []
    clock.advance(0)
    assert writes == [("x" * 98 + "\r\n").encode() * 10] and not socket.aborted
    recorder.sendLine("y" * 98)
    clock.advance(0)
    assert not socket.aborted and socket.unsent() == 1100
    recorder.sendLine("this one is never written")
    clock.advance(0)
    assert socket.aborted and socket.peak == 1100
