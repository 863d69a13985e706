"""Registration and login: name and password rules, hashing and throttling.

:class:`Accounts` sits between the protocol and :class:`IStorage`.  It checks
names and passwords, hashes off the reactor thread, gives new accounts their
starting bankroll and throttles login attempts per IP address and per account
name.  Every failed or throttled login raises the same
:class:`LoginFailedError`, with the same message, so a client cannot tell a
wrong name from a wrong password or a throttle.  Registration errors are
specific (bad name, name taken), since choosing a free name needs them.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from twisted.internet import defer
from twisted.logger import Logger

from blackjack.server.errors import (
    AccountError,
    InvalidNameError,
    InvalidPasswordError,
    LoginFailedError,
    RegistrationThrottledError,
)
from blackjack.server.core.passwords import (
    DEFAULT_PARAMS,
    ScryptParams,
    hash_password,
    verify_password,
)
from blackjack.server.core.tokens import ResumeTokens
from blackjack.server.storage import Account, IStorage, NameTakenError

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = [
    "Accounts",
    "LoginThrottle",
    "validate_name",
    "validate_password",
    "NAME_PATTERN",
    "AccountError",
    "InvalidNameError",
    "InvalidPasswordError",
    "LoginFailedError",
    "RegistrationThrottledError",
]

#: Names: a letter, then 2..15 letters, digits, ``_`` or ``-``; ASCII only, so
#: a name can never smuggle terminal control codes or look-alike letters.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,15}")

PASSWORD_MIN = 4
PASSWORD_MAX = 72

# C0 controls, DEL and C1 controls: nothing a player can type on purpose.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class _HasSeconds(Protocol):
    def seconds(self) -> float: ...


#: A ``reactor.seconds``-style callable, or anything with a ``seconds()`` method
#: (the reactor itself, ``twisted.internet.task.Clock``).
TimeSource = Callable[[], float] | _HasSeconds

_log = Logger()


# --- rules --------------------------------------------------------------------


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid account name, else raise InvalidNameError."""
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise InvalidNameError(
            "a name is 3 to 16 characters: a letter, then letters, digits, _ or -"
        )
    return name


def validate_password(password: str) -> str:
    """Return ``password`` if it may be set, else raise InvalidPasswordError."""
    if not isinstance(password, str):
        raise InvalidPasswordError("a password must be text")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidPasswordError(
            f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )
    if _CONTROL.search(password):
        raise InvalidPasswordError("a password may not contain control characters")
    return password


def _time_source(clock: TimeSource) -> Callable[[], float]:
    if callable(clock):
        return clock
    return clock.seconds


# --- throttling -------------------------------------------------------------------


class _Window:
    """Timestamps of recent events per key, forgetting those older than ``period``."""

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError(
                f"need limit >= 1 and period > 0, got {limit} and {period}"
            )
        self.limit = limit
        self.period = period
        self._events: dict[str, deque[float]] = {}
        self._swept = float("-inf")

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is not None:
            while events and events[0] <= now - self.period:
                events.popleft()
            if not events:
                del self._events[key]
                return None
        return events

    def full(self, key: str, now: float) -> bool:
        events = self._recent(key, now)
        return events is not None and len(events) >= self.limit

    def add(self, key: str, now: float) -> None:
        self._events.setdefault(key, deque()).append(now)
        if now - self._swept >= self.period:
            # Keys never seen again would otherwise stay for ever.
            self._swept = now
            for stale in list(self._events):
                self._recent(stale, now)

    def remove(self, key: str, when: float) -> None:
        events = self._events.get(key)
        if events is not None and when in events:
            events.remove(when)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)

    def __len__(self) -> int:
        return len(self._events)


class LoginThrottle:
    """Limits failed logins per IP address and per account name.

    After ``ip_limit`` failures from one address, or ``account_limit`` on one
    name, within ``period`` seconds, further attempts are refused until the
    oldest of those failures is ``period`` seconds old: a back-off, never a
    permanent lock.  An attempt counts as a failure from the moment it starts,
    so a burst of parallel guesses cannot all slip in while the first ones are
    still being hashed; a success takes its own attempt back and clears the
    name's failures.  Refused attempts are not counted, so waiting always
    works.
    """

    def __init__(
        self,
        clock: TimeSource,
        *,
        ip_limit: int = 5,
        account_limit: int = 5,
        period: float = 300.0,
    ) -> None:
        self._now = _time_source(clock)
        self._by_ip = _Window(ip_limit, period)
        self._by_account = _Window(account_limit, period)

    def allowed(self, ip: str, name: str) -> bool:
        """Whether an attempt from ``ip`` on ``name`` may go ahead now."""
        now = self._now()
        return not (
            self._by_ip.full(ip, now) or self._by_account.full(name.lower(), now)
        )

    def begin(self, ip: str, name: str) -> _Attempt:
        """Count an attempt as failed until :meth:`succeeded` says otherwise."""
        attempt = _Attempt(ip, name.lower(), self._now())
        self._by_ip.add(attempt.ip, attempt.started)
        self._by_account.add(attempt.name_key, attempt.started)
        return attempt

    def succeeded(self, attempt: _Attempt) -> None:
        """The attempt logged in: forget it, and the name's earlier failures."""
        self._by_ip.remove(attempt.ip, attempt.started)
        self._by_account.clear(attempt.name_key)

    def __len__(self) -> int:
        """How many addresses and names are being tracked (for tests and metrics)."""
        return len(self._by_ip) + len(self._by_account)


