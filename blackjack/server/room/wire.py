"""What nodes of a room say to each other: the AMP commands of a node link.

One AMP connection joins each pair of nodes and carries both directions
(:mod:`.link`).  A node running a table (its *owner*) and a node holding a
player's connection (the player's *front*) talk like this:

front -> owner
    :class:`Forward` (a table command of a player: join, bet, hit...),
    :class:`Attach` (the player is here: route the seat's events to me),
    :class:`Detach` (the player's connection dropped), :class:`Describe`
    and :class:`Snapshot` (the lobby's and ``look``'s views).
owner -> front
    :class:`Deliver` (an event for some of the front's players),
    :class:`Seated` (where a player now sits), :class:`Close` (close a
    player's connection: it logged in elsewhere).
any -> any
    :class:`Hello` and :class:`Prove` (who is calling, proven with the
    room's shared secret), :class:`Owner` (who runs a table now),
    :class:`Kick` (an account logged in on another node), :class:`Reach`
    (an admin's act for a player connected there: remove, mute, tell) and
    :class:`Announce` (an admin's announcement, for every player there).

AMP caps one value at 64 KiB (``amp.MAX_VALUE_LENGTH``); :class:`Chunked`
values (events, JSON) of any length are split over several keys.
"""

from __future__ import annotations

from typing import Any

from twisted.protocols import amp

from blackjack.server.frontends.encoding import decode, encode

__all__ = ["Chunked", "JSON", "Hello", "Prove", "Forward", "Attach", "Detach", "Describe",
           "Snapshot", "Deliver", "Seated", "Close", "Kick", "Reach", "Announce", "Owner",
           "NotTrusted",
           "batch_line", "read_batch"]


class Chunked(amp.Argument):
    """Bytes of any length: ``name``, then ``name.1``, ``name.2``... 64 KiB each."""

    def toBox(self, name: bytes, strings: Any, objects: Any, proto: Any) -> None:
        value = self.retrieve(objects, name.decode("ascii"), proto)
        if self.optional and value is None:
            return
        data = self.toBytes(value)
        size = amp.MAX_VALUE_LENGTH
        strings[name] = data[:size]
        for part, start in enumerate(range(size, len(data), size), 1):
            strings[name + b".%d" % part] = data[start:start + size]

    def fromBox(self, name: bytes, strings: Any, objects: Any, proto: Any) -> None:
        key = name.decode("ascii")
        first = strings.pop(name, None)
        if first is None:
            if not self.optional:
                raise KeyError(name)
            objects[key] = None
            return
        parts = [first]
        part = 1
        while (more := strings.pop(name + b".%d" % part, None)) is not None:
            parts.append(more)
            part += 1
        objects[key] = self.fromBytes(b"".join(parts))

    def toBytes(self, value: Any) -> bytes:
        return bytes(value)

    def fromBytes(self, data: bytes) -> Any:
        return data


class JSON(Chunked):
    """Any JSON value (compact UTF-8, split like :class:`Chunked`)."""

    def toBytes(self, value: Any) -> bytes:
        return encode(value)

    def fromBytes(self, data: bytes) -> Any:
        return decode(data)


class NotTrusted(Exception):
    """The calling node has not proven it knows the room's secret."""


_TRUST: dict[type[Exception], bytes] = {NotTrusted: b"NOT_TRUSTED"}


class Hello(amp.Command):
    """The caller introduces itself; the answer proves the callee knows the secret."""

    arguments = [(b"node", amp.Unicode()), (b"room", amp.Unicode()),
                 (b"nonce", amp.Unicode())]
    response = [(b"node", amp.Unicode()), (b"room", amp.Unicode()),
                (b"nonce", amp.Unicode()), (b"proof", amp.Unicode())]


class Prove(amp.Command):
    """The caller proves it knows the secret too; until then the callee trusts nothing."""

    arguments = [(b"proof", amp.Unicode())]
    errors = _TRUST


