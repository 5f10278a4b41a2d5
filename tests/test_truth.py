"""Roster, truth and worksheets: determinism, consistency with the rules, the 2020 data."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from caucus_rehearsal import rules
from caucus_rehearsal.errors import ScenarioError
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.roster import build_roster
from caucus_rehearsal.simulator.scenario import WORKSHEET_ERROR_KINDS
from caucus_rehearsal.simulator.truth import (
    build_truth,
    tally_from_json,
    tally_to_json,
    truth_rows,
)

ROOT = Path(__file__).resolve().parent.parent


def test_iowa_roster_is_the_real_night() -> None:
    roster = build_roster(load_scenario("iowa-2020"))
    assert len(roster.units) == 1765
    assert sum(u.satellite for u in roster.units) == 87
    assert len({u.county for u in roster.units if not u.satellite}) == 99
    assert sum(u.expected_attendance for u in roster.units) == 176352  # incl. satellites
    assert roster.county("Adair").ratio == pytest.approx(4 / 51)
    assert sum(c.state_delegates for c in roster.counties if not c.satellite_group) == 2107
    assert min(u.start for u in roster.units) == -540.0  # Tbilisi, 10:00 CST
    assert [u.unit_id for u in roster.units[:2]] == ["IA-0001", "IA-0002"]
    pins = [u.chair.pin for u in roster.units]
    assert len(set(pins)) == len(pins) and all(len(p) == 6 and p.isdigit() for p in pins)


def test_chairs_follow_the_seed() -> None:
    a = build_roster(load_scenario("smoke"))
    b = build_roster(load_scenario("smoke"))
    c = build_roster(load_scenario("smoke", ["scenario.seed=7"]))
    assert [u.chair for u in a.units] == [u.chair for u in b.units]
    assert [u.chair for u in a.units] != [u.chair for u in c.units]


def test_synthetic_roster_shape() -> None:
    scn = load_scenario("smoke", ["election.units=300", "election.counties=12",
                                  "election.satellites=5"])
    roster = build_roster(scn)
    assert len(roster.units) == 305 and sum(u.satellite for u in roster.units) == 5
    assert len({u.county for u in roster.units if not u.satellite}) == 12
    for county in roster.counties:
        if not county.satellite_group:
            assert county.county_delegates == sum(
                u.delegates for u in roster.units if u.county == county.name)
            assert county.state_delegates == int(county.state_delegates) >= 1
    att = sorted(u.expected_attendance for u in roster.units if not u.satellite)
    assert att[-1] > 3 * att[len(att) // 2]  # heavy tail


@pytest.mark.parametrize("name", ["smoke", "iowa-2020"])
def test_same_seed_same_truth_other_seed_other_truth(name: str) -> None:
    scn = load_scenario(name)
    roster = build_roster(scn)
    assert build_truth(scn, roster) == build_truth(scn, roster)
    other = load_scenario(name, ["scenario.seed=1"])
    assert build_truth(other, roster) != build_truth(scn, roster)


def test_truth_obeys_the_rules() -> None:
    scn = load_scenario("smoke", ["election.units=400", "election.satellites=10"])
    roster = build_roster(scn)
    truth = build_truth(scn, roster)
    for unit, ut in zip(roster.units, truth.units, strict=True):
        t = ut.tally
        assert sum(t.first) == t.attendance and sum(t.final) <= t.attendance
        assert rules.check(t.attendance, ut.delegates_total, t.first, t.final, t.delegates) == []
        if unit.satellite:
            assert ut.delegates_total == rules.satellite_delegates(t.attendance)


@pytest.mark.parametrize(("name", "overrides"), [
    ("smoke", ["election.units=200"]),
    ("iowa-2020", ["election.first_alignment=drawn"]),
])
def test_changing_one_unit_changes_no_other_units_truth(name: str, overrides: list[str]) -> None:
    """DESIGN: one precinct's draws do not depend on another's. Unit 0's expected
    attendance tripled and its D raised change its own truth and no other unit's
    (truth and worksheet), satellites excepted only where the rules tie them together
    (a satellite's SDE is its attendance share of its group's)."""
    scn = load_scenario(name, overrides)
    roster = build_roster(scn)
    i = next(u.index for u in roster.units if not u.satellite)
    unit = roster.units[i]
    changed = dataclasses.replace(unit, expected_attendance=3 * unit.expected_attendance + 40,
                                  delegates=unit.delegates + 3)
    other = dataclasses.replace(roster, units=tuple(
        changed if u.index == i else u for u in roster.units))
    a, b = build_truth(scn, roster), build_truth(scn, other)
    assert a.units[i] != b.units[i]
    differ = [j for j in range(len(roster.units)) if j != i
              and (a.units[j], a.worksheets[j]) != (b.units[j], b.worksheets[j])]
    assert differ == []


def test_certified_first_alignment_is_the_real_one() -> None:
    scn = load_scenario("iowa-2020")
    truth = build_truth(scn, build_roster(scn))
    assert sum(u.tally.attendance for u in truth.units) == 176352
    adair = truth.units[0].tally
    assert adair.attendance == 40 and adair.first[truth.candidates.index("Sanders")] == 9
    drawn = load_scenario("iowa-2020", ["election.first_alignment=drawn"])
    other = build_truth(drawn, build_roster(drawn))
    assert other.units[0].tally.first != adair.first


def test_worksheet_errors_are_labelled_and_real() -> None:
    scn = load_scenario("smoke", ["election.units=600", "people.worksheet_error_rate=0.5"])
    truth = build_truth(scn, build_roster(scn))
    kinds = set()
    for ut, ws in zip(truth.units, truth.worksheets, strict=True):
        if ws.error is None:
            assert ws.tally == ut.tally
        else:
            kinds.add(ws.error)
            assert ws.tally != ut.tally and ws.error_detail
    assert kinds == set(WORKSHEET_ERROR_KINDS)
    share = sum(w.error is not None for w in truth.worksheets) / len(truth.worksheets)
    assert 0.4 < share < 0.6


def test_second_choices_move_supporters() -> None:
    base = ["election.units=300", "election.leave_after_nonviable=0"]
    plain = load_scenario("smoke", base)
    pushed = load_scenario("smoke", [*base, 'election.second_choices={"Klobuchar>Biden"=50}'])
    roster = build_roster(plain)
    biden = plain.election.candidates.index("Biden")
    a = sum(u.tally.final[biden] for u in build_truth(plain, roster).units)
    b = sum(u.tally.final[biden] for u in build_truth(pushed, roster).units)
    assert b > a


def test_unknown_second_choice_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="Nobody>Biden"):
        load_scenario("smoke", ['election.second_choices={"Nobody>Biden"=2}'])


def test_truth_rows_round_trip() -> None:
    scn = load_scenario("smoke")
    roster = build_roster(scn)
    truth = build_truth(scn, roster)
    rows = [json.loads(json.dumps(r)) for r in truth_rows(roster, truth)]
    assert rows[0]["unit_id"] == "IA-0001" and set(rows[0]) == {
        "unit_id", "county", "precinct", "satellite", "delegates_total", "coin_toss", "tally"}
    for row, ut in zip(rows, truth.units, strict=True):
        assert tally_from_json(row["tally"], truth.candidates) == ut.tally
    assert tally_to_json(truth.units[0].tally, truth.candidates)["first"].keys() == set(
        truth.candidates)


def test_converter_regenerates_the_data_byte_identically(tmp_path: Path) -> None:
    source = ROOT.parent / "shared" / "data" / "iowa-2020"
    if not (source / "results-certified.csv").is_file():
        pytest.skip("the published 2020 data is not beside this checkout")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "convert_iowa_2020.py"), str(source),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    for name in ("iowa-2020-units.csv", "iowa-2020-counties.csv", "iowa-2020-results.csv"):
        assert (tmp_path / name).read_bytes() == (ROOT / "scenarios" / "data" / name).read_bytes()


def test_calibrated_realignment_reproduces_certified_statewide_sde() -> None:
    """With the certified first alignment and the realignment fitted by
    scripts/fit_second_choices.py, the truth's statewide SDE averaged over seeds 0-4 is
    within 2% of certified for the top five. Measured: Buttigieg 571.12 (certified
    562.954), Sanders 554.98 (562.021), Warren 386.26 (388.440), Biden 342.67 (340.324),
    Klobuchar 260.25 (263.869). Uncalibrated (every weight 1, leave 0.12) Sanders was
    about 599 and Klobuchar 237, outside it."""
    certified = {"Buttigieg": 562.954, "Sanders": 562.021, "Warren": 388.440,
                 "Biden": 340.324, "Klobuchar": 263.869}

    def statewide(overrides: list[str]) -> dict[str, float]:
        roster = build_roster(load_scenario("iowa-2020"))
        totals = dict.fromkeys(certified, 0.0)
        for seed in range(5):
            truth = build_truth(load_scenario("iowa-2020", [*overrides, f"scenario.seed={seed}"]),
                                roster)
            for c in certified:
                i = truth.candidates.index(c)
                totals[c] += sum(u.tally.sde[i] for u in truth.units) / 5
        return totals

    fitted = statewide([])
    for c, want in certified.items():
        assert fitted[c] == pytest.approx(want, rel=0.02), c
    plain = statewide(["election.second_choices={}", "election.leave_after_nonviable=0.12"])
    assert any(plain[c] != pytest.approx(want, rel=0.02) for c, want in certified.items())
