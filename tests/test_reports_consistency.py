"""Published consistency on hand-built run directories: totals against the published
precincts, precincts not in the roster or listed twice, SDE against the published
delegates; each is a gate that fails the run and a finding that names it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from caucus_rehearsal.reports import build_report
from caucus_rehearsal.reports.reconcile import reconcile
from caucus_rehearsal.rundir.reader import read_run_dir
from support.rundirs import CANDS, RunBuilder, tally

# Adair: 4 state delegates for 16 county delegates, so one county delegate is 0.25 SDE.
ROSTER = {"counties": [{"name": "Adair", "state_delegates": 4.0, "county_delegates": 16,
                        "satellite_group": False},
                       {"name": "Sat", "state_delegates": 2.0, "county_delegates": 0,
                        "satellite_group": True}]}
UNITS = {"U1": tally(100, (60, 40), (58, 42), (2, 2)),
         "U2": tally(50, (10, 40), (0, 48), (0, 3)),
         "U3": tally(30, (20, 10), (20, 10), (1, 1))}
SAT = tally(20, (12, 8), (12, 8), (1, 0), sde=(2.0, 0.0))  # alone in its group: all of S
GATES = ("data_loss == 0", "statewide_total_errors == 0", "county_total_errors == 0",
         "phantom_precincts == 0", "duplicate_precincts == 0", "sde_errors == 0")


def statewide(precincts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: {c: sum(p[k][c] for p in precincts.values()) for c in CANDS}
            for k in ("first", "final", "sde")}


def night(path: Path, shown: dict[str, dict[str, Any]] | None = None,
          sw: dict[str, Any] | None = None, **extra: Any) -> Path:
    """Every unit acknowledged and published correctly, unless ``shown``/``sw`` say
    otherwise; ``extra`` goes into the last snapshot's results."""
    b = RunBuilder(path)
    for uid, t in UNITS.items():
        b.unit(uid, t)
        b.ack(uid, t)
    b.unit("S1", SAT, county="Sat", satellite=True)
    b.ack("S1", SAT)
    shown = shown if shown is not None else {**copy.deepcopy(UNITS), "S1": SAT}
    b.snapshot(90.0, shown, statewide=sw if sw is not None else statewide(shown))
    b.snapshots[-1]["results"].update(extra)
    return b.write(gates=GATES, roster=ROSTER, **extra.pop("run", {}))


def summary(path: Path) -> dict[str, Any]:
    return dict(json.loads((path / "summary.json").read_text()))


def gate(path: Path, metric: str) -> tuple[float | None, str]:
    (g,) = [g for g in summary(path)["gates"] if g["metric"] == metric]
    return g["value"], g["result"]


def test_a_consistent_publication_passes_every_check(tmp_path: Path) -> None:
    path = night(tmp_path / "run")
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("pass", 0)
    c = summary(path)["published_consistency"]
    assert c["statewide_total_errors"] == [] and c["sde_errors"] == {}
    assert c["phantom_precincts"] == 0 and c["duplicate_precincts"] == {}
    assert c["county_total_errors"] is None  # contract v1 publishes no county totals
    assert gate(path, "county_total_errors") == (None, "not measured")


def test_an_inflated_statewide_total_fails_and_comes_first(tmp_path: Path) -> None:
    shown = {**copy.deepcopy(UNITS), "S1": SAT}
    sw = statewide(shown)
    sw["final"]["Alpha"] += 500
    path = night(tmp_path / "run", shown, sw)
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    assert out.findings[0] == (
        "The published statewide totals are not the sum of the published precincts: "
        "statewide final/Alpha: published 590, the published precincts sum to 90.")
    assert gate(path, "statewide_total_errors") == (1.0, "fail")
    assert summary(path)["published_consistency"]["statewide_total_errors"] == [
        {"scope": "statewide", "field": "final", "candidate": "Alpha", "published": 590,
         "summed": 90.0}]


