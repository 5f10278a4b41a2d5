"""The time semantics of a live run (docs/time.md), end to end on the reference server.

The same scenario, seed and healthy target give the same behaviour per unit (the channel
it reported through, the channels it gave up, its hotline calls and answers) at any
speed, and against a target that answers 300 ms later: the target's response time is
real on the modelled clock, not multiplied by the speed, and lateness is never acted on.
"""

from __future__ import annotations

import itertools
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
    made, calls answered), and the summary (with the run directory as ``_dir``)."""
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
    summary["_dir"] = str(run_dir)
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
    # The report states the latency it measured (at least the 300 ms the target waits)...
    p95 = next(g for g in laggy_summary["gates"] if g["metric"] == "p95_latency_ms")
    assert p95["value"] >= 300
    assert laggy_summary["schedule_fidelity"]["late_target_p99_ms"] is not None
    assert fast_summary["verdict"] != "fail"
    # ...and each reply moved its chair's modelled timeline on by its real duration, one to
    # one: the next step is due one think time plus that reply's latency later, never the
    # latency times the speed (18 s of the night for 300 ms at speed 300).
    run_dir = Path(laggy_summary["_dir"])
    think = {p["unit_id"]: p["think_time_min"] for p in
             map(json.loads, (run_dir / "plan.jsonl").read_text().splitlines())}
    steps: dict[str, list[dict[str, Any]]] = {}
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        e = json.loads(line)
        if e["actor"] == "chair" and e["channel"] == "app" and "latency_ms" in e:
            steps.setdefault(e["unit_id"], []).append(e)
    pairs = [(a, b) for evs in steps.values() for a, b in itertools.pairwise(evs)
             if a["outcome"] == "ok"]
    assert len(pairs) > 50
    for a, b in pairs:
        expected = think[a["unit_id"]] + a["latency_ms"] / 60_000
        assert abs((b["sim_min"] - a["sim_min"]) - expected) < 5e-4, (a, b)
