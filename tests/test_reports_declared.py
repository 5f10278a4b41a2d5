"""Declared published fields: the report compares what the target publishes, lists the
rest as not checked, and a field declared but not published is a difference."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from caucus_rehearsal.reports import build_report
from support.rundirs import RunBuilder, tally

ROSTER = {"counties": [{"name": "Adair", "state_delegates": 4.0, "county_delegates": 16,
                        "satellite_group": False}]}
UNITS = {"U1": tally(100, (60, 40), (58, 42), (2, 2)), "U2": tally(50, (10, 40), (0, 48), (0, 3))}
NO_SDE = ["attendance", "first", "final", "delegates"]
GATES = ("data_loss == 0", "mismatches == 0", "statewide_total_errors == 0", "sde_errors == 0")


def night(path: Path, fields: list[str] | None) -> Path:
    """Both units acknowledged; published without SDE (statewide: first and final)."""
    b = RunBuilder(path)
    shown = {}
    for uid, t in UNITS.items():
        b.unit(uid, t)
        b.ack(uid, t)
        shown[uid] = {k: copy.deepcopy(v) for k, v in t.items() if k != "sde"}
    b.snapshot(90.0, shown, statewide={k: {c: sum(p[k][c] for p in shown.values())
                                           for c in ("Alpha", "Beta")}
                                       for k in ("first", "final")})
    extra: dict[str, Any] = {} if fields is None else {"published_fields": fields}
    return b.write(gates=GATES, roster=ROSTER, **extra)


def test_a_target_that_declares_no_sde_is_judged_on_the_rest(tmp_path: Path) -> None:
    path = night(tmp_path / "run", NO_SDE)
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("pass", 0)
    assert out.findings[0] == ("Not checked, because the target does not publish them (as "
                               "its adapter declares): SDE, statewide totals.")
    # what the adapter returned beyond its declaration (statewide here) is ignored
    assert ("2 of 2 precincts were published exactly as the truth in what the target "
            "publishes (attendance, first alignment, final alignment, county delegates).") \
        in out.findings
    s = json.loads((path / "summary.json").read_text())
    assert s["published_fields"] == sorted(NO_SDE)
    assert s["not_checked"] == ["sde", "statewide", "counties"]
    assert s["reconciliation"]["published_correctly"] == 2
    results = {g["metric"]: (g["result"], g["note"]) for g in s["gates"]}
    assert results["sde_errors"] == ("not measured", "the target does not publish SDE and "
                                                     "delegates")
    assert results["statewide_total_errors"][0] == "not measured"
    html = (path / "report.html").read_text()
    assert "<td>SDE</td><td>not checked: the target does not publish it</td>" in html


def test_sde_declared_but_not_published_fails(tmp_path: Path) -> None:
    path = night(tmp_path / "run", None)  # a run.json without a declaration: contract v1
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    assert out.findings[0] == (
        "2 published precincts have SDE that do not follow from their published delegates "
        "under the rules: P U1 (Adair, U1), P U2 (Adair, U2) (e.g. sde/Alpha: rule 0.5000, "
        "published missing).")
    s = json.loads((path / "summary.json").read_text())
    assert s["reconciliation"]["published_correctly"] == 0
    assert {g["metric"]: g["result"] for g in s["gates"]}["sde_errors"] == "fail"


def test_an_unknown_declared_field_is_refused(tmp_path: Path) -> None:
    from caucus_rehearsal.cli import main

    path = night(tmp_path / "run", [*NO_SDE, "turnout"])
    assert main(["report", str(path)]) == 2
