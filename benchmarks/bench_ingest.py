"""A master with local workers ingesting a run's events and read aggregates at the
generators' full rate, in one run: nothing lost, and how much of a core it takes.

Each of ``--workers`` local Locust workers makes chair event records as fast as it can
(``bench_ingest_locustfile.py``: the rehearsal's own shipper, which batches them to the
master over Locust's messages) and records reads into its aggregates for ``--seconds``;
the master is the rehearsal's own recorder, the run directory's only writer. Printed:
the events the workers made per second (the generators' full rate: the baseline), the
events the master wrote (per second of firehose) and their ratio (target 1.00: no loss),
the CPU the master spent until it had written the last line, as a share of one core over
the firehose, and the reads the master merged against those the workers recorded.

    python benchmarks/bench_ingest.py [--seconds 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from caucus_rehearsal.rundir.reader import read_reads

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    port = free_port()
    env = dict(os.environ, FIREHOSE_S=str(args.seconds))
    locust = [sys.executable, "-m", "locust", "-f", str(HERE / "bench_ingest_locustfile.py"),
              "--loglevel", "ERROR"]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        run_dir = Path(tmp) / "run"
        master = subprocess.Popen(
            [*locust, "--master", "--headless", "--only-summary", "-u", str(args.workers),
             "-r", str(args.workers), f"--expect-workers={args.workers}",
             "--master-bind-host=127.0.0.1", f"--master-bind-port={port}",
             "--host", "http://127.0.0.1:9", "--scenario", "smoke", "--speed", "60",
             "--set=demand.public_views_per_s=0", "--set=demand.media_pollers=0",
             "--run-dir", str(run_dir), "--run-time", f"{int(args.seconds) + 20}s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        workers = [subprocess.Popen([*locust, "--worker", "--master-host", "127.0.0.1",
                                     f"--master-port={port}"], cwd=tmp, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
                   for _ in range(args.workers)]
        while not (run_dir / "run.json").exists():
            time.sleep(0.05)
        t0 = json.loads((run_dir / "run.json").read_text())["t0_wall"]
        time.sleep(max(0.0, t0 - time.time()))
        cpu0 = cpu_s(master.pid)
        time.sleep(args.seconds)
        made = []
        for w in workers:
            out, _ = w.communicate(timeout=args.seconds + 60)
            made += [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        # The master has caught up when its events file stops growing: its CPU until
        # then is what ingesting the firehose cost it.
        events, size, cpu1 = run_dir / "events.jsonl", -1, 0.0
        while master.poll() is None:
            now = events.stat().st_size if events.exists() else 0
            if now == size:
                break
            size, cpu1 = now, cpu_s(master.pid)
            time.sleep(1.0)
        master.wait(60)
        lines = sum(1 for _ in (run_dir / "events.jsonl").open())
        run = json.loads((run_dir / "run.json").read_text())
        merged = read_reads(run_dir / "reads.jsonl", []).total().counts["sent"]
    generated = sum(m["made"] for m in made)
    rate = generated / args.seconds
    print(f"{args.workers} workers x {args.seconds:g} s, events made as fast as they can:")
    print(f"  generators' full rate   {rate:10.0f} events/s "
          f"({', '.join(str(m['made']) for m in made)} events)")
    print(f"  master wrote            {lines / args.seconds:10.0f} events/s of firehose "
          f"({lines} lines; run.json events_received {sum(run['events_received'].values())})")
    print(f"  written / made          {lines / max(1, generated):10.3f} (target 1.000: no loss)")
    print(f"  master CPU              {cpu1 - cpu0:10.2f} s for the {args.seconds:g} s "
          f"firehose: {(cpu1 - cpu0) / args.seconds:.1%} of one core (all its work until "
          "the last line was written)")
    print(f"  reads merged            {merged:10d} of {sum(m['made'] // 10 for m in made)} "
          "recorded by the workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
