"""Throughput of the reference server against two FastAPI baselines, in one run.

- chair submissions (bearer auth, validation with the caucus rules, audit commit):
  ``POST /v1/precincts/{id}/final-alignment``, each a new version with a fresh
  Idempotency-Key, versus a FastAPI app doing one SQLite insert + commit per request
  (same WAL/synchronous settings); target >= 50%.
- public results reads (``GET /v1/results``, full 200 bodies) versus a FastAPI app
  returning a constant JSON (the same document; and, for reference, ``{"ok": true}``);
  target >= 80%.
- reads and writes together (the election-night mix: a quarter of the connections
  submit, the rest read): each side's rate, against the bundled scenarios' read demand
  (100-300 reads/s on one core).

Every server runs under uvicorn with the same settings, pinned to CPU 0; the load
generator (benchmarks/server_load.py, the same for every side) runs on CPU 1. Loopback
only, bounded: ``--seconds`` per phase (default 5) after a 1 s warm-up.

Each phase is reported twice: requests per wall second, and requests per CPU second of
the server process (its user + system time over the phase, from ``/proc``). On a shared
machine the wall-clock rates swing with everyone else's load; the CPU-second rates are
what the server itself spends per request and stay comparable, so the ratios are given
for both.

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


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Rates = tuple[float, float]
"""Requests per wall second and per CPU second of the server."""


def _measure(port: int, pid: int, per_conn: list[list[bytes]], seconds: float, what: str,
             ok: int) -> Rates:
    load.run(port, [c[: len(c) // 8] for c in per_conn], 1.0)  # warm-up
    cpu0 = _cpu_s(pid)
    rps, statuses = load.run(port, [c[len(c) // 8:] for c in per_conn], seconds)
    per_cpu = sum(statuses.values()) / max(1e-9, _cpu_s(pid) - cpu0)
    bad = {s: n for s, n in statuses.items() if s != ok}
    print(f"  {what:<40} {rps:7.0f} req/s {per_cpu:7.0f} req/CPU-s   statuses {statuses}",
          flush=True)
    if bad:
        raise SystemExit(f"{what}: unexpected statuses {bad}")
    return rps, per_cpu


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
        def final_req(rnd: str, j: int, k: int) -> bytes:
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
        wall: dict[str, float] = {}
        cpu: dict[str, float] = {}
        mixed: dict[str, float] = {}

        def best(key: str, rates: Rates) -> None:
            wall[key] = max(wall.get(key, 0.0), rates[0])
            cpu[key] = max(cpu.get(key, 0.0), rates[1])

        def baseline(kind: str, reqs: list[list[bytes]], what: str) -> Rates:
            proc, bport = _baseline(kind, tmp, tmp / "doc.json")
            try:
                return _measure(bport, proc.pid, reqs, a.seconds, what, 200)
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait()

        def together(rnd: int) -> None:
            """A quarter of the connections submit while the rest read."""
            writers = max(1, conns // 4)
            mix = {"writes": [[final_req(f"m{rnd}", j, k) for k in range(n_req)]
                              for j in range(writers)],
                   "reads": reads[: conns - writers]}
            load.run_groups(port, {g: [c[: len(c) // 8] for c in v] for g, v in mix.items()},
                            1.0)  # warm-up
            cpu0 = _cpu_s(srv.pid)
            rates, statuses = load.run_groups(
                port, {g: [c[len(c) // 8:] for c in v] for g, v in mix.items()}, a.seconds)
            used = max(1e-9, _cpu_s(srv.pid) - cpu0)
            n = {g: r * a.seconds for g, r in rates.items()}
            print(f"  {'server: reads + writes together':<40} reads {rates['reads']:5.0f}/s "
                  f"+ writes {rates['writes']:5.0f}/s; per CPU-s {n['reads'] / used:5.0f} "
                  f"+ {n['writes'] / used:4.0f}   statuses {statuses}", flush=True)
            if set(statuses) - {200, 201}:
                raise SystemExit(f"mixed: unexpected statuses {statuses}")
            if n["reads"] / used > mixed.get("reads", 0.0):
                mixed.update(reads=n["reads"] / used, writes=n["writes"] / used)

        for rnd in range(a.rounds):
            print(f"round {rnd + 1}/{a.rounds}")
            chair = [[final_req(str(rnd), j, k) for k in range(n_req)] for j in range(conns)]
            best("insert", baseline("insert", insert, "baseline: FastAPI + 1 SQLite insert"))
            best("chair", _measure(port, srv.pid, chair, a.seconds,
                                   "server: chair final-alignment", 201))
            best("const", baseline("const", const, "baseline: FastAPI constant JSON"))
            best("reads", _measure(port, srv.pid, reads, a.seconds, "server: GET /v1/results",
                                   200))
            best("tiny", baseline("tiny", const, 'baseline: FastAPI {"ok": true}'))
            together(rnd)
        srv.stop()
    for name, got in (("req/s", wall), ("req/CPU-s", cpu)):
        print(f"best of rounds, {name}: " + ", ".join(f"{k} {v:.0f}" for k, v in got.items()))
    print("ratios (wall / CPU):")
    for what, num, den, target in (
            ("chair submissions / SQLite-insert baseline", "chair", "insert", ">= 0.50"),
            ("results reads / constant-JSON baseline", "reads", "const", ">= 0.80"),
            ('results reads / {"ok": true} baseline', "reads", "tiny", "for reference")):
        print(f"  {what:<43} {wall[num] / wall[den]:.2f} / {cpu[num] / cpu[den]:.2f} "
              f"({target})")
    print(f"reads + writes together, per CPU second of the server: {mixed['reads']:.0f} reads "
          f"({mixed['reads'] / 300:.1f}x the 300/s peak read demand of the bundled scenarios) "
          f"beside {mixed['writes']:.0f} writes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
