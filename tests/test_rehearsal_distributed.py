"""Plain Locust in distributed mode: a master and 2 workers on loopback against the
reference server; every precinct is reported exactly once, by the worker that owns it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from caucus_rehearsal.rehearsal.night import build_night, owners
from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.simulator.loader import load_scenario

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
ALL_READY = ["people.app_installed=1", "people.app_can_login=1", "people.app_knows_flow=1",
             "people.worksheet_error_rate=0"]


def test_master_and_two_workers_report_every_precinct_exactly_once(
        tmp_path: Path, free_port: Callable[[], int]) -> None:
    run_dir = tmp_path / "run"
    port = free_port()
    locust = [sys.executable, "-m", "locust", "-f", str(REPO / "locustfile.py"),
              "--loglevel", "WARNING"]
    with start_server(tmp_path / "db.sqlite", admin_token="adm") as server:
        master = subprocess.Popen(
            [*locust, "--master", "--headless", "--only-summary", "--expect-workers", "2",
             "--master-bind-host", "127.0.0.1", f"--master-bind-port={port}",
             "--host", server.url, "--scenario", "smoke", "--speed", "1200",
             "--run-dir", str(run_dir), "--provision", "--admin-token=adm", "--run-time", "90s",
             *(f"--set={o}" for o in ALL_READY)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        workers = [subprocess.Popen([*locust, "--worker", "--master-host", "127.0.0.1",
                                     f"--master-port={port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(2)]
        try:
            _, err = master.communicate(timeout=150)
            for w in workers:
                w.wait(30)
        finally:
            for p in (master, *workers):
                if p.poll() is None:
                    p.kill()
        assert master.returncode == 0, err[-2000:]
        audit = httpx.get(server.url + "/v1/admin/audit", params={"limit": 5000},
                          headers={"Authorization": "Bearer adm"}).json()["items"]

    scenario = load_scenario("smoke", ALL_READY)
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    index = {u.unit_id: u.index for u in build_night(scenario).roster.units}
    chair_units = {e["unit_id"] for e in events if e["actor"] == "chair"}
    assert chair_units == set(index)
    n_units = len(index)
    # Each unit was played by exactly one worker, the one the seeded shard names.
    owner = owners(scenario.seed, n_units, 2)
    played_by: dict[str, set[int]] = {}
    for e in events:
        if e["actor"] in ("chair", "caller"):
            played_by.setdefault(e["unit_id"], set()).add(e["worker"])
    assert all(len(w) == 1 for w in played_by.values())
    assert {next(iter(w)) for w in played_by.values()} == {0, 1}
    for uid, w in played_by.items():
        assert next(iter(w)) == owner[index[uid]]
    # Every precinct reported exactly once: one acknowledging event, one accepted write.
    acks: dict[str, int] = {}
    for e in events:
        if e["outcome"] == "ok" and (e["channel"], e["step"]) in {("app", "final"),
                                                                  ("hotline", "report")}:
            acks[e["unit_id"]] = acks.get(e["unit_id"], 0) + 1
    assert set(acks) == chair_units and set(acks.values()) == {1}
    accepted: dict[str, int] = {}
    for item in audit:
        if item["kind"] in ("final", "hotline_report") and item["outcome"] == "accepted":
            accepted[item["precinct_id"]] = accepted.get(item["precinct_id"], 0) + 1
    assert accepted == dict.fromkeys(chair_units, 1)
