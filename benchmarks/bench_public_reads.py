"""The open-workload reader against a plain FastHttpUser, on one core, in one run.

The same request (``GET /v1/results``) against a target much faster than the load
generator (benchmarks/fast_target.py, pinned to CPU 0), the generator pinned to CPU 1:

1. baseline: a plain FastHttpUser in a closed loop without waiting, ``--users`` of them:
   its requests/s is what one core of Locust can do;
2. the rehearsal's open-workload reader (``rehearsal/public.py``: Poisson arrivals at a
   set rate, a read never waits for another, dropped when it cannot be sent, latency
   from the due moment into HdrHistograms) at rising shares of the baseline's rate
   (``--shares``): the highest rate it sustains (under 1% dropped, p99 under 1 s from
   the due moment, after a warm-up of :data:`WARMUP_S` seconds) against the baseline
   (target >= 0.85);
3. the reader asked for ``--overload`` times the baseline: it serves what it can and
   counts the rest as dropped, never sends it late;
4. the reader's own reads made in a closed loop (``--users`` at once), per CPU second
   against the baseline's: the work per read, apart from the open workload's.

Rounds alternate baseline and reader so drifting machine load hits both. Each
measurement also counts the requests answered per CPU second of the generator process
(``--cpu-out``): on a shared machine whose other tenants take the core away now and then,
that is what one core does, and the ratio of the two is the reader's cost.

    python benchmarks/bench_public_reads.py [--seconds 8] [--rounds 2] [--users 32]
"""

from __future__ import annotations

import argparse
import csv
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from caucus_rehearsal.rundir.reads import ReadStats, latency_p_ms

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "bench_public_locustfile.py"


WARMUP_S = 2
"""Seconds at the start of each reader's run left out of its figures (its first
connections, the process warming up): the reads of the steady state are compared."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def locust(user: str, url: str, seconds: int, users: int, work: Path,
           *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["taskset", "-c", "1", sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), user,
         "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", url,
         "--csv", str(work / user), "--only-summary", "--loglevel", "ERROR", *extra],
        check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def per_cpu_s(path: Path) -> float:
    """Requests answered per CPU second of the load generator (``--cpu-out``)."""
    m = json.loads(path.read_text())
    return float(m["requests"]) / max(1e-9, float(m["cpu_s"]))


def plain(url: str, seconds: int, users: int, work: Path) -> tuple[float, float]:
    """Requests/s of the plain closed-loop FastHttpUser, and per CPU second."""
    cpu = work / "plain-cpu.json"
    locust("PlainRead", url, seconds, users, work, f"--cpu-out={cpu}")
    with open(work / "PlainRead_stats.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return float(row["Requests/s"]), per_cpu_s(cpu)


def closed_reads(url: str, seconds: int, users: int, work: Path) -> float:
    """Reads answered per CPU second by the reader's own reads in a closed loop."""
    cpu = work / "closed-cpu.json"
    locust("ClosedReads", url, seconds, 1, work, f"--cpu-out={cpu}",
           f"--closed-readers={users}")
    return per_cpu_s(cpu)


def open_reads(url: str, rate: float, seconds: int, work: Path) -> dict[str, float]:
    """Served/s, due/s, dropped share and p99 latency of the open-workload reader."""
    out, cpu = work / "reads.json", work / "reads-cpu.json"
    out.unlink(missing_ok=True)
    locust("OpenReads", url, seconds, 1, work, f"--read-rate={rate}", f"--reads-out={out}",
           f"--cpu-out={cpu}")
    rows = json.loads(out.read_text())
    first = min((int(r["bin"]) for r in rows), default=0)
    stats = ReadStats()  # a bin is one wall second (the locustfile's clock)
    stats.merge_rows([r for r in rows if int(r["bin"]) >= first + WARMUP_S])
    t = stats.total()
    c = t.counts
    # Served per second over the time the reader played after its warm-up: the rate asked
    # for, times the share of the reads due that were served.
    return {"served_per_s": rate * c["ok"] / max(1, c["due"]), "due": c["due"],
            "dropped": (c["dropped_busy"] + c["dropped_late"]) / max(1, c["due"]),
            "p99_ms": latency_p_ms(t, 99) or 0.0, "per_cpu_s": per_cpu_s(cpu)}


