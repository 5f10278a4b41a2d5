"""The zero state on hand-built run directories: the published results read before the
night must list the whole roster with nothing in it, in the live feed's format; a target
that starts with leftovers fails, naming them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.reports import build_report
from caucus_rehearsal.rundir.vocab import ZERO_STATE_FILE as FILE
from caucus_rehearsal.rundir.zero import ZeroRead
from support.rundirs import CANDS, RunBuilder, tally

UNITS = {"U1": tally(100, (60, 40), (58, 42), (2, 2)),
         "U2": tally(50, (10, 40), (0, 48), (0, 3))}
ZERO_ROW = tally(0, (0, 0), (0, 0), (0, 0))
GATES = ("data_loss == 0", "zero_state_errors == 0")


def zero_feed(**rows: dict[str, Any]) -> dict[str, Any]:
    """The feed before the night: every unit a zero row unless ``rows`` says otherwise
    (a row with ``reporting`` true is listed as published)."""
    listed = {uid: copy.deepcopy(ZERO_ROW) for uid in UNITS} | rows
    published = {u: r for u, r in listed.items() if r.pop("reporting", False)}
    zeros = {c: 0 for c in CANDS}
    return {"precincts_total": len(UNITS), "precincts_reporting": len(published),
            "statewide": {"first": dict(zeros), "final": dict(zeros), "sde": dict(zeros)},
            "version": 1, "precincts": published,
            "unreported": {u: r for u, r in listed.items() if u not in published}}


def night(path: Path, zero: ZeroRead | None) -> Path:
    b = RunBuilder(path)
    for uid, t in UNITS.items():
        b.unit(uid, t)
        b.ack(uid, t)
    b.snapshot(90.0, copy.deepcopy(UNITS))
    out = b.write(gates=GATES)
    if zero is not None:
        (out / FILE).write_text(json.dumps(zero.as_json()))
    return out


def read(results: dict[str, Any]) -> ZeroRead:
    return ZeroRead(1_790_000_000.0, -30.0, 200, results)


def gate(path: Path) -> tuple[float | None, str, str]:
    s = json.loads((path / "summary.json").read_text())
    (g,) = [g for g in s["gates"] if g["metric"] == "zero_state_errors"]
    return g["value"], g["result"], g["note"]


def test_a_feed_at_zero_passes(tmp_path: Path) -> None:
    path = night(tmp_path / "run", read(zero_feed()))
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("pass", 0)
    assert gate(path) == (0.0, "pass", "read at 18:30, 2 units listed")
    s = json.loads((path / "summary.json").read_text())["zero_state"]
    assert s["errors"] == 0 and s["zero_rows_listed"] is True and s["leftovers"] == {}


def test_leftovers_from_an_earlier_test_fail_and_are_named(tmp_path: Path) -> None:
    left = {**copy.deepcopy(UNITS["U1"]), "reporting": True}
    feed = zero_feed(U1=left)
    feed["statewide"]["final"]["Alpha"] = 58
    path = night(tmp_path / "run", read(feed))
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    assert gate(path)[:2] == (3.0, "fail")  # the unit, precincts reporting, final/Alpha
    assert out.findings[0] == (
        "The target did not start from zero: before the first report (18:30) it already "
        "showed 1 unit, leftovers of an earlier night or test: P U1 (Adair, U1) (e.g. U1: "
        "reporting, attendance 100, first alignment 100, final alignment 100, delegates 4, "
        "SDE 1.0000); its totals were not zero: precincts reporting 1, final/Alpha 58.")
    html = (path / "report.html").read_text()
    assert "<h2>Zero state</h2>" in html and "U1: reporting, attendance 100" in html


def test_missing_and_foreign_units_and_another_format_are_counted(tmp_path: Path) -> None:
    feed = zero_feed()
    del feed["unreported"]["U2"]
    feed["unreported"]["X9"] = copy.deepcopy(ZERO_ROW)
    del feed["unreported"]["U1"]["first"]["Beta"]
    feed["unreported"]["X9"]["sde"]["Beta"] = 0.25  # a leftover row not reporting
    path = night(tmp_path / "run", read(feed))
    build_report(path)
    z = json.loads((path / "summary.json").read_text())["zero_state"]
    assert z["missing"] == ["U2"] and z["outside_roster"] == ["X9"]
    assert z["format"] == {"U1": "lacks first for Beta"}
    assert z["leftovers"] == {"X9": "SDE 0.2500"}
    assert gate(path)[:2] == (4.0, "fail")


def test_the_format_is_the_live_feeds(tmp_path: Path) -> None:
    """A zero state in another shape than the night's feed is an error; the same shape
    is not, whatever the target leaves out of both."""
    feed = zero_feed()
    del feed["statewide"]["sde"]
    feed["unreported"]["U2"]["final"] = 0
    path = night(tmp_path / "run", read(feed))
    build_report(path)
    z = json.loads((path / "summary.json").read_text())["zero_state"]
    assert z["format"] == {"U2": "has final a number where the live feed has a tally",
                           "statewide": "has sde missing where the live feed has a tally"}
    lines = [json.loads(x) for x in (path / "snapshots.jsonl").read_text().splitlines()]
    del lines[-1]["results"]["statewide"]["sde"]  # the night's feed has no SDE total either
    (path / "snapshots.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    build_report(path)
    z = json.loads((path / "summary.json").read_text())["zero_state"]
    assert z["format"] == {"U2": "has final a number where the live feed has a tally"}


def test_a_target_that_lists_no_zero_rows_is_checked_for_what_it_shows(tmp_path: Path) -> None:
    feed = zero_feed()
    del feed["unreported"]
    path = night(tmp_path / "run", read(feed))
    build_report(path)
    assert gate(path) == (0.0, "pass", "read at 18:30, 0 units listed; whether every unit is "
                          "listed not checked (the adapter returns no zero rows)")


def test_a_skipped_check_is_not_measured_and_said(tmp_path: Path) -> None:
    path = night(tmp_path / "run", ZeroRead(None, None, 0, None, "--skip-zero-check",
                                            skipped=True))
    out = build_report(path)
    assert gate(path) == (None, "not measured", "skipped (--skip-zero-check)")
    assert "The zero state before the night was not checked (--skip-zero-check)." \
        in out.findings
    assert out.verdict == "pass"


def test_a_run_without_a_zero_read_is_not_measured(tmp_path: Path) -> None:
    path = night(tmp_path / "run", None)
    build_report(path)
    assert gate(path)[:2] == (None, "not measured")


def test_a_failed_read_counts_against_the_zero_state(tmp_path: Path) -> None:
    path = night(tmp_path / "run", ZeroRead(1.0, -30.0, 0, None,
                                            "TargetProtocolError: GET /v1/results: HTTP 404"))
    out = build_report(path)
    assert gate(path) == (1.0, "fail", "the read before the night failed: "
                          "TargetProtocolError: GET /v1/results: HTTP 404")
    assert "rehearse run --skip-zero-check" in out.findings[0]


def test_an_unreadable_zero_read_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = night(tmp_path / "run", None)
    (path / FILE).write_text('{"skipped": false, "status": "ok"}')
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and FILE in err and "status(='ok')" in err
