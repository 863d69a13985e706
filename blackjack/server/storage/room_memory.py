"""The room's records (:mod:`.room`) in memory: what :mod:`.room_sql` keeps in SQL.

For tests that run several nodes in one process on one
:class:`~.memory.MemoryDatabase`.  Leases expire by the storage's clock
(there is no database clock to share).  Each call applies at once and
answers on a later turn, like every :class:`~.memory.MemoryStorage` call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from blackjack.server.storage._backend import Refunded, fails_deferred, log_recovered
from blackjack.server.storage.interface import check_id, check_text
from blackjack.server.storage.room import (
    LEFT_DEALING,
    Arrival,
    Fence,
    FencedError,
    Lease,
    Member,
    RoomView,
    SeatRecord,
    Takeover,
)

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = ["RoomRecords", "MemoryRoom"]

_T = TypeVar("_T")


@dataclass
class RoomRecords:
    """The room's rows: leases, members, seats and logins."""

    leases: dict[str, Lease] = field(default_factory=dict)
    members: dict[str, tuple[str, Member]] = field(default_factory=dict)
    """Node name to (instance, member)."""
    seats: dict[str, dict[int, tuple[int, float]]] = field(default_factory=dict)
    """Table to seat to (account id, since)."""
    logins: dict[int, str] = field(default_factory=dict)


class MemoryRoom:
    """:class:`~.room.IRoomStorage` for :class:`~.memory.MemoryStorage` (a mixin)."""

    _clock: Callable[[], float]

    # Supplied by MemoryStorage.
    def _answer(self, work: Callable[..., _T], *args: Any) -> Deferred[_T]:
        raise NotImplementedError

    def _recover(self, table: str | None, now: float) -> Refunded:
        raise NotImplementedError

    def _retire_shoes(self, table: str | None, reason: str, now: float) -> list[str]:
        raise NotImplementedError

    def _account_name(self, account_id: int) -> str:
        raise NotImplementedError

    @property
    def _room(self) -> RoomRecords:
        raise NotImplementedError

    def _check_fence(self, fence: Fence | None) -> None:
        """Raise :class:`FencedError` unless the table's lease is still ``fence``."""
        if fence is None:
            return
        lease = self._room.leases.get(fence.table)
        if lease is None or (lease.node, lease.epoch) != (fence.node, fence.epoch):
            raise FencedError(fence.table, fence.node, fence.epoch)

    @fails_deferred
    def room_tick(self, node: str, instance: str, address: str, draining: bool,
                  lease: float, held: Sequence[Fence]) -> Deferred[RoomView]:
        check_text(node, "node")
        check_text(instance, "instance")
        return self._answer(self._tick, node, instance, address, draining, lease,
                            tuple(held), self._clock())

    def _tick(self, node: str, instance: str, address: str, draining: bool, lease: float,
              held: tuple[Fence, ...], now: float) -> RoomView:
        room = self._room
        holder = room.members.get(node)
        joined = holder is None or holder[0] == instance or holder[1].expires <= now
        renewed = set()
        if joined:
            room.members[node] = (instance, Member(node, address, draining, now + lease))
            for fence in held:
                current = room.leases.get(fence.table)
                if current is not None and (current.node, current.epoch) == (fence.node,
                                                                             fence.epoch):
                    room.leases[fence.table] = Lease(fence.table, fence.node, fence.epoch,
                                                     now + lease)
                    renewed.add(fence.table)
        return RoomView(now, joined, frozenset(renewed),
                        tuple(room.leases[t] for t in sorted(room.leases)),
                        tuple(m for _, (_, m) in sorted(room.members.items())
                              if m.expires > now))

    @fails_deferred
    def take_table(self, table: str, node: str, lease: float) -> Deferred[Takeover | None]:
        check_text(table, "table")
        check_text(node, "node")
        return self._answer(self._take, table, node, lease, self._clock())

    def _take(self, table: str, node: str, lease: float, now: float) -> Takeover | None:
        room = self._room
        current = room.leases.get(table, Lease(table, "", 0, 0.0))
        if not current.free(now):
            return None
        fence = Fence(table, node, current.epoch + 1)
        room.leases[table] = Lease(table, node, fence.epoch, now + lease)
        refunded = log_recovered(self._recover(table, now))
        seats = tuple(SeatRecord(seat, account_id, self._account_name(account_id))
                      for seat, (account_id, _) in sorted(room.seats.get(table, {}).items()))
        retired = self._retire_shoes(table, LEFT_DEALING, now)
        return Takeover(fence, tuple(refunded), seats, tuple(retired))

    @fails_deferred
    def save_seats(self, fence: Fence, seats: Mapping[int, int]) -> Deferred[bool]:
        return self._answer(self._save_seats, fence, dict(seats), self._clock())

    def _save_seats(self, fence: Fence, seats: dict[int, int], now: float) -> bool:
        try:
            self._check_fence(fence)
        except FencedError:
            return False
        self._room.seats[fence.table] = {seat: (account_id, now)
                                         for seat, account_id in seats.items()}
        return True

    @fails_deferred
    def release_table(self, fence: Fence, seats: Mapping[int, int]) -> Deferred[bool]:
        return self._answer(self._release, fence, dict(seats), self._clock())

    def _release(self, fence: Fence, seats: dict[int, int], now: float) -> bool:
        if not self._save_seats(fence, seats, now):
            return False
        self._room.leases[fence.table] = Lease(fence.table, "", fence.epoch, 0.0)
        return True

    @fails_deferred
    def arrive(self, account_id: int, node: str) -> Deferred[Arrival]:
        check_id(account_id)
        check_text(node, "node")
        return self._answer(self._arrive, account_id, node)

    def _arrive(self, account_id: int, node: str) -> Arrival:
        room = self._room
        previous = room.logins.get(account_id)
        room.logins[account_id] = node
        held = [(since, table, seat) for table, taken in room.seats.items()
                for seat, (holder, since) in taken.items() if holder == account_id]
        # The latest record wins, as in SQL: newest first, then by table name.
        held.sort(key=lambda row: (-row[0], row[1]))
        table, seat = (held[0][1], held[0][2]) if held else (None, None)
        return Arrival(previous if previous != node else None, table, seat)

    @fails_deferred
    def leave_room(self, node: str, instance: str, held: Sequence[Fence]) -> Deferred[None]:
        return self._answer(self._leave, node, instance, tuple(held))

    def _leave(self, node: str, instance: str, held: tuple[Fence, ...]) -> None:
        room = self._room
        for fence in held:
            if self._is_current(fence):
                room.leases[fence.table] = Lease(fence.table, "", fence.epoch, 0.0)
        if room.members.get(node, ("",))[0] == instance:
            del room.members[node]

    def _is_current(self, fence: Fence) -> bool:
        try:
            self._check_fence(fence)
        except FencedError:
            return False
        return True
