"""Live-rehearsal performance, measured in one run (prints the figures; asserts nothing).

1. Schedule fidelity at iowa-2020 speed 60 on a bounded slice of the night (18:30 to
   ``--slice-end``, default 21:00: the ramp to the app's peak, 150 wall seconds):
   request lateness against the due moment (send lag) p50/p99/max in wall ms and p99 in
   simulated minutes, the part spent waiting for the target, and arrival-lag p99 from the
   reference server's audit trail (targets: send p99 <= 5 ms, arrival p99 <= 10 ms);
   then the same slice again with ``--busy N`` CPU-bound processes beside it (default 2),
   and its verdict.
2. No-wait throughput: requests/s of the ChairUser machinery (``send``: adapter call,
   X-Request-Id, validation, an events.jsonl line per attempt) against a plain
   FastHttpUser, same request, same server, same users and duration (target >= 70%);
   also the load generator's CPU per request for each.

    python benchmarks/bench_rehearsal.py [--seconds 10] [--rounds 3] [--users 8] [--slice-end 21:00]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from caucus_rehearsal.rehearsal.night import build_night, roster_body
from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.simulator.loader import load_scenario

HERE = Path(__file__).resolve().parent


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def throughput(user: str, url: str, seconds: int, users: int, work: Path) -> tuple[float, float]:
    """(requests/s, load-generator CPU ms per request) of one user class."""
    csv_prefix = work / user
    cpu0 = _children_cpu()
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(HERE / "bench_rehearsal_locustfile.py"),
         user, "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
         "--host", url, "--csv", str(csv_prefix), "--only-summary", "--loglevel", "ERROR",
         "--scenario", "smoke", "--run-dir", str(work / f"{user}-run")],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = _children_cpu() - cpu0
    with open(f"{csv_prefix}_stats.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    n = int(row["Request Count"])
    return float(row["Requests/s"]), 1000.0 * cpu / max(n, 1)


def fidelity_slice(slice_end: str, work: Path, busy: int = 0) -> dict[str, Any]:
    """``rehearse run iowa-2020 --speed 60`` up to ``slice_end`` (with ``busy`` CPU-bound
    processes beside it); its summary."""
    out = work / f"iowa-slice-busy{busy}"
    code = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, "run", "iowa-2020", "--speed", "60",
             f"--set=live.end={slice_end!r}".replace("'", '"'), "--band-runs", "0",
             "--out", str(out)], capture_output=True, text=True, check=False)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    if proc.returncode not in (0, 1, 4):
        raise SystemExit(f"the slice run failed ({proc.returncode}): {proc.stderr.strip()}")
    (run_dir,) = out.iterdir()
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return summary


def print_fidelity(title: str, summary: dict[str, Any]) -> None:
    fid = summary["schedule_fidelity"]
    print(f"{title}: {fid['attempts']} requests, verdict {summary['verdict']}")
    print(f"  send lag    p50 {fid['late_p50_ms']} ms  p99 {fid['late_p99_ms']} ms"
          f"  max {fid['late_max_ms']} ms  (p99 {fid['late_p99_min']} simulated min;"
          f" waiting for the target p99 {fid['late_target_p99_ms']} ms)   (target p99 <= 5 ms)")
    print(f"  arrival lag p50 {fid['arrival_lag_p50_ms']} ms  p99 {fid['arrival_lag_p99_ms']} ms"
          f"   (target p99 <= 10 ms); faithful: {fid['faithful']}"
          f"; peak load delivered {fid['peak_load_delivered']}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--slice-end", default="21:00")
    p.add_argument("--skip-slice", action="store_true")
    p.add_argument("--busy", type=int, default=2,
                   help="CPU-bound processes beside the second slice (0: skip it)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rehearsal-") as tmp:
        work = Path(tmp)
        if not args.skip_slice:
            print_fidelity(f"iowa-2020 speed 60, 18:30-{args.slice_end}, quiet",
                           fidelity_slice(args.slice_end, work))
            if args.busy:
                print_fidelity(f"the same with {args.busy} CPU-bound processes beside it",
                               fidelity_slice(args.slice_end, work, args.busy))
        scenario = load_scenario("smoke")
        with start_server(work / "bench.db", admin_token="bench") as server:
            httpx.post(server.url + "/v1/admin/provision", json=roster_body(build_night(scenario)),
                       headers={"Authorization": "Bearer bench"}).raise_for_status()
            rounds = []
            for i in range(args.rounds):  # alternate, so drifting machine load hits both
                base = throughput("PlainFastHttp", server.url, args.seconds, args.users, work)
                mach = throughput("ChairMachinery", server.url, args.seconds, args.users, work)
                rounds.append((base, mach))
                print(f"  round {i + 1}: plain {base[0]:7.1f} req/s, machinery {mach[0]:7.1f}"
                      f" req/s, ratio {mach[0] / base[0]:.2f}")
        ratios = sorted(m[0] / b[0] for b, m in rounds)
        cpu = sorted(m[1] / b[1] for b, m in rounds)
        base_rps = statistics.median(b[0] for b, _ in rounds)
        rps = statistics.median(m[0] for _, m in rounds)
        print(f"no-wait throughput, {args.users} users x {args.seconds} s x {args.rounds} rounds,"
              " GET /v1/results (median):")
        print(f"  plain FastHttpUser   {base_rps:8.1f} req/s")
        print(f"  ChairUser machinery  {rps:8.1f} req/s")
        print(f"  ratio {statistics.median(ratios):.2f} (rounds {ratios[0]:.2f}..{ratios[-1]:.2f};"
              f" target >= 0.70); CPU per request x{statistics.median(cpu):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
