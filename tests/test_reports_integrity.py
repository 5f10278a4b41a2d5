"""Integrity over time on hand-built run directories: every fresh snapshot is checked
against the one before (reporting never falls, a published precinct never disappears or
changes without a new version) and against itself (totals equal the precincts' sum, no
count above the attendance), each violation with the moment it was seen."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from caucus_rehearsal.reports import build_report
from caucus_rehearsal.reports.integrity import check
from caucus_rehearsal.rundir.reader import read_run_dir
from support.rundirs import CANDS, RunBuilder, tally

UNITS = {"U1": tally(100, (60, 40), (58, 42), (2, 2)),
         "U2": tally(50, (10, 40), (0, 48), (0, 3)),
         "U3": tally(30, (20, 10), (20, 10), (1, 1))}
GATES = ("data_loss == 0", "reporting_decreases == 0", "disappeared_precincts == 0",
         "silent_changes == 0", "snapshot_total_errors == 0", "over_attendance == 0")


def statewide(precincts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: {c: sum(p[k][c] for p in precincts.values()) for c in CANDS}
            for k in ("first", "final", "sde")}


class Feed:
    """A run whose snapshots are written one state at a time, with versions."""

    def __init__(self, path: Path) -> None:
        self.b = RunBuilder(path)
        for uid, t in UNITS.items():
            self.b.unit(uid, t)
            self.b.ack(uid, t, sim_min=50.0)
        self.version = 0

    def state(self, minute: float, shown: dict[str, dict[str, Any]], *,
              version: int | None = None, sw: dict[str, Any] | None = None,
              revisions: dict[str, int] | None = None, **extra: Any) -> None:
        """One fetch showing ``shown``; the feed's version goes up unless given."""
        self.version = version if version is not None else self.version + 1
        rows = {uid: {**copy.deepcopy(p), "revision": (revisions or {}).get(uid, 1)}
                for uid, p in shown.items()}
        self.b.snapshot(minute, rows, statewide=sw if sw is not None else statewide(shown))
        self.b.snapshots[-1]["results"].update(version=self.version, **extra)

    def line(self, minute: float, status: int) -> None:
        self.b.snapshots.append({"fetched_wall": 0.0, "sim_min": minute, "status": status,
                                 "results": None, "detail": "x" if status == 0 else ""})

    def write(self) -> Path:
        return self.b.write(gates=GATES)


def summary(path: Path) -> dict[str, Any]:
    return dict(json.loads((path / "summary.json").read_text()))


def results(path: Path) -> dict[str, tuple[float | None, str]]:
    return {g["metric"]: (g["value"], g["result"]) for g in summary(path)["gates"]}


def test_a_feed_that_only_grows_passes_every_check(tmp_path: Path) -> None:
    f = Feed(tmp_path / "run")
    f.state(40.0, {})
    f.line(45.0, 304)
    f.state(50.0, {"U1": UNITS["U1"]})
    f.line(55.0, 0)  # a failed fetch shows nothing: nothing disappeared
    f.state(60.0, dict(UNITS))
    out = build_report(f.write())
    assert (out.verdict, out.exit_code) == ("pass", 0)
    assert set(results(f.b.path).values()) == {(0.0, "pass")}
    block = summary(f.b.path)["integrity"]
    assert block["snapshots"] == 3 and block["violations"] == []
    assert (f.b.path / "charts" / "published_feed.png").is_file()


def test_a_stale_read_is_caught_with_its_moment(tmp_path: Path) -> None:
    """Wayne County: the feed serves an older state for a moment, then recovers."""
    f = Feed(tmp_path / "run")
    f.state(50.0, {"U1": UNITS["U1"]})
    f.state(60.0, dict(UNITS))
    f.state(62.0, {"U1": UNITS["U1"]}, version=1)  # the state of 20:50, its version too
    f.state(64.0, dict(UNITS), version=3)
    out = build_report(f.write())
    assert (out.verdict, out.exit_code) == ("fail", 1)
    got = [(v["at"], v["kind"], v["subjects"], v["text"])
           for v in summary(f.b.path)["integrity"]["violations"]]
    assert got == [
        ("20:02", "reporting_decreases", ["feed"], "precincts reporting fell from 3 to 1"),
        ("20:02", "disappeared_precincts", ["U2", "U3"],
         "2 published precincts disappeared: U2, U3"),
        ("20:02", "silent_changes", ["feed"], "the statewide totals and precincts reporting "
         "changed while the feed's version went back from 2 to 1"),
    ]
    r = results(f.b.path)
    assert r["reporting_decreases"] == (1.0, "fail")
    assert r["disappeared_precincts"] == (2.0, "fail")
    assert r["silent_changes"] == (1.0, "fail")
    assert r["snapshot_total_errors"] == (0.0, "pass")
    assert "Published precincts disappeared from the published results (2 precincts): first " \
           "at 20:02, 2 published precincts disappeared: U2, U3." in out.findings


