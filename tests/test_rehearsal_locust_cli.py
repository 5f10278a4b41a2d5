"""Plain ``locust -f locustfile.py``: a bad scenario is one line and exit 2, like ``rehearse``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--scenario", "nosuch"], "nosuch: expected a scenario file or one of the bundled keys"),
        (["--scenario", "smoke", "--set", "hotline.operators=-1"],
         "--set: hotline.operators = -1: expected a whole number >= 0"),
        (["--scenario", "smoke", "--speed", "inf"],
         "--speed inf: expected simulated seconds per wall second from 1 (real time) to 3600"),
    ],
)
def test_bad_scenario_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    locust = shutil.which("locust")
    assert locust is not None, "locust is a dependency and installs its console script"
    proc = subprocess.run(
        [locust, "-f", "locustfile.py", *args, "--headless", "--host", "http://127.0.0.1:9"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("locust: error:")]
    assert len(errors) == 1 and errors[0].startswith(f"locust: error: {needle}")
    assert "Traceback" not in proc.stderr
