"""Throughput of the reference server against two FastAPI baselines, in one run.

- chair submissions (bearer auth, validation with the caucus rules, audit commit):
  ``POST /v1/precincts/{id}/final-alignment``, each a new version with a fresh
  Idempotency-Key, versus a FastAPI app doing one SQLite insert + commit per request
  (same WAL/synchronous settings); target >= 50%.
- public results reads (``GET /v1/results``, full 200 bodies) versus a FastAPI app
  returning a constant JSON (the same document; and, for reference, ``{"ok": true}``);
  target >= 80%.

Every server runs under uvicorn with the same settings, pinned to CPU 0; the load
generator (benchmarks/server_load.py, the same for every side) runs on CPU 1. Loopback
only, bounded: ``--seconds`` per phase (default 5) after a 1 s warm-up.

Run: ``python benchmarks/bench_server.py [--seconds 5] [--connections 32]``
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
from typing import Any

import httpx

import server_load as load
from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.server.runner import bind

HERE = Path(__file__).resolve().parent
CANDS = ["Biden", "Sanders", "Warren", "Yang"]
FINAL = {"final": {"Biden": 45, "Sanders": 40, "Warren": 15},
         "delegates": {"Biden": 2, "Sanders": 1, "Warren": 1}}


def _pin(cpu: int, pid: int = 0) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(pid, {cpu})


def roster(n: int) -> dict[str, Any]:
    return {"election": "bench", "candidates": CANDS,
            "counties": [{"name": "Adair", "state_delegates": 4, "county_delegates": 50}],
            "precincts": [{"id": f"P{i:05d}", "county": "Adair", "name": f"P {i}",
                           "delegates": 4, "pin": f"{100000 + i}"} for i in range(n)],
            "operators": []}


def _baseline(kind: str, tmp: Path, doc: Path) -> tuple[subprocess.Popen[bytes], int]:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "server_baselines.py"), kind, "--fd", str(sock.fileno()),
         "--db", str(tmp / f"{kind}.db"), "--body", str(doc)], pass_fds=(sock.fileno(),))
    sock.close()
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    _pin(0, proc.pid)
    return proc, port


def _measure(port: int, per_conn: list[list[bytes]], seconds: float, what: str,
             ok: int) -> float:
    load.run(port, [c[: len(c) // 8] for c in per_conn], 1.0)  # warm-up
    rps, statuses = load.run(port, [c[len(c) // 8:] for c in per_conn], seconds)
    bad = {s: n for s, n in statuses.items() if s != ok}
    print(f"  {what:<44} {rps:8.0f} req/s   statuses {statuses}", flush=True)
    if bad:
        raise SystemExit(f"{what}: unexpected statuses {bad}")
    return rps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--precincts", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate the phases this many times; best of each (the machine "
                         "is shared, so the best round is the least disturbed)")
    a = ap.parse_args()
    _pin(1)
    conns, n_req = a.connections, int(a.seconds * 12000 / a.connections) + 2000
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        srv = start_server(tmp / "reporting.db")
        _pin(0, srv.pid)
        admin = {"Authorization": f"Bearer {srv.admin_token}"}
        tokens = []
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            c.post("/v1/admin/provision", json=roster(a.precincts), headers=admin)
            for i in range(a.precincts):
                pid = f"P{i:05d}"
                t = c.post("/v1/auth/chair", json={"precinct_id": pid,
                                                   "pin": f"{100000 + i}"}).json()["token"]
                h = {"Authorization": f"Bearer {t}"}
                c.post(f"/v1/precincts/{pid}/attendance", json={"attendance": 100}, headers=h)
                c.post(f"/v1/precincts/{pid}/first-alignment", headers=h, json={
                    "first": {"Biden": 40, "Sanders": 35, "Warren": 15, "Yang": 10}})
                tokens.append(t)
            doc = c.get("/v1/results").content
        body = json.dumps(FINAL).encode()
        def final_req(rnd: int, j: int, k: int) -> bytes:
            i = (k * conns + j) % a.precincts
            return load.request("POST", f"/v1/precincts/P{i:05d}/final-alignment", body,
                                {"Authorization": f"Bearer {tokens[i]}",
                                 "Idempotency-Key": f"b-{rnd}-{j}-{k}"})
        insert = [[load.request("POST", "/insert", body)] * n_req for _ in range(conns)]
        reads = [[load.request("GET", "/v1/results")] * n_req for _ in range(conns)]
        const = [[load.request("GET", "/const")] * n_req for _ in range(conns)]
        (tmp / "doc.json").write_bytes(doc)
        port = int(srv.url.rsplit(":", 1)[1])
        print(f"bench_server: {conns} connections, {a.seconds:g} s per phase, "
              f"results body {len(doc)} bytes, cpus {os.cpu_count()}")
        results: dict[str, float] = {}

        def best(key: str, rps: float) -> None:
            results[key] = max(results.get(key, 0.0), rps)

        def baseline(kind: str, reqs: list[list[bytes]], what: str) -> float:
            proc, bport = _baseline(kind, tmp, tmp / "doc.json")
            try:
                return _measure(bport, reqs, a.seconds, what, 200)
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait()

        for rnd in range(a.rounds):
            print(f"round {rnd + 1}/{a.rounds}")
            chair = [[final_req(rnd, j, k) for k in range(n_req)] for j in range(conns)]
            best("insert", baseline("insert", insert, "baseline: FastAPI + 1 SQLite insert"))
            best("chair", _measure(port, chair, a.seconds, "server: chair final-alignment", 201))
            best("const", baseline("const", const, "baseline: FastAPI constant JSON"))
            best("reads", _measure(port, reads, a.seconds, "server: GET /v1/results", 200))
            best("tiny", baseline("tiny", const, 'baseline: FastAPI {"ok": true}'))
        srv.stop()
    print("best of rounds, req/s: " + ", ".join(f"{k} {v:.0f}" for k, v in results.items()))
    w = results["chair"] / results["insert"]
    r = results["reads"] / results["const"]
    print(f"chair submissions / SQLite-insert baseline: {w:.2f} (target >= 0.50)")
    print(f"results reads / constant-JSON baseline:     {r:.2f} (target >= 0.80)")
    tiny = results["reads"] / results["tiny"]
    print(f'results reads / {{"ok": true}} baseline:     {tiny:.2f} (for reference)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
