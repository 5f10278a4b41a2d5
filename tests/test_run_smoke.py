"""``rehearse run scenarios/smoke.toml``: the main job end to end, as CI runs it.

Each test starts the real reference server and a real Locust subprocess on loopback
(bounded by the scenario's end; smoke plays about 40 s of wall time at most).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RUN_FILES = ("scenario.toml", "run.json", "roster.json", "truth.jsonl", "plan.jsonl",
             "events.jsonl", "snapshots.jsonl", "audit.jsonl", "reads.jsonl", "locust_stats.csv",
             "summary.json", "report.html", "precincts.csv")


def rehearse(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    code = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def only_run_dir(out: Path) -> Path:
    (run_dir,) = out.iterdir()
    return run_dir


def test_smoke_run_passes_with_a_complete_run_directory(
        tmp_path: Path, target_passed: Callable[..., None]) -> None:
    proc = rehearse("run", "scenarios/smoke.toml", "--out", str(tmp_path), "--band-runs", "5")
    assert proc.returncode in (0, 4), proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path)
    for name in (*RUN_FILES, "band.json"):
        assert (run_dir / name).is_file(), name
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete" and run["reference_server"] is True
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    units = {x["unit_id"] for x in (json.loads(y) for y in
                                    (run_dir / "truth.jsonl").read_text().splitlines())}
    acked = {e["unit_id"] for e in events if e["outcome"] == "ok"
             and (e["channel"], e["step"]) in {("app", "final"), ("hotline", "report")}}
    assert len(acked) >= 0.9 * len(units)
    assert "chair" in {e["actor"] for e in events}
    # The public's reads are aggregated, not one line each.
    reads = [json.loads(x) for x in (run_dir / "reads.jsonl").read_text().splitlines()]
    assert sum(r["ok"] for r in reads) > 50 and "reader" not in {e["actor"] for e in events}
    for e in events:
        if "sent_wall" in e and "latency_ms" in e:
            assert e["sent_wall"] >= e["intended_wall"] - 0.001  # never sent early
            assert e["request_id"]
    summary = json.loads((run_dir / "summary.json").read_text())
    target_passed(summary, proc.returncode)
    assert summary["zero_state"]["errors"] == 0 and summary["zero_state"]["units_listed"] == 40
    assert set(summary["integrity"]["metrics"].values()) == {0}, summary["integrity"]
    assert summary["schedule_fidelity"]["arrival_lag_p50_ms"] is not None
    assert f"verdict: {summary['verdict'].upper()}" in proc.stdout


def test_incomplete_output_fault_fails_and_counts_what_was_lost(tmp_path: Path) -> None:
    proc = rehearse("run", "smoke", "--out", str(tmp_path), "--band-runs", "0",
                    "--server-fault", "incomplete-output")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    acked = {e["unit_id"] for e in events if e["outcome"] == "ok"
             and (e["channel"], e["step"]) in {("app", "final"), ("hotline", "report")}}
    assert acked and summary["data_loss"] == len(acked)  # every acknowledged unit went missing
    assert summary["verdict"] == "fail"
    assert json.loads((run_dir / "run.json").read_text())["server_faults"] == [
        "incomplete-output"]


def test_unreachable_target_is_one_line_and_exit_3(tmp_path: Path) -> None:
    proc = rehearse("run", "smoke", "--out", str(tmp_path), "--band-runs", "0",
                    "--target", "http://127.0.0.1:9", timeout=60)
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1 and "127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args,words", [
    (["--speed", "0"], "--speed"),
    (["--server-fault", "nonsense"], "nonsense"),
    (["--adapter", "nocolon"], "module:Class"),
])
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    proc = rehearse("run", "smoke", "--out", str(tmp_path), *args, timeout=60)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())  # nothing started, nothing written
