"""iowa-2020 at election-night demand, in one run of three rehearsals (prints figures;
asserts nothing):

1. ``rehearse run iowa-2020 --speed 600 --workers 2`` at the bundled demand: the reads
   per surge (due, served, dropped, failed, p99, staleness), whether the reference server
   held the peak, and the chairs' send lag (schedule fidelity);
2. the same with ``--demand-factor`` times the page views (default 4): the run
   directory's size must not follow the number of reads;
3. the same without any reader: the chairs' send lag p99 must not be worse with the
   readers beside them (the baseline).

    python benchmarks/bench_scale_runs.py [--speed 600] [--workers 2] [--demand-factor 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from caucus_rehearsal.simulator.loader import load_scenario

CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
RECORDS = ("scenario.toml", "run.json", "roster.json", "truth.jsonl", "plan.jsonl",
           "events.jsonl", "snapshots.jsonl", "reads.jsonl", "audit.jsonl")
"""The run directory's records (not the server's database, logs or the report)."""


def rehearse(out: Path, speed: str, workers: int, *sets: str) -> tuple[Path, float, int]:
    t = time.time()
    proc = subprocess.run([sys.executable, "-c", CLI, "run", "iowa-2020", "--speed", speed,
                           "--workers", str(workers), "--band-runs", "0", "--out", str(out),
                           *(f"--set={s}" for s in sets)],
                          capture_output=True, text=True, check=False)
    (run_dir,) = out.iterdir()
    return run_dir, time.time() - t, proc.returncode


def size(run_dir: Path) -> dict[str, int]:
    return {n: (run_dir / n).stat().st_size for n in RECORDS if (run_dir / n).exists()}


def show(title: str, run_dir: Path, took: float, code: int) -> dict[str, Any]:
    s: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    pub, fid = s["public"], s["schedule_fidelity"]
    sizes = size(run_dir)
    print(f"{title}: exit {code}, verdict {s['verdict']}, {took:.0f} s wall")
    print(f"  reads due {pub['reads_due']}, served {pub['reads_served']}, dropped "
          f"{pub['reads_dropped']}, failed {pub['reads_failed']}, p99 {pub['read_p99_ms']} ms, "
          f"staleness p99 {pub['staleness_p99_s']} s, generator late p99 "
          f"{pub['generator_late_p99_ms']} ms")
    for w in pub["windows"]:
        print(f"    {w['window'][:48]:<48} {w['from'] or '':>8}-{w['to'] or '':<8} due "
              f"{w['reads_due']:7d} served {w['reads_served']:7d} dropped {w['reads_dropped']:5d}"
              f" failed {w['reads_failed']:5d} p99 {w['read_p99_ms']} ms stale p99 "
              f"{w['staleness_p99_s']} s chair writes p95 {w['chair_write_p95_ms']} ms")
    print(f"  chairs' send lag p50 {fid['late_p50_ms']} ms, p99 {fid['late_p99_ms']} ms "
          f"({fid['attempts']} requests); faithful {fid['faithful']}; reads delivered "
          f"{fid['reads_delivered']}")
    print(f"  run directory records {sum(sizes.values()) / 1e6:.2f} MB: "
          + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in sizes.items() if v > 10_000))
    return {"summary": s, "bytes": sum(sizes.values()), "reads": pub["reads_due"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--speed", default="600")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--demand-factor", type=float, default=4.0)
    args = p.parse_args()
    bundled = load_scenario("iowa-2020").demand.public_views_per_s
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        base = show("iowa-2020 at the bundled demand",
                    *rehearse(work / "a", args.speed, args.workers))
        more = show(f"iowa-2020 at {args.demand_factor:g}x the page views",
                    *rehearse(work / "b", args.speed, args.workers,
                              f"demand.public_views_per_s={bundled * args.demand_factor:g}"))
        none = show("iowa-2020 without readers",
                    *rehearse(work / "c", args.speed, args.workers,
                              "demand.public_views_per_s=0", "demand.media_pollers=0"))
    print("run directory size, bundled demand vs "
          f"{args.demand_factor:g}x: {base['bytes'] / 1e6:.2f} MB ({base['reads']} reads) vs "
          f"{more['bytes'] / 1e6:.2f} MB ({more['reads']} reads): size ratio "
          f"{more['bytes'] / base['bytes']:.3f} for a reads ratio "
          f"{more['reads'] / max(1, base['reads']):.2f}")
    with_r = base["summary"]["schedule_fidelity"]["late_p99_ms"]
    without = none["summary"]["schedule_fidelity"]["late_p99_ms"]
    print(f"chairs' send lag p99: with the readers {with_r} ms, without {without} ms "
          f"(ratio {with_r / without:.2f}; must not be worse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
