"""Many machines, no shared filesystem: plain Locust in distributed mode.

A master and two workers, each worker in its own empty working directory with nothing
of the master's but its address (where the machine allows it, one worker in its own
network namespace, reaching the master and the target over a veth pair; loopback
otherwise). The master alone writes the run directory, which must be complete and give
the same verdict, gates and class per unit as the same night played by one process.
A worker killed mid-run is detected, and the report names the units it did not play.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

import caucus_rehearsal.rehearsal as rehearsal_pkg
from caucus_rehearsal.rehearsal.night import build_night, owners
from caucus_rehearsal.reports import build_report
from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.simulator.loader import load_scenario
from support.netns import Namespace, veth_namespace

pytestmark = pytest.mark.slow

LOCUSTFILE = str(Path(rehearsal_pkg.__file__).with_name("locust_entry.py"))
NIGHT = ["live.end=21:30"]
RUN_FILES = ("scenario.toml", "run.json", "roster.json", "truth.jsonl", "plan.jsonl",
             "events.jsonl", "snapshots.jsonl", "audit.jsonl", "reads.jsonl")


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", LOCUSTFILE, "--loglevel", "WARNING", *args]


def night_args(url: str, run_dir: Path, scenario: str, speed: str) -> list[str]:
    return ["--headless", "--host", url, "--scenario", scenario, "--speed", speed,
            "--run-dir", str(run_dir), "--provision", "--admin-token=adm", "--run-time", "90s",
            *(f"--set={o}" for o in NIGHT)]


@contextmanager
def workers(n: int, host: str, port: int, tmp: Path,
            ns: Namespace | None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``n`` workers, each in an empty directory of its own; the last one in ``ns``."""
    procs = []
    for i in range(n):
        cwd = tmp / f"worker{i}"
        cwd.mkdir()
        cmd = locust("--worker", "--master-host", host, f"--master-port={port}")
        if ns is not None and i == n - 1:
            cmd = ns.command(cmd)
        procs.append(subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env=dict(os.environ)))
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)


def classes(run_dir: Path) -> dict[str, str]:
    with (run_dir / "precincts.csv").open(newline="") as fh:
        return {row["unit_id"]: row["class"] for row in csv.DictReader(fh)}


def gates(summary: dict[str, Any]) -> list[tuple[str, str]]:
    return [(g["gate"], g["result"]) for g in summary["gates"]]


def test_master_and_two_workers_leave_the_run_one_process_leaves(tmp_path: Path) -> None:
    master_dir = tmp_path / "master"
    master_dir.mkdir()
    # A scenario file only the master has: the workers get it from the master's messages.
    (master_dir / "night.toml").write_text(
        (Path(__file__).parent.parent / "scenarios" / "smoke.toml").read_text())
    with ExitStack() as stack:
        ns = stack.enter_context(veth_namespace())
        host = ns.host_ip if ns is not None else "127.0.0.1"
        # One process.
        with start_server(tmp_path / "one.db", admin_token="adm", host=host) as server:
            one = subprocess.run(locust(*night_args(server.url, tmp_path / "one", "night.toml",
                                                    "600")),
                                 cwd=master_dir, capture_output=True, text=True, timeout=180,
                                 check=False)
        assert one.returncode in (0, 1), one.stderr[-2000:]
        # A master and two workers.
        port = free_port(host)
        with start_server(tmp_path / "two.db", admin_token="adm", host=host) as server, \
                workers(2, host, port, tmp_path, ns) as procs:
            master = subprocess.run(
                locust("--master", "--expect-workers", "2", f"--master-bind-host={host}",
                       f"--master-bind-port={port}",
                       *night_args(server.url, tmp_path / "two", "night.toml", "600")),
                cwd=master_dir, capture_output=True, text=True, timeout=180, check=False)
            for p in procs:
                p.wait(30)
        assert master.returncode in (0, 1), master.stderr[-2000:]
    two = tmp_path / "two"
    for name in RUN_FILES:
        assert (two / name).is_file(), name
    for i in range(2):  # the workers wrote nothing anywhere
        assert list((tmp_path / f"worker{i}").iterdir()) == []
    run = json.loads((two / "run.json").read_text())
    assert run["status"] == "complete" and run["workers"] == 2 and run["lost_workers"] == []
    events = [json.loads(x) for x in (two / "events.jsonl").read_text().splitlines()]
    assert {e["worker"] for e in events if e["actor"] == "chair"} == {0, 1}
    assert sum(run["events_received"].values()) == len(events)  # nothing lost on the way
    reads = [json.loads(x) for x in (two / "reads.jsonl").read_text().splitlines()]
    assert sum(r["ok"] for r in reads) > 20 and {r["endpoint"] for r in reads} == {
        "results", "feed"}

    one_outcome, two_outcome = build_report(tmp_path / "one"), build_report(two)
    one_summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    two_summary = json.loads((two / "summary.json").read_text())
    assert gates(two_summary) == gates(one_summary)
    assert two_summary["reconciliation"] == one_summary["reconciliation"]
    assert classes(two) == classes(tmp_path / "one")
    assert two_outcome.verdict == one_outcome.verdict
    if ns is not None:  # the namespaced worker really played through the link
        assert len({e["worker"] for e in events}) == 2


