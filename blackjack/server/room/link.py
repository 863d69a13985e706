"""A node link: the one AMP connection between two nodes of a room, used both ways.

Both directions share one connection so that a table's events and the
answers to forwarded commands arrive in the order they were sent: protocol
v1's promise (a request's events before its reply) holds for a player whose
table runs on another node.  Every box leaves through :meth:`NodeLink.sendBox`;
events waiting to go out are sent first, so nothing overtakes them.

Events are batched without reordering: every event sent to the peer's
players in one reactor turn goes in one :class:`~.wire.Deliver`, in order,
and one event broadcast to several of them is named once with all their
accounts (the table sends it seat by seat, one after another, so
consecutive sends of the same event object coalesce).  Anything else sent
meanwhile (an answer, a call) flushes the batch first.

Trust.  A link is trusted only once each side has proven it knows the
room's shared secret (HMAC-SHA256 over both sides' fresh nonces and names,
:class:`RoomSecret`); until then it takes no command but :class:`~.wire.Hello`
and :class:`~.wire.Prove`.  Without this, anyone reaching the node port could
play any account's hand.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.logger import Logger
from twisted.protocols import amp
from twisted.python.failure import Failure

from blackjack.server.core.events import Event
from blackjack.server.frontends.encoding import encode_event
from blackjack.server.room import wire

if TYPE_CHECKING:
    from blackjack.server.room.guests import GuestClient

__all__ = ["NodeLink", "RoomSecret", "LinkOwner"]

_log = Logger()


class RoomSecret:
    """The room's shared secret, and the proofs made with it."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the room's secret must be at least 16 bytes")
        self._key = secret

    def proof(self, role: str, *parts: str) -> str:
        """HMAC-SHA256 of a role (who proves) and the handshake's nonces and names."""
        message = "\x00".join((role, *parts)).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def check(self, proof: str, role: str, *parts: str) -> bool:
        """Whether ``proof`` is :meth:`proof` of these, compared in constant time."""
        return hmac.compare_digest(proof.encode("ascii", "replace"),
                                   self.proof(role, *parts).encode("ascii"))


def _nonce() -> str:
    return os.urandom(16).hex()


class LinkOwner(Protocol):
    """What a link asks of its node (:class:`~.node.RoomNode`)."""

    name: str
    fingerprint: str
    secret: RoomSecret
    clock: Any

    def linked(self, link: NodeLink) -> None: ...
    def unlinked(self, link: NodeLink) -> None: ...
    def on_forward(self, link: NodeLink, account: int, name: str, table: str, verb: str,
                   params: dict[str, Any],
                   settings: dict[str, Any] | None = None) -> Deferred[Any]: ...
    def on_attach(self, link: NodeLink, account: int, name: str, table: str,
                  seat: int | None, watching: bool) -> dict[str, Any]: ...
    def on_detach(self, link: NodeLink, account: int, table: str) -> None: ...
    def on_describe(self, tables: list[str]) -> Deferred[list[Any]]: ...
    def on_snapshot(self, table: str) -> Any: ...
    def on_deliver(self, link: NodeLink, table: str, accounts: list[int],
                   event: Event) -> None: ...
    def on_seated(self, link: NodeLink, account: int, table: str, seat: int | None,
                  watching: bool) -> None: ...
    def on_close(self, link: NodeLink, account: int, table: str, message: str,
                 why: str) -> None: ...
    def on_kick(self, link: NodeLink, account: int) -> None: ...
    def on_reach(self, account: int, act: str, detail: dict[str, Any]) -> Deferred[bool]: ...
    def on_announce(self, event: Event) -> None: ...
    def on_owner(self, link: NodeLink, table: str, node: str, epoch: int) -> None: ...


