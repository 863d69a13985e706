"""The storage contract for the host's powers: roles, sanctions, grants, the audit trail.

Each test runs once per backend (SQLite, memory, PostgreSQL), as the rest of
the contract in ``test_storage.py`` does, with the same fixtures.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from blackjack.server.storage import (
    AdminAct,
    InsufficientFundsError,
    InvalidAmountError,
    IStorage,
    UnknownAccountError,
)

from test_storage import clock, database, new_account, store, timed  # noqa: F401 (fixtures)

ACT = AdminAct("root", "test", admin_id=None)


@pytest_twisted.ensureDeferred
async def test_a_new_account_is_a_player_until_the_host_makes_it_an_admin(
        store: IStorage, clock: Clock) -> None:
    """Accounts start as players; set_role changes the role, records the act, and
    the account read again says so."""
    alice = await new_account(store, "Alice")
    assert (alice.role, alice.admin) == ("player", False)
    clock.advance(7)
    made = await timed(store.set_role("ALICE", "admin", AdminAct(
        "host", "role", "ALICE", detail={"role": "admin"})))
    assert (made.id, made.role, made.admin) == (alice.id, "admin", True)
    assert (await timed(store.get_account("alice"))).admin
    assert [a.name for a in await timed(store.accounts_with_role("admin"))] == ["Alice"]
    [act] = await timed(store.admin_acts())
    assert (act.admin, act.act, act.target, act.detail, act.admin_id, act.created) == (
        "host", "role", "ALICE", {"role": "admin"}, None, 7.0)
    await timed(store.set_role("alice", "player", ACT))
    assert await timed(store.accounts_with_role("admin")) == []


@pytest_twisted.ensureDeferred
async def test_roles_refuse_unknown_accounts_and_roles(store: IStorage) -> None:
    """No role for a name nobody has, and no role but player and admin; nothing recorded."""
    await new_account(store, "Alice")
    with pytest.raises(UnknownAccountError):
        await timed(store.set_role("bob", "admin", ACT))
    with pytest.raises(ValueError, match="role must be one of player, admin"):
        await timed(store.set_role("alice", "root", ACT))
    with pytest.raises(ValueError, match="names its admin and act"):
        await timed(store.set_role("alice", "admin", AdminAct("", "role")))
    assert await timed(store.admin_acts()) == []


@pytest_twisted.ensureDeferred
async def test_a_grant_is_chips_issued_with_who_and_why(store: IStorage) -> None:
    """A grant credits the balance through an issue entry keyed 'grant' and noted with
    the admin and reason; the act is in the trail; the books count it as issued."""
    bob = await new_account(store, "Bob", 100)
    act = AdminAct("alice", "grant", "Bob", "lost chips in the crash", {"amount": 50},
                   admin_id=bob.id)
    assert await timed(store.grant(bob.id, 50, act)) == 150
    entry = (await timed(store.ledger(bob.id)))[0]
    assert (entry.kind, entry.key, entry.amount, entry.balance, entry.note) == (
        "issue", "grant", 50, 150, "alice: lost chips in the crash")
    [recorded] = await timed(store.admin_acts())
    assert (recorded.admin, recorded.act, recorded.target, recorded.reason,
            recorded.detail) == ("alice", "grant", "Bob", "lost chips in the crash",
                                 {"amount": 50})
    books = await timed(store.books())
    assert (books.issued, books.balances, books.balanced) == (150, 150, True)
    audit = await timed(store.audit())  # type: ignore[attr-defined]
    assert (audit.granted, audit.balanced) == (50, True)


@pytest_twisted.ensureDeferred
async def test_a_negative_grant_takes_chips_back_but_never_below_zero(store: IStorage) -> None:
    """A correction takes chips back (issued falls with it); more than the balance is
    refused and changes nothing, the trail included."""
    bob = await new_account(store, "Bob", 100)
    assert await timed(store.grant(bob.id, -30, ACT)) == 70
    with pytest.raises(InsufficientFundsError):
        await timed(store.grant(bob.id, -71, ACT))
    assert await timed(store.balance(bob.id)) == 70
    assert len(await timed(store.admin_acts())) == 1
    books = await timed(store.books())
    assert (books.issued, books.balanced) == (70, True)


@pytest.mark.parametrize("amount", [0, 2.5, True, None, "10"])
@pytest_twisted.ensureDeferred
async def test_a_grant_must_be_whole_chips_other_than_zero(store: IStorage, amount: Any) -> None:
    """Zero, fractions, booleans and text are refused before anything moves."""
    bob = await new_account(store, "Bob", 100)
    with pytest.raises(InvalidAmountError):
        await timed(store.grant(bob.id, amount, ACT))
    with pytest.raises(UnknownAccountError):
        await timed(store.grant(999, 5, ACT))
    assert await timed(store.admin_acts()) == []


@pytest_twisted.ensureDeferred
async def test_sanctions_end_on_time_or_when_lifted(store: IStorage, clock: Clock) -> None:
    """A ban until a time is in force before it and gone after; one until lifted stays
    until lift(), which says whether one was in force; each is an act."""
    bob = await new_account(store, "Bob")
    await timed(store.sanction(bob.id, "ban", 100.0, ACT))
    await timed(store.sanction(bob.id, "mute", None, ACT))
    assert (await timed(store.get_account("bob"))).sanctions == {"ban": 100.0, "mute": None}
    clock.advance(100)
    assert (await timed(store.get_account_by_id(bob.id))).sanctions == {"mute": None}
    assert await timed(store.lift(bob.id, "mute", ACT)) is True
    assert await timed(store.lift(bob.id, "ban", ACT)) is False  # it had run out
    assert (await timed(store.get_account("bob"))).sanctions == {}
    await timed(store.sanction(bob.id, "ban", 500.0, ACT))
    await timed(store.sanction(bob.id, "ban", 300.0, ACT))  # replaces, not adds
    assert (await timed(store.get_account("bob"))).sanctions == {"ban": 300.0}
    assert len(await timed(store.admin_acts())) == 6
    with pytest.raises(UnknownAccountError):
        await timed(store.sanction(999, "ban", None, ACT))
    with pytest.raises(ValueError, match="sanction must be one of ban, mute"):
        await timed(store.sanction(bob.id, "jail", None, ACT))


@pytest_twisted.ensureDeferred
async def test_the_trail_lists_acts_newest_first(store: IStorage, clock: Clock) -> None:
    """Acts come back newest first, with their ids, times, admins and details, up to the limit."""
    for n in range(3):
        clock.advance(1)
        await timed(store.record_act(AdminAct("alice", "kick", f"p{n}", "rude",
                                              {"n": n}, admin_id=1)))
    acts = await timed(store.admin_acts(2))
    assert [(a.target, a.created, a.detail, a.admin_id) for a in acts] == [
        ("p2", 3.0, {"n": 2}, 1), ("p1", 2.0, {"n": 1}, 1)]
    assert acts[0].id > acts[1].id


@pytest_twisted.ensureDeferred
async def test_powers_survive_a_restart(backend: Any, database: Any) -> None:
    """Roles, sanctions, grants and the trail are on disk (or in the shared database)."""
    first = backend.open(database, Clock().seconds)
    bob = await new_account(first, "Bob", 10)
    await timed(first.set_role("bob", "admin", ACT))
    await timed(first.sanction(bob.id, "mute", None, ACT))
    await timed(first.grant(bob.id, 5, ACT))
    await timed(first.close())
    second = backend.open(database, Clock().seconds)
    try:
        again = await timed(second.get_account("bob"))
        assert (again.role, again.sanctions, again.balance) == ("admin", {"mute": None}, 15)
        assert [a.act for a in await timed(second.admin_acts())] == ["test"] * 3
        assert (await timed(second.audit())).granted == 5  # type: ignore[attr-defined]
    finally:
        await timed(second.close())
