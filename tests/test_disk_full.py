"""A full disk (a real tmpfs filled up: ENOSPC from the kernel) under ``rehearse run`` and
``rehearse simulate``: one line, exit 3, what was written kept, no torn file, no process
left, and ``run.json`` saying why the run stopped."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from caucus_rehearsal.server.process import start_server

LOCUSTFILE = Path(__file__).parents[1] / "locustfile.py"

pytestmark = pytest.mark.slow


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_simulate_on_a_full_disk_says_it_wrote_nothing(small_disk: Any,
                                                       rehearse_argv: Any) -> None:
    r = small_disk(rehearse_argv("simulate", "smoke", "--runs", "3", "--out", "sim"),
                   size_mb=1, fill="before")
    assert r["rc"] == 3, r["stderr"]
    assert "Traceback" not in r["stderr"]
    line = last_line(r["stderr"])
    assert line.startswith("rehearse: error: the disk is full") and "nothing was written" in line
    assert r["files"] == {}


def test_simulate_keeps_the_files_it_finished_when_the_disk_fills(small_disk: Any,
                                                                  rehearse_argv: Any) -> None:
    # Room for summary.json (~13 KB) and runs.csv, not for the first chart (~57 KB).
    r = small_disk(rehearse_argv("simulate", "smoke", "--runs", "3", "--out", "sim"),
                   size_mb=1, fill="before", leave_bytes=32 * 1024)
    assert r["rc"] == 3, r["stderr"]
    line = last_line(r["stderr"])
    assert "the disk is full" in line and "sim/fan.png" in line
    assert line.endswith("kept summary.json, runs.csv in sim")
    assert set(r["files"]) == {"sim/summary.json", "sim/runs.csv"}  # no torn or .tmp file


def test_a_full_disk_stops_the_run_and_report_finishes_it(small_disk: Any,
                                                          rehearse_argv: Any) -> None:
    r = small_disk(rehearse_argv("run", "smoke", "--out", ".", "--band-runs", "0"),
                   fill={"file": "*/events.jsonl", "lines": 30},
                   then=["sh", "-c", 'exec "$@" */', "sh", *rehearse_argv("report")])
    assert r["rc"] == 3, r["stdout"] + r["stderr"]
    assert "Traceback" not in r["stderr"]
    line = last_line(r["stderr"])
    assert line.startswith("rehearse: error: the disk is full"), r["stderr"]
    assert "smoke" in line.split("kept in")[0]  # it names the file it could not write
    assert r["descendants"] and r["alive"] == []  # the server and Locust were stopped
    run = r["run_json"]
    assert run["status"] == "aborted" and run["stop_reason"].startswith("disk full: ")
    assert "smoke" in run["stop_reason"]
    assert any(name.endswith("events.jsonl") and size for name, size in r["files"].items())
    # A partial run cannot pass; nor can it blame the target for the reports acknowledged
    # after its last read of the feed (the disk stopped the run, not the target).
    assert r["then"]["rc"] == 4, r["then"]["stderr"]
    assert r["then"]["summary"]["partial"] is True
    assert r["then"]["summary"]["data_loss"] == 0


def test_plain_locust_stops_with_one_line_and_exit_3(small_disk: Any, tmp_path: Path) -> None:
    with start_server(tmp_path / "r.db") as srv:
        r = small_disk([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                        "--host", srv.url, "--provision", f"--admin-token={srv.admin_token}",
                        "--scenario", "smoke", "--speed", "600", "--run-dir", "night"],
                       fill={"file": "night/events.jsonl", "lines": 30})
    assert r["rc"] == 3, r["stderr"][-3000:]
    errors = [x for x in r["stderr"].splitlines() if x.startswith("locust: error:")]
    assert len(errors) == 1 and errors[0].startswith(
        "locust: error: cannot write the run's records (No space left on device: night"), errors
    assert "Traceback" not in r["stderr"]
