"""Slow salted password hashes (scrypt), computed off the reactor thread.

A stored hash is one ASCII string holding everything needed to check it::

    scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>

so the cost can be raised later without breaking old hashes.  The default cost
(n=2**14, r=8, p=1: about 16 MiB and tens of milliseconds) is the slow one;
:data:`FAST_INSECURE` exists only for tests and load bots, which would
otherwise spend most of their time hashing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = [
    "ScryptParams",
    "DEFAULT_PARAMS",
    "FAST_INSECURE",
    "hash_password",
    "verify_password",
    "needs_rehash",
]

T = TypeVar("T")

_SCHEME = "scrypt"
_SALT_BYTES = 16
_KEY_BYTES = 32


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: work and memory ``n`` (a power of 2), block ``r``, lanes ``p``."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        # Bounds also stop a tampered stored hash from asking for gigabytes.
        if not (2 <= self.n <= 2**20 and self.n & (self.n - 1) == 0):
            raise ValueError(
                f"scrypt n must be a power of two in 2..2**20, got {self.n}"
            )
        if not 1 <= self.r <= 32:
            raise ValueError(f"scrypt r must be in 1..32, got {self.r}")
        if not 1 <= self.p <= 16:
            raise ValueError(f"scrypt p must be in 1..16, got {self.p}")

    @property
    def maxmem(self) -> int:
        """Memory scrypt needs for these parameters, plus slack.

        OpenSSL refuses anything above 32 MiB unless told, so always pass it.
        """
        return 128 * self.r * (self.n + self.p + 2) + 1024 * 1024


#: The production cost.
DEFAULT_PARAMS = ScryptParams()

#: Cheap enough for test suites and load bots; never for real accounts.
FAST_INSECURE = ScryptParams(n=2**4, r=1, p=1)


def _normalise(password: str) -> bytes:
    # The same password typed on another terminal may arrive composed
    # differently (é as one code point or two); NFC makes them one.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _derive(
    password: str, salt: bytes, params: ScryptParams, length: int = _KEY_BYTES
) -> bytes:
    return hashlib.scrypt(
        _normalise(password),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=length,
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _hash_now(password: str, params: ScryptParams) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, params)
    return f"{_SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    """Split a stored hash into its parts; ValueError if it is not one of ours."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        raise ValueError("not a scrypt password hash")
    try:
        params = ScryptParams(int(parts[1]), int(parts[2]), int(parts[3]))
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError as e:  # binascii.Error is a ValueError
        raise ValueError(f"malformed scrypt password hash: {e}") from None
    if not salt or not key:
        raise ValueError("malformed scrypt password hash: empty salt or key")
    return params, salt, key


def _verify_now(password: str, stored: str) -> bool:
    params, salt, key = _parse(stored)
    return hmac.compare_digest(_derive(password, salt, params, len(key)), key)


def hash_password(
    password: str, params: ScryptParams = DEFAULT_PARAMS
) -> Deferred[str]:
    """Hash ``password`` with a fresh random salt, in a worker thread."""
    return _off_the_reactor(_hash_now, password, params)


def verify_password(password: str, stored: str) -> Deferred[bool]:
    """Check ``password`` against a stored hash, in a worker thread.

    Uses the cost recorded in ``stored`` and a constant-time comparison.
    Fails with ValueError if ``stored`` is not a hash made by this module.
    """
    return _off_the_reactor(_verify_now, password, stored)


HASHING_THREADS = 2
"""Password hashes computed at once, at most.

Each scrypt hash at the default cost takes 16 MiB, and the C library keeps
that memory in the arena of whichever thread computed it.  On the reactor's
shared pool a login flood spread hashes over ten threads and kept 160 MiB;
a pool of its own bounds that (and the CPU a flood can take from play),
while logins beyond it wait their turn in order.
"""

_pool: ThreadPool | None = None


def _off_the_reactor(f: Callable[..., T], *args: object) -> Deferred[T]:
    """Run ``f`` in the password pool (started with the first call, stopped with the reactor)."""
    global _pool
    from twisted.internet import reactor

    if _pool is None:
        _pool = ThreadPool(0, HASHING_THREADS, name="passwords")
        _pool.start()
        reactor.addSystemEventTrigger("during", "shutdown", _stop_pool)  # type: ignore[attr-defined]
    return deferToThreadPool(reactor, _pool, f, *args)  # type: ignore[arg-type]


def _stop_pool() -> None:
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.stop()


def needs_rehash(stored: str, params: ScryptParams = DEFAULT_PARAMS) -> bool:
    """True if ``stored`` was made with parameters other than ``params``."""
    try:
        return _parse(stored)[0] != params
    except ValueError:
        return True
