"""Tests for blackjack.verify: a shoe record checked card for card, and every kind of tampering."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from blackjack.errors import RecordError
from blackjack.verify import ShoeRecord, main, verify
from engine_helpers import ROOT

VECTORS = json.loads((ROOT / "docs" / "fair-vectors.json").read_text(encoding="utf-8"))
RECORD: dict[str, Any] = VECTORS["records"][0]["record"]
"""A one-deck shoe played by four seats to its cut card, with a mid-round reshuffle."""


def _check(edit: Callable[[dict[str, Any]], object] | None = None) -> tuple[bool, str]:
    record = copy.deepcopy(RECORD)
    if edit is not None:
        edit(record)
    report = verify(ShoeRecord.from_dict(record))
    return report.ok, "\n".join(report.lines())


def test_the_record_checks_out_card_for_card_across_a_reshuffle_and_four_seats() -> None:
    """Every card of every round is the shoe's, position by position, reshuffle included."""
    assert len({seat for r in RECORD["rounds"] for seat in r["bets"]}) == 4
    ok, text = _check()
    assert ok, text
    report = verify(ShoeRecord.from_dict(RECORD))
    positions = [position for position, _, _ in report.cards]
    assert positions == list(range(1, 1 + sum(len(r["cards"]) for r in RECORD["rounds"])))
    assert [card for _, card, _ in report.cards] == [c for r in RECORD["rounds"]
                                                     for c in r["cards"]]
    assert "reshuffled with nonce 1" in text
    assert text.endswith("dealt from this shoe, in order")


def test_a_wrong_seed_is_reported() -> None:
    """A revealed seed that is not the committed one fails before any card is checked."""
    ok, text = _check(lambda r: r.update(server_seed="00" * 32))
    assert not ok and "is not the one committed to" in text


def test_a_moved_cut_card_is_named() -> None:
    """Editing the cut in the record is reported as a moved cut card, with both positions."""
    ok, text = _check(lambda r: r.update(cut=r["cut"] - 5))
    assert not ok
    assert f"the cut card was moved: the record says {RECORD['cut'] - 5}, " \
           f"the commitment is for {RECORD['cut']}" in text


def test_a_swapped_card_is_reported_with_its_position() -> None:
    """Two cards swapped between seats are each reported where the shoe differs."""
    def swap(record: dict[str, Any]) -> None:
        cards = record["rounds"][1]["cards"]
        cards[0], cards[1] = cards[1], cards[0]
    ok, text = _check(swap)
    first = RECORD["rounds"][1]["first"]
    assert not ok
    assert f"round vector-2, card {first}: the record says {RECORD['rounds'][1]['cards'][1]}" \
        in text
    assert f"card {first + 1}: the record says {RECORD['rounds'][1]['cards'][0]}" in text


def test_an_edited_payout_or_decision_is_reported() -> None:
    """A payout raised after the fact, or a decision changed, no longer replays as recorded."""
    ok, text = _check(lambda r: r["rounds"][0]["outcome"]["hands"][0].update(payout=999))
    assert not ok and "the record says payout 999, the rules give" in text

    def change(record: dict[str, Any]) -> None:
        decision = record["rounds"][2]["decisions"][0]
        decision["action"] = "stand" if decision["action"] != "stand" else "hit"
    ok, text = _check(change)
    assert not ok and "round vector-3" in text


def test_a_round_left_out_is_reported() -> None:
    """Dropping a round from the record shifts the next round's first card: reported."""
    ok, text = _check(lambda r: r["rounds"].pop(1))
    assert not ok
    assert "the record puts its first card at card" in text


def test_a_round_dealt_past_the_cut_card_is_reported() -> None:
    """A shoe retired early for 'cut card' or dealt past its cut is caught either way."""
    ok, text = _check(lambda r: r["rounds"].pop())
    assert not ok and "before its cut card" in text
    ok, text = _check(lambda r: r.update(retired="table closed") or r["rounds"].pop())
    assert ok and "table closed" in text


def test_a_client_seed_not_made_from_the_players_seeds_is_reported() -> None:
    """Changing one player's seed text breaks the client seed's derivation."""
    ok, text = _check(lambda r: r["seeds"][0].update(seed="something else"))
    assert not ok and "is not the hash of the players' seeds" in text


@pytest.mark.parametrize("edit", [
    lambda r: r.pop("commitment"), lambda r: r.update(scheme="other/2"),
    lambda r: r.update(rounds="none"), lambda r: r["rounds"][0].update(cards=["ZZ"]),
    lambda r: r["rounds"][0]["decisions"][0].update(by="ghost"),
    lambda r: r.update(retired="bored"),
])
def test_an_unreadable_record_is_a_record_error(edit: Callable[[dict[str, Any]], object]) -> None:
    """A member missing or of the wrong kind raises RecordError saying which."""
    record = copy.deepcopy(RECORD)
    edit(record)
    with pytest.raises(RecordError):
        ShoeRecord.from_dict(record)


def test_the_record_round_trips_through_json() -> None:
    """to_dict gives back the JSON form read by from_dict."""
    assert ShoeRecord.from_dict(RECORD).to_dict() == RECORD


def test_command_line_exit_codes(tmp_path: Path) -> None:
    """python -m blackjack.verify exits 0 verified, 1 with problems, 2 unreadable."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps(RECORD))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**RECORD, "cut": RECORD["cut"] + 1}))
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    out = io.StringIO()
    assert main([str(good), "--cards"], out) == 0
    assert "card   1  " in out.getvalue() and "VERIFIED" in out.getvalue()
    assert main([str(bad)], io.StringIO()) == 1
    out = io.StringIO()
    assert main([str(junk)], out) == 2 and "cannot check" in out.getvalue()
    assert main([str(tmp_path / "missing.json")], io.StringIO()) == 2


def test_the_module_runs_as_a_program(tmp_path: Path) -> None:
    """`python -m blackjack.verify FILE` runs the check from the shell."""
    import subprocess
    import sys
    path = tmp_path / "shoe.json"
    path.write_text(json.dumps(RECORD))
    done = subprocess.run([sys.executable, "-m", "blackjack.verify", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "VERIFIED" in done.stdout


def test_the_card_rooms_event_and_reply_are_read_as_the_record(tmp_path: Path) -> None:
    """A saved shoe_record event, or the v1 reply carrying it, checks as the record itself."""
    event = {"event": "shoe_record", "shoe": RECORD["shoe"], "table": "main",
             "commitment": RECORD["commitment"], "retired": "cut card", "record": RECORD}
    for saved in (event, {"id": 3, "ok": True, "result": event}):
        path = tmp_path / "saved.json"
        path.write_text(json.dumps(saved))
        assert main([str(path)], io.StringIO()) == 0
    path.write_text(json.dumps({**event, "record": None, "retired": None}))
    out = io.StringIO()
    assert main([str(path)], out) == 2 and "still deals" in out.getvalue()
