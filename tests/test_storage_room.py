"""The room's contract in storage: leases, fencing, seats, logins, on every backend.

Each test runs once per backend (``conftest.backend``).  A lease given for 0
seconds has lapsed by the next call, on every backend's clock (the test
clock does not move; PostgreSQL's does), which is how a node "stalls" here.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from blackjack.server.storage import Books, FencedError, IStorage
from blackjack.server.storage.room import Arrival, Fence, IRoomStorage, SeatRecord

from test_storage import gather, new_account, timed

LONG = 600.0
"""A lease that cannot lapse during a test."""


@pytest_twisted.async_yield_fixture()
async def room(backend: Any, database: Any) -> Any:
    """Two connections to one database: the storages of two nodes, ``a`` and ``b``."""
    clock = Clock()
    a, b = backend.open(database, clock.seconds), backend.open(database, clock.seconds)
    yield a, b
    await timed(a.close())
    await timed(b.close())


@pytest.fixture
def database(backend: Any) -> Any:
    return backend.fresh()


def test_every_backend_keeps_the_room(room: tuple[IStorage, IStorage]) -> None:
    """Each backend offers the room's calls beside IStorage."""
    assert all(isinstance(s, IRoomStorage) for s in room)


@pytest_twisted.ensureDeferred
async def test_a_free_table_is_taken_once(room: tuple[Any, Any]) -> None:
    """The first node to take a table gets epoch 1; another node gets nothing while it holds."""
    a, b = room
    taken = await timed(a.take_table("main", "n1", LONG))
    assert taken.fence == Fence("main", "n1", 1) and taken.refunded == () == taken.seats
    assert await timed(b.take_table("main", "n2", LONG)) is None
    assert await timed(a.take_table("main", "n1", LONG)) is None  # not twice, even by n1


@pytest_twisted.ensureDeferred
async def test_a_lapsed_lease_goes_to_the_next_node_with_a_new_epoch(
        room: tuple[Any, Any]) -> None:
    """Once a lease lapses another node takes the table, one epoch up."""
    a, b = room
    await timed(a.take_table("main", "n1", 0))
    taken = await timed(b.take_table("main", "n2", LONG))
    assert taken.fence == Fence("main", "n2", 2)


@pytest_twisted.ensureDeferred
async def test_a_takeover_retires_the_shoe_the_last_owner_left_dealing(
        room: tuple[Any, Any]) -> None:
    """The shoe a lapsed owner was dealing from is retired by the takeover (its seed may be
    told: the new owner shuffles its own); other tables' shoes deal on."""
    a, b = room
    await timed(a.take_table("main", "n1", 0))
    await timed(a.open_shoe("main-s1", "main", {"commitment": "c"}, "ab" * 32))
    await timed(a.open_shoe("side-s1", "side", {"commitment": "c"}, "cd" * 32))
    taken = await timed(b.take_table("main", "n2", LONG))
    assert taken.retired == ("main-s1",)
    shoe = await timed(b.shoe("main-s1"))
    assert (shoe.retired, shoe.server_seed) == ("server restarted", "ab" * 32)
    assert (await timed(b.shoe("side-s1"))).retired is None


@pytest_twisted.ensureDeferred
async def test_a_heartbeat_renews_the_leases_still_held(room: tuple[Any, Any]) -> None:
    """A heartbeat renews the node's current leases and reports those it has lost."""
    a, b = room
    main = (await timed(a.take_table("main", "n1", 0))).fence
    side = (await timed(a.take_table("side", "n1", LONG))).fence
    await timed(b.take_table("main", "n2", LONG))
    view = await timed(a.room_tick("n1", "i1", "127.0.0.1:1", False, LONG, [main, side]))
    assert view.joined and view.renewed == {"side"}
    assert {(lease.table, lease.node, lease.epoch) for lease in view.leases} == {
        ("main", "n2", 2), ("side", "n1", 1)}
    assert [(m.name, m.address, m.draining) for m in view.members] == [
        ("n1", "127.0.0.1:1", False)]
    assert not next(lease for lease in view.leases if lease.table == "side").free(view.now)


@pytest_twisted.ensureDeferred
async def test_a_node_name_belongs_to_its_live_process(room: tuple[Any, Any]) -> None:
    """A second process with a live node's name is refused until that node's report lapses."""
    a, b = room
    assert (await timed(a.room_tick("n1", "first", "h:1", False, LONG, []))).joined
    refused = await timed(b.room_tick("n1", "second", "h:2", False, LONG, []))
    assert not refused.joined and [m.address for m in refused.members] == ["h:1"]
    await timed(a.room_tick("n1", "first", "h:1", True, 0, []))  # lapses at once
    joined = await timed(b.room_tick("n1", "second", "h:2", False, LONG, []))
    assert joined.joined and [(m.address, m.draining) for m in joined.members] == [
        ("h:2", False)]


