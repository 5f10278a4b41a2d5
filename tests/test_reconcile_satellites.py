"""Satellite SDE: checked against the sharing rule over the satellites published with it.

Group "Sat" has S = 2 state delegates shared by attendance among its satellites A (10),
B (30) and C (60): over all three A gets 0.2, B 0.6, C 1.2; over A and B alone A gets
0.5 and B 1.5. A unit's SDE is its share times its delegates' fractions.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from caucus_rehearsal.reports import build_report
from caucus_rehearsal.reports.reconcile import reconcile
from caucus_rehearsal.rundir.reader import read_run_dir
from support.rundirs import RunBuilder, tally

S = 2.0
A = tally(10, (6, 4), (10, 0), (1, 0), sde=(0.2, 0.0))
B = tally(30, (15, 15), (15, 15), (1, 1), sde=(0.3, 0.3))
C = tally(60, (40, 20), (40, 20), (2, 1), sde=(0.8, 0.4))
ROSTER = {"counties": [{"name": "Sat", "state_delegates": S, "satellite_group": True},
                       {"name": "Adair", "state_delegates": 4.0, "satellite_group": False}]}


def with_sde(t: dict[str, Any], alpha: float, beta: float) -> dict[str, Any]:
    out = copy.deepcopy(t)
    out["sde"] = {"Alpha": alpha, "Beta": beta}
    return out


def group(tmp_path: Path) -> RunBuilder:
    b = RunBuilder(tmp_path / "run")
    for uid, t in (("A", A), ("B", B), ("C", C)):
        b.unit(uid, t, county="Sat", satellite=True)
    return b


def test_a_share_over_the_published_satellites_is_correct(tmp_path: Path) -> None:
    b = group(tmp_path)
    b.ack("A", A)
    b.ack("B", B)  # C never reports: A and B share S between them
    b.snapshot(90.0, {"A": with_sde(A, 0.5, 0.0), "B": with_sde(B, 0.75, 0.75)})
    rec = reconcile(read_run_dir(b.write(roster=ROSTER)))
    assert [u.klass for u in rec.units] == ["published_correctly", "published_correctly",
                                            "never_acknowledged"]
    assert [u.sde_shared_with_lost for u in rec.units] == ["", "", ""]


def test_an_sde_off_the_rule_is_still_flagged(tmp_path: Path) -> None:
    b = group(tmp_path)
    b.ack("A", A)
    b.ack("B", B)
    # B published with its final-truth SDE although only A and B are published
    b.snapshot(90.0, {"A": with_sde(A, 0.5, 0.0), "B": B})
    a, bu, _ = reconcile(read_run_dir(b.write(roster=ROSTER))).units
    assert a.klass == "published_correctly"
    assert bu.klass == "published_different"
    assert bu.reason == ("its SDE does not follow the satellite rule (Sat's state delegates "
                         "shared by attendance over the 2 satellites published): "
                         "sde/Alpha: rule 0.7500, published 0.3000")
    assert [(d.field, d.candidate, d.want, d.got) for d in bu.vs_truth] == [
        ("sde", "Alpha", 0.75, 0.3), ("sde", "Beta", 0.75, 0.3)]


def test_a_count_difference_is_still_flagged(tmp_path: Path) -> None:
    b = group(tmp_path)
    b.ack("A", A)
    b.ack("B", B)
    wrong = with_sde(A, 0.5, 0.0)
    wrong["first"]["Alpha"] = 7  # the target altered a count
    b.snapshot(90.0, {"A": wrong, "B": with_sde(B, 0.75, 0.75)})
    a = reconcile(read_run_dir(b.write(roster=ROSTER))).units[0]
    assert (a.klass, a.mismatched) == ("published_altered", True)
    assert [d.text("acknowledged", "published") for d in a.vs_ack] == [
        "first/Alpha: acknowledged 6, published 7"]


def test_sharing_with_acknowledged_but_lost_satellites_is_marked_not_flagged(
        tmp_path: Path) -> None:
    b = group(tmp_path)
    for uid, t in (("A", A), ("B", B), ("C", C)):
        b.ack(uid, t)
    # C was lost, but the target still counts its attendance: A and B keep 0.2 and 0.6
    b.snapshot(90.0, {"A": A, "B": B})
    b.write(roster=ROSTER, gates=("data_loss == 0",))
    rec = reconcile(read_run_dir(b.path))
    assert [u.klass for u in rec.units] == ["published_correctly", "published_correctly",
                                            "acknowledged_not_published"]
    assert [u.sde_shared_with_lost for u in rec.units] == ["Sat", "Sat", ""]
    out = build_report(b.path)
    assert any(f.startswith("2 published satellites of Sat share their group's state "
                            "delegates with satellites the server acknowledged but never "
                            "published") for f in out.findings)


def test_group_delegates_fall_back_to_the_truth_without_a_roster(tmp_path: Path) -> None:
    b = group(tmp_path)
    b.ack("A", A)
    b.ack("B", B)
    b.snapshot(90.0, {"A": with_sde(A, 0.5, 0.0), "B": with_sde(B, 0.75, 0.75)})
    run = read_run_dir(b.write())
    assert run.group_sde == {"Sat": 2.0}
    assert reconcile(run).counts["published_correctly"] == 2
    run = read_run_dir(b.write(roster={"counties": [
        {"name": "Sat", "state_delegates": 4.0, "satellite_group": True}]}))
    assert run.group_sde == {"Sat": 4.0}  # the roster wins: now A and B are off the rule
    assert reconcile(run).counts["published_different"] == 2
