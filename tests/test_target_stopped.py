"""A target that dies in the middle of a rehearsal: the report says so first, and when."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from caucus_rehearsal.server.process import start_server

pytestmark = pytest.mark.slow

CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"


def test_a_target_killed_mid_run_is_named_first(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    with start_server(tmp_path / "db.sqlite", admin_token="adm") as server:
        proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "run", "smoke", "--target", server.url,
             "--admin-token", "adm", "--out", str(out), "--band-runs", "0",
             "--set", "live.end=22:30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # until a dozen reports were acknowledged
                events = list(out.glob("*/events.jsonl"))
                if events and events[0].read_text().count('"outcome":"ok"') >= 60:
                    break
                time.sleep(0.2)
            server.process.kill()  # kill -9: the target is gone, its port refuses
            server.process.wait(10)
            stdout, stderr = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 1, stdout + stderr
    (run_dir,) = out.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    stopped = summary["target_stopped"]
    assert stopped is not None and stopped["unanswered"] >= 10
    assert summary["findings"][0].startswith(f"The target stopped answering at "
                                             f"{stopped['since']}: ")
    assert summary["verdict"] == "fail"
    latency = [g for g in summary["gates"] if g["metric"] == "p95_latency_ms"]
    assert latency and latency[0]["never"] is True  # refused requests are not fast ones
    assert "verdict: FAIL" in stdout and "The target stopped answering" in stdout
