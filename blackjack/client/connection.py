"""One protocol v1 connection: requests answered by Deferreds, events handed to callbacks.

:class:`Client` is a Twisted protocol.  :meth:`Client.call` sends one
request (``{"id": 7, "cmd": "bet", "amount": 10}``) and returns a Deferred
that fires with the reply's ``result`` (an event as a dict, or ``None``), or
fails with :class:`~blackjack.client.errors.RequestRefused` carrying the
error's ``code``.  Calls may be pipelined: each gets its own id, and the
server answers them in the order sent.  Events go to the callbacks
registered with :meth:`Client.on`, or to :meth:`Client.next_event`.

The read path is built for a process that drives a thousand connections:
an event whose kind nobody listens to is dropped after reading its kind
from the line's first bytes, without decoding it; the common reply, ``ok``
with a ``null`` result, is matched to its request without decoding either.
Each fast path falls back to decoding the whole line, and the two agree
(``tests/test_client.py`` holds them to each other).  The server writes
``{"event": ...`` and ``{"id": ...`` first; another server need not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.interfaces import IDelayedCall, IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from blackjack.actions import Action
from blackjack.client.errors import (
    ConnectionClosed, ProtocolError, RequestRefused, TimedOut,
)

__all__ = ["Client", "Message", "Listener", "EVERY", "PROTOCOL", "connect", "connect_endpoint"]

Message = dict[str, Any]
"""A decoded JSON object: an event, or a reply's result."""

Listener = Callable[[Message], object]
"""A callback for events: called with each event (a dict), synchronously, in order."""

EVERY = "*"
"""The kind to pass to :meth:`Client.on` for a callback that gets every event."""

PROTOCOL = 1
"""The protocol version this client speaks."""

_log = Logger()



def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib is a spare
    _loads: Callable[[bytes], Any] = json.loads
    _dumps: Callable[[Any], bytes] = _stdlib_dumps
else:
    _loads = orjson.loads
    _dumps = orjson.dumps

_EVENT = b'{"event":"'
_REPLY = b'{"id":'
_OK_NULL = b',"ok":true,"result":null}'


