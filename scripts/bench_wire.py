"""Benchmark: server CPU per command, in process, through the real wire and protocol.

One connection is built by the real ``BlackjackFactory`` (``TelnetWire`` around
``BlackjackProtocol``) on a transport that only counts writes, switched to JSON
mode, and fed packets of pipelined commands the way a load-test client sends
them (CR LF line ends).  What is left out is the socket: ``recv``, ``send`` and
``epoll``, which the echo server pays too.  Run by hand::

    python scripts/bench_wire.py [--command 'help hit'] [--per-packet 32] [--profile]
    python scripts/bench_wire.py --v1 --command '{"cmd":"help","command":"hit"}'

The commands need no login (``help``, ``who``, ``tables``, an unknown word...).
With ``--v1`` the connection says ``hello`` instead, and the commands are
protocol v1 requests, as ``scripts/loadtest.py --mode throughput`` sends them.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

# Run from a checkout without installing: scripts/ is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from blackjack.server.frontends.limits import Limits  # noqa: E402
from blackjack.server.core.lobby import Lobby  # noqa: E402
from blackjack.server.frontends.telnet.protocol import BlackjackFactory  # noqa: E402


class _CountingTransport(StringTransport):
    """Keeps a count of writes instead of the bytes."""

    writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def setTcpNoDelay(self, enabled: bool) -> None:
        pass


def connection(v1: bool = False) -> tuple[Any, _CountingTransport]:
    """A JSON-mode (or protocol v1) connection with the load test's limits (no rate limit)."""
    from twisted.internet import reactor  # its clock, as the server's; never run here

    limits = Limits(rate=0, chat_rate=0, max_per_ip=0, idle_timeout=300)
    factory = BlackjackFactory(Lobby([]), None, None, limits, reactor)  # type: ignore[arg-type]
    wire = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    transport = _CountingTransport()
    wire.makeConnection(transport)
    wire.dataReceived(b'{"id":1,"cmd":"hello","protocol":1}\r\n' if v1 else b"json on\r\n")
    return wire, transport


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", default="help hit")
    parser.add_argument("--per-packet", type=int, default=32)
    parser.add_argument("--packets", type=int, default=20000)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile")
    parser.add_argument("--v1", action="store_true",
                        help="say hello and send protocol v1 requests (--command is one)")
    args = parser.parse_args(argv)
    wire, transport = connection(args.v1)
    packet = (args.command.encode() + b"\r\n") * args.per_packet

    def run() -> None:
        for _ in range(args.packets):
            wire.dataReceived(packet)

    run()  # warm up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    commands = args.packets * args.per_packet
    print(f"{args.command!r}, {args.per_packet} a packet: "
          f"{best / commands * 1e6:.2f} us per command (best of 3), "
          f"{commands / best:,.0f} commands/s on one core, "
          f"{transport.writes / (4 * args.packets):.0f} write(s) a packet")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(run)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
