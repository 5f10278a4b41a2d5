"""The adapter seam: ``rehearse run`` against a small server of a different API shape
(examples/tally_exchange_server.py) through examples/vendor_adapter.py."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def test_rehearsal_through_a_vendor_adapter(tmp_path: Path,
                                            target_passed: Callable[..., None]) -> None:
    server = subprocess.Popen(
        [sys.executable, str(REPO / "examples" / "tally_exchange_server.py"), "--port", "0",
         "--admin-key", "k3y"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().removeprefix("listening on ")
        assert url.startswith("http://127.0.0.1:")
        code = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
        proc = subprocess.run(
            [sys.executable, "-c", code, "run", "smoke", "--target", url, "--admin-token", "k3y",
             "--adapter", "examples.vendor_adapter:TallyExchangeAdapter",
             "--out", str(tmp_path), "--band-runs", "0", "--speed", "600",
             "--set", "live.end=23:45"],
            cwd=REPO, capture_output=True, text=True, timeout=240, check=False)
        feed = httpx.get(url + "/api/feed").json()
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    assert proc.returncode in (0, 4), proc.stdout + proc.stderr
    (run_dir,) = tmp_path.iterdir()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["adapter"] == "examples.vendor_adapter:TallyExchangeAdapter"
    assert run["reference_server"] is False and run["status"] == "complete"
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    acked = {e["unit_id"]: e["payload"] for e in events if e["outcome"] == "ok"
             and (e["channel"], e["step"]) in {("app", "final"), ("hotline", "report")}}
    # What the vendor's own feed shows is exactly what the rehearsal got acknowledged.
    shown = {p["precinct"]: p for p in feed["reported"]}
    assert set(shown) == set(acked) and len(acked) >= 30
    for uid, payload in acked.items():
        assert shown[uid]["attendees"] == payload["attendance"]
        assert {r["candidate"]: r["final"] for r in shown[uid]["rows"]} == payload["final"]
    # The vendor's sessions were really used: every data step went out with one.
    assert all(e["status"] in (200, 201) for e in events
               if e["actor"] == "chair" and e.get("step") in ("attendance", "first", "final"))
    snaps = [json.loads(x) for x in (run_dir / "snapshots.jsonl").read_text().splitlines()]
    assert snaps[-1]["status"] == 200
    assert set(snaps[-1]["results"]["precincts"]) == set(acked)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["data_loss"] == 0
    target_passed(summary, proc.returncode)
    # The exchange publishes no SDE and no totals, and its adapter says so.
    assert summary["not_checked"] == ["sde", "statewide", "counties"]
    assert summary["reconciliation"]["published_correctly"] >= 30
    assert ("Not checked, because the target does not publish them (as its adapter "
            "declares): SDE, statewide totals.") in summary["findings"]
