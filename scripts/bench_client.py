"""What the client's read path costs per line: a bot's real stream, replayed in process.

``scripts/loadtest.py`` drives a thousand :class:`blackjack.client.Bot` s from
one Python process, on the same cores as the server, so every line a bot reads
is paid for twice.  This records the bytes one seat at a full table receives
(seven basic-strategy bots on an in-process server, over loopback), then
replays them, without sockets, through:

* ``client``: a :class:`~blackjack.client.Client` with a Bot, as the load test
  runs it (events of kinds nobody listens to are dropped unread, ``ok``/``null``
  replies are matched without decoding); and
* ``decode-all``: the same, with one more listener for every event, so every
  line is decoded: what the read path costs without its fast paths.

The replayed bot makes the same requests as the recorded one, so every reply
finds its request.  Run::

    python scripts/bench_client.py --rounds 200
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from twisted.internet import defer, task  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402
from twisted.internet.testing import StringTransport  # noqa: E402

from blackjack.client import EVERY, Bot, Client, basic_strategy, connect  # noqa: E402

__all__ = ["record", "replay", "main"]

_SEAT = 3
"""The recorded bot (0-based): a middle seat of seven."""


async def record(reactor: Any, rounds: int) -> tuple[list[bytes], int]:
    """The packets seat ``_SEAT`` receives while seven bots play ``rounds`` rounds, and the
    last request id it used before sitting down."""
    from blackjack.server.core.passwords import FAST_INSECURE
    from blackjack.server.hosting.tap import Options, makeService

    with tempfile.TemporaryDirectory() as workdir:
        options = Options()
        # No page: its default port (8080) may be anyone's on a shared machine.
        options.parseOptions(["--listen", "tcp:0:interface=127.0.0.1", "--rate", "0",
                              "--web", "none", "--db", str(Path(workdir) / "bench.sqlite3"),
                              "--table", "lt0:min=1", "--bankroll", "10000000"])
        service: Any = makeService(options, reactor, hasher=FAST_INSECURE)
        service.startService()
        try:
            bots = []
            for i in range(7):
                client = await connect(reactor, "127.0.0.1", service.port.getHost().port)
                await client.register(f"bench{i}", "a bench password")
                bots.append(Bot(client, "lt0"))
            recorded = bots[_SEAT].client
            first_id = recorded._last_id
            packets: list[bytes] = []
            received = recorded.dataReceived

            def keep(data: bytes) -> None:
                packets.append(data)
                received(data)
            recorded.dataReceived = keep  # type: ignore[method-assign]
            for bot in bots:
                await bot.sit()
            await defer.gatherResults([bot.until(rounds) for bot in bots])
            for bot in bots:
                bot.stop()
        finally:
            await service.stopService()
    return packets, first_id


def replay(packets: list[bytes], first_id: int, decode_all: bool) -> Bot:
    """Feed ``packets`` to a fresh client and bot, as seat ``_SEAT`` got them."""
    client = Client(Clock(), timeout=None)
    client.makeConnection(StringTransport())
    client._last_id = first_id  # the replayed requests get the recorded ids
    client.name = f"bench{_SEAT}"
    if decode_all:
        client.on(EVERY, lambda event: None)
    bot = Bot(client, "lt0", policy=_POLICY)
    bot.sit()
    for data in packets:
        client.dataReceived(data)
    assert client.pending <= 1, "the replay went out of step with the recording"
    return bot


_POLICY = basic_strategy()


def _best(run: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` timed runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> None:
    """Record, replay both ways, and print the cost per line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="rounds to record")
    parser.add_argument("--repeat", type=int, default=7, help="timed replays of each kind")
    args = parser.parse_args(argv)

    async def go(reactor: Any) -> None:
        packets, first_id = await record(reactor, args.rounds)
        lines = sum(p.count(b"\n") for p in packets)
        hands = replay(packets, first_id, False).hands
        print(f"{lines} lines in {len(packets)} packets; the replayed bot plays {hands} rounds")
        costs = {}
        for name, decode_all in (("client", False), ("decode-all", True)):
            seconds = _best(lambda: replay(packets, first_id, decode_all), args.repeat)
            costs[name] = seconds
            print(f"{name:>10}: {seconds * 1e6 / lines:.2f} us per line "
                  f"({seconds * 1e3:.1f} ms for the stream)")
        print(f"client / decode-all: {costs['client'] / costs['decode-all']:.2f}")

    task.react(lambda reactor: defer.ensureDeferred(go(reactor)))


if __name__ == "__main__":
    main()
