"""The host's command line: ``python -m blackjack.server.admin --db DB grant NAME``."""

from __future__ import annotations

import argparse
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest_twisted
from twisted.internet.task import Clock

from blackjack.server.storage import IStorage
from blackjack.server.storage.roles import _parser, run

from test_sqlite import RELEASE_1
from test_storage import clock, database, new_account, store, timed  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parent.parent


async def command(storage: IStorage, *argv: str) -> tuple[int, str]:
    """Run one command line on ``storage``: its exit status and what it printed."""
    args: argparse.Namespace = _parser().parse_args(["--db", "unused", *argv])
    out = io.StringIO()
    status = await run(storage, args, out)
    return status, out.getvalue()


@pytest_twisted.ensureDeferred
async def test_grant_revoke_list_and_log(store: IStorage, clock: Clock) -> None:
    """grant makes an admin, list shows the admins, revoke undoes it, and log shows both
    acts, newest first, by the host."""
    await new_account(store, "Alice")
    await new_account(store, "bob")
    assert await command(store, "grant", "alice") == (0, "Alice is now an admin\n")
    assert await command(store, "grant", "BOB") == (0, "bob is now an admin\n")
    assert await command(store, "list") == (0, "Alice\nbob\n")
    clock.advance(60)
    assert await command(store, "revoke", "bob") == (0, "bob is now a player\n")
    assert await command(store, "list") == (0, "Alice\n")
    status, log = await command(store, "log", "--last", "2")
    assert status == 0
    assert log.splitlines() == [
        "    3  1970-01-01 00:01:00Z  host: role bob role=player",
        "    2  1970-01-01 00:00:00Z  host: role BOB role=admin"]


@pytest_twisted.ensureDeferred
async def test_an_unknown_name_changes_nothing(store: IStorage) -> None:
    """Granting to a name nobody has exits 1 and records no act."""
    assert (await command(store, "grant", "nobody"))[0] == 1
    assert await timed(store.admin_acts()) == []


def test_the_module_runs_on_a_file(tmp_path: Path) -> None:
    """``python -m blackjack.server.admin`` upgrades a first-release file and makes its
    account an admin; a database that cannot be opened exits 2 saying why."""
    db = tmp_path / "room.sqlite3"
    db.write_bytes(RELEASE_1.read_bytes())
    granted = subprocess.run([sys.executable, "-m", "blackjack.server.admin", "--db", str(db),
                              "grant", "ann"], capture_output=True, text=True, cwd=REPO,
                             timeout=60)
    assert (granted.returncode, granted.stdout) == (0, "Ann is now an admin\n"), granted.stderr
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT name FROM accounts WHERE role = 'admin'").fetchall() \
            == [("Ann",)]
    connection.close()
    missing = subprocess.run([sys.executable, "-m", "blackjack.server.admin", "--db",
                              str(tmp_path / "no" / "such.db"), "list"],
                             capture_output=True, text=True, cwd=REPO, timeout=60)
    assert missing.returncode == 2 and "cannot use" in missing.stderr
