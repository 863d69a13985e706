"""Registration and login: name and password rules, hashing and throttling.

:class:`Accounts` sits between the protocol and :class:`IStorage`.  It checks
names and passwords, hashes off the reactor thread, gives new accounts their
starting bankroll, limits new accounts per address, throttles login
attempts (:class:`LoginThrottle`), and refuses a banned account's logins
(after its password checks out, so a ban tells nothing to a stranger).  Every failed or throttled login raises the
same :class:`LoginFailedError`, with the same message, so a client cannot
tell a wrong name from a wrong password or a throttle.  Registration errors
are specific (bad name, reserved name, name taken or too like one taken),
since choosing a free name needs them.
"""

from __future__ import annotations

import ipaddress
import re
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, Protocol

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.server import logevents
from blackjack.server.core import events
from blackjack.server.core.events import Event
from blackjack.server.errors import (
    AccountError,
    BannedError,
    InvalidNameError,
    InvalidPasswordError,
    LoginFailedError,
    RebuyRefusedError,
    RegistrationThrottledError,
)
from blackjack.server.core.passwords import (
    DEFAULT_PARAMS,
    ScryptParams,
    hash_password,
    verify_password,
)
from blackjack.server.core.admin import describe_until
from blackjack.server.core.tokens import ResumeTokens
from blackjack.server.meter import NULL_METER, Meter
from blackjack.server.storage import Account, IStorage, LookAlikeNameError, NameTakenError
from blackjack.server.text import reserved_word

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = [
    "Accounts",
    "LoginThrottle",
    "address_key",
    "validate_name",
    "validate_new_name",
    "validate_password",
    "validate_new_password",
    "NAME_PATTERN",
    "PASSWORD_MIN",
    "PASSWORD_MAX",
    "AccountError",
    "InvalidNameError",
    "InvalidPasswordError",
    "LoginFailedError",
    "RegistrationThrottledError",
]

#: Names: a letter, then 2..15 letters, digits, ``_`` or ``-``; ASCII only, so
#: a name can never smuggle terminal control codes or non-Latin look-alikes.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,15}")

#: New passwords: at least 8 characters, as NIST SP 800-63B asks of passwords
#: a person chooses.  Accounts made when 4 was enough still log in.
PASSWORD_MIN = 8
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
    """Return ``name`` if it is a well-formed account name, else raise InvalidNameError."""
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise InvalidNameError(
            "a name is 3 to 16 characters: a letter, then letters, digits, _ or -"
        )
    return name


def validate_new_name(name: str) -> str:
    """Return ``name`` if a new account may take it, else raise InvalidNameError.

    Besides the pattern, a new name may not be (or look like) a word the
    server speaks with: a player called ``Dealer`` would deal cards, on
    screen, that the dealer never had.
    """
    validate_name(name)
    word = reserved_word(name)
    if word is not None:
        shown = "" if word.lower() == name.lower() else f" (it reads as {word!r})"
        raise InvalidNameError(
            f"{name!r} is kept for the server's own messages{shown}; choose another name"
        )
    return name


def _check_password_text(password: str) -> str:
    if not isinstance(password, str):
        raise InvalidPasswordError("a password must be text")
    if _CONTROL.search(password):
        raise InvalidPasswordError("a password may not contain control characters")
    return password


def validate_new_password(password: str) -> str:
    """Return ``password`` if it may be set now, else raise InvalidPasswordError."""
    _check_password_text(password)
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidPasswordError(
            f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )
    return password


def validate_password(password: str) -> str:
    """Return ``password`` if it could be an existing account's, else raise.

    Looser than :func:`validate_new_password` on length: passwords set when
    the minimum was lower must still log in.
    """
    _check_password_text(password)
    if not 1 <= len(password) <= PASSWORD_MAX:
        raise InvalidPasswordError(f"a password is 1 to {PASSWORD_MAX} characters")
    return password


def _time_source(clock: TimeSource) -> Callable[[], float]:
    if callable(clock):
        return clock
    return clock.seconds