def test_a_spike_under_the_same_version_is_caught_with_its_moment(tmp_path: Path) -> None:
    """Sussex County: a candidate's total jumps for a moment under an unchanged version."""
    f = Feed(tmp_path / "run")
    f.state(50.0, dict(UNITS))
    spiked = statewide(UNITS)
    spiked["final"]["Alpha"] += 100
    f.state(55.0, dict(UNITS), version=1, sw=spiked)
    f.state(60.0, dict(UNITS), version=1)  # and back, still under version 1
    out = build_report(f.write())
    assert out.verdict == "fail"
    got = [(v["at"], v["kind"], v["text"]) for v in summary(f.b.path)["integrity"]["violations"]]
    assert got == [
        ("19:55", "silent_changes",
         "the statewide totals changed while the feed's version stayed at 1"),
        ("19:55", "snapshot_total_errors",
         "statewide final/Alpha: published 178, the published precincts sum to 78"),
        ("20:00", "silent_changes",
         "the statewide totals changed while the feed's version stayed at 1"),
    ]
    r = results(f.b.path)
    assert r["snapshot_total_errors"] == (1.0, "fail") and r["silent_changes"] == (2.0, "fail")
    assert r["reporting_decreases"] == (0.0, "pass")
    # the last snapshot is consistent: the last-state gate would not have seen it
    assert summary(f.b.path)["published_consistency"]["statewide_total_errors"] == []


def test_a_precinct_changes_only_with_a_new_revision(tmp_path: Path) -> None:
    f = Feed(tmp_path / "run")
    f.state(50.0, dict(UNITS), revisions={"U1": 5, "U2": 6})
    fixed = copy.deepcopy(UNITS)
    fixed["U1"]["final"] = {"Alpha": 60, "Beta": 40}
    fixed["U2"]["final"] = {"Alpha": 1, "Beta": 47}
    # U1 corrected with a new revision; U2 changed under its old one
    f.state(60.0, fixed, revisions={"U1": 9, "U2": 6})
    f.state(70.0, dict(UNITS), revisions={"U1": 5, "U2": 6})  # U1 reverts: revision back
    build_report(f.write())
    got = [(v["at"], v["subjects"], v["text"])
           for v in summary(f.b.path)["integrity"]["violations"]
           if v["kind"] == "silent_changes"]
    assert got == [
        ("20:00", ["U2"], "1 published precinct changed without a new revision: U2 (e.g. U2 "
         "final/Alpha: before 0, now 1; final/Beta: before 48, now 47)"),
        ("20:10", ["U1", "U2"], "2 published precincts changed without a new revision: U1, U2 "
         "(e.g. U1 final/Alpha: before 60, now 58; final/Beta: before 40, now 42)"),
    ]
    assert results(f.b.path)["silent_changes"] == (3.0, "fail")


def test_a_count_above_the_attendance_is_counted_once(tmp_path: Path) -> None:
    f = Feed(tmp_path / "run")
    doubled = copy.deepcopy(UNITS)
    doubled["U3"]["final"] = {"Alpha": 40, "Beta": 20}
    f.state(50.0, doubled)
    f.state(60.0, doubled)
    build_report(f.write())
    (v,) = summary(f.b.path)["integrity"]["violations"]
    assert (v["at"], v["kind"], v["text"]) == (
        "19:50", "over_attendance", "1 published precinct counted more people than attended: "
        "U3 (e.g. U3: final alignment 60, attendance 30)")
    assert results(f.b.path)["over_attendance"] == (1.0, "fail")


def test_totals_of_a_torn_read_are_not_compared(tmp_path: Path) -> None:
    f = Feed(tmp_path / "run")
    f.state(50.0, {"U1": UNITS["U1"]}, sw=statewide(UNITS), precincts_version=7)
    build_report(f.write())
    (g,) = [g for g in summary(f.b.path)["gates"] if g["metric"] == "snapshot_total_errors"]
    assert (g["value"], g["result"]) == (0.0, "pass")
    assert g["note"] == ("over 1 published states; 1 not compared (totals and precincts of "
                         "two states)")


def test_without_any_version_marker_silent_changes_are_not_measured(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    for uid, t in UNITS.items():
        b.unit(uid, t)
        b.ack(uid, t)
    b.snapshot(50.0, dict(UNITS))
    changed = copy.deepcopy(UNITS)
    changed["U2"]["final"] = {"Alpha": 1, "Beta": 47}
    b.snapshot(60.0, changed)
    b.write(gates=GATES)
    h = check(read_run_dir(b.path))
    assert h.unmeasured == {"silent_changes": "the target publishes no version marker"}
    build_report(b.path)
    assert results(b.path)["silent_changes"] == (None, "not measured")
