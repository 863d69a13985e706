"""The numbers that keep one client from hurting the others, and the meters for them.

A server on an open port meets scanners, floods and broken clients.  This
module holds the limits as one frozen value, :class:`Limits` (every field is a
``twistd blackjack`` option, see :mod:`blackjack.server.hosting.tap`), and the small
meters that enforce the ones counted per connection or per address:

* :class:`TokenBucket`: ``rate`` tokens a second, at most ``burst`` saved up
  (the wire layer's telnet budget is one).
* :class:`CommandLimiter`: the per-connection command rate.  Over the rate a
  command is dropped (the first drop of a run says "slow down"); input that
  stays far over it for long is a flood, and the connection is closed.
* :class:`ConnectionCounter`: open connections in total and per address.

Time is a parameter (a ``reactor.seconds``-style callable), so tests drive the
meters with :class:`twisted.internet.task.Clock`.  Nothing here imports
Twisted; the wire layer and the factory apply these.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Limits", "TokenBucket", "CommandLimiter", "Verdict", "ACCEPT", "ConnectionCounter"]


@dataclass(frozen=True)
class Limits:
    """Every per-connection, per-address and server-wide limit, with safe defaults.

    A rate, a cap or the idle timeout of 0 turns that limit off (for load
    tests); the line length, the output cap and the telnet budget are always
    enforced.
    """

    max_line: int = 1024
    """Longest input line in bytes; a longer one is refused with a message and the rest of
    it discarded (64 times this of them with no good line between closes the connection)."""
    rate: float = 5.0
    """Commands a connection may send per second, on average."""
    burst: int = 20
    """Commands a connection may send at once after a quiet spell."""
    chat_rate: float = 1.0
    """Chat lines (``say``) per second; chat also counts as a command."""
    chat_burst: int = 3
    """Chat lines at once after a quiet spell."""
    max_per_ip: int = 20
    """Open connections from one IP address."""
    max_connections: int = 20000
    """Open connections in total."""
    idle_timeout: float = 300.0
    """Seconds a connection may sit silent before logging in, or logged in away from any table."""
    login_attempts: int = 10
    """Failed logins on one account name, from addresses that never logged into it,
    per ``login_period`` before such addresses must wait (see ``LoginThrottle``).
    Twice the per-address limit, so one address alone cannot set it off."""
    login_attempts_per_ip: int = 5
    """Failed logins from one IP address per ``login_period`` before it must wait."""
    login_period: float = 300.0
    """The window, in seconds, that failed logins are counted over."""
    registrations_per_hour: int = 10
    """New accounts one IP address may create per hour."""
    output_cap: int = 256 * 1024
    """Bytes that may pile up for a client that stopped reading before it is dropped."""
    telnet_commands: int = 1000
    """Telnet commands a connection may send at once, and again each hour; past them it is closed.

    A real client sends a few dozen in its life (option offers and answers,
    the odd keepalive).  A subnegotiation counts one more per 64 bytes.
    """

    def __post_init__(self) -> None:
        # Checked here as well as by the option parser, so a Limits built in
        # code cannot carry a nonsensical value either.
        for name in ("max_line", "output_cap", "burst", "chat_burst", "max_connections",
                     "login_attempts", "login_attempts_per_ip", "registrations_per_hour",
                     "telnet_commands"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        for name in ("rate", "chat_rate", "max_per_ip", "idle_timeout"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (off) or more, got {getattr(self, name)!r}")
        if self.login_period <= 0:
            raise ValueError(f"login_period must be positive, got {self.login_period!r}")


class TokenBucket:
    """``rate`` tokens a second accrue, up to ``burst``; each event takes one.

    The bucket starts full, so a client that has been quiet can do ``burst``
    things at once, and then ``rate`` a second.
    """

    def __init__(self, rate: float, burst: float, now: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, got {rate} and {burst}")
        self.rate = rate
        self.burst = burst
        self._now = now
        self._tokens = float(burst)
        self._last = now()

    def take(self, count: float = 1) -> bool:
        """Take ``count`` tokens if there are that many; False means over the limit."""
        now = self._now()
        # max(): a clock that steps backwards must not drain the bucket.
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        if self._tokens >= count:
            self._tokens -= count
            return True
        return False


class Verdict(enum.Enum):
    """What to do with one line of input, as :meth:`CommandLimiter.check` decides."""

    ACCEPT = "accept"
    """Within the rate: handle it."""
    WARN = "warn"
    """Over the rate for the first time in a while: drop it and say "slow down"."""
    DROP = "drop"
    """Over the rate again: drop it silently (one warning is enough)."""
    FLOOD = "flood"
    """Far over the rate for too long: say why and disconnect."""


ACCEPT = Verdict.ACCEPT
"""The verdict on nearly every line, as a global: on Python 3.11 reading a member
from its enum class costs about as much as a Python call."""


class CommandLimiter:
    """The command rate of one connection, with a flood cut-off.

    Commands beyond ``rate`` a second (after a ``burst``) are dropped.  A
    second, larger bucket counts every line, accepted or not, at
    ``FLOOD_FACTOR`` times the rate: input that averages above that for long
    enough to empty it (``FLOOD_SECONDS`` of sending at twice that pace) is a
    flood, not a person, and the connection is closed.  A paste of a few
    dozen lines, or a bot a little over its rate, only loses the excess.
    """

    FLOOD_FACTOR = 5.0
    FLOOD_SECONDS = 10.0

    def __init__(self, rate: float, burst: int, now: Callable[[], float], *,
                 flood: bool = True) -> None:
        self._commands = TokenBucket(rate, burst, now)
        flood_rate = rate * self.FLOOD_FACTOR
        self._flood = (TokenBucket(flood_rate, burst + flood_rate * self.FLOOD_SECONDS, now)
                       if flood else None)
        self._warned = False

    def check(self) -> Verdict:
        """Count one line of input and say what to do with it.

        Without ``flood`` (a limiter for one kind of command, like chat, that
        the connection's own limiter already watches) it never says FLOOD.
        """
        if self._flood is not None and not self._flood.take():
            return Verdict.FLOOD
        if self._commands.take():
            self._warned = False
            return ACCEPT
        if self._warned:
            return Verdict.DROP
        self._warned = True
        return Verdict.WARN


class ConnectionCounter:
    """Open connections, in total and per address, against two caps.

    ``max_per_host`` of 0 means no per-address cap.  Addresses without a host
    (UNIX sockets) count only towards the total: they all share one name, and
    whoever can reach the socket is local anyway.
    """

    def __init__(self, max_total: int, max_per_host: int) -> None:
        self.max_total = max_total
        self.max_per_host = max_per_host
        self.total = 0
        self._by_host: dict[str, int] = {}
        self.refused_by = ""
        """The limit that refused the last connection refused: ``max_connections`` or
        ``max_per_ip`` (for logs and metrics)."""

    def admit(self, host: str | None) -> str | None:
        """Count a new connection from ``host``, or say why it is refused (not counted)."""
        if self.total >= self.max_total:
            self.refused_by = "max_connections"
            return "Sorry, the card room is full. Please try again later."
        if host is not None and self.max_per_host:
            if self._by_host.get(host, 0) >= self.max_per_host:
                self.refused_by = "max_per_ip"
                return (f"Too many connections from your address (at most "
                        f"{self.max_per_host}). Close one and try again.")
            self._by_host[host] = self._by_host.get(host, 0) + 1
        self.total += 1
        return None

    def release(self, host: str | None) -> None:
        """A connection admitted from ``host`` has closed."""
        self.total -= 1
        if host is not None and host in self._by_host:
            left = self._by_host[host] - 1
            if left:
                self._by_host[host] = left
            else:
                # Drop empty entries, so scanned-and-gone addresses cost nothing.
                del self._by_host[host]

    def from_host(self, host: str) -> int:
        """How many connections ``host`` has open."""
        return self._by_host.get(host, 0)
