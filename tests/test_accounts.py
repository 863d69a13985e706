"""Tests for registration, login, the name and password rules and throttling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from blackjack.server.core import accounts as accounts_module
from blackjack.server.core.accounts import (
    Accounts,
    InvalidNameError,
    InvalidPasswordError,
    LoginFailedError,
    LoginThrottle,
    RegistrationThrottledError,
    address_key,
    validate_name,
    validate_new_name,
    validate_new_password,
    validate_password,
)
from blackjack.server.core.passwords import FAST_INSECURE, hash_password
from blackjack.server.storage.sqlite import SQLiteStorage
from blackjack.server.storage import LookAlikeNameError, NameTakenError

T = TypeVar("T")

UNIFORM = (
    "login failed: wrong name or password, or too many attempts; wait and try again"
)


def timed(d: Deferred[T]) -> Deferred[T]:
    """Give up on a Deferred that never fires instead of hanging the run."""
    from twisted.internet import reactor

    return d.addTimeout(10, reactor)


@pytest_twisted.async_yield_fixture()
async def clock() -> AsyncIterator[Clock]:
    yield Clock()


@pytest_twisted.async_yield_fixture()
async def storage(clock: Clock) -> AsyncIterator[SQLiteStorage]:
    store = SQLiteStorage(":memory:", clock=clock.seconds)
    yield store
    await timed(store.close())


@pytest_twisted.async_yield_fixture()
async def accounts(storage: SQLiteStorage, clock: Clock) -> AsyncIterator[Accounts]:
    yield Accounts(storage, clock, bankroll=500, hasher=FAST_INSECURE)


async def failed_login(accounts: Accounts, name: Any, password: Any, ip: str) -> str:
    """Log in expecting failure; return the message the player would see."""
    with pytest.raises(LoginFailedError) as caught:
        await timed(accounts.login(name, password, ip))
    return str(caught.value)


# --- rules -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Bob", "alice_99", "X-wing", "a" * 16, "Zed"])
def test_good_names(name: str) -> None:
    """Names of 3-16 letters, digits, _ and -, starting with a letter, pass."""
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "ab",
        "a" * 17,
        "1abc",
        "_abc",
        "ab c",
        "abc\n",
        "abc\x1b[2J",
        "Jos\u00e9",
        42,
    ],
)
def test_bad_names(name: Any) -> None:
    """Short, long, non-ASCII, spaced or control-laden names are refused clearly."""
    with pytest.raises(InvalidNameError, match="3 to 16 characters"):
        validate_name(name)


@pytest.mark.parametrize(
    "name",
    ["Dealer", "dealer", "DEALER", "Dea1er", "DeaIer", "Dealer2", "Dealer_", "Seat",
     "Seat_3", "Seat77", "You", "Y0u", "Your", "Results", "Server", "System", "Admin",
     "Table", "Insurance", "Balance", "Welcome", "The"],
)
def test_words_the_server_speaks_with_are_not_new_names(name: str) -> None:
    """Dealer, You, Seat... in any case, look-alike or numbered, are refused for new accounts."""
    with pytest.raises(InvalidNameError, match="kept for the server's own messages"):
        validate_new_name(name)
    assert validate_name(name) == name  # an account made before still logs in


@pytest.mark.parametrize("name", ["Dealerfan", "alice", "Ali", "Theo", "Seattle", "Bob2"])
def test_names_merely_near_a_reserved_word_are_fine(name: str) -> None:
    """A name that only contains or resembles part of a reserved word is a name."""
    assert validate_new_name(name) == name


@pytest.mark.parametrize(
    "password", ["abcdefgh", "x" * 72, "pass with spaces", "p\u00e4sswort"]
)
def test_good_passwords(password: str) -> None:
    """New passwords of 8-72 printable characters pass."""
    assert validate_new_password(password) == password


@pytest.mark.parametrize(
    "password",
    ["abc", "abcd", "abcdefg", "x" * 73, "pass\tword", "password\x1b", "a\x85bcdefgh"],
)
def test_bad_passwords(password: str) -> None:
    """Under 8 (NIST's minimum), over 72, or control characters: refused with a reason."""
    with pytest.raises(InvalidPasswordError):
        validate_new_password(password)


def test_the_too_short_message_says_the_minimum() -> None:
    """A short new password is told the range, 8 to 72 characters."""
    with pytest.raises(InvalidPasswordError, match="a password is 8 to 72 characters"):
        validate_new_password("hunter2")


@pytest.mark.parametrize("password", ["abcd", "a", "x" * 72])
def test_passwords_set_under_older_rules_may_still_be_typed(password: str) -> None:
    """At login any 1-72 characters may be tried: old accounts had a minimum of 4."""
    assert validate_password(password) == password


# --- registration and login --------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_register_then_login(accounts: Accounts, storage: SQLiteStorage) -> None:
    """A new account gets the bankroll, and logs in by name in any case."""
    created = await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    assert (created.name, created.balance) == ("Alice", 500)
    stored = await timed(storage.password_hash("alice"))
    assert stored is not None and "s3cret-pw" not in stored
    assert await timed(accounts.login("ALICE", "s3cret-pw", "10.0.0.2")) == created


@pytest_twisted.ensureDeferred
async def test_register_refuses_taken_and_bad_names(accounts: Accounts) -> None:
    """Registration says exactly what is wrong: the name is taken or malformed."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    with pytest.raises(NameTakenError, match="taken"):
        await timed(accounts.register("aLICE", "other-pass", "10.0.0.1"))
    with pytest.raises(InvalidNameError):
        await timed(accounts.register("A!", "other-pass", "10.0.0.1"))
    with pytest.raises(InvalidPasswordError):
        await timed(accounts.register("Bob", "abcdefg", "10.0.0.1"))
    with pytest.raises(InvalidNameError, match="kept for the server"):
        await timed(accounts.register("Dealer", "other-pass", "10.0.0.1"))


@pytest.mark.parametrize("name", ["aIice", "a1ice", "al_ice", "ALlCE", "a-lice"])
@pytest_twisted.ensureDeferred
async def test_a_name_that_looks_like_a_taken_one_is_taken(
    accounts: Accounts, name: str
) -> None:
    """'aIice' (capital i) and friends cannot sit next to 'alice'; the error names her."""
    await timed(accounts.register("alice", "s3cret-pw", "10.0.0.1"))
    with pytest.raises(LookAlikeNameError, match="looks too much like 'alice'"):
        await timed(accounts.register(name, "other-pass", "10.0.0.2"))


@pytest_twisted.ensureDeferred
async def test_an_old_short_password_still_logs_in(
    accounts: Accounts, storage: SQLiteStorage
) -> None:
    """An account whose password met the old 4-character minimum logs in as before."""
    hashed = await timed(hash_password("abcd", FAST_INSECURE))
    old = await timed(storage.create_account("Oldtimer", hashed, 100))
    assert await timed(accounts.login("oldtimer", "abcd", "10.0.0.1")) == old


@pytest_twisted.ensureDeferred
async def test_racing_registrations_of_one_name(accounts: Accounts) -> None:
    """Two registrations of one name at once: one account, one NameTakenError."""
    results: list[tuple[bool, Any]] = await timed(
        defer.DeferredList(
            [
                accounts.register("Alice", "first-pass", "10.0.0.1"),
                accounts.register("alice", "second-pass", "10.0.0.2"),
            ],
            consumeErrors=True,
        )
    )
    assert sorted(ok for ok, _ in results) == [False, True]
    [failure] = [value for ok, value in results if not ok]
    assert failure.check(NameTakenError)


@pytest_twisted.ensureDeferred
async def test_every_login_failure_looks_the_same(accounts: Accounts) -> None:
    """Wrong password, unknown name, malformed input: one identical message."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    messages = {
        await failed_login(accounts, "Alice", "wrong-pass", "10.0.0.2"),
        await failed_login(accounts, "Nobody", "s3cret-pw", "10.0.0.3"),
        await failed_login(accounts, "x", "s3cret-pw", "10.0.0.4"),
        await failed_login(accounts, "Alice", "", "10.0.0.5"),
        await failed_login(accounts, None, "s3cret-pw", "10.0.0.6"),
    }
    assert messages == {UNIFORM}