@pytest_twisted.ensureDeferred
async def test_a_stale_node_can_neither_stake_nor_pay(room: tuple[Any, Any]) -> None:
    """After a takeover the old owner's stake and settlement are refused, moving nothing,
    and the takeover refunded what the old owner had in escrow."""
    a, b = room
    alice = await new_account(a, "Alice", 100)
    old = (await timed(a.take_table("main", "n1", 0))).fence
    assert await timed(a.stake(alice.id, "main-r1", "seat1:bet", 10, fence=old)) == 90
    taken = await timed(b.take_table("main", "n2", LONG))
    assert taken.refunded == (("main-r1", alice.id, 10),)
    with pytest.raises(FencedError, match="no longer run by node 'n1'"):
        await timed(a.stake(alice.id, "main-r2", "seat1:bet", 10, fence=old))
    with pytest.raises(FencedError) as refused:
        await timed(a.settle("main-r1", {alice.id: 20}, fence=old))
    assert refused.value.code == "table_moving"
    assert await timed(a.balance(alice.id)) == 100
    assert await timed(b.books()) == Books(100, 100, 0, 0)
    # The new owner's fence works.
    assert await timed(b.stake(alice.id, "main-r3", "seat1:bet", 10, fence=taken.fence)) == 90
    assert await timed(b.settle("main-r3", {alice.id: 20}, fence=taken.fence)) == {
        alice.id: 110}


@pytest_twisted.ensureDeferred
async def test_a_fence_for_a_table_never_taken_is_refused(room: tuple[Any, Any]) -> None:
    """A made-up fence (no lease row at all) stakes nothing."""
    a, _ = room
    alice = await new_account(a, "Alice", 100)
    with pytest.raises(FencedError):
        await timed(a.stake(alice.id, "main-r1", "seat1:bet", 10,
                            fence=Fence("main", "n1", 1)))
    assert await timed(a.balance(alice.id)) == 100


@pytest_twisted.ensureDeferred
async def test_a_stake_racing_a_takeover_is_refunded_or_refused(room: tuple[Any, Any]) -> None:
    """A stake and a takeover sent at once on two connections: either the stake went in
    first and the takeover refunded it, or it came after and was refused; never held."""
    a, b = room
    accounts = [await new_account(a, f"Player{i}", 100) for i in range(20)]
    old = (await timed(a.take_table("main", "n1", 0))).fence
    stakes = [a.stake(p.id, "main-r1", "seat1:bet", 10, fence=old) for p in accounts]
    taking = b.take_table("main", "n2", LONG)
    results = await gather(*stakes, taking)
    *staked, (ok, taken) = results
    assert ok, taken
    went_in = sum(1 for ok, _ in staked if ok)
    assert all(ok or isinstance(error, FencedError) for ok, error in staked)
    assert len(taken.refunded) == went_in
    books = await timed(b.books())
    assert books == Books(2000, 2000, 0, 0)


@pytest_twisted.ensureDeferred
async def test_a_takeover_reads_the_seats_the_last_owner_saved(room: tuple[Any, Any]) -> None:
    """Seats saved under a lease come back with the next takeover; a stale save is refused."""
    a, b = room
    alice, bob = await new_account(a, "Alice"), await new_account(a, "Bob")
    old = (await timed(a.take_table("main", "n1", 0))).fence
    assert await timed(a.save_seats(old, {3: alice.id, 5: bob.id}))
    taken = await timed(b.take_table("main", "n2", LONG))
    assert taken.seats == (SeatRecord(3, alice.id, "Alice"), SeatRecord(5, bob.id, "Bob"))
    assert not await timed(a.save_seats(old, {}))
    assert await timed(b.save_seats(taken.fence, {3: alice.id}))
    assert await timed(b.arrive(bob.id, "n2")) == Arrival(None, None, None)


@pytest_twisted.ensureDeferred
async def test_a_released_table_is_free_at_once(room: tuple[Any, Any]) -> None:
    """A table released between rounds is taken by the next node without waiting for
    the lease, with the seats as released; a stale release changes nothing."""
    a, b = room
    alice = await new_account(a, "Alice")
    fence = (await timed(a.take_table("main", "n1", LONG))).fence
    assert await timed(a.release_table(fence, {2: alice.id}))
    assert not await timed(a.release_table(fence, {}))  # the lease is no longer n1's
    taken = await timed(b.take_table("main", "n2", LONG))
    assert taken.fence == Fence("main", "n2", 2)
    assert taken.seats == (SeatRecord(2, alice.id, "Alice"),)


@pytest_twisted.ensureDeferred
async def test_arriving_says_where_the_account_was_and_sits(room: tuple[Any, Any]) -> None:
    """A login names the node of the login before (if another) and the seat held."""
    a, b = room
    alice = await new_account(a, "Alice")
    assert await timed(a.arrive(alice.id, "n1")) == Arrival(None, None, None)
    assert await timed(a.arrive(alice.id, "n1")) == Arrival(None, None, None)
    fence = (await timed(a.take_table("main", "n1", LONG))).fence
    await timed(a.save_seats(fence, {4: alice.id}))
    assert await timed(b.arrive(alice.id, "n2")) == Arrival("n1", "main", 4)


@pytest_twisted.ensureDeferred
async def test_leaving_the_room_frees_the_nodes_tables(room: tuple[Any, Any]) -> None:
    """A node that leaves frees its leases at once and is no longer a member."""
    a, b = room
    fence = (await timed(a.take_table("main", "n1", LONG))).fence
    await timed(a.room_tick("n1", "i1", "h:1", False, LONG, [fence]))
    await timed(a.leave_room("n1", "i1", [fence]))
    view = await timed(b.room_tick("n2", "i2", "h:2", False, LONG, []))
    assert [m.name for m in view.members] == ["n2"]
    assert (await timed(b.take_table("main", "n2", LONG))).fence.epoch == 2