def address_key(host: str) -> str:
    """The unit one client controls: an IPv4 address, or an IPv6 /64 network.

    One IPv6 host is usually given a whole /64 and can pick any address in it,
    so counting IPv6 addresses one by one would let it dodge every limit.  An
    IPv4-mapped IPv6 address counts as its IPv4 address; anything that is not
    an IP address (a UNIX socket) is its own key.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


# --- throttling -------------------------------------------------------------------


class _Window:
    """Recent event times per key: full once ``limit`` fall within ``period`` seconds.

    Only the latest ``limit`` times of a key are kept (``limit`` within the
    period is all "full" needs to know), so a key that is hammered costs no
    more memory than one that is not.
    """

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
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=self.limit)
        events.append(now)
        if now - self._swept >= self.period:
            # Keys never seen again would otherwise stay for ever.
            self._swept = now
            for stale in list(self._events):
                self._recent(stale, now)

    def remove(self, key: str, when: float) -> None:
        events = self._events.get(key)
        if events is not None and when in events:
            events.remove(when)

    def __len__(self) -> int:
        return len(self._events)


class _KnownAddresses:
    """The addresses (:func:`address_key`) each name has logged in or registered from.

    Bounded: the latest ``per_name`` addresses of the latest ``names`` names,
    so a flood of logins cannot grow it without end.  Kept in memory: after
    a restart an owner is known again from their first login.
    """

    def __init__(self, per_name: int = 8, names: int = 100_000) -> None:
        self.per_name = per_name
        self.names = names
        self._by_name: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()

    def add(self, name_key: str, address: str) -> None:
        known = self._by_name.pop(name_key, None) or OrderedDict()
        known.pop(address, None)
        known[address] = None
        while len(known) > self.per_name:
            known.popitem(last=False)
        self._by_name[name_key] = known
        while len(self._by_name) > self.names:
            self._by_name.popitem(last=False)

    def knows(self, name_key: str, address: str) -> bool:
        known = self._by_name.get(name_key)
        return known is not None and address in known


class LoginThrottle:
    """Slows password guessing without letting a stranger lock an owner out.

    Throttling, not lockout (as the OWASP Authentication Cheat Sheet advises),
    keyed so that failures cost whoever makes them:

    * **Per address.**  After ``ip_limit`` failures from one address
      (:func:`address_key`: an IPv6 /64 counts as one) within ``period``
      seconds, that address is refused.  A refused try counts too: an
      address gets ``ip_limit`` tries a period, refused ones included, so
      one that keeps hammering never gets another guess in, and one that
      stops is let in again once its last tries are ``period`` old.
    * **Per name, for strangers.**  After ``account_limit`` failures on one
      name from addresses that never logged into it, within ``period``,
      further tries on that name from such addresses are refused until the
      oldest of those failures is ``period`` old.  Guessing spread over many
      addresses is slowed to ``account_limit`` guesses a period, while an
      address that has logged into (or registered) the account before is
      never held back by it: the owner at home is not locked out by someone
      else's failures, whatever those are.

    An attempt counts as a failure from the moment it starts, so a burst of
    parallel guesses cannot all slip in while the first ones are still being
    hashed; a success takes its own attempt back and makes its address known
    for the name.  A success does not clear strangers' failures on the name:
    the owner logging in must not reopen the door to the guessers.
    """

    def __init__(
        self,
        clock: TimeSource,
        *,
        ip_limit: int = 5,
        account_limit: int = 10,
        period: float = 300.0,
    ) -> None:
        self._now = _time_source(clock)
        self._by_address = _Window(ip_limit, period)
        self._by_name = _Window(account_limit, period)
        self._known = _KnownAddresses()

    def allowed(self, ip: str, name: str) -> bool:
        """Whether an attempt from ``ip`` on ``name`` may go ahead now."""
        now, address, key = self._now(), address_key(ip), name.lower()
        if self._by_address.full(address, now):
            return False
        return self._known.knows(key, address) or not self._by_name.full(key, now)

    def refused(self, ip: str) -> None:
        """Count a refused attempt against its address, so hammering keeps it refused."""
        self._by_address.add(address_key(ip), self._now())

    def begin(self, ip: str, name: str) -> _Attempt:
        """Count an attempt as failed until :meth:`succeeded` says otherwise."""
        address, key = address_key(ip), name.lower()
        attempt = _Attempt(address, key, self._now(), not self._known.knows(key, address))
        self._by_address.add(address, attempt.started)
        if attempt.stranger:
            self._by_name.add(key, attempt.started)
        return attempt

    def succeeded(self, attempt: _Attempt) -> None:
        """The attempt logged in: take it back, and know its address for the name."""
        self._by_address.remove(attempt.address, attempt.started)
        if attempt.stranger:
            self._by_name.remove(attempt.name_key, attempt.started)
        self._known.add(attempt.name_key, attempt.address)

    def remember(self, ip: str, name: str) -> None:
        """``ip`` made the account ``name``: it is the owner's address."""
        self._known.add(name.lower(), address_key(ip))

    def __len__(self) -> int:
        """How many addresses and names are being counted (for tests and metrics)."""
        return len(self._by_address) + len(self._by_name)