class Client(Protocol):
    """A protocol v1 connection to a card room.

    ``clock`` (an ``IReactorTime``; the global reactor if ``None``) times
    requests out: one still unanswered ``timeout`` seconds after it was sent
    fails with :class:`~blackjack.client.errors.TimedOut` (``None`` or 0:
    wait for ever).  Use :func:`connect` or :func:`connect_endpoint` to
    make a connection; they say ``hello`` for you.
    """

    MAX_LINE = 1024
    """The longest request line the server takes (its ``--max-line``), in bytes."""
    delimiter = b"\n"
    """What ends each request line (the server also takes CR LF, as telnet clients send)."""

    transport: Any  # an ITransport once connected; None before

    def __init__(self, clock: IReactorTime | None = None, timeout: float | None = 30.0) -> None:
        # Every attribute is made here, so a thousand clients share one key table.
        self.transport = None
        self.connected = 0
        self.clock = clock
        self.timeout = timeout
        self.name: str | None = None
        """The account name, once ``login`` or ``register`` has succeeded."""
        self.server: Message | None = None
        """The ``hello`` reply's result: the protocol, the card room's name and version."""
        self._buffer = b""
        self._last_id = 0
        self._pending: dict[int, tuple[str, Deferred[Any], float]] = {}
        self._timer: IDelayedCall | None = None
        self._listeners: dict[str, list[Listener]] = {}
        self._dispatch: dict[bytes, tuple[Listener, ...]] = {}
        self._default: tuple[Listener, ...] = ()
        self._awaiting: list[Deferred[Message]] = []
        self._closing: list[Deferred[None]] = []
        self._lost: Failure | None = None

    # -- the connection ------------------------------------------------------------

    def connectionMade(self) -> None:
        """Send requests at once, not behind Nagle's algorithm."""
        if self.clock is None:
            from twisted.internet import reactor
            self.clock = reactor
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail every request and event wait still open; wake :meth:`when_closed`."""
        self.connected = 0
        self._lost = reason
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        why = reason.getErrorMessage()
        pending, self._pending = self._pending, {}
        for cmd, d, _sent in pending.values():
            if not d.called:
                d.errback(ConnectionClosed(f"{cmd}: the connection closed before the "
                                           f"reply ({why})"))
        awaiting, self._awaiting = self._awaiting, []
        for waiter in awaiting:
            if not waiter.called:
                waiter.errback(ConnectionClosed(f"the connection closed ({why})"))
        closing, self._closing = self._closing, []
        for d in closing:
            d.callback(None)

    def when_closed(self) -> Deferred[None]:
        """A Deferred that fires once the connection has closed."""
        if self._lost is not None:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._closing.append(d)
        return d

    def close(self) -> Deferred[None]:
        """Say ``quit``, hang up once it is answered (or timed out); fires when closed."""
        if self.transport is None or self._lost is not None:
            return succeed(None)
        closed = self.when_closed()

        def hang_up(_: object) -> None:
            if self.transport is not None:
                self.transport.loseConnection()
        self.call("quit").addBoth(hang_up)
        return closed

    # -- requests --------------------------------------------------------------------

    def call(self, cmd: str, /, **params: Any) -> Deferred[Any]:
        """Send the request ``cmd`` with ``params``; a Deferred of the reply's result.

        The result is ``None`` for a command that acts (``join``, ``bet``,
        ``hit``...) and an event (a dict) for one that asks (``balance``,
        ``tables``...).  A refusal fails it with
        :class:`~blackjack.client.errors.RequestRefused`.  Calls may be made
        without waiting: the server runs a connection's requests one after
        another, and each Deferred fires after the events its request caused.
        """
        if self.transport is None or self._lost is not None:
            return fail(ConnectionClosed(f"{cmd}: not connected"))
        self._last_id = rid = self._last_id + 1
        line = _dumps({"id": rid, "cmd": cmd, **params})
        if len(line) > self.MAX_LINE:
            # The server would close the connection over it.
            return fail(RequestRefused(cmd, "bad_request",
                                       f"the request is {len(line)} bytes; "
                                       f"the server takes at most {self.MAX_LINE}"))
        d: Deferred[Any] = Deferred()
        clock = self.clock
        assert clock is not None, "set in connectionMade"
        self._pending[rid] = (cmd, d, clock.seconds())
        if self._timer is None and self.timeout:
            self._timer = clock.callLater(self.timeout, self._expire)
        self.transport.write(line + self.delimiter)
        return d

    @property
    def pending(self) -> int:
        """How many requests await their reply."""
        return len(self._pending)

    def _expire(self) -> None:
        """Fail requests past their timeout, then wait for the oldest one left.

        Replies come in the order the requests were sent, so one timer per
        connection, set for the oldest request, is enough: it is not moved
        per reply (that would cost a heap operation each), only looked at
        when it fires.
        """
        self._timer = None
        timeout, clock = self.timeout, self.clock
        if not timeout or clock is None:
            return
        now = clock.seconds()
        pending = self._pending
        while pending:
            rid = next(iter(pending))
            cmd, d, sent = pending[rid]
            left = sent + timeout - now
            if left > 0:
                if self._timer is None:
                    self._timer = clock.callLater(left, self._expire)
                return
            del pending[rid]
            if not d.called:
                d.errback(TimedOut(f"{cmd}: no reply in {timeout:g} s"))

    # -- reading -------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """Frame lines on LF; an event nobody listens to costs a dict look-up."""
        if self._buffer:
            data = self._buffer + data
        lines = data.split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            if line.startswith(_EVENT):
                # Not cached in a local: a listener may add listeners for the next line.
                listeners = self._dispatch.get(line[10:line.find(b'"', 10)], self._default)
                if listeners:
                    event = self._decode(line)
                    if event is not None:
                        self._deliver(event, listeners)
            elif line.startswith(_REPLY):
                self._reply(line)
            elif line.startswith(b"{"):
                message = self._decode(line)
                if message is not None:
                    self.message_received(message)
            else:
                self.text_received(line.rstrip(b"\r"))

    def _reply(self, line: bytes) -> None:
        comma = line.find(b",", 6)
        try:
            rid = int(line[6:comma])
        except ValueError:
            rid = 0  # not one of ours (a null or string id): the slow path says what
        if rid > 0 and line.startswith(_OK_NULL, comma):
            entry = self._pending.pop(rid, None)
            if entry is not None:
                d = entry[1]
                if not d.called:
                    d.callback(None)
                return
        message = self._decode(line)
        if message is not None:
            self.message_received(message)

    def _decode(self, line: bytes) -> Message | None:
        try:
            message = _loads(line)
        except ValueError:
            _log.warn("not JSON from the server: {line!r}", line=line[:200])
            return None
        if not isinstance(message, dict):
            _log.warn("not a JSON object from the server: {line!r}", line=line[:200])
            return None
        return message

    def message_received(self, message: Message) -> None:
        """One decoded message, an event or a reply, whatever the order of its members.

        The slow twin of :meth:`dataReceived`'s fast paths, which hand
        anything unusual here.
        """
        kind = message.get("event")
        if isinstance(kind, str):
            listeners = self._dispatch.get(kind.encode(), self._default)
            if listeners:
                self._deliver(message, listeners)
            return
        rid = message.get("id")
        entry = self._pending.pop(rid, None) if type(rid) is int else None
        if entry is None:
            self.unmatched(message)
            return
        cmd, d, _sent = entry
        if d.called:
            return
        ok, error = message.get("ok"), message.get("error")
        if ok is True and "result" in message:
            d.callback(message["result"])
        elif ok is False and isinstance(error, dict):
            d.errback(RequestRefused(cmd, str(error.get("code")), str(error.get("message"))))
        else:
            d.errback(ProtocolError(f"{cmd}: not a protocol v1 reply: {message!r:.200}"))

    def unmatched(self, message: Message) -> None:
        """Override: a reply with no request waiting for it (a ``null`` id, or a late one)."""
        _log.warn("a reply that matches no request: {message!r}", message=message)

    def text_received(self, line: bytes) -> None:
        """Override: a line that is not JSON (the greeting for people, before ``hello``)."""

    # -- events ------------------------------------------------------------------------

    def on(self, kind: str, listener: Listener) -> None:
        """Call ``listener`` with each event of ``kind`` (:data:`EVERY`: of every kind)."""
        self._listeners.setdefault(kind, []).append(listener)
        self._rebuild()

    def off(self, kind: str, listener: Listener) -> None:
        """Stop calling ``listener`` for ``kind`` (nothing if it was not registered)."""
        listeners = self._listeners.get(kind, [])
        if listener in listeners:
            listeners.remove(listener)
            self._rebuild()

    def _rebuild(self) -> None:
        # Copy on write: listeners change rarely, events come all the time.
        every = tuple(self._listeners.get(EVERY, ()))
        self._default = every
        self._dispatch = {kind.encode(): tuple(listeners) + every
                          for kind, listeners in self._listeners.items()
                          if kind != EVERY and listeners}

    def _deliver(self, event: Message, listeners: tuple[Listener, ...]) -> None:
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                # One broken callback must not drop the connection (Twisted
                # would, for an exception out of dataReceived).
                _log.failure("a listener for {kind!r} events failed", kind=event.get("event"))

    def next_event(self, kind: str, timeout: float | None = None) -> Deferred[Message]:
        """A Deferred of the next event of ``kind``, failing with TimedOut after ``timeout`` s."""
        if self._lost is not None:
            return fail(ConnectionClosed(f"the connection is closed; no {kind} event will come"))

        def once(event: Message) -> None:
            self.off(kind, once)
            if not waiter.called:
                waiter.callback(event)

        def cancel(_: Deferred[Message]) -> None:
            self.off(kind, once)

        waiter: Deferred[Message] = Deferred(cancel)
        self.on(kind, once)
        self._awaiting.append(waiter)
        waiter.addBoth(self._done_awaiting, waiter)
        if timeout:
            assert self.clock is not None, "set in connectionMade"
            waiter.addTimeout(timeout, self.clock, onTimeoutCancel=lambda _, t: _timed_out(kind, t))
        return waiter

    def _done_awaiting(self, result: Any, waiter: Deferred[Message]) -> Any:
        if waiter in self._awaiting:
            self._awaiting.remove(waiter)
        return result

    # -- the commands, by name -------------------------------------------------------------

    def hello(self, protocol: int = PROTOCOL) -> Deferred[Message]:
        """Start protocol v1 (:func:`connect` does it for you); fires with the server's hello."""
        def hello(result: Message) -> Message:
            self.server = result
            return result
        return self.call("hello", protocol=protocol).addCallback(hello)

    def login(self, name: str, password: str) -> Deferred[Message]:
        """Log in; fires with the ``login`` event (balance, and a seat held since a drop)."""
        return self.call("login", name=name, password=password).addCallback(self._logged_in)

    def register(self, name: str, password: str) -> Deferred[Message]:
        """Make an account and log in; fires with the ``login`` event."""
        return self.call("register", name=name, password=password).addCallback(self._logged_in)

    def _logged_in(self, result: Message) -> Message:
        self.name = result["name"]
        return result

    def join(self, table: str, seat: int | None = None) -> Deferred[None]:
        """Sit at ``table`` (the lowest free seat unless ``seat`` is given)."""
        if seat is None:
            return self.call("join", table=table)
        return self.call("join", table=table, seat=seat)

    def leave(self) -> Deferred[None]:
        """Stand up (a hand in play stands), or stop watching."""
        return self.call("leave")

    def bet(self, amount: int) -> Deferred[None]:
        """Bet ``amount`` chips in the open betting window."""
        return self.call("bet", amount=amount)

    def act(self, action: Action | str) -> Deferred[None]:
        """Play ``action`` (``hit``, ``stand``, ``double``, ``split``, ``surrender``,
        or answer insurance: ``insurance``, ``even``, ``no``)."""
        return self.call(Action(action).value)

    def balance(self) -> Deferred[int]:
        """Fires with your chips."""
        return self.call("balance").addCallback(lambda result: int(result["balance"]))


