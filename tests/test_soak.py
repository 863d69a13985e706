"""scripts/soak.py, run end to end for a few seconds (two kills, two short attacks), so it does not rot."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _battery() -> ModuleType:
    """Import ``scripts/battery.py`` (scripts/ is not a package; it imports loadtest from there)."""
    if "battery" in sys.modules:
        return sys.modules["battery"]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location("battery", ROOT / "scripts" / "battery.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["battery"] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return module


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_kills_and_two_attacks_report_and_clean_up(tmp_path: Path) -> None:
    """Two SIGKILLs mid-round lose no chip and leave escrow empty after each restart; two
    short attacks report RSS, closure, latency and a verdict; no server or file outlives it."""
    out = tmp_path / "soak.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "scripts/soak.py", "--spawn", "--kills", "2", "--bots", "7",
         "--pause", "0.5", "--attack", "iac-nop", "--attack", "small",
         "--duration", "2", "--scale", "0.02", "--baseline", "0.5", "--settle", "0.2",
         "--quiet", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # 1 means an attack found a hole: expected until every fix of issue 9 is in.
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())

    soak = report["soak"]
    assert soak["ok"], soak
    assert (soak["kills"], soak["chips_lost_or_created"], soak["escrow_after_recovery_nonzero"]) \
        == (2, 0, 0)
    assert soak["audits"]["run"] == soak["audits"]["balanced"] == 4  # 3 starts + after the stop
    assert soak["refunded"] == soak["escrow_at_kills"]

    attacks = {r["name"]: r for r in report["attacks"]}
    assert set(attacks) == {"iac-nop", "small"}
    for result in attacks.values():
        assert result["verdict"] in ("PASS", "FAIL"), result
        assert None not in result["rss_mb"].values()
        assert result["help"]["count"] > 0
    nop = attacks["iac-nop"]
    assert nop["attacker"]["connections"] == 15
    assert nop["check"]["detail"]["bytes_sent"] > 0
    assert set(attacks["small"]["check"]["detail"]) == {
        "register John Smith", "4-character password", "5,000-digit bet"}

    assert report["pids"] and not any(_alive(pid) for pid in report["pids"])
    assert not Path(report["workdir"]).exists()
    assert "SIGKILL soak" in done.stdout and "small" in done.stdout


def _result(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"rss_mb": {"before": 50.0, "peak": 60.0, "after": 55.0},
                            "help": {"p50_ms": 0.5, "p99_ms": 2.0},
                            "attacker": {"connections": 2, "closed": 2}}
    return {**base, **fields}


def test_a_verdict_fails_on_each_target_it_names() -> None:
    """An attack fails on 50 MB of RSS growth, a 50 ms help p99, an attacker left open or a
    failed check, and passes when none of these happened."""
    judge = _battery().judge
    cases = {
        "pass": (_result(), "PASS"),
        "memory": (_result(rss_mb={"before": 50.0, "peak": 100.0, "after": 60.0}), "FAIL"),
        "latency": (_result(help={"p50_ms": 0.5, "p99_ms": 50.0}), "FAIL"),
        "open": (_result(attacker={"connections": 2, "closed": 1}), "FAIL"),
        "check": (_result(check={"passed": False, "summary": "let in", "detail": {}}), "FAIL"),
    }
    for name, (result, verdict) in cases.items():
        judge(result, must_close=True)
        assert result["verdict"] == verdict, (name, result)
    lenient = _result(attacker={"connections": 2, "closed": 1})
    judge(lenient, must_close=False)
    assert lenient["verdict"] == "PASS"
