"""build_report and ``rehearse report``: files, gates, verdicts, partial runs, exit codes."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.reports import build_report
from caucus_rehearsal.reports.metrics import measure
from caucus_rehearsal.reports.reconcile import reconcile
from caucus_rehearsal.rundir.reader import read_run_dir
from caucus_rehearsal.simulator.gates import parse_gate
from support.rundirs import sample_night


def test_clean_run_passes_every_gate(tmp_path: Path) -> None:
    b = sample_night(tmp_path / "run")
    out = build_report(b.path)
    assert out.verdict == "pass" and out.exit_code == 0 and not out.partial
    summary = json.loads((b.path / "summary.json").read_text())
    assert [g["result"] for g in summary["gates"]] == ["pass"] * 5
    assert summary["gates"][0]["value"] == 1.0  # all 8 published by 21:00 (sim 120)
    assert summary["reconciliation"]["published_correctly"] == 8
    assert summary["reconciliation"]["acknowledged_not_published"] == 0
    names = {p.name for p in out.paths}
    assert {"summary.json", "precincts.csv", "report.html", "reporting_curve.png"} <= names


def test_lost_and_altered_precincts_fail_and_are_named(tmp_path: Path) -> None:
    b = sample_night(tmp_path / "run", lose=("U3", "U5"), alter=("U4",))
    out = build_report(b.path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    s = json.loads((b.path / "summary.json").read_text())
    assert s["reconciliation"]["acknowledged_not_published"] == 2
    assert s["data_loss"] == 3 and s["mismatches"] == 1
    assert [p["unit_id"] for p in s["lost_precincts"]] == ["U3", "U5"]
    gate = {g["metric"]: g for g in s["gates"]}
    assert (gate["data_loss"]["value"], gate["data_loss"]["result"]) == (3.0, "fail")
    assert (gate["mismatches"]["value"], gate["mismatches"]["result"]) == (1.0, "fail")
    assert out.findings[0] == ("2 precincts were acknowledged by the server but never "
                               "published (data loss) (20:10 to 20:20): P U3 (Adair, U3), "
                               "P U5 (Adair, U5).")
    html = (b.path / "report.html").read_text()
    assert "P U3 (Adair, U3)" in html and "Verdict: FAIL" in html
    headings = re.findall(r"<h2>([^<]*)</h2>", html)
    assert len(headings) == len(set(headings)), headings  # each section once
    with (b.path / "precincts.csv").open(newline="") as fh:
        rows = {r["unit_id"]: r for r in csv.DictReader(fh)}
    assert len(rows) == 8 and rows["U5"]["class"] == "acknowledged_not_published"
    assert rows["U4"]["published_vs_acknowledged"] == "final/Alpha: acknowledged 14, published 13"


def test_rebuilding_gives_the_same_summary(tmp_path: Path) -> None:
    b = sample_night(tmp_path / "run", lose=("U2",))
    build_report(b.path)
    first = (b.path / "summary.json").read_bytes()
    build_report(b.path)
    assert (b.path / "summary.json").read_bytes() == first


def test_partial_run_without_snapshots_is_reported_as_partial(tmp_path: Path) -> None:
    b = sample_night(tmp_path / "run", status="interrupted", snapshots=False)
    with (b.path / "events.jsonl").open("a") as fh:
        fh.write('{"unit_id": "U1", "actor": "cha')
    out = build_report(b.path)
    # Nothing failed, but an interrupted run cannot vouch for the target: inconclusive.
    assert out.partial and (out.verdict, out.exit_code) == ("inconclusive", 4)
    assert out.reasons[-1] == "the run did not finish (status 'interrupted')"
    s = json.loads((b.path / "summary.json").read_text())
    assert s["partial"] is True and s["truncated_files"] == ["events.jsonl"]
    results = {g["metric"]: g["result"] for g in s["gates"]}
    assert results["data_loss"] == "not measured"
    assert results["published_fraction"] == "not measured"
    assert out.findings[0].startswith("The rehearsal is inconclusive: ")
    assert out.findings[1].startswith("This run is partial (status 'interrupted', cut-off "
                                      "events.jsonl)")
    assert "Partial run." in (b.path / "report.html").read_text()


def test_gate_metrics_read_at_a_clock_time(tmp_path: Path) -> None:
    b = sample_night(tmp_path / "run")
    run = read_run_dir(b.path)
    rec = reconcile(run)

    def m(text: str) -> float | None:
        gate = parse_gate(text)
        return measure(run, rec, gate, gate.metric).value

    assert m("published_fraction >= 0 by 20:10") == 0.375  # the 70-minute snapshot: U1-U3
    assert m("published_fraction >= 0 by 20:05") == 0.0  # before the first snapshot
    assert m("received_fraction >= 0 by 20:10") == 0.375  # acks at 60, 65, 70
    assert m("hotline_wait_max_min <= 0") == 12.0
    assert m("hotline_wait_median_min <= 0") == 6.0
    assert m("hotline_service_level >= 0 within 5min") == 0.5  # holds of 0, 4, 8, 12 min
    assert m("app_share >= 0") == 0.5
    assert m("minutes_to_95pct_received <= 0") == 95.0
    assert m("minutes_to_95pct_published <= 0") == 100.0
    assert m("p95_latency_ms <= 0") == 10.0
    assert m("error_rate <= 0") == 0.0
    assert m("send_lag_p99_ms <= 0") == pytest.approx(2.0, abs=1e-3)


def test_never_reaching_95pct_fails_an_upper_bound(tmp_path: Path) -> None:
    b = sample_night(tmp_path / "run", lose=("U1",))
    run = read_run_dir(b.path)
    gate = parse_gate("minutes_to_95pct_published <= 300")
    value = measure(run, reconcile(run), gate, gate.metric).value
    assert value == math.inf and not gate.passes(value)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = sample_night(tmp_path / "good").path
    bad = sample_night(tmp_path / "bad", lose=("U1",)).path
    assert main(["report", str(good)]) == 0
    assert "verdict: PASS" in capsys.readouterr().out
    assert main(["report", str(bad)]) == 1
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a directory" in err[0]
    (good / "run.json").write_text("{not json")
    assert main(["report", str(good)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run.json: not readable JSON" in err[0]