class _Attempt:
    """One login attempt in progress."""

    __slots__ = ("address", "name_key", "started", "stranger")

    def __init__(self, address: str, name_key: str, started: float, stranger: bool) -> None:
        self.address = address
        self.name_key = name_key
        self.started = started
        self.stranger = stranger
        """Whether the address had never logged into the name."""


# --- the service ---------------------------------------------------------------


class Accounts:
    """Registers and logs in players against an :class:`IStorage`.

    ``clock`` is the reactor (or ``task.Clock``) or a ``reactor.seconds``-style
    callable.  ``hasher`` sets the scrypt cost of new hashes; keep the default
    except for tests and load bots.  ``throttle`` defaults to a
    :class:`LoginThrottle` with its defaults; ``registrations`` is how many
    accounts one address may create per ``registration_period`` seconds.
    ``tokens`` holds the resume tokens (:mod:`blackjack.server.core.tokens`).
    ``meter`` counts failed logins by reason.
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
        meter: Meter = NULL_METER,
        rebuy_cooldown: float = 3600.0,
    ) -> None:
        if type(bankroll) is not int or bankroll < 0:
            raise ValueError(f"bankroll must be a whole number >= 0, got {bankroll!r}")
        if not rebuy_cooldown >= 0:
            raise ValueError(f"rebuy_cooldown must be 0 or more seconds, got {rebuy_cooldown!r}")
        self.rebuy_cooldown = rebuy_cooldown
        """Seconds a player waits between two rebuys."""
        self.storage = storage
        self.bankroll = bankroll
        self.hasher = hasher
        self._now = _time_source(clock)
        self.throttle = throttle if throttle is not None else LoginThrottle(clock)
        self._registrations = _Window(registrations, registration_period)
        self.tokens = tokens if tokens is not None else ResumeTokens(self._now)
        self.meter = meter

    def now(self) -> float:
        """The time on the accounts' clock."""
        return self._now()

    def _failed(self, ip: str, reason: str, name: str = "") -> LoginFailedError:
        """Count and log a refused login; the one error every refusal raises."""
        self.meter.login_failed(reason)
        logevents.LOGIN_FAILED(_log, peer=ip, name=name, reason=reason)
        return LoginFailedError()

    def _admit(self, account: Account, ip: str) -> Account:
        """The account, unless an admin has banned it."""
        if "ban" in account.sanctions:
            self.meter.login_failed("banned")
            logevents.LOGIN_FAILED(_log, peer=ip, name=account.name, reason="banned")
            raise BannedError(describe_until(account.sanctions["ban"], self._now()))
        return account

    def register(self, name: str, password: str, ip: str) -> Deferred[Account]:
        """Create an account with the starting bankroll.

        Fails with InvalidNameError, InvalidPasswordError, NameTakenError (or
        its LookAlikeNameError) or RegistrationThrottledError.
        """
        return defer.ensureDeferred(self._register(name, password, ip))

    async def _register(self, name: str, password: str, ip: str) -> Account:
        validate_new_name(name)
        validate_new_password(password)
        address, now = address_key(ip), self._now()
        # The slot is taken before the first await, so registrations started
        # together cannot all pass the check while the first is still hashing;
        # a registration that fails gives its slot back.
        if self._registrations.full(address, now):
            raise RegistrationThrottledError()
        self._registrations.add(address, now)
        try:
            # Checked before hashing so a taken name costs no CPU; create_account
            # still refuses it if someone else takes it meanwhile.
            taken = await self.storage.look_alike(name)
            if taken is not None:
                raise (NameTakenError(name) if taken.lower() == name.lower()
                       else LookAlikeNameError(name, taken))
            hashed = await hash_password(password, self.hasher)
            account = await self.storage.create_account(name, hashed, self.bankroll)
        except Exception:
            self._registrations.remove(address, now)
            raise
        self.throttle.remember(ip, name)
        logevents.REGISTERED(_log, name=name, account_id=account.id, peer=ip)
        return account

    def login(self, name: str, password: str, ip: str) -> Deferred[Account]:
        """The account, if the password is right and the attempt not throttled.

        Every failure is the same :class:`LoginFailedError`.
        """
        return defer.ensureDeferred(self._login(name, password, ip))

    async def _login(self, name: str, password: str, ip: str) -> Account:
        if not isinstance(name, str):
            raise self._failed(ip, "password")
        if not self.throttle.allowed(ip, name):
            self.throttle.refused(ip)
            raise self._failed(ip, "throttled")
        attempt = self.throttle.begin(ip, name)
        try:
            validate_name(name)
            validate_password(password)
        except ValueError:
            raise self._failed(ip, "password") from None
        stored = await self.storage.password_hash(name)
        if stored is None:
            # Spend the same work as a real check, so timing does not tell
            # which names exist.  No name is logged: it is nobody's, and may
            # be a password typed in the wrong place.
            await hash_password(password, self.hasher)
            raise self._failed(ip, "password")
        try:
            matches = await verify_password(password, stored)
        except ValueError:
            _log.error("unreadable password hash for account {name}", name=name)
            matches = False
        if not matches:
            raise self._failed(ip, "password", name)
        account = await self.storage.get_account(name)
        if account is None:
            raise self._failed(ip, "password")
        self.throttle.succeeded(attempt)
        return self._admit(account, ip)

    def resume(self, token: str, ip: str = "") -> Deferred[Account]:
        """The account a resume token logs in, spending the token.

        An unknown, spent or expired token fails with the same
        :class:`LoginFailedError` as a wrong password.  Tokens are far too
        long to guess, so no attempt is throttled.
        """
        return defer.ensureDeferred(self._resume(token, ip))

    async def _resume(self, token: str, ip: str) -> Account:
        account_id = self.tokens.redeem(token) if isinstance(token, str) else None
        account = (await self.storage.get_account_by_id(account_id)
                   if account_id is not None else None)
        if account is None:
            raise self._failed(ip, "token")
        return self._admit(account, ip)

    def rebuy(self, account_id: int, below: int) -> Deferred[int]:
        """Issue a broke player the starting bankroll again; the new balance.

        Broke means fewer than ``below`` chips (the smallest table minimum),
        counting chips on the table; one rebuy per :attr:`rebuy_cooldown`
        seconds.  The chips are issued and journalled as a ``rebuy`` in one
        transaction with both checks, so two rebuys at once make one.
        Refused with a :class:`~blackjack.server.errors.RebuyRefusedError`
        whose message says why and, for the cooldown, for how long.
        """
        now = self._now()
        d = self.storage.rebuy(account_id, self.bankroll, below, now - self.rebuy_cooldown)

        def explain(failure: Failure) -> NoReturn:
            failure.trap(RebuyRefusedError)
            error = failure.value
            if error.chips >= below:
                raise RebuyRefusedError(
                    error.chips, error.last,
                    f"a rebuy is for players out of chips: you have {error.chips} (with "
                    f"any on the table), and a rebuy needs fewer than {below}")
            wait = max(1, round((error.last or now) + self.rebuy_cooldown - now))
            raise RebuyRefusedError(
                error.chips, error.last,
                f"one rebuy per {_duration(self.rebuy_cooldown)}: the next is yours in "
                f"{_duration(wait)}")
        return d.addErrback(explain)

    def top(self, limit: int = 10, days: int = 7) -> Deferred[Event]:
        """The leaderboard event: the most chips, and the most won over ``days`` days."""
        return self.storage.top(limit, self._now() - days * 86400).addCallback(
            lambda board: events.TOP(
                by_balance=[{"name": n, "balance": b} for n, b in board.by_balance],
                by_net=[{"name": n, "net": v} for n, v in board.by_net], days=days))


def _duration(seconds: float) -> str:
    """Seconds for people: ``45 seconds``, ``12 minutes``, ``2 hours``."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = round(seconds)
    return f"{count} second{'s' if count != 1 else ''}"
