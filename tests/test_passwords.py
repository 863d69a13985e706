"""Tests for scrypt password hashing off the reactor thread."""

from __future__ import annotations

import base64
import threading
from typing import Any, TypeVar

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from blackjack.server.core import passwords
from blackjack.server.core.passwords import (
    DEFAULT_PARAMS,
    FAST_INSECURE,
    ScryptParams,
    hash_password,
    needs_rehash,
    verify_password,
)

T = TypeVar("T")


def timed(d: Deferred[T]) -> Deferred[T]:
    """Give up on a Deferred that never fires instead of hanging the run."""
    from twisted.internet import reactor

    return d.addTimeout(10, reactor)


def test_default_cost_is_the_slow_one() -> None:
    """Unless told otherwise, hashes use scrypt n=2**14, r=8, p=1."""
    assert DEFAULT_PARAMS == ScryptParams(n=2**14, r=8, p=1)
    assert hash_password.__defaults__ == (DEFAULT_PARAMS,)


@pytest_twisted.ensureDeferred
async def test_round_trip() -> None:
    """A hash verifies its own password and no other."""
    stored = await timed(hash_password("hunter22"))
    assert stored.startswith("scrypt$16384$8$1$")
    assert await timed(verify_password("hunter22", stored)) is True
    assert await timed(verify_password("hunter23", stored)) is False
    assert await timed(verify_password("", stored)) is False


@pytest_twisted.ensureDeferred
async def test_stored_string_never_contains_the_password() -> None:
    """Neither the password nor its base64 appears in the stored hash."""
    password = "correct horse battery staple"
    stored = await timed(hash_password(password, FAST_INSECURE))
    assert password not in stored
    assert base64.b64encode(password.encode()).decode().rstrip("=") not in stored
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16", "1", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32


@pytest_twisted.ensureDeferred
async def test_every_hash_has_its_own_salt() -> None:
    """Hashing one password twice gives two different strings."""
    first = await timed(hash_password("same-pass", FAST_INSECURE))
    second = await timed(hash_password("same-pass", FAST_INSECURE))
    assert first != second
    assert await timed(verify_password("same-pass", second))


@pytest_twisted.ensureDeferred
async def test_verify_uses_the_stored_cost() -> None:
    """A hash made at one cost verifies whatever the current default is."""
    stored = await timed(hash_password("pass1234", ScryptParams(n=2**5, r=2, p=2)))
    assert stored.startswith("scrypt$32$2$2$")
    assert await timed(verify_password("pass1234", stored))
    assert needs_rehash(stored)
    assert not needs_rehash(stored, ScryptParams(n=2**5, r=2, p=2))


@pytest_twisted.ensureDeferred
async def test_unicode_forms_are_the_same_password() -> None:
    """A composed and a decomposed é are one password (NFC)."""
    stored = await timed(hash_password("caf\u00e9!", FAST_INSECURE))
    assert await timed(verify_password("cafe\u0301!", stored))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "bcrypt$16$1$1$AAAA$AAAA",
        "scrypt$16$1$1$not base64!$AAAA",
        "scrypt$15$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # n not a power of two
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # absurd cost
        "scrypt$16$1$1$$AAAA",
    ],
)
@pytest_twisted.ensureDeferred
async def test_malformed_hashes_are_refused(stored: str) -> None:
    """Anything but a well-formed scrypt string fails with ValueError, not a match."""
    with pytest.raises(ValueError):
        await timed(verify_password("whatever", stored))


@pytest_twisted.ensureDeferred
async def test_hashing_runs_off_the_reactor_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """scrypt never runs on the reactor thread, so logins cannot stall the game."""
    threads: list[threading.Thread] = []
    derive = passwords._derive

    def spy(*args: Any) -> bytes:
        threads.append(threading.current_thread())
        return derive(*args)

    monkeypatch.setattr(passwords, "_derive", spy)
    stored = await timed(hash_password("pass1234", FAST_INSECURE))
    await timed(verify_password("pass1234", stored))
    assert len(threads) == 2
    assert threading.main_thread() not in threads


@pytest.mark.parametrize(
    "n, r, p", [(3, 8, 1), (2**21, 8, 1), (16, 0, 1), (16, 33, 1), (16, 8, 0)]
)
def test_cost_bounds(n: int, r: int, p: int) -> None:
    """Costs outside sane bounds are refused when the parameters are made."""
    with pytest.raises(ValueError):
        ScryptParams(n, r, p)


def test_maxmem_covers_the_cost() -> None:
    """The memory limit passed to scrypt is at least what the cost needs."""
    for params in (DEFAULT_PARAMS, ScryptParams(n=2**17, r=8, p=1)):
        assert params.maxmem > 128 * params.r * params.n


@pytest_twisted.ensureDeferred
async def test_a_flood_of_hashes_runs_on_a_few_threads_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many logins hash at once, at most HASHING_THREADS threads do the work,
    so a login flood keeps the memory of a few scrypt runs, not of every pool thread."""
    import threading
    import time

    from twisted.internet.defer import gatherResults

    running, most, threads = [0], [0], set()
    lock = threading.Lock()

    def slow_hash(password: str, params: passwords.ScryptParams) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            threads.add(threading.get_ident())
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return "hashed"

    monkeypatch.setattr(passwords, "_hash_now", slow_hash)
    done = await timed(gatherResults([passwords.hash_password(f"pw{i}") for i in range(20)]))
    assert done == ["hashed"] * 20
    assert most[0] == passwords.HASHING_THREADS
    assert len(threads) <= passwords.HASHING_THREADS
