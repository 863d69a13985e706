"""A bare Twisted line-echo server: the ceiling the blackjack server is measured against.

``scripts/loadtest.py`` drives this server and the blackjack server with the
same client in the same run, so "commands per second" and "memory per idle
connection" can be read against what Twisted itself costs on this machine.
It is a plain :class:`~twisted.protocols.basic.LineReceiver` that sends every
line back, with no telnet layer, no parsing and no state.  Run by hand::

    python scripts/echo_server.py --listen tcp:18024:interface=127.0.0.1:backlog=4096
"""

from __future__ import annotations

import argparse
import resource
import sys

from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineReceiver

__all__ = ["Echo", "main"]


class Echo(LineReceiver):
    """Send each CR LF terminated line straight back."""

    MAX_LENGTH = 1024

    def lineReceived(self, line: bytes) -> None:
        """Echo the line."""
        self.sendLine(line)


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the new limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main(argv: list[str] | None = None) -> None:
    """Listen where asked and echo until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="tcp:18024:interface=127.0.0.1:backlog=4096",
                        help="a Twisted server endpoint string (default: %(default)s)")
    args = parser.parse_args(argv)
    limit = raise_open_files_limit()
    from twisted.internet import reactor

    def listening(port: IListeningPort) -> None:
        print(f"echo listening on {port.getHost()} (open files limit {limit})",
              file=sys.stderr, flush=True)

    def failed(failure: object) -> None:
        print(f"echo server could not listen: {failure}", file=sys.stderr)
        reactor.stop()  # type: ignore[attr-defined, misc]

    factory = Factory.forProtocol(Echo)
    factory.noisy = False
    serverFromString(reactor, args.listen).listen(factory).addCallbacks(listening, failed)
    reactor.run()  # type: ignore[attr-defined, misc]


if __name__ == "__main__":
    main()
