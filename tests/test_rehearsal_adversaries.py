"""Adversaries against the reference server: every kind is sent, each is refused the way
contract v1 says, and none of it changes what the honest chairs got published."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
HOSTILE = ["adversaries.bad_login_rate_per_min=0.3", "adversaries.brute_force_attackers=1",
           "adversaries.replay_rate_per_min=0.3", "adversaries.cross_precinct_rate_per_min=0.3",
           "adversaries.malformed_rate_per_min=0.3", "adversaries.nuisance_start='20:00'",
           "adversaries.nuisance_rate_per_min=0.2", "demand.doors_close_peak=20"]


GATES = '["data_loss == 0", "chairs_locked_out_by_attackers == 0"]'


def test_adversaries_are_refused_and_change_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CLI, "run", "smoke", "--out", str(tmp_path), "--band-runs", "0",
         "--speed", "1200", *(f"--set={o}" for o in HOSTILE), f"--set=gates={GATES}"],
        capture_output=True, text=True, timeout=240, check=False)
    (run_dir,) = tmp_path.iterdir()
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    seen = collections.defaultdict(collections.Counter)
    for e in events:
        if e["actor"] == "adversary":
            seen[e["step"]][(e.get("status"), e["outcome"])] += 1
    assert set(seen) == {"bad_pin", "replay", "cross_precinct", "malformed", "nuisance"}
    # Wrong PINs: 401, or 429 once the brute-force attacker has locked the precinct.
    assert set(seen["bad_pin"]) <= {(401, "rejected"), (429, "locked_out")}
    assert (429, "locked_out") in seen["bad_pin"]
    assert set(seen["cross_precinct"]) == {(403, "rejected")}
    assert all(status in (400, 422) for status, _ in seen["malformed"])
    # A replay with the same key and body gets the stored answer, counted once.
    assert set(seen["replay"]) == {(201, "ok")}
    assert {o for _, o in seen["nuisance"]} <= {"answered", "abandoned", "busy"}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["data_loss"] == 0 and summary["mismatches"] == 0, proc.stdout
    audit = [json.loads(x) for x in (run_dir / "audit.jsonl").read_text().splitlines()]
    replays = [a for a in audit if a["request_id"] and "-replay-" in a["request_id"]]
    assert replays and {a["outcome"] for a in replays} == {"replayed"}
    # Each chair and each attacker signs in from its own address (X-Forwarded-For, which
    # the bundled server trusts from the loopback only): the brute-force attacker locks out
    # itself, never the real chair of the precinct it guesses at.
    brute = [e for e in events if e["actor"] == "adversary" and "attacker" in e]
    (guessed,) = {e["unit_id"] for e in brute}
    locked = min(e["sent_wall"] for e in brute if e["outcome"] == "locked_out")
    chair = [e["outcome"] for e in events if e["actor"] == "chair" and e["step"] == "login"
             and e["unit_id"] == guessed and e["sent_wall"] > locked]
    assert chair and set(chair) == {"ok"}, chair  # it signed in after the lockout
    sources = {a["payload"]["source"] for a in audit if a["kind"] == "chair_login"
               and a["precinct_id"] == guessed}
    assert len(sources) == 1 and sources.pop().startswith("10."), sources
    assert summary["security"]["chairs_locked_out_by_attackers"] == []
    gate = {g["metric"]: g for g in summary["gates"]}["chairs_locked_out_by_attackers"]
    assert (gate["value"], gate["result"]) == (0.0, "pass")