@pytest_twisted.ensureDeferred
async def test_unknown_names_cost_a_hash(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login for a name that does not exist still hashes, so timing hides it."""
    calls: list[str] = []
    real = accounts_module.hash_password

    def spy(password: str, params: Any) -> Deferred[str]:
        calls.append(password)
        return real(password, params)

    monkeypatch.setattr(accounts_module, "hash_password", spy)
    await failed_login(accounts, "Nobody", "guess-one", "10.0.0.1")
    assert calls == ["guess-one"]


# --- throttling --------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_throttle_per_ip(accounts: Accounts, clock: Clock) -> None:
    """After 5 failures from one address even the right password fails, for any name,
    until the address has been quiet for the whole period."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    for guess in range(5):
        await failed_login(accounts, "Alice", f"guess-{guess}", "6.6.6.6")
        clock.advance(1)
    assert await failed_login(accounts, "Alice", "s3cret-pw", "6.6.6.6") == UNIFORM
    assert await failed_login(accounts, "Bob", "s3cret-pw", "6.6.6.6") == UNIFORM
    clock.advance(300)
    assert (await timed(accounts.login("Alice", "s3cret-pw", "6.6.6.6"))).name == "Alice"


@pytest_twisted.ensureDeferred
async def test_refused_tries_keep_a_hammering_address_refused(
    accounts: Accounts, clock: Clock
) -> None:
    """Refused tries count for the address: trying every 20 s for 10 minutes gets no guess in."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    for guess in range(5):
        await failed_login(accounts, "Alice", f"guess-{guess}", "6.6.6.6")
    for _ in range(30):
        clock.advance(20)
        await failed_login(accounts, "Alice", "s3cret-pw", "6.6.6.6")
    clock.advance(300)
    assert await timed(accounts.login("Alice", "s3cret-pw", "6.6.6.6"))


@pytest_twisted.ensureDeferred
async def test_a_stranger_never_locks_the_owner_out(accounts: Accounts, clock: Clock) -> None:
    """Guesses on alice from another address, however many, never stop alice logging in
    from the address she registered from."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    for second in range(200):
        await failed_login(accounts, "alice", f"guess-{second}", "6.6.6.6")
        if second % 20 == 0:
            assert await timed(accounts.login("Alice", "s3cret-pw", "10.0.0.1"))
        clock.advance(3)


@pytest_twisted.ensureDeferred
async def test_distributed_guessing_on_one_name_is_slowed(
    accounts: Accounts, clock: Clock
) -> None:
    """10 failures on one name from 10 addresses hold back every address new to that name
    (right password or not) for the period; the owner's address and other names are not."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    await timed(accounts.register("Bob", "b0b-password", "10.0.0.2"))
    for n in range(10):
        await failed_login(accounts, "alice", f"guess-{n}", f"7.7.7.{n}")
    assert await failed_login(accounts, "Alice", "s3cret-pw", "10.0.0.99") == UNIFORM
    assert await timed(accounts.login("Alice", "s3cret-pw", "10.0.0.1"))
    assert await timed(accounts.login("Bob", "b0b-password", "7.7.7.0"))
    # The owner's login does not clear the strangers' failures.
    assert await failed_login(accounts, "Alice", "s3cret-pw", "10.0.0.99") == UNIFORM
    clock.advance(300)
    assert await timed(accounts.login("Alice", "s3cret-pw", "10.0.0.99"))


@pytest_twisted.ensureDeferred
async def test_a_login_makes_its_address_known_to_the_account(
    accounts: Accounts, clock: Clock
) -> None:
    """Once alice has logged in from a second address, that one is spared the back-off too."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    assert await timed(accounts.login("Alice", "s3cret-pw", "192.168.5.5"))
    for n in range(10):
        await failed_login(accounts, "alice", f"guess-{n}", f"7.7.7.{n}")
    assert await timed(accounts.login("Alice", "s3cret-pw", "192.168.5.5"))
    assert await failed_login(accounts, "Alice", "s3cret-pw", "192.168.5.6") == UNIFORM


@pytest.mark.parametrize("host, key", [
    ("10.1.2.3", "10.1.2.3"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:10.1.2.3", "10.1.2.3"),
    ("unix-socket", "unix-socket"),
])
def test_addresses_count_by_what_one_client_controls(host: str, key: str) -> None:
    """An IPv6 /64 is one address to the limits; a mapped IPv4 address is itself."""
    assert address_key(host) == key


def test_one_ipv6_network_cannot_dodge_the_per_address_limit() -> None:
    """Five failures from five addresses of one /64 stop the whole /64, not the next one."""
    clock = Clock()
    throttle = LoginThrottle(clock)
    for n in range(5):
        throttle.begin(f"2001:db8::{n + 1}", f"name{n}")
    assert not throttle.allowed("2001:db8::beef", "someone")
    assert throttle.allowed("2001:db8:0:1::1", "someone")


@pytest_twisted.ensureDeferred
async def test_parallel_guesses_are_counted_before_hashing(
    accounts: Accounts, storage: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of simultaneous guesses gets only the limit's worth of checks."""
    await timed(accounts.register("Alice", "s3cret-pw", "10.0.0.1"))
    lookups: list[str] = []
    real = storage.password_hash

    def counting(name: str) -> Deferred[str | None]:
        lookups.append(name)
        return real(name)

    monkeypatch.setattr(storage, "password_hash", counting)
    burst = [accounts.login("Alice", f"guess-{i}", "9.9.9.9") for i in range(20)]
    results: list[tuple[bool, Any]] = await timed(
        defer.DeferredList(burst, consumeErrors=True)
    )
    assert all(not ok and failure.check(LoginFailedError) for ok, failure in results)
    assert len(lookups) == 5


@pytest_twisted.ensureDeferred
async def test_registration_throttle_per_ip(
    storage: SQLiteStorage, clock: Clock
) -> None:
    """One address may create only so many accounts per period."""
    accounts = Accounts(
        storage, clock, hasher=FAST_INSECURE, registrations=2, registration_period=600
    )
    await timed(accounts.register("Bot1", "bot-password", "5.5.5.5"))
    await timed(accounts.register("Bot2", "bot-password", "5.5.5.5"))
    with pytest.raises(RegistrationThrottledError):
        await timed(accounts.register("Bot3", "bot-password", "5.5.5.5"))
    assert await timed(accounts.register("Human", "humanpass", "1.2.3.4"))
    clock.advance(600)
    assert await timed(accounts.register("Bot3", "bot-password", "5.5.5.5"))


@pytest_twisted.ensureDeferred
async def test_registrations_sent_at_once_keep_to_the_per_ip_limit(
    storage: SQLiteStorage, clock: Clock
) -> None:
    """19 registrations from one address at once, with a limit of 10: exactly 10 accounts."""
    accounts = Accounts(storage, clock, hasher=FAST_INSECURE, registrations=10)
    results: list[tuple[bool, Any]] = await timed(
        defer.DeferredList(
            [accounts.register(f"Bot{n:02d}x", "bot-password", "5.5.5.5") for n in range(19)],
            consumeErrors=True,
        )
    )
    made = [value.name for ok, value in results if ok]
    refused = [value for ok, value in results if not ok]
    assert len(made) == 10
    assert all(f.check(RegistrationThrottledError) for f in refused) and len(refused) == 9
    found = [await timed(storage.get_account(f"Bot{n:02d}x")) for n in range(19)]
    assert sorted(a.name for a in found if a is not None) == sorted(made)


@pytest_twisted.ensureDeferred
async def test_a_failed_registration_gives_its_slot_back(
    storage: SQLiteStorage, clock: Clock
) -> None:
    """A taken or look-alike name does not use up one of the address's registrations."""
    accounts = Accounts(storage, clock, hasher=FAST_INSECURE, registrations=2)
    await timed(accounts.register("alice", "s3cret-pw", "5.5.5.5"))
    for taken in ("ALICE", "aIice", "a1ice"):
        with pytest.raises(NameTakenError):
            await timed(accounts.register(taken, "s3cret-pw", "5.5.5.5"))
    assert await timed(accounts.register("bob", "s3cret-pw", "5.5.5.5"))
    with pytest.raises(RegistrationThrottledError):
        await timed(accounts.register("carol", "s3cret-pw", "5.5.5.5"))


def test_throttle_limits_are_configurable_and_forget() -> None:
    """A throttle honours its limits and period, and drops keys it no longer needs."""
    clock = Clock()
    throttle = LoginThrottle(clock, ip_limit=2, account_limit=3, period=60)
    throttle.begin("1.1.1.1", "Alice")
    assert throttle.allowed("1.1.1.1", "alice")
    throttle.begin("1.1.1.1", "Alice")
    assert not throttle.allowed("1.1.1.1", "Bob")
    assert throttle.allowed("2.2.2.2", "ALICE")
    throttle.begin("2.2.2.2", "alice")
    assert not throttle.allowed("3.3.3.3", "Alice")
    clock.advance(60)
    assert throttle.allowed("1.1.1.1", "alice")
    throttle.begin("4.4.4.4", "Carol")  # the first add after a period sweeps
    assert len(throttle) == 2


def test_throttle_takes_the_reactor_or_a_callable() -> None:
    """The clock may be an IReactorTime or a reactor.seconds-style callable."""
    clock = Clock()
    for source in (clock, clock.seconds):
        throttle = LoginThrottle(source, ip_limit=1, period=10)
        throttle.begin("1.1.1.1", "Alice")
        assert not throttle.allowed("1.1.1.1", "Alice")
        clock.advance(10)
        assert throttle.allowed("1.1.1.1", "Alice")
