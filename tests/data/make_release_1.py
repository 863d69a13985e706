"""Make a card-room file with the first release's SQLiteStorage (schema version 1)."""
import sqlite3, sys
from twisted.internet import defer, task
from blackjack.server.storage.sqlite import SQLiteStorage, SCHEMA_VERSION

PATH = sys.argv[1]

async def main(reactor):
    assert SCHEMA_VERSION == 1
    times = iter(range(1_700_000_000, 1_800_000_000, 7))
    s = SQLiteStorage(PATH, clock=lambda: float(next(times)), reactor=reactor)
    ann = await s.create_account("Ann", "scrypt$16384$8$1$c2FsdA==$aGFzaA==", 1000)
    bob = await s.create_account("bob", "scrypt$16384$8$1$c2FsdA==$aGFzaA==", 1000)
    cat = await s.create_account("Cat_9", "scrypt$16384$8$1$c2FsdA==$aGFzaA==", 500)
    await s.issue(cat.id, 250)
    rounds = [("main-0a1b2c3d4e5f60718293a4b5c6d7e8f9", {ann.id: 25, bob.id: 0}),
              ("high-rollers-1b2c3d4e5f60718293a4b5c6d7e8f90a", {ann.id: 0, cat.id: 150}),
              ("main-2c3d4e5f60718293a4b5c6d7e8f90a1b", {bob.id: 30, cat.id: 0})]
    for n, (round_id, payouts) in enumerate(rounds):
        for seat, account in enumerate(sorted(payouts), 1):
            await s.stake(account, round_id, f"seat{seat}:bet:{seat}", 10 + 20 * n)
        await s.settle(round_id, payouts, {"table": round_id.rpartition("-")[0], "round": round_id})
    # refunded round (a window that never dealt)
    await s.stake(bob.id, "vegas-3d4e5f60718293a4b5c6d7e8f90a1b2c", "seat2:bet:1", 40)
    await s.refund("vegas-3d4e5f60718293a4b5c6d7e8f90a1b2c")
    # open rounds left by a "crash", at two tables
    await s.stake(ann.id, "main-4e5f60718293a4b5c6d7e8f90a1b2c3d", "seat1:bet:1", 50)
    await s.stake(bob.id, "main-4e5f60718293a4b5c6d7e8f90a1b2c3d", "seat2:bet:2", 20)
    await s.stake(cat.id, "high-rollers-5f60718293a4b5c6d7e8f90a1b2c3d4e", "seat4:bet:1", 100)
    print(await s.books())
    await s.close()
    c = sqlite3.connect(PATH); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.execute("PRAGMA journal_mode=DELETE"); c.execute("VACUUM"); c.close()

task.react(lambda r: defer.ensureDeferred(main(r)))
