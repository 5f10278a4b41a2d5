"""A broken target's report: ``run.json`` ``target_error`` and ``protocol_error`` events
make the verdict ``error`` (exit 3), named in the first finding; ``rehearse report``
says the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.errors import TargetProtocolError
from caucus_rehearsal.rehearsal.orchestrator import record_target_error
from caucus_rehearsal.reports import build_report
from support.rundirs import RunBuilder, tally

T1 = tally(100, (60, 40), (58, 42), (2, 2))
HEALTH = {"call": "health", "kind": "protocol", "endpoint": "GET /healthz", "status": 200,
          "excerpt": "[]", "error": "RuntimeError: boom"}


def test_a_target_error_in_run_json_is_the_verdict(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    path = b.write(status="aborted", target_error=HEALTH)
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("error", 3)
    assert out.findings[0] == ("The target broke the contract (health check): GET /healthz "
                               "answered 200 '[]' (RuntimeError: boom).")
    s = json.loads((path / "summary.json").read_text())
    assert s["verdict"] == "error" and s["exit_code"] == 3
    assert s["target_errors"] == {"fatal": HEALTH, "protocol_errors": 0, "examples": []}
    assert "Verdict: ERROR" in (path / "report.html").read_text()
    assert main(["report", str(path)]) == 3
    assert "verdict: ERROR" in capsys.readouterr().out


def test_answers_that_could_not_be_read_are_the_verdict(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", T1)
    b.event("U1", "app", "login", "protocol_error", 50.0,
            detail="POST /v1/auth/chair answered 200 '{}': a sign-in answer without a token")
    b.snapshot(70.0, {"U1": T1})
    out = build_report(b.write())
    assert (out.verdict, out.exit_code) == ("error", 3)
    assert out.findings[0] == (
        "1 of the target's answers to the load could not be read (protocol errors; e.g. "
        "POST /v1/auth/chair answered 200 '{}': a sign-in answer without a token).")


def test_a_run_that_had_not_finished_is_kept_as_aborted(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    path = b.write(status="preparing")
    record_target_error(path, TargetProtocolError("health: boom", record=HEALTH))
    run = json.loads((path / "run.json").read_text())
    assert run["status"] == "aborted" and run["target_error"] == HEALTH
    record_target_error(path, TargetProtocolError("a second one"))  # the first is kept
    assert json.loads((path / "run.json").read_text())["target_error"] == HEALTH