def test_sde_totals_may_differ_by_the_rounding_of_their_terms(tmp_path: Path) -> None:
    shown = {**copy.deepcopy(UNITS), "S1": SAT}
    sw = statewide(shown)
    sw["sde"]["Beta"] += 0.0001  # four terms rounded to 4 decimals: within half a unit each
    path = night(tmp_path / "run", shown, sw)
    assert build_report(path).verdict == "pass"
    sw["sde"]["Beta"] += 0.01
    path = night(tmp_path / "off", shown, sw)
    assert build_report(path).verdict == "fail"
    assert gate(path, "statewide_total_errors") == (1.0, "fail")


def test_a_phantom_precinct_fails_and_says_whose_results_it_repeats(tmp_path: Path) -> None:
    shown = {**copy.deepcopy(UNITS), "S1": SAT, "IA-9999": copy.deepcopy(UNITS["U1"])}
    path = night(tmp_path / "run", shown)
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    assert out.findings[0] == ("The target published 1 precinct that is not in the roster: "
                               "IA-9999 (IA-9999 repeats U1).")
    assert gate(path, "phantom_precincts") == (1.0, "fail")


def test_eight_thousand_junk_precincts_are_counted_and_summarised(tmp_path: Path) -> None:
    junk = {f"JUNK-{i:04d}": {"attendance": 0} for i in range(8192)}
    shown = {**copy.deepcopy(UNITS), "S1": SAT, **junk}
    path = night(tmp_path / "run", shown, statewide({**copy.deepcopy(UNITS), "S1": SAT}))
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    assert out.findings[0] == ("The target published 8192 precincts that are not in the "
                               "roster: JUNK-0000, JUNK-0001, JUNK-0002, JUNK-0003, JUNK-0004 "
                               "and 8,187 more.")
    c = summary(path)["published_consistency"]
    assert c["phantom_precincts"] == 8192 and len(c["phantom_examples"]) == 100
    assert read_run_dir(path).published.curve[-1] == (90.0, 4)  # roster units only


def test_a_precinct_listed_twice_fails(tmp_path: Path) -> None:
    path = night(tmp_path / "run", duplicates={"U2": 2})
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    assert out.findings[0] == "The target published 1 precinct more than once: U2 (2 times)."
    assert gate(path, "duplicate_precincts") == (1.0, "fail")


def test_sde_off_the_published_delegates_fail_for_precincts_and_satellites(
        tmp_path: Path) -> None:
    shown = {**copy.deepcopy(UNITS), "S1": copy.deepcopy(SAT)}
    shown["U1"]["sde"]["Alpha"] = 0.75  # 2 delegates x 0.25 is 0.5
    shown["S1"]["sde"]["Alpha"] = 1.0  # the only satellite of Sat gets all of S = 2
    path = night(tmp_path / "run", shown)
    rec = reconcile(read_run_dir(path))
    assert {uid: [d.text("rule", "published") for d in diffs]
            for uid, diffs in rec.consistency.sde.items()} == {
        "U1": ["sde/Alpha: rule 0.5000, published 0.7500"],
        "S1": ["sde/Alpha: rule 2.0000, published 1.0000"]}
    out = build_report(path)
    assert out.verdict == "fail" and gate(path, "sde_errors") == (2.0, "fail")
    assert out.findings[0].startswith("2 published precincts have SDE that do not follow "
                                      "from their published delegates under the rules: P U1")


def test_county_totals_are_checked_when_the_target_publishes_them(tmp_path: Path) -> None:
    shown = {**copy.deepcopy(UNITS), "S1": SAT}
    adair = statewide(copy.deepcopy(UNITS))
    counties = {"Adair": adair, "Sat": statewide({"S1": SAT})}
    fields = ["attendance", "first", "final", "delegates", "sde", "statewide", "counties"]
    path = night(tmp_path / "ok", shown, counties=counties, run={"published_fields": fields})
    assert build_report(path).verdict == "pass"
    assert gate(path, "county_total_errors") == (0.0, "pass")
    counties = copy.deepcopy(counties)
    counties["Adair"]["first"]["Beta"] -= 10
    path = night(tmp_path / "bad", shown, counties=counties, run={"published_fields": fields})
    out = build_report(path)
    assert gate(path, "county_total_errors") == (1.0, "fail")
    assert out.findings[0] == ("The published county totals are not the sum of the county's "
                               "published precincts: Adair first/Beta: published 80, the "
                               "published precincts sum to 90.")
