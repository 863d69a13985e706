"""What the nodes of one card room share in the database: leases, members, seats, logins.

Several server processes ("nodes") may run one card room on one PostgreSQL
ledger.  Each table is run by one node at a time, under a **lease**: a row
naming the node, an **epoch** (bumped on every takeover) and an expiry the
node keeps pushing forward.  A node that stops renewing (it died, stalled or
lost the database) loses its tables once their leases expire, and another
node takes them over with a new epoch.

The lease alone would be best effort: a node that stalled past its expiry
and then woke up would still believe it ran the table.  So every stake and
settlement a node makes names its lease as a :class:`Fence`, and the storage
checks it *in the transaction that moves the chips* (the lease row is share-
locked there, so a takeover waits for that transaction and then sees what it
wrote).  A stale node's stake or settlement fails with
:class:`~blackjack.server.errors.FencedError`, having moved nothing, and the
new owner's takeover refunds whatever the old one left in escrow.

Time: leases expire by the database's clock where the database has one
(PostgreSQL's ``clock_timestamp()``), so the nodes' own clocks never decide
who owns a table; the SQLite and memory backends (one process) use the
storage's clock.  Fencing never depends on time at all.

This module holds the values and the interface, :class:`IRoomStorage`; the
SQL backends implement it in :mod:`.room_sql`, the memory backend in
:mod:`.room_memory`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from blackjack.server.errors import FencedError

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = ["Fence", "Lease", "Member", "RoomView", "SeatRecord", "Takeover", "Arrival",
           "IRoomStorage", "FencedError", "LEFT_DEALING"]

LEFT_DEALING = "server restarted"
"""Why a takeover retires the fair shoe the last owner left dealing: it never deals
again (the new owner shuffles its own), so its seed may be told.  The reason a
restart gives a shoe its server left dealing, as the protocol and verifier know it."""


@dataclass(frozen=True)
class Fence:
    """The lease under which a node runs a table; its stakes and settlements name it."""

    table: str
    node: str
    epoch: int


@dataclass(frozen=True)
class Lease:
    """One table's lease as the database holds it."""

    table: str
    node: str
    """The node running the table; ``""`` once released (free to take)."""
    epoch: int
    expires: float
    """When it lapses unless renewed, on the database's clock."""

    def free(self, now: float) -> bool:
        """Whether another node may take the table at ``now``."""
        return not self.node or self.expires <= now


@dataclass(frozen=True)
class Member:
    """A live node of the room, as it last reported itself."""

    name: str
    address: str
    """Where its node link listens (``host:port``)."""
    draining: bool
    """It is leaving: it takes no tables and hands its own over."""
    expires: float


@dataclass(frozen=True)
class RoomView:
    """The room as one node's heartbeat found it."""

    now: float
    """The database's clock at the heartbeat."""
    joined: bool
    """False if another live process holds this node's name (nothing was renewed)."""
    renewed: frozenset[str]
    """The tables whose lease this heartbeat renewed (the node still runs them)."""
    leases: tuple[Lease, ...]
    members: tuple[Member, ...]
    """Every live node, this one included, by name."""


@dataclass(frozen=True)
class SeatRecord:
    """A seat held at a table, as its owner last recorded it."""

    seat: int
    account_id: int
    name: str


@dataclass(frozen=True)
class Takeover:
    """What a node gets when it takes a table: its lease, the refunds, the seats."""

    fence: Fence
    refunded: tuple[tuple[str, int, int], ...]
    """``(round_id, account_id, amount)`` for every stake the last owner left held."""
    seats: tuple[SeatRecord, ...]
    retired: tuple[str, ...] = ()
    """The fair shoes the last owner left dealing, retired (their seeds may be told)."""


@dataclass(frozen=True)
class Arrival:
    """What the room knows of an account logging in on a node."""

    previous: str | None
    """The node of the account's last login, if it was another node."""
    table: str | None
    """The table where the account holds a seat, if any."""
    seat: int | None


@runtime_checkable
class IRoomStorage(Protocol):
    """The database side of a room of nodes: every call is one transaction."""

    def room_tick(self, node: str, instance: str, address: str, draining: bool,
                  lease: float, held: Sequence[Fence]) -> Deferred[RoomView]:
        """One heartbeat: report this node alive for ``lease`` seconds and renew
        the leases it holds (those still under the same node and epoch); read
        back every lease and live node.

        ``instance`` tells two processes with one node name apart: a name is
        taken only once its last holder's report has expired.
        """

    def take_table(self, table: str, node: str, lease: float) -> Deferred[Takeover | None]:
        """Take a free or expired table with a new epoch, refund the stakes its
        last owner left held (per-table recovery) and read its seats, all in one
        transaction; ``None`` (nothing changed) if another node holds it."""

    def save_seats(self, fence: Fence, seats: Mapping[int, int]) -> Deferred[bool]:
        """Record who sits where (seat to account id) if ``fence`` still holds."""

    def release_table(self, fence: Fence, seats: Mapping[int, int]) -> Deferred[bool]:
        """Record the seats and free the table for another node (between rounds),
        if ``fence`` still holds; the epoch stays until the next taker bumps it."""

    def arrive(self, account_id: int, node: str) -> Deferred[Arrival]:
        """Record that the account logged in on ``node``; say where it was and sits."""

    def leave_room(self, node: str, instance: str, held: Sequence[Fence]) -> Deferred[None]:
        """The node stops: free the leases it still holds and strike it off."""
