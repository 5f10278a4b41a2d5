"""How long ``build_report`` takes on an Iowa-sized run directory, against the floor.

The floor (baseline, same run) is parsing every JSONL line of the directory with
``json.loads``, which any report must do. Prints both times and their ratio.

    python benchmarks/report_build.py [--units 1765] [--snapshots 240] [--events-per-unit 8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from caucus_rehearsal.reports import build_report

CANDS = ("Buttigieg", "Sanders", "Warren", "Biden", "Klobuchar", "Yang")


def make_run(path: Path, units: int, snapshots: int, per_unit: int, seed: int = 1) -> None:
    """A synthetic complete run: every unit acknowledged, 2% lost by the target."""
    rng = np.random.default_rng(seed)
    t0 = 1_790_000_000.0
    truth, events = [], []
    ack_min = np.sort(rng.uniform(30, 300, units))
    for i in range(units):
        first = rng.multinomial(int(rng.integers(10, 400)), [0.25, 0.25, 0.19, 0.15, 0.12, 0.04])
        dels = rng.multinomial(4, [0.3, 0.3, 0.2, 0.1, 0.05, 0.05])
        tally = {"attendance": int(first.sum()),
                 "first": dict(zip(CANDS, map(int, first), strict=True)),
                 "final": dict(zip(CANDS, map(int, first), strict=True)),
                 "delegates": dict(zip(CANDS, map(int, dels), strict=True)),
                 "sde": {c: round(float(d) * 0.18, 4) for c, d in zip(CANDS, dels, strict=True)}}
        uid = f"IA-{i:04d}"
        truth.append({"unit_id": uid, "county": f"C{i % 99}", "precinct": f"P{i}",
                      "satellite": False, "delegates_total": 4, "coin_toss": False,
                      "tally": tally})
        for k in range(per_unit):
            m = float(ack_min[i]) - (per_unit - 1 - k) * 0.5
            step = "report" if k == per_unit - 1 else "call"
            ev = {"unit_id": uid, "actor": "operator" if step == "report" else "caller",
                  "channel": "hotline", "step": step, "attempt": k + 1,
                  "intended_wall": t0 + m * 0.1, "sent_wall": t0 + m * 0.1 + 0.001,
                  "latency_ms": float(rng.lognormal(2, 0.5)), "status": 201,
                  "outcome": "ok" if step == "report" else "answered", "sim_min": m,
                  "request_id": f"{uid}-{k}", "worker": 0, "detail": ""}
            if step == "report":
                ev["payload"] = {k2: v for k2, v in tally.items() if k2 != "sde"}
            else:
                ev.update(wait_min=float(rng.exponential(5)), queue_len=int(rng.integers(0, 9)))
                del ev["latency_ms"]
            events.append(ev)
    lost = set(rng.choice(units, units // 50, replace=False).tolist())
    path.mkdir(parents=True)
    (path / "scenario.toml").write_text('gates = ["data_loss == 0", "p95_latency_ms <= 2000"]\n'
                                        '[scenario]\nname = "bench"\n')
    (path / "run.json").write_text(json.dumps({"scenario": "bench", "status": "complete"}))
    for name, rows in (("truth", truth), ("plan", []), ("events", events)):
        with (path / f"{name}.jsonl").open("w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
    with (path / "snapshots.jsonl").open("w") as fh:
        for minute in np.linspace(0, 330, snapshots):
            shown = {t["unit_id"]: t["tally"] for i, t in enumerate(truth)
                     if ack_min[i] <= minute and i not in lost}
            fh.write(json.dumps({"sim_min": float(minute), "status": 200, "results": {
                "precincts_total": units, "precincts_reporting": len(shown),
                "statewide": {}, "precincts": shown}}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=1765)
    ap.add_argument("--snapshots", type=int, default=240)
    ap.add_argument("--events-per-unit", type=int, default=8)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        make_run(run, a.units, a.snapshots, a.events_per_unit)
        size = sum(p.stat().st_size for p in run.iterdir()) / 1e6
        t = time.perf_counter()
        for p in sorted(run.glob("*.jsonl")):
            with p.open() as fh:
                for line in fh:
                    json.loads(line)
        floor = time.perf_counter() - t
        t = time.perf_counter()
        out = build_report(run)
        took = time.perf_counter() - t
    print(f"run directory: {a.units} units, {a.snapshots} snapshots, {size:.0f} MB")
    print(f"parse floor (json.loads of every line): {floor:.2f} s")
    print(f"build_report: {took:.2f} s  (verdict {out.verdict}, "
          f"{out.reconciliation.counts['acknowledged_not_published']} lost)")
    print(f"ratio build_report / parse floor: {took / floor:.2f}")


if __name__ == "__main__":
    main()
