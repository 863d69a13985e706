"""Resume tokens: logging in again without the password, after a reload or a dropped network.

A web page cannot keep a password safely, and asking for it after every
reload or network blip is no way to play a hand.  Once logged in, a client
asks for a token (the ``token`` command) and keeps it for the tab; after a
reload it logs in with it (``resume``) and is back in its held seat.  A token:

* is 256 random bits from the OS CSPRNG, and is kept here only as its
  SHA-256, so this table gives away no token;
* works once: ``resume`` spends it, and the client asks for a fresh one;
* stays valid while the connection that asked for it is open, and for
  ``lifetime`` seconds after it closes, then is forgotten;
* is one of at most ``per_account`` live tokens of its account (the oldest
  go first), so no client can make the table grow without bound.

Tokens live in memory only: after a restart players log in with their
passwords again.
"""

from __future__ import annotations

import hashlib
import os
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ResumeTokens"]


@dataclass
class _Entry:
    account_id: int
    expires: float | None
    """When it stops working; ``None`` while its connection is open."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


class ResumeTokens:
    """The live resume tokens, by their digest.

    ``now`` is a ``reactor.seconds``-style clock; ``random_bytes`` the source
    of token bits (``os.urandom``; a test may pass a predictable one).
    """

    def __init__(self, now: Callable[[], float], lifetime: float = 900.0,
                 per_account: int = 8,
                 random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        if lifetime <= 0 or per_account < 1:
            raise ValueError(f"need lifetime > 0 and per_account >= 1, "
                             f"got {lifetime} and {per_account}")
        self.lifetime = lifetime
        self.per_account = per_account
        self._now = now
        self._random = random_bytes
        self._entries: dict[bytes, _Entry] = {}
        self._by_account: dict[int, list[bytes]] = {}
        self._swept = now()

    def issue(self, account_id: int) -> str:
        """A new token for ``account_id``, valid until its connection has been closed a while."""
        self._sweep()
        token = urlsafe_b64encode(self._random(32)).rstrip(b"=").decode("ascii")
        key = _digest(token)
        self._entries[key] = _Entry(account_id, None)
        mine = self._by_account.setdefault(account_id, [])
        mine.append(key)
        while len(mine) > self.per_account:
            self._entries.pop(mine.pop(0), None)
        return token

    def release(self, token: str) -> None:
        """The connection that asked for ``token`` has closed: it now expires in a while."""
        entry = self._entries.get(_digest(token))
        if entry is not None and entry.expires is None:
            entry.expires = self._now() + self.lifetime

    def revoke(self, token: str) -> None:
        """Forget ``token`` (a fresher one replaces it)."""
        self._forget(_digest(token))

    def redeem(self, token: str) -> int | None:
        """Spend ``token``: the account it logs in, or ``None`` if it is unknown or expired."""
        key = _digest(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._forget(key)
        if entry.expires is not None and entry.expires <= self._now():
            return None
        return entry.account_id

    def __len__(self) -> int:
        """How many tokens are held (for tests and metrics)."""
        return len(self._entries)

    def _forget(self, key: bytes) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        mine = self._by_account.get(entry.account_id, [])
        if key in mine:
            mine.remove(key)
        if not mine:
            self._by_account.pop(entry.account_id, None)

    def _sweep(self) -> None:
        """Forget expired tokens, at most once a lifetime (they never work anyway)."""
        now = self._now()
        if now - self._swept < self.lifetime:
            return
        self._swept = now
        for key, entry in list(self._entries.items()):
            if entry.expires is not None and entry.expires <= now:
                self._forget(key)
