"""Ctrl-C during ``rehearse run``: a clean stop, exit 3, a partial run directory that
``rehearse report`` can finish."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"


def test_ctrl_c_keeps_a_partial_run_that_report_finishes(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", CLI, "run", "smoke", "--out", str(tmp_path),
                             "--band-runs", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        events: list[Path] = []
        while time.monotonic() < deadline:
            events = list(tmp_path.glob("*/events.jsonl"))
            if events and events[0].read_text().count("\n") >= 20:
                break
            time.sleep(0.2)
        assert events, "the run never started"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, out + err
    assert "interrupted" in err and "Traceback" not in err
    run_dir = events[0].parent
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert (run_dir / "locust_stats.csv").is_file()  # Locust stopped cleanly and wrote its CSV
    report = subprocess.run([sys.executable, "-c", CLI, "report", str(run_dir)],
                            capture_output=True, text=True, timeout=120, check=False)
    # An interrupted run cannot pass: a failed gate fails it, else it is inconclusive (4).
    assert report.returncode in (1, 4), report.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["partial"] is True