class NodeLink(amp.AMP):
    """One node's end of the connection to another node."""

    transport: Any

    def __init__(self, node: LinkOwner, calling: bool) -> None:
        super().__init__()
        self.node = node
        self.calling = calling
        """True on the node that dialled (it starts the handshake)."""
        self.peer: str | None = None
        """The other node's name, once it has introduced itself."""
        self.trusted = False
        self.guests: dict[int, GuestClient] = {}
        """The guest clients of players connected to the peer, by account."""
        self._nonces: tuple[str, str] | None = None
        self._batch: list[tuple[str, Event, list[int]]] = []
        self._flush_call: Any = None
        self._open = False

    # -- the handshake -----------------------------------------------------------

    def connectionMade(self) -> None:
        super().connectionMade()
        self._open = True
        # Small boxes both ways, each waited for: Nagle would hold one behind
        # the peer's delayed ACK (40 ms on Linux).
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        if self.calling:
            self._introduce().addErrback(self._handshake_failed)

    @inlineCallbacks
    def _introduce(self) -> Any:
        node, mine = self.node, _nonce()
        answer = yield self.callRemote(wire.Hello, node=node.name, room=node.fingerprint,
                                       nonce=mine)
        peer, theirs = answer["node"], answer["nonce"]
        if answer["room"] != node.fingerprint:
            raise ValueError(f"node {peer!r} runs other tables (room {answer['room']}, "
                             f"ours {node.fingerprint})")
        if not node.secret.check(answer["proof"], "accept", mine, theirs, peer, node.name):
            raise ValueError(f"node {peer!r} does not know the room's secret")
        yield self.callRemote(wire.Prove, proof=node.secret.proof(
            "connect", theirs, mine, node.name, peer))
        self.peer, self.trusted = peer, True
        node.linked(self)

    def _handshake_failed(self, failure: Failure) -> None:
        _log.warn("node link to {peer} refused: {error}", peer=self._where(),
                  error=failure.getErrorMessage())
        self.transport.loseConnection()

    @wire.Hello.responder
    def _hello(self, node: str, room: str, nonce: str) -> dict[str, str]:
        me = self.node
        if room != me.fingerprint:
            _log.warn("node {peer} runs other tables (room {room}, ours {ours}); "
                      "not linking", peer=node, room=room, ours=me.fingerprint)
            self.transport.loseConnection()
            raise wire.NotTrusted("other tables")
        mine = _nonce()
        self.peer, self._nonces = node, (nonce, mine)
        return {"node": me.name, "room": me.fingerprint, "nonce": mine,
                "proof": me.secret.proof("accept", nonce, mine, me.name, node)}

    @wire.Prove.responder
    def _prove(self, proof: str) -> dict[str, Any]:
        if self._nonces is None or self.peer is None or not self.node.secret.check(
                proof, "connect", self._nonces[1], self._nonces[0], self.peer, self.node.name):
            _log.warn("node link from {peer} refused: it does not know the room's secret",
                      peer=self._where())
            self.transport.loseConnection()
            raise wire.NotTrusted("bad proof")
        self.trusted = True
        self.node.linked(self)
        return {}

    def _where(self) -> str:
        peer = self.transport.getPeer() if self.transport is not None else None
        return f"{self.peer or '?'} ({getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')})"

    def _check(self) -> None:
        if not self.trusted:
            raise wire.NotTrusted("say hello first")

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self._open = False
        super().connectionLost(reason)
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self._batch = []
        if self.trusted:
            self.trusted = False
            self.node.unlinked(self)

    # -- order: nothing overtakes an event ---------------------------------------------

    def sendBox(self, box: amp.AmpBox) -> None:
        self._flush()
        super().sendBox(box)

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            self.callRemote(wire.Deliver, batch=b"\n".join(
                wire.batch_line(table, accounts, encode_event(event))
                for table, event, accounts in batch))

    def _flush_later(self) -> None:
        self._flush_call = None
        if self._open:
            self._flush()

    # -- owner -> front ----------------------------------------------------------------

    def deliver(self, table: str, account: int, event: Event) -> None:
        """Send an event to a player of the peer (batched with the same event's others)."""
        batch = self._batch
        if batch and batch[-1][1] is event and batch[-1][0] == table:
            batch[-1][2].append(account)
            return
        batch.append((table, event, [account]))
        if self._flush_call is None:
            self._flush_call = self.node.clock.callLater(0, self._flush_later)

    def seated(self, account: int, table: str, seat: int | None, watching: bool) -> None:
        """Tell the peer where its player now sits at our table."""
        self.callRemote(wire.Seated, account=account, table=table, seat=seat,
                        watching=watching)

    def close_player(self, account: int, table: str, message: str, why: str) -> None:
        """Ask the peer to close its player's connection (``why``: a word for its log)."""
        self.callRemote(wire.Close, account=account, table=table, message=message, why=why)

    # -- any -> any --------------------------------------------------------------------

    def announce(self, table: str, node: str, epoch: int) -> None:
        self.callRemote(wire.Owner, table=table, node=node, epoch=epoch)

    # -- responders --------------------------------------------------------------------

    @wire.Forward.responder
    def _forward(self, account: int, name: str, table: str, verb: str,
                 params: dict[str, Any], settings: dict[str, Any] | None = None
                 ) -> Deferred[Any]:
        self._check()
        return self.node.on_forward(self, account, name, table, verb, params, settings)

    @wire.Attach.responder
    def _attach(self, account: int, name: str, table: str, seat: int | None,
                watching: bool) -> dict[str, Any]:
        self._check()
        return self.node.on_attach(self, account, name, table, seat, watching)

    @wire.Detach.responder
    def _detach(self, account: int, table: str) -> dict[str, Any]:
        if self.trusted:
            self.node.on_detach(self, account, table)
        return {}

    @wire.Describe.responder
    def _describe(self, tables: list[str]) -> Deferred[dict[str, Any]]:
        self._check()
        return self.node.on_describe(tables).addCallback(lambda s: {"summaries": s})

    @wire.Snapshot.responder
    def _snapshot(self, table: str) -> Any:
        self._check()
        return self.node.on_snapshot(table)

    @wire.Deliver.responder
    def _deliver(self, batch: bytes) -> dict[str, Any]:
        if self.trusted:
            for table, accounts, event in wire.read_batch(batch):
                self.node.on_deliver(self, table, accounts, _event(event))
        return {}

    @wire.Seated.responder
    def _seated(self, account: int, table: str, seat: int | None,
                watching: bool) -> dict[str, Any]:
        if self.trusted:
            self.node.on_seated(self, account, table, seat, watching)
        return {}

    @wire.Close.responder
    def _close(self, account: int, table: str, message: str, why: str) -> dict[str, Any]:
        if self.trusted:
            self.node.on_close(self, account, table, message, why)
        return {}

    @wire.Kick.responder
    def _kick(self, account: int) -> dict[str, Any]:
        self._check()
        self.node.on_kick(self, account)
        return {}

    @wire.Reach.responder
    def _reach(self, account: int, act: str, detail: dict[str, Any]) -> Deferred[Any]:
        self._check()
        return self.node.on_reach(account, act, detail).addCallback(lambda f: {"found": f})

    @wire.Announce.responder
    def _announce(self, event: Any) -> dict[str, Any]:
        if self.trusted:
            self.node.on_announce(Event(event))
        return {}

    @wire.Owner.responder
    def _owner(self, table: str, node: str, epoch: int) -> dict[str, Any]:
        if self.trusted:
            self.node.on_owner(self, table, node, epoch)
        return {}

    def __repr__(self) -> str:
        return f"<NodeLink to {self.peer!r}{'' if self.trusted else ' (untrusted)'}>"


def _event(data: bytes) -> Event:
    """An event as it came over a link, its encoding kept for the front ends."""
    from blackjack.server.frontends.encoding import decode

    event = Event(decode(data))
    event.encoded = data
    return event
