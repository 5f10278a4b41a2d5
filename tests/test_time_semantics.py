"""The time semantics of a live run (docs/time.md), end to end on the reference server.

The same scenario, seed and healthy target give the same behaviour per unit (the channel
it reported through, the channels it gave up, its hotline calls and answers) at any
speed, and against a target that answers 300 ms later: the target's response time is
real on the modelled clock, not multiplied by the speed, and lateness is never acted on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
FINAL = {("app", "final"), ("hotline", "report"), ("paper", "delivered")}


def behaviour(out: Path, *args: str) -> tuple[dict[str, tuple[Any, ...]], dict[str, Any]]:
    """Run smoke to 21:30 with ``args``; per unit (ack channel, channels given up, calls
    made, calls answered), and the summary."""
    proc = subprocess.run(
        [sys.executable, "-c", CLI, "run", "smoke", "--out", str(out), "--band-runs", "0",
         "--set", "live.end=21:30", *args],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1, 4), proc.stdout + proc.stderr
    (run_dir,) = out.iterdir()
    per: dict[str, dict[str, Any]] = {}
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        e = json.loads(line)
        if e["actor"] not in ("chair", "operator", "caller"):
            continue
        u = per.setdefault(e["unit_id"], {"ack": "", "gave_up": set(), "calls": 0,
                                          "answered": 0})
        if (e["channel"], e["step"]) in FINAL and e["outcome"] == "ok":
            u["ack"] = e["channel"]
        if e["outcome"] == "gave_up":
            u["gave_up"].add(e["channel"])
        u["calls"] += e["step"] == "call"
        u["answered"] += e["outcome"] == "answered"
    summary = json.loads((run_dir / "summary.json").read_text())
    return ({uid: (u["ack"], tuple(sorted(u["gave_up"])), u["calls"], u["answered"])
             for uid, u in per.items()}, summary)


def differ(a: dict[str, tuple[Any, ...]], b: dict[str, tuple[Any, ...]]) -> list[str]:
    return sorted(u for u in set(a) | set(b) if a.get(u) != b.get(u))


def test_behaviour_is_the_same_at_any_speed_and_with_a_slower_target(tmp_path: Path) -> None:
    fast, fast_summary = behaviour(tmp_path / "600", "--speed", "600")
    slow, _ = behaviour(tmp_path / "300", "--speed", "300")
    laggy, laggy_summary = behaviour(tmp_path / "300-latency", "--speed", "300",
                                     "--server-fault", "latency:300ms")
    assert len(fast) >= 35 and {b[0] for b in fast.values()} >= {"app", "hotline"}
    assert differ(fast, slow) == []
    assert differ(slow, laggy) == []
    # The report states the latency it measured: 300 ms, not 300 ms times the speed.
    p95 = next(g for g in laggy_summary["gates"] if g["metric"] == "p95_latency_ms")
    assert 300 <= p95["value"] < 1500
    fid = laggy_summary["schedule_fidelity"]
    assert fid["late_target_p99_ms"] is not None
    assert fast_summary["verdict"] != "fail"