def test_a_worker_killed_mid_run_leaves_its_units_inconclusive(tmp_path: Path) -> None:
    host = "127.0.0.1"
    port = free_port(host)
    run_dir = tmp_path / "run"
    with start_server(tmp_path / "db.sqlite", admin_token="adm") as server, \
            workers(2, host, port, tmp_path, None) as procs:
        master = subprocess.Popen(
            locust("--master", "--expect-workers", "2", f"--master-bind-host={host}",
                   f"--master-bind-port={port}",
                   *night_args(server.url, run_dir, "smoke", "300")),
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and not (run_dir / "events.jsonl").exists():
                time.sleep(0.2)
            run = json.loads((run_dir / "run.json").read_text())
            # Kill one worker about 40 simulated minutes into the night (19:10).
            time.sleep(max(0.0, run["t0_wall"] + 40 * 60 / 300 - time.time()))
            procs[1].send_signal(signal.SIGKILL)
            _, err = master.communicate(timeout=150)
        finally:
            if master.poll() is None:
                master.kill()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete", err[-2000:]
    (lost,) = run["lost_workers"]
    scenario = load_scenario("smoke", NIGHT)
    plans = build_night(scenario).plans
    owner = owners(scenario.seed, len(plans), 2)
    theirs = {p.unit_id for p in plans if owner[p.unit_index] == lost["worker"]}
    assert lost["units_not_played"] and set(lost["units_not_played"]) <= theirs
    outcome = build_report(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert outcome.verdict == "inconclusive" and outcome.exit_code == 4
    assert all(g["result"] != "fail" for g in summary["gates"]), summary["gates"]
    reason = next(r for r in summary["inconclusive_reasons"] if "was lost" in r)
    assert f"load generator {lost['worker']}" in reason
    not_played = {u for u, k in classes(run_dir).items() if k == "not_played"}
    assert not_played and not_played <= set(lost["units_not_played"])
    for uid in sorted(not_played)[:20]:
        assert uid in reason


def test_workers_from_other_machines_join_before_the_night_begins(
        tmp_path: Path, rehearse_argv: Any) -> None:
    # `rehearse run --remote-workers 1` and, later, `rehearse worker` from an empty
    # directory (as on another machine): the night begins once the worker has joined.
    port = free_port("127.0.0.1")
    master_dir, worker_dir = tmp_path / "master", tmp_path / "worker"
    master_dir.mkdir()
    worker_dir.mkdir()
    master = subprocess.Popen(
        rehearse_argv("run", "smoke", "--speed", "600", "--band-runs", "0", "--workers", "0",
                      "--remote-workers", "1", "--listen", f"127.0.0.1:{port}", "--out",
                      "runs", *(f"--set={o}" for o in NIGHT)),
        cwd=master_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker: subprocess.Popen[str] | None = None
    try:
        assert master.stdout is not None
        for line in master.stdout:  # it says where it waits before anything plays
            if line.startswith("waiting for 1 worker(s)"):
                break
        # The worker's machine comes later than the lead a night of local workers gets
        # (6 s and a bit for smoke: orchestrator.play).
        time.sleep(8)
        joined = time.time()
        worker = subprocess.Popen(rehearse_argv("worker", "--master", f"127.0.0.1:{port}"),
                                  cwd=worker_dir, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        out, err = master.communicate(timeout=180)
        assert worker.wait(60) == 0
    finally:
        for p in (master, worker):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    assert master.returncode in (0, 1, 4), out + err
    (run_dir,) = (master_dir / "runs").iterdir()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete" and run["workers"] == 1
    assert run["t0_wall"] > joined  # the night began after the worker joined, not before
    assert list(worker_dir.iterdir()) == []
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert {e["worker"] for e in events if e["actor"] == "chair"} == {0}
