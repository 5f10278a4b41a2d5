"""What the public saw, live: the open-workload reads against the reference server, and a
rehearsal catching the Ottawa failure (uploads and reads exhausting the target together).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
RELEASE = ["central.release_policy=batches", 'central.release_times=["20:30"]',
           "demand.public_views_per_s=10", "demand.release_peak=30", "live.end=21:30"]


def rehearse(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    proc = subprocess.run([sys.executable, "-c", CLI, "run", "smoke", "--out", str(out),
                           "--band-runs", "0", *args], capture_output=True, text=True,
                          timeout=300, check=False)
    (run_dir,) = out.iterdir()
    return proc, run_dir


def test_reads_are_aggregated_and_the_ottawa_failure_is_named(tmp_path: Path) -> None:
    # The reference server's Ottawa fault (docs/contract.md): 100 units of work a second
    # shared by the chairs' uploads (3 each) and the public's reads (1 each), a request
    # refused after waiting 1 s for its turn; the surge after the 20:30 release brings 300
    # reads a second.
    sets = [f"--set={s}" for s in RELEASE]
    proc, run_dir = rehearse(tmp_path / "ottawa", *sets, "--speed", "300",
                             "--server-fault", "shared-capacity:100:1s")
    assert proc.returncode in (0, 1, 4), proc.stdout + proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    public = summary["public"]
    release = next(w for w in public["windows"] if w["window"] == "release 1")
    outside = next(w for w in public["windows"] if w["window"] == "outside the surges")
    assert release["reads_failed"] >= 0.05 * release["reads_due"] > 0
    assert outside["reads_failed"] <= 0.01 * outside["reads_due"]
    assert release["chair_write_p95_ms"] >= 2 * outside["chair_write_p95_ms"]
    text = next(f for f in summary["findings"] if "release 1" in f)
    assert "reads of the public" in text and "Ottawa" in text
    # No line per read: the events are the chairs', operators' and callers' only.
    events = (run_dir / "events.jsonl").read_text().splitlines()
    assert all(json.loads(e)["actor"] in ("chair", "operator", "caller", "adversary")
               for e in events)
    reads = [json.loads(x) for x in (run_dir / "reads.jsonl").read_text().splitlines()]
    assert sum(r["due"] for r in reads) == public["reads_due"] > 1000
    for name in ("public_demand", "public_latency", "public_staleness", "public_writes"):
        assert (run_dir / "charts" / f"{name}.png").is_file()
