"""The operator's books check: ``python -m blackjack.server.storage.audit --db FILE``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted

from blackjack.server.storage.audit import audit_file, main
from blackjack.server.storage.sqlite import SQLiteStorage

from conftest import wait

REPO = Path(__file__).resolve().parent.parent


async def played(db: Path) -> None:
    """A database where alice won a round, bob lost one, and carol has a stake held."""
    storage = SQLiteStorage(str(db))
    try:
        alice = await wait(storage.create_account("alice", "h", 100))
        bob = await wait(storage.create_account("bob", "h", 50))
        carol = await wait(storage.create_account("carol", "h", 20))
        await wait(storage.stake(alice.id, "r1", "bet", 10))
        await wait(storage.stake(bob.id, "r1", "bet", 20))
        await wait(storage.settle("r1", {alice.id: 20, bob.id: 0}))
        await wait(storage.stake(carol.id, "r2", "bet", 5))
    finally:
        await wait(storage.close())


def tamper(db: Path, sql: str) -> None:
    """Change the file behind the server's back, as a bug or a hand editor might."""
    connection = sqlite3.connect(db)
    with connection:
        connection.execute(sql)
    connection.close()


@pytest_twisted.ensureDeferred
async def test_a_clean_database_is_reported_balanced(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The report gives issued, balances, escrow and house net, says balanced, and exits 0."""
    db = tmp_path / "bj.sqlite3"
    await played(db)
    assert main(["--db", str(db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out[:4]] == [
        ["issued", "170"], ["balances", "155"], ["escrow", "5"], ["house", "net"]]
    assert out[3].split()[-1] == "10"
    assert out[-1] == "balanced"


@pytest_twisted.ensureDeferred
async def test_chips_created_out_of_thin_air_are_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A balance changed without a ledger entry unbalances the books and names the account."""
    db = tmp_path / "bj.sqlite3"
    await played(db)
    tamper(db, "UPDATE accounts SET balance = balance + 7 WHERE name = 'bob'")
    assert main(["--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert ("UNBALANCED: balances + escrow + house net = 177, but 170 were issued"
            " (off by +7)") in out
    assert "account 2 (bob): balance 37 + escrow 0 != issued 50 + settled net -20" in out
    assert "account 2 (bob): ledger sums to 30, balance is 37" in out


@pytest_twisted.ensureDeferred
async def test_escrow_stranded_in_a_closed_round_is_reported(tmp_path: Path) -> None:
    """A stake still held for a round already settled is a discrepancy even if totals agree."""
    db = tmp_path / "bj.sqlite3"
    await played(db)
    tamper(db, "UPDATE rounds SET state = 'settled' WHERE round_id = 'r2'")
    result = audit_file(str(db))
    assert result.books.balanced
    assert result.discrepancies == ["round r2 is closed but holds 5 chips in escrow"]


@pytest_twisted.ensureDeferred
async def test_the_storage_runs_the_same_audit(tmp_path: Path) -> None:
    """SQLiteStorage.audit() agrees with books() and sees carol's stake held for round r2."""
    db = tmp_path / "bj.sqlite3"
    await played(db)
    storage = SQLiteStorage(str(db))
    try:
        result = await wait(storage.audit())
        assert result.books == await wait(storage.books())
        assert result.balanced and result.held_by_round == {"r2": 5}
        carol = result.accounts[2]
        assert (carol.name, carol.balance, carol.held, carol.issued) == ("carol", 15, 5, 20)
    finally:
        await wait(storage.close())


def test_a_missing_file_is_an_error_and_is_not_created(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Auditing a path with no database exits 2 and leaves no empty file behind."""
    db = tmp_path / "missing.sqlite3"
    assert main(["--db", str(db)]) == 2
    assert "cannot audit" in capsys.readouterr().err
    assert not db.exists()


@pytest_twisted.ensureDeferred
async def test_the_module_runs_as_a_command(tmp_path: Path) -> None:
    """``python -m blackjack.server.storage.audit`` prints the report and exits with its status."""
    db = tmp_path / "bj.sqlite3"
    await played(db)
    done = subprocess.run([sys.executable, "-m", "blackjack.server.audit", "--db", str(db)],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert (done.returncode, done.stdout.splitlines()[-1]) == (0, "balanced"), done.stderr
