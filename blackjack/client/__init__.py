"""blackjack.client: a small Twisted client for protocol v1 of the card room.

Connect (``hello`` is said for you), log in, sit down, and let a
basic-strategy :class:`Bot` play; every request returns a Deferred of its
reply, and events go to callbacks (``docs/protocol.md`` is the spec)::

    from twisted.internet import defer, task
    from blackjack.client import Bot, connect

    async def main(reactor):
        client = await connect(reactor, "127.0.0.1", 8023)
        await client.login("alice", "correct horse battery")
        client.on("result", lambda result: print(result["net"]))
        bot = Bot(client, "main", hands=10)    # basic strategy, 10 rounds
        await bot.sit()
        await bot.until(hands=10)
        await client.close()

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))

A refused request fails with :class:`RequestRefused`, whose ``code`` is one of
the protocol's error codes (``not_your_turn``, ``insufficient_funds``...).
``scripts/example_bot.py`` is a fuller example.  ``import blackjack`` does not
import this package (nor Twisted); ``import blackjack.client`` does.
"""

from blackjack.client.bot import Bot, Policy, basic_strategy
from blackjack.client.connection import (
    EVERY, PROTOCOL, Client, Listener, Message, connect, connect_endpoint,
)
from blackjack.client.errors import (
    ClientError, ConnectionClosed, ProtocolError, RequestRefused, TimedOut,
)

__all__ = [
    "connect", "connect_endpoint", "Client", "Message", "Listener", "EVERY", "PROTOCOL",
    "Bot", "Policy", "basic_strategy",
    "ClientError", "RequestRefused", "TimedOut", "ConnectionClosed", "ProtocolError",
]