class Forward(amp.Command):
    """Run a table command for a player connected to the caller; ``settings`` are the
    player's own (``seed`` for fair shuffles, ``trainer``), as their session keeps them."""

    arguments = [(b"account", amp.Integer()), (b"name", amp.Unicode()),
                 (b"table", amp.Unicode()), (b"verb", amp.Unicode()), (b"params", JSON()),
                 (b"settings", JSON(optional=True))]
    response = [(b"answer", JSON(optional=True)), (b"code", amp.Unicode(optional=True)),
                (b"message", amp.Unicode(optional=True))]
    errors = _TRUST


class Attach(amp.Command):
    """A player at one of the callee's tables is connected to the caller now."""

    arguments = [(b"account", amp.Integer()), (b"name", amp.Unicode()),
                 (b"table", amp.Unicode()), (b"seat", amp.Integer(optional=True)),
                 (b"watching", amp.Boolean())]
    response = [(b"seat", amp.Integer(optional=True)), (b"watching", amp.Boolean()),
                (b"moved", amp.Boolean())]
    errors = _TRUST


class Detach(amp.Command):
    """A player's connection to the caller dropped: hold the seat."""

    arguments = [(b"account", amp.Integer()), (b"table", amp.Unicode())]
    requiresAnswer = False


class Describe(amp.Command):
    """The lobby's view of some of the callee's tables (``None`` for one it does not run)."""

    arguments = [(b"tables", amp.ListOf(amp.Unicode()))]
    response = [(b"summaries", JSON())]
    errors = _TRUST


class Snapshot(amp.Command):
    """A table's snapshot, for ``look`` (``None`` if the callee does not run it)."""

    arguments = [(b"table", amp.Unicode())]
    response = [(b"event", JSON(optional=True))]
    errors = _TRUST


class Deliver(amp.Command):
    """Events from tables, each for some players connected to the callee, in order.

    ``batch`` is one line per event, ``TABLE ACCOUNT,ACCOUNT... EVENT-JSON``
    (:func:`batch_line`, :func:`read_batch`): JSON never holds a raw line
    break, and table names and account ids hold no space.
    """

    arguments = [(b"batch", Chunked())]
    requiresAnswer = False


def batch_line(table: str, accounts: list[int], event: bytes) -> bytes:
    """One event's line in a :class:`Deliver` batch."""
    return b"%s %s %s" % (table.encode("ascii"), b",".join(b"%d" % a for a in accounts),
                          event)


def read_batch(batch: bytes) -> list[tuple[str, list[int], bytes]]:
    """The (table, accounts, event JSON) of each line of a :class:`Deliver` batch."""
    found = []
    for line in batch.split(b"\n"):
        table, accounts, event = line.split(b" ", 2)
        found.append((table.decode("ascii"), [int(a) for a in accounts.split(b",")], event))
    return found


class Seated(amp.Command):
    """Where a player at the caller's table sits now (neither: it left)."""

    arguments = [(b"account", amp.Integer()), (b"table", amp.Unicode()),
                 (b"seat", amp.Integer(optional=True)), (b"watching", amp.Boolean())]
    requiresAnswer = False


class Close(amp.Command):
    """Close a player's connection, saying why (it logged in elsewhere)."""

    arguments = [(b"account", amp.Integer()), (b"table", amp.Unicode()),
                 (b"message", amp.Unicode()), (b"why", amp.Unicode())]
    requiresAnswer = False


class Kick(amp.Command):
    """An account has logged in on the caller: close its connection here."""

    arguments = [(b"account", amp.Integer())]
    errors = _TRUST


class Reach(amp.Command):
    """Do an admin's act to an account's player if it is connected here (``found``)."""

    arguments = [(b"account", amp.Integer()), (b"act", amp.Unicode()), (b"detail", JSON())]
    response = [(b"found", amp.Boolean())]
    errors = _TRUST


class Announce(amp.Command):
    """Send an admin's announcement to every player connected here."""

    arguments = [(b"event", JSON())]
    requiresAnswer = False


class Owner(amp.Command):
    """The caller says who runs a table now (``""``: nobody; it was released)."""

    arguments = [(b"table", amp.Unicode()), (b"node", amp.Unicode()),
                 (b"epoch", amp.Integer())]
    requiresAnswer = False
