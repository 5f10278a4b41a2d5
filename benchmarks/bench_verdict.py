"""The verdict is a function of the target: the same night at two speeds and on a busy
machine (issue "A verdict you can trust"; prints the figures, asserts nothing).

Runs ``rehearse run SCENARIO`` against the bundled server, same seed:

1. at ``--fast`` (default 600) on this machine as it is;
2. at ``--slow`` (default 150);
3. at ``--fast`` again with ``--busy`` CPU-bound processes beside it (default 2), repeated
   ``--loaded-runs`` times;

and prints each run's verdict (and why), its lateness, and per unit whether its behaviour
agreed with run 1: the channel it reported through, the channels it gave up, its hotline
calls and answers. Then the ``rehearse simulate`` p5-p95 band of the app share against the
live app share. Optionally (``--latency``) the same scenario at speed 60 against the
server with a fixed 300 ms latency fault and without.

    python benchmarks/bench_verdict.py [--scenario well-prepared] [--fast 600] [--slow 150]
        [--busy 2] [--loaded-runs 1] [--end 02:00+1d] [--latency]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
FINAL = {("app", "final"), ("hotline", "report"), ("paper", "delivered")}


def run(out: Path, scenario: str, speed: float, end: str | None, busy: int = 0,
        extra: tuple[str, ...] = ()) -> tuple[dict[str, tuple[Any, ...]], dict[str, Any]]:
    """One rehearsal; per unit (ack channel, channels given up, calls, answers), summary."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        args = [sys.executable, "-c", CLI, "run", scenario, "--speed", str(speed),
                "--out", str(out), "--band-runs", "0", *extra]
        if end:
            args += ["--set", f"live.end={end}"]
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    if proc.returncode not in (0, 1, 4):
        raise SystemExit(f"rehearse run failed ({proc.returncode}): {proc.stderr.strip()}")
    (run_dir,) = out.iterdir()
    per: dict[str, dict[str, Any]] = {}
    with (run_dir / "events.jsonl").open() as fh:
        for line in fh:
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
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return ({uid: (u["ack"], tuple(sorted(u["gave_up"])), u["calls"], u["answered"])
             for uid, u in per.items()}, summary)


def describe(title: str, units: dict[str, tuple[Any, ...]], summary: dict[str, Any],
             base: dict[str, tuple[Any, ...]] | None) -> None:
    fid = summary["schedule_fidelity"]
    acks: dict[str, int] = {}
    for b in units.values():
        acks[b[0] or "none"] = acks.get(b[0] or "none", 0) + 1
    print(f"{title}: verdict {summary['verdict'].upper()} (exit {summary['exit_code']});"
          f" acknowledged {acks}")
    for reason in summary["inconclusive_reasons"]:
        print(f"    why: {reason}")
    print(f"    lateness p50 {fid['late_p50_ms']} ms, p99 {fid['late_p99_ms']} ms"
          f" = {fid['late_p99_min']} simulated min (waiting for the target p99"
          f" {fid['late_target_p99_ms']} ms); hotline calls {fid['hotline_calls']},"
          f" taken late {fid['hotline_late']}; highest faithful speed"
          f" {fid['max_faithful_speed']}")
    if base is not None:
        differ = sorted(u for u in set(base) | set(units) if base.get(u) != units.get(u))
        share = len(differ) / max(1, len(base))
        print(f"    behaviour differs from the first run in {len(differ)} of {len(base)} units"
              f" ({share:.2%})" + (f", e.g. {differ[:3]}" if differ else ""))


def band(scenario: str, work: Path) -> tuple[float, float]:
    out = work / "simulate"
    subprocess.run([sys.executable, "-c", CLI, "simulate", scenario, "--runs", "100",
                    "--jobs", "2", "--out", str(out)], check=True, capture_output=True)
    summary = json.loads(next(out.rglob("summary.json")).read_text())
    share = summary["metrics"]["app_share"]
    return float(share["p5"]), float(share["p95"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--scenario", default="well-prepared")
    p.add_argument("--fast", type=float, default=600.0)
    p.add_argument("--slow", type=float, default=150.0)
    p.add_argument("--busy", type=int, default=2)
    p.add_argument("--loaded-runs", type=int, default=1)
    p.add_argument("--end", default=None, help="live.end override, e.g. 00:30+1d")
    p.add_argument("--latency", action="store_true",
                   help="also speed 60: a 300 ms target against a plain one")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-verdict-") as tmp:
        work = Path(tmp)
        first, s1 = run(work / "fast", args.scenario, args.fast, args.end)
        describe(f"{args.scenario} at speed {args.fast:g}", first, s1, None)
        slow, s2 = run(work / "slow", args.scenario, args.slow, args.end)
        describe(f"at speed {args.slow:g}", slow, s2, first)
        for i in range(args.loaded_runs):
            loaded, s3 = run(work / f"busy{i}", args.scenario, args.fast, args.end, args.busy)
            describe(f"at speed {args.fast:g} beside {args.busy} CPU-bound processes"
                     f" (run {i + 1})", loaded, s3, first)
        lo, hi = band(args.scenario, work)
        acked = [b for b in first.values() if b[0]]
        live = sum(1 for b in acked if b[0] == "app") / max(1, len(acked))
        print(f"app share: live {live:.3f}; rehearse simulate p5-p95 {lo:.3f}-{hi:.3f}"
              f" ({'inside' if lo <= live <= hi else 'OUTSIDE'})")
        # The night model's target accepts every worksheet; the reference server refuses
        # the impossible ones, whose chairs then give up the app (and the phone, and paper).
        # Counted as the app reports they would have been, the live share is:
        caught = s1["reconciliation"]["worksheet_error_caught"]
        app_first = sum(1 for b in first.values() if b[0] == "app")
        refused_app = sum(1 for b in first.values() if not b[0] and "app" in b[1])
        adjusted = (app_first + min(caught, refused_app)) / max(1, len(acked) + caught)
        print(f"  the target refused {caught} worksheets (the model's target refuses none);"
              f" with them the live app share is {adjusted:.3f}"
              f" ({'inside' if lo <= adjusted <= hi else 'OUTSIDE'} the band)")
        if args.latency:
            plain, s4 = run(work / "plain60", args.scenario, 60.0, args.end)
            describe("speed 60, plain target", plain, s4, None)
            laggy, s5 = run(work / "laggy60", args.scenario, 60.0, args.end,
                            extra=("--server-fault", "latency:300ms"))
            describe("speed 60, the target answers 300 ms later", laggy, s5, plain)
            p95 = next(g for g in s5["gates"] if g["metric"] == "p95_latency_ms") \
                if any(g["metric"] == "p95_latency_ms" for g in s5["gates"]) else None
            print(f"    p95 latency the report measured: {p95['value'] if p95 else 'no gate'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
