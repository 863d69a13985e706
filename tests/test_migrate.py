"""``python -m blackjack.server.migrate``: an SQLite room copied into PostgreSQL, books proved."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from blackjack.server.storage import AdminAct, HandSummary
from blackjack.server.storage.audit import audit_database, main as audit_main
from blackjack.server.storage.migrate import copy_room, main
from blackjack.server.storage.sqlite import SQLiteStorage

from storage_backends import PostgreSQLBackend
from test_sqlite import RELEASE_1
from test_storage import new_account, timed

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def room(tmp_path: Path) -> Path:
    """A copy of the file the first release wrote: three accounts, rounds settled,
    refunded and left open by a crash."""
    path = tmp_path / "room.sqlite3"
    path.write_bytes(RELEASE_1.read_bytes())
    return path


@pytest_twisted.ensureDeferred
async def test_a_first_release_room_moves_to_postgresql(room: Path, pg: PostgreSQLBackend,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """The command copies everything, says the books match, the audit says balanced
    on both databases, and the server carries on there: logins, ids, recovery."""
    target = pg.fresh()
    assert main(["--from", str(room), "--to", target]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ("copied from " + str(room) + ": 3 accounts, 6 rounds,"
                                   " 10 stakes, 21 ledger, 6 hands, 0 shoes, 0 admin_acts,"
                                   " 0 sanctions")
    assert out.splitlines()[-1] == "books match"
    assert out.count("   balanced") == 2
    assert audit_main(["--db", str(room)]) == 0
    assert audit_main(["--db", target]) == 0
    assert audit_database(target) == audit_database(str(room))
    assert room.read_bytes() == RELEASE_1.read_bytes()  # the source is left as it was

    storage = pg.open(target, Clock().seconds)
    try:
        ann = await timed(storage.get_account("ann"))
        assert ann is not None and ann.name == "Ann"
        assert (await timed(storage.password_hash("ANN"))).startswith("scrypt$")
        history = await timed(storage.history(ann.id))
        assert [h.net for h in history] == [-30, 15]
        refunded = await timed(storage.recover("main"))
        assert sorted(a for _, _, a in refunded) == [20, 50]
        assert len(await timed(storage.recover())) == 1
        dan = await new_account(storage, "dan", 10)
        assert dan.id == 4  # the ids go on after the copied ones
        assert (await timed(storage.books())).balanced
    finally:
        await timed(storage.close())


@pytest_twisted.ensureDeferred
async def test_a_current_room_with_play_moves_too(tmp_path: Path, pg: PostgreSQLBackend) -> None:
    """A room written by this release copies with the same books, ledger and history,
    and the same roles, sanctions, grants and trail of admin acts."""
    path = tmp_path / "now.sqlite3"
    storage = SQLiteStorage(str(path), Clock().seconds)
    ann = await new_account(storage, "ann", 100)
    await timed(storage.open_shoe("main-s1", "main", {"commitment": "c"}, "ab" * 32))
    for n in range(30):
        await timed(storage.stake(ann.id, f"main-{n}", "seat1:bet", 3))
        await timed(storage.settle(f"main-{n}", {ann.id: (n % 3) * 3}, shoe="main-s1",
                                   summaries={ann.id: HandSummary(hands=1, wins=n % 3 // 2,
                                                                  cost=0.5)}))
    await timed(storage.retire_shoe("main-s1", "cut card"))
    await timed(storage.rebuy(ann.id, 100, 1000, 0.0))
    await timed(storage.set_role("ann", "admin", AdminAct("host", "role", "ann")))
    await timed(storage.grant(ann.id, 25, AdminAct("ann", "grant", "ann", "a test", {"n": 1})))
    await timed(storage.sanction(ann.id, "mute", None, AdminAct("ann", "mute", "ann")))
    before = (await timed(storage.ledger(ann.id, 1000)), await timed(storage.history(ann.id, 1000)),
              await timed(storage.stats(ann.id)), await timed(storage.shoe("main-s1")),
              await timed(storage.get_account("ann")), await timed(storage.admin_acts()))
    await timed(storage.close())
    target = pg.fresh()
    copied = copy_room(str(path), target)
    assert copied.differences == [] and copied.target.balanced
    moved = pg.open(target, Clock().seconds)
    try:
        assert (await timed(moved.ledger(ann.id, 1000)), await timed(moved.history(ann.id, 1000)),
                await timed(moved.stats(ann.id)), await timed(moved.shoe("main-s1")),
                await timed(moved.get_account("ann")), await timed(moved.admin_acts())) == before
        await timed(moved.record_act(AdminAct("ann", "kick", "bob")))  # ids go on
    finally:
        await timed(moved.close())


ROOM_TABLES = ("table_leases", "room_nodes", "seats", "room_logins")
"""What schema version 6 added (a room of several nodes): version 5 is this without them."""


def back_to_version_5(cursor: Any) -> None:
    """Make a database of this release what the release before rooms of nodes wrote."""
    for table in ROOM_TABLES:
        cursor.execute(f"DROP TABLE {table}")
    cursor.execute("UPDATE schema_version SET version = 5 WHERE version = 6")


@pytest_twisted.ensureDeferred
async def test_a_version_5_room_moves_and_either_side_gains_the_rooms_tables(
        tmp_path: Path, pg: PostgreSQLBackend) -> None:
    """A version-5 SQLite file (before rooms of nodes) copies into PostgreSQL with the books
    matching, the target made at version 6 with the room's tables empty; a version-5
    PostgreSQL database is upgraded in place to 6, its chips as they were."""
    import psycopg2

    path = tmp_path / "v5.sqlite3"
    storage = SQLiteStorage(str(path), Clock().seconds)
    ann = await new_account(storage, "ann", 100)
    await timed(storage.stake(ann.id, "main-1", "seat1:bet", 10))
    await timed(storage.settle("main-1", {ann.id: 20}))
    await timed(storage.close())
    with sqlite3.connect(path) as connection:
        back_to_version_5(connection.cursor())
    connection.close()
    target = pg.fresh()
    copied = copy_room(str(path), target)
    assert copied.differences == [] and copied.target.balanced

    def versions_and_rooms(url: str) -> tuple[list[int], list[tuple[str, int]]]:
        connection = psycopg2.connect(url)
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT version FROM schema_version ORDER BY version")
            versions = [v for (v,) in cursor.fetchall()]
            rooms = []
            for table in ROOM_TABLES:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                rooms.append((table, cursor.fetchone()[0]))
        connection.close()
        return versions, rooms

    assert versions_and_rooms(target) == ([6], [(t, 0) for t in ROOM_TABLES])
    connection = psycopg2.connect(target)
    with connection, connection.cursor() as cursor:
        back_to_version_5(cursor)
    connection.close()
    moved = pg.open(target, Clock().seconds)
    try:
        assert await timed(moved.balance(ann.id)) == 110
        assert (await timed(moved.take_table("main", "n1", 60.0))).fence.epoch == 1
        assert (await timed(moved.books())).balanced
    finally:
        await timed(moved.close())
    versions, rooms = versions_and_rooms(target)
    assert versions == [5, 6] and rooms[0] == ("table_leases", 1)


def test_a_database_already_in_use_is_refused(room: Path, pg: PostgreSQLBackend,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Copying into a database that holds accounts changes nothing and exits 2."""
    target = pg.fresh()
    assert main(["--from", str(room), "--to", target]) == 0
    assert main(["--from", str(room), "--to", target]) == 2
    assert "already holds 3 accounts" in capsys.readouterr().err
    assert audit_database(target).books == audit_database(str(room)).books


def test_bad_arguments_are_clear_errors(room: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file, or a target that is not a PostgreSQL URL, exits 2 saying why."""
    assert main(["--from", str(tmp_path / "nope.sqlite3"), "--to", "postgresql://x@127.0.0.1:1/x"]) == 2
    assert main(["--from", str(room), "--to", str(tmp_path / "other.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "cannot migrate" in err and "postgresql:// URL" in err


def test_the_module_runs_as_a_command(room: Path, pg: PostgreSQLBackend) -> None:
    """``python -m blackjack.server.migrate`` copies and exits 0 with 'books match'."""
    done = subprocess.run([sys.executable, "-m", "blackjack.server.migrate", "--from", str(room),
                           "--to", pg.fresh()], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert (done.returncode, done.stdout.splitlines()[-1]) == (0, "books match"), done.stderr
