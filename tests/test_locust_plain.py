"""Plain ``locust -f locustfile.py`` (issue 10, part 7): a worker that cannot set up its
part stops with one line and the master exits 2 naming it; every run gets a new run
directory; a restart from the web UI plays a fresh night or is refused, never silence."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from caucus_rehearsal.server.process import start_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
LOCUST = [sys.executable, "-m", "locust", "-f", str(REPO / "locustfile.py")]


def test_a_worker_that_cannot_load_the_adapter_stops_the_master_with_exit_2(
        tmp_path: Path, free_port: Callable[[], int]) -> None:
    # The scenario travels with the master's options (a file only the master has is
    # fine); an adapter module is code, installed where the master runs and not here.
    master_dir, worker_dir = tmp_path / "master", tmp_path / "worker"
    master_dir.mkdir()
    worker_dir.mkdir()
    (master_dir / "mine.toml").write_text((REPO / "scenarios" / "smoke.toml").read_text())
    (master_dir / "mine_adapter.py").write_text(
        "from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter\n\n\n"
        "class MineAdapter(ContractV1Adapter):\n    pass\n")
    port = free_port()
    with start_server(tmp_path / "db.sqlite", admin_token="adm") as server:
        master = subprocess.Popen(
            [*LOCUST, "--master", "--headless", "--expect-workers", "1",
             "--master-bind-host", "127.0.0.1", f"--master-bind-port={port}",
             "--host", server.url, "--scenario", "mine.toml", "--speed", "1200",
             "--run-dir", str(tmp_path / "run"), "--run-time", "60s",
             "--adapter", "mine_adapter:MineAdapter"],
            cwd=master_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        worker = subprocess.Popen(
            [*LOCUST, "--worker", "--master-host", "127.0.0.1", f"--master-port={port}"],
            cwd=worker_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _, master_err = master.communicate(timeout=90)
            _, worker_err = worker.communicate(timeout=30)
        finally:
            for p in (master, worker):
                if p.poll() is None:
                    p.kill()
                    p.communicate()
    expected = ("--adapter 'mine_adapter:MineAdapter': cannot import mine_adapter (No "
                "module named 'mine_adapter')")
    assert worker.returncode == 2, worker_err[-2000:]
    lines = [x for x in worker_err.splitlines() if x.startswith("locust: error:")]
    assert lines == [f"locust: error: {expected}"], worker_err[-2000:]
    assert len(worker_err) < 20_000 and "Traceback" not in worker_err  # no retry loop
    assert master.returncode == 2, master_err[-2000:]
    lines = [x for x in master_err.splitlines() if x.startswith("locust: error:")]
    assert len(lines) == 1 and lines[0].startswith("locust: error: worker 0 (") \
        and lines[0].endswith(f"): {expected}"), master_err[-2000:]


def test_a_run_dir_that_holds_a_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text('{"old": "run"}\n')
    proc = subprocess.run([*LOCUST, "--headless", "--host", "http://127.0.0.1:9",
                           "--scenario", "smoke", "--run-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    errors = [x for x in proc.stderr.splitlines() if x.startswith("locust: error:")]
    assert errors == [f"locust: error: --run-dir {tmp_path}: already holds a run "
                      "(events.jsonl); a new run never appends to an old one: name a new "
                      "folder, or leave --run-dir out for a new one under runs/ at each start"]
    assert (tmp_path / "events.jsonl").read_text() == '{"old": "run"}\n'


class WebUI:
    """Plain Locust with its web UI on a free loopback port, in ``cwd``."""

    def __init__(self, cwd: Path, host: str, port: int, *args: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.host = host
        self.log = (cwd / "locust.log").open("w")
        self.proc = subprocess.Popen(
            [*LOCUST, "--web-host", "127.0.0.1", f"--web-port={self.port}", "--host", host,
             "--scenario", "smoke", "--speed", "3600", *args],
            cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait(lambda: self.state() in ("ready", "stopped"), 60)

    def state(self) -> str | None:
        try:
            return str(httpx.get(self.url + "/stats/requests", timeout=5).json()["state"])
        except httpx.HTTPError:
            return None

    def start(self) -> None:
        form = {"user_count": "44", "spawn_rate": "100", "host": self.host}
        assert httpx.post(self.url + "/swarm", data=form, timeout=30).json()["success"]

    def night(self) -> None:
        """START, then wait for the night to end (the runner stops by itself)."""
        self.start()
        self._wait(lambda: self.state() == "running", 30)
        self._wait(lambda: self.state() == "stopped", 90)

    def close(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(30)
        self.log.close()
        return code

    @staticmethod
    def _wait(cond: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.2)


def reporting(url: str) -> int:
    return int(httpx.get(url + "/v1/results", timeout=10).json()["precincts_reporting"])


def test_a_restart_from_the_web_ui_plays_a_fresh_night_or_is_refused(
        tmp_path: Path, free_port: Callable[[], int]) -> None:
    fresh, fixed = tmp_path / "fresh", tmp_path / "fixed"
    fresh.mkdir()
    fixed.mkdir()
    with start_server(tmp_path / "a.db", admin_token="adm") as a, \
            start_server(tmp_path / "b.db", admin_token="adm") as b:
        uis = [WebUI(fresh, a.url, free_port(), "--provision", "--admin-token=adm"),
               WebUI(fixed, b.url, free_port(), "--provision", "--admin-token=adm",
                     "--run-dir", str(fixed / "night"))]
        try:
            for ui in uis:
                ui.start()
            for ui in uis:
                ui._wait(lambda ui=ui: ui.state() == "stopped", 120)  # type: ignore[misc]
            (first,) = (fresh / "runs").iterdir()
            first_events = (first / "events.jsonl").read_bytes()
            fixed_events = (fixed / "night" / "events.jsonl").read_bytes()
            assert reporting(a.url) > 0 and reporting(b.url) > 0

            uis[0].night()  # a fresh night: new run directory, the target reset first
            uis[1].start()  # refused: --run-dir ties the run to its one night
            uis[1]._wait(lambda: uis[1].state() == "stopped", 30)
            time.sleep(2)
        finally:
            codes = [ui.close() for ui in uis]
        second = next(d for d in (fresh / "runs").iterdir() if d != first)
        assert (first / "events.jsonl").read_bytes() == first_events  # never appended to
        events = [json.loads(x) for x in (second / "events.jsonl").read_text().splitlines()]
        assert {e["unit_id"] for e in events if e["actor"] == "chair"}  # it played
        audit = httpx.get(a.url + "/v1/admin/audit", params={"limit": 5000},
                          headers={"Authorization": "Bearer adm"}).json()["items"]
        assert audit[0]["kind"] == "reset"  # the trail of the fresh night begins there
        finals = [i["precinct_id"] for i in audit if i["outcome"] == "accepted"
                  and i["kind"] in ("final", "hotline_report")]
        assert finals and len(finals) == len(set(finals))  # night 1's were cleared
        assert reporting(a.url) > 0  # and the fresh night reported again
        assert (fixed / "night" / "events.jsonl").read_bytes() == fixed_events
        assert sorted(p.name for p in fixed.iterdir()) == ["locust.log", "night"]
        log = (fixed / "locust.log").read_text()
        assert "restart refused: --run-dir ties this run to one night" in log
    assert set(codes) <= {0, 1}, codes  # 1: some requests failed (wrong PINs: modelled)
