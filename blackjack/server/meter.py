"""What the card room counts as it runs: the hooks a metrics exporter fills in.

The core, the front ends and the storage call a :class:`Meter` at the moments
worth counting (a round settled, a command answered, a limit tripped, a
database batch committed...).  This base class does nothing with them, so a
server run without ``--metrics`` pays one empty call each, and no layer
imports a metrics library: the Prometheus exporter
(:mod:`blackjack.server.hosting.metrics`) subclasses it.  What is better read
than counted (connections open, players logged in, tables, seats, the
books) the exporter reads from the running service when it is scraped.
"""

from __future__ import annotations

__all__ = ["Meter", "NULL_METER"]


class Meter:
    """Counts nothing; subclass to count.  Every method is cheap and never raises."""

    times_commands = False
    """Whether :meth:`command_done` counts anything (set for each subclass): a front
    end reads the clock for it, once a command, only then."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.times_commands = cls.command_done is not Meter.command_done

    def round_settled(self, table: str, hands: int) -> None:
        """A round was paid at ``table``, with ``hands`` hands (splits count apart)."""

    def command_done(self, command: str, seconds: float) -> None:
        """A command was answered ``seconds`` after it arrived (its wait in line included)."""

    def limit_tripped(self, limit: str, disconnected: bool) -> None:
        """A limit acted: ``limit`` names it (``rate``, ``flood``, ``idle``...);
        ``disconnected`` when it closed (or refused) the connection rather than
        dropping a line."""

    def login_failed(self, reason: str) -> None:
        """A login was refused: ``password``, ``throttled``, ``banned`` or ``token``."""

    def batch_committed(self, calls: int, seconds: float) -> None:
        """A database batch of ``calls`` committed, ``seconds`` after it was sent."""

    def admin_act(self, act: str) -> None:
        """An admin carried out ``act`` (it is in the audit trail)."""


NULL_METER = Meter()
"""The meter of a server run without ``--metrics``."""