def _timed_out(kind: str, seconds: float) -> Any:
    raise TimedOut(f"no {kind} event in {seconds:g} s")


def connect_endpoint(endpoint: IStreamClientEndpoint, *, hello: bool = True,
                     client: Client | None = None) -> Deferred[Client]:
    """Connect through a Twisted endpoint; fires with the client, past ``hello``.

    Pass ``client`` to use a subclass of :class:`Client` or other settings.
    A refused ``hello`` closes the connection and fails the Deferred.
    """
    d: Deferred[Client] = connectProtocol(  # type: ignore[no-untyped-call]
        endpoint, client if client is not None else Client())
    if hello:
        d.addCallback(_say_hello)
    return d


def _say_hello(client: Client) -> Deferred[Client]:
    def refused(failure: Failure) -> Failure:
        if client.transport is not None:
            client.transport.loseConnection()
        return failure
    return client.hello().addCallbacks(lambda _: client, refused)


def connect(reactor: Any, host: str = "127.0.0.1", port: int = 8023, *, hello: bool = True,
            timeout: float | None = 30.0, client: Client | None = None) -> Deferred[Client]:
    """Connect to the card room at ``host``:``port``; fires with the client, past ``hello``.

    ``timeout`` bounds the connection attempt and, for a new client, each
    request (see :class:`Client`).
    """
    endpoint = HostnameEndpoint(reactor, host, port, timeout=timeout or 30)
    if client is None:
        client = Client(reactor, timeout)
    return connect_endpoint(endpoint, hello=hello, client=client)
