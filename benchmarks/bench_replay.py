"""``GET /v1/results`` of the replay server against the reference server's, in one run.

The reference server is provisioned with ``--precincts`` precincts and fills up batch by
batch; after each batch its published results are snapshotted through the contract-v1
adapter into a run directory, exactly as ``rehearse run`` records them. ``rehearse
replay`` then serves that run directory (``--run-dir`` replays another, e.g. a real
iowa-2020 run). Both answer full 200 bodies to the same load generator
(benchmarks/server_load.py) under the same uvicorn settings, pinned to CPU 0 with the
load on CPU 1, phases alternated ``--rounds`` times (best of each: the machine is
shared). Target: replay / reference >= 0.80.

Run: ``python benchmarks/bench_replay.py [--seconds 5] [--connections 32]``
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

import server_load as load
from bench_server import CANDS, FINAL, _pin, roster
from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter
from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.server.runner import bind

BATCHES = 10


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process ``pid`` has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(port: int, pid: int, reqs: list[list[bytes]], seconds: float,
            what: str) -> tuple[float, float]:
    """Requests per second, and requests per CPU-second of the serving process ``pid``
    (less sensitive to other load on a shared machine); every answer must be a 200."""
    load.run(port, [c[: len(c) // 8] for c in reqs], 1.0)  # warm-up
    cpu = cpu_seconds(pid)
    rps, statuses = load.run(port, [c[len(c) // 8:] for c in reqs], seconds)
    per_cpu = rps * seconds / max(cpu_seconds(pid) - cpu, 1e-9)
    print(f"  {what:<40} {rps:8.0f} req/s {per_cpu:8.0f} req/CPU-s   statuses {statuses}",
          flush=True)
    if set(statuses) != {200}:
        raise SystemExit(f"{what}: unexpected statuses {statuses}")
    return rps, per_cpu


def record_run(url: str, token: str, n: int, run_dir: Path) -> None:
    """Fill the server in ``BATCHES`` batches of finals and write a run directory whose
    ``snapshots.jsonl`` holds one snapshot per batch (and the empty state first)."""
    run_dir.mkdir()
    body = roster(n)
    (run_dir / "roster.json").write_text(json.dumps(body))
    (run_dir / "run.json").write_text(json.dumps({
        "scenario": "bench", "speed": 600.0, "sim_start_min": 0.0, "sim_end_min": 600.0,
        "status": "complete"}))
    zero = dict.fromkeys(CANDS, 0)
    (run_dir / "truth.jsonl").write_text("".join(json.dumps({
        "unit_id": p["id"], "county": p["county"], "precinct": p["name"], "satellite": False,
        "delegates_total": p["delegates"], "coin_toss": False,
        "tally": {"attendance": 0, "first": zero, "final": zero, "delegates": zero,
                  "sde": zero}}) + "\n" for p in body["precincts"]))
    adapter = ContractV1Adapter(url, CANDS, token)
    with httpx.Client(base_url=url, timeout=30) as c, \
            (run_dir / "snapshots.jsonl").open("w") as snaps:
        c.post("/v1/admin/provision", json=body,
               headers={"Authorization": f"Bearer {token}"})
        for batch in range(BATCHES + 1):
            if batch:
                for i in range((batch - 1) * n // BATCHES, batch * n // BATCHES):
                    pid = f"P{i:05d}"
                    t = c.post("/v1/auth/chair", json={"precinct_id": pid,
                                                       "pin": f"{100000 + i}"}).json()["token"]
                    h = {"Authorization": f"Bearer {t}"}
                    c.post(f"/v1/precincts/{pid}/attendance", json={"attendance": 100},
                           headers=h)
                    c.post(f"/v1/precincts/{pid}/first-alignment", headers=h, json={
                        "first": {"Biden": 40, "Sanders": 35, "Warren": 15, "Yang": 10}})
                    c.post(f"/v1/precincts/{pid}/final-alignment", json=FINAL, headers=h)
            _, results = adapter.published_since(c, None)
            snaps.write(json.dumps({"fetched_wall": time.time(), "sim_min": batch * 60.0,
                                    "status": 200, "results": results}) + "\n")


def start_replay(run_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``rehearse replay run_dir`` on a free port, once it answers; at a speed that
    reaches the last (fullest) state of the night at once."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from caucus_rehearsal.cli import main; raise SystemExit(main())",
         "replay", str(run_dir), "--speed", "1e7", "--fd", str(sock.fileno())],
        pass_fds=(sock.fileno(),), stderr=subprocess.DEVNULL)
    sock.close()
    for _ in range(400):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    _pin(0, proc.pid)
    return proc, port


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--precincts", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--run-dir", type=Path, default=None,
                    help="replay this run directory instead of the one recorded here")
    a = ap.parse_args()
    _pin(1)
    n_req = int(a.seconds * 12000 / a.connections) + 2000
    reads = [[load.request("GET", "/v1/results")] * n_req for _ in range(a.connections)]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        srv = start_server(tmp / "reporting.db")
        _pin(0, srv.pid)
        run_dir = a.run_dir or tmp / "run"
        if a.run_dir is None:
            record_run(srv.url, srv.admin_token, a.precincts, run_dir)
        proc, port = start_replay(run_dir)
        sizes = (len(httpx.get(f"{srv.url}/v1/results").content),
                 len(httpx.get(f"http://127.0.0.1:{port}/v1/results").content))
        print(f"bench_replay: {a.connections} connections, {a.seconds:g} s per phase, "
              f"results body {sizes[0]} bytes (server) / {sizes[1]} (replay of {run_dir.name}), "
              f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
        rate = {"server": 0.0, "replay": 0.0}
        per_cpu = {"server": 0.0, "replay": 0.0}
        sides = {"server": (int(srv.url.rsplit(":", 1)[1]), srv.pid),
                 "replay": (port, proc.pid)}
        try:
            for rnd in range(a.rounds):
                print(f"round {rnd + 1}/{a.rounds}")
                for side in ("server", "replay") if rnd % 2 == 0 else ("replay", "server"):
                    got = measure(*sides[side], reads, a.seconds,
                                  f"{'reference server' if side == 'server' else side}: "
                                  f"GET /v1/results")
                    rate[side] = max(rate[side], got[0])
                    per_cpu[side] = max(per_cpu[side], got[1])
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait()
            srv.stop()
    print(f"best of rounds: server {rate['server']:.0f} req/s ({per_cpu['server']:.0f} per "
          f"CPU-s), replay {rate['replay']:.0f} req/s ({per_cpu['replay']:.0f} per CPU-s)")
    print(f"replay / reference server GET /v1/results: {rate['replay'] / rate['server']:.2f} "
          f"(target >= 0.80); per CPU-second: {per_cpu['replay'] / per_cpu['server']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