class _Attempt:
    """One login attempt in progress."""

    __slots__ = ("ip", "name_key", "started")

    def __init__(self, ip: str, name_key: str, started: float) -> None:
        self.ip = ip
        self.name_key = name_key
        self.started = started


# --- the service ---------------------------------------------------------------


class Accounts:
    """Registers and logs in players against an :class:`IStorage`.

    ``clock`` is the reactor (or ``task.Clock``) or a ``reactor.seconds``-style
    callable.  ``hasher`` sets the scrypt cost of new hashes; keep the default
    except for tests and load bots.  ``throttle`` defaults to 5 failures per 5
    minutes per IP and per name; ``registrations`` is how many accounts one IP
    may create per ``registration_period`` seconds.  ``tokens`` holds the
    resume tokens (:mod:`blackjack.server.core.tokens`).
    """

    def __init__(
        self,
        storage: IStorage,
        clock: TimeSource,
        bankroll: int = 1000,
        *,
        hasher: ScryptParams = DEFAULT_PARAMS,
        throttle: LoginThrottle | None = None,
        registrations: int = 10,
        registration_period: float = 3600.0,
        tokens: ResumeTokens | None = None,
    ) -> None:
        if type(bankroll) is not int or bankroll < 0:
            raise ValueError(f"bankroll must be a whole number >= 0, got {bankroll!r}")
        self.storage = storage
        self.bankroll = bankroll
        self.hasher = hasher
        self._now = _time_source(clock)
        self.throttle = throttle if throttle is not None else LoginThrottle(clock)
        self._registrations = _Window(registrations, registration_period)
        self.tokens = tokens if tokens is not None else ResumeTokens(self._now)

    def register(self, name: str, password: str, ip: str) -> Deferred[Account]:
        """Create an account with the starting bankroll.

        Fails with InvalidNameError, InvalidPasswordError, NameTakenError or
        RegistrationThrottledError.
        """
        return defer.ensureDeferred(self._register(name, password, ip))

    async def _register(self, name: str, password: str, ip: str) -> Account:
        validate_name(name)
        validate_password(password)
        if self._registrations.full(ip, self._now()):
            raise RegistrationThrottledError()
        # Checked before hashing so a taken name costs no CPU; create_account
        # still refuses it if someone else takes it meanwhile.
        if await self.storage.get_account(name) is not None:
            raise NameTakenError(name)
        hashed = await hash_password(password, self.hasher)
        account = await self.storage.create_account(name, hashed, self.bankroll)
        self._registrations.add(ip, self._now())
        _log.info(
            "new account {name} ({id}) from {ip}", name=name, id=account.id, ip=ip
        )
        return account

    def login(self, name: str, password: str, ip: str) -> Deferred[Account]:
        """The account, if the password is right and the attempt not throttled.

        Every failure is the same :class:`LoginFailedError`.
        """
        return defer.ensureDeferred(self._login(name, password, ip))

    async def _login(self, name: str, password: str, ip: str) -> Account:
        if not isinstance(name, str) or not self.throttle.allowed(ip, name):
            raise LoginFailedError()
        attempt = self.throttle.begin(ip, name)
        try:
            validate_name(name)
            validate_password(password)
        except ValueError:
            raise LoginFailedError() from None
        stored = await self.storage.password_hash(name)
        if stored is None:
            # Spend the same work as a real check, so timing does not tell
            # which names exist.
            await hash_password(password, self.hasher)
            raise LoginFailedError()
        try:
            matches = await verify_password(password, stored)
        except ValueError:
            _log.error("unreadable password hash for account {name}", name=name)
            matches = False
        if not matches:
            raise LoginFailedError()
        account = await self.storage.get_account(name)
        if account is None:
            raise LoginFailedError()
        self.throttle.succeeded(attempt)
        return account

    def resume(self, token: str) -> Deferred[Account]:
        """The account a resume token logs in, spending the token.

        An unknown, spent or expired token fails with the same
        :class:`LoginFailedError` as a wrong password.  Tokens are far too
        long to guess, so no attempt is throttled.
        """
        return defer.ensureDeferred(self._resume(token))

    async def _resume(self, token: str) -> Account:
        account_id = self.tokens.redeem(token) if isinstance(token, str) else None
        account = (await self.storage.get_account_by_id(account_id)
                   if account_id is not None else None)
        if account is None:
            raise LoginFailedError()
        return account