def sustained(r: dict[str, float]) -> bool:
    """Whether the reader kept up: under 1% dropped and p99 under 1 s from the due moment."""
    return r["dropped"] < 0.01 and r["p99_ms"] < 1000.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--users", type=int, default=32)
    p.add_argument("--shares", default="0.7,0.8,0.85,0.9,1.0")
    p.add_argument("--overload", type=float, default=1.5)
    args = p.parse_args()
    shares = [float(x) for x in args.shares.split(",")]
    port = free_port()
    target = subprocess.Popen(["taskset", "-c", "0", sys.executable, str(HERE / "fast_target.py"),
                               str(port)])
    url = f"http://127.0.0.1:{port}"
    time.sleep(1.0)
    ceilings, bases, overs, cpu_ratios, closed = [], [], [], [], []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-public-") as tmp:
            work = Path(tmp)
            for i in range(args.rounds):
                base, base_cpu = plain(url, args.seconds, args.users, work)
                bases.append(base)
                best, per_cpu = 0.0, []
                closed.append(closed_reads(url, args.seconds, args.users, work) / base_cpu)
                print(f"  round {i + 1}: the reader's reads in a closed loop: {closed[-1]:.2f} "
                      "of plain per CPU second", flush=True)
                for share in shares:
                    r = open_reads(url, share * base, args.seconds, work)
                    ok = sustained(r)
                    print(f"  round {i + 1}: plain {base:6.0f} req/s; reader at {share:.2f}x: "
                          f"served {r['served_per_s']:6.0f}/s, dropped {r['dropped']:.2%}, "
                          f"p99 {r['p99_ms']:.0f} ms {'(kept up)' if ok else '(did not)'}; "
                          f"{r['per_cpu_s']:.0f} reads per CPU-s against plain's "
                          f"{base_cpu:.0f}", flush=True)
                    per_cpu.append(r["per_cpu_s"] / base_cpu)
                    if ok:
                        best = max(best, r["served_per_s"])
                ceilings.append(best / base)  # 0: no share kept up
                cpu_ratios.append(statistics.median(per_cpu))
                over = open_reads(url, args.overload * base, args.seconds, work)
                overs.append(over)
                print(f"  round {i + 1}: reader at {args.overload:g}x: served "
                      f"{over['served_per_s']:.0f}/s, dropped {over['dropped']:.1%}", flush=True)
    finally:
        target.terminate()
        target.wait()
    print(f"GET /v1/results on one core, {args.seconds} s per measurement x {args.rounds} "
          "rounds (median):")
    print(f"  plain FastHttpUser ({args.users} users, closed loop) "
          f"{statistics.median(bases):8.0f} req/s")
    ceiling = statistics.median(ceilings)
    print("  open-workload reader, highest rate kept up: " + (
        f"ratio {ceiling:.2f} of plain" if ceiling else
        f"none of the shares tried ({shares[0]:g}x and up) kept up") + " (target >= 0.85)")
    print(f"  its reads per CPU second of the generator at the shares tried: ratio "
          f"{statistics.median(cpu_ratios):.2f} of plain's requests per CPU second (what one "
          "core does, whatever else the machine runs)")
    print(f"  the reader's own reads in a closed loop ({args.users} at once): ratio "
          f"{statistics.median(closed):.2f} of plain per CPU second (its work per read; the "
          "rest of the gap is the open workload's: a read waits for its instant and wakes a "
          "reader)")
    over_ratio = statistics.median(o["served_per_s"] / b
                                   for o, b in zip(overs, bases, strict=True))
    print(f"  open-workload reader asked {args.overload:g}x: served ratio {over_ratio:.2f}, "
          f"dropped {statistics.median(o['dropped'] for o in overs):.1%} (counted, never sent "
          "late)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
