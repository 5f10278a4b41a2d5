"""Where each unit's time goes (stages) and what limits a goal (bottleneck)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.simulator.bottleneck import limit
from caucus_rehearsal.simulator.gates import parse_gate
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.montecarlo import run_one
from caucus_rehearsal.simulator.night import run_night
from caucus_rehearsal.simulator.roster import build_roster
from caucus_rehearsal.simulator.stages import LATE_STAGES, STAGES, reduce_night

HALTED = ["central.release_policy=batches", 'central.release_times=["16:00+1d", "21:00+1d"]',
          "central.halt_start=21:00", "central.halt_end=15:00+1d"]
"""Smoke with 2020's central side: batches from the next afternoon, a halt that night."""

SCARCE = ["people.app_installed=0.2", "hotline.operators=2", "hotline.lines=3"]
"""Smoke with most chairs on a small hotline: busy signals, holds, paper."""


@pytest.mark.parametrize("overrides", [[], HALTED, SCARCE, [*SCARCE, *HALTED]])
def test_the_stages_add_up_to_each_units_time_from_meeting_to_publication(
        overrides: list[str]) -> None:
    scn = load_scenario("smoke", overrides)
    units = build_roster(scn).units
    for r in range(3):
        res = run_night(scn, units, r)
        times = res.stages
        assert times is not None
        total = np.zeros(len(units))
        for k, start, end in times.segments:
            assert np.all(end >= start - 1e-9), STAGES[k]
            total += end - start
        published = np.array([u.published for u in res.units])
        done = np.isfinite(published)
        assert done.any()
        ready = np.array([u.ready_at for u in res.units])
        assert total[done] == pytest.approx((published - ready)[done], abs=1e-6)
        assert times.published[done] == pytest.approx(published[done])


def test_the_lateness_past_a_gate_splits_exactly_by_stage() -> None:
    scn = load_scenario("smoke", SCARCE)
    units = build_roster(scn).units
    res = run_night(scn, units, 0)
    assert res.stages is not None
    gate = parse_gate("published_fraction >= 0.95 by 20:00")
    night = reduce_night(res.stages, [gate, parse_gate("data_loss == 0")])
    late = night.late[0]
    assert late is not None and night.late[1] is None
    p = res.stages.published
    assert late.sum() == pytest.approx(np.clip(p - 60.0, 0.0, None).sum())
    assert late[LATE_STAGES.index("holds")] > 0
    assert night.reach[0] == pytest.approx(float(np.sort(p)[int(np.ceil(0.95 * len(p))) - 1]))


def test_more_verifiers_shorten_the_wait_for_a_verifier() -> None:
    waits = []
    for verifiers in (1, 3, 10):
        scn = load_scenario("smoke", [f"central.verifiers={verifiers}"])
        units = build_roster(scn).units
        o = run_one(scn, units, 0)
        assert o.stages is not None
        waits.append(float(o.stages.mean[STAGES.index("verifier_wait")]))
    assert waits[0] > waits[1] > waits[2] >= 0


def test_the_halt_and_release_batches_are_named_as_hard_limits() -> None:
    gate = parse_gate("published_fraction >= 0.9 by 22:30")
    scn = load_scenario("smoke", [*HALTED, f'gates=["{gate}"]'])
    units = build_roster(scn).units
    nights = [run_one(scn, units, r).stages for r in range(4)]
    lim = limit(scn, gate, 0, [n for n in nights if n is not None])
    assert lim is not None
    assert [s for s, _ in lim.hard] == ["release_wait", "halt"]
    assert lim.stage == "release_wait"
    assert {"central.release_times", "central.halt_start", "central.halt_end"} <= set(lim.keys)
    assert dict(lim.shares)["halt"] > 0.5  # most of the lateness is spent in the halt
    assert "nothing is released before 16:00+1d" in lim.sentence()
    assert "publication is halted from 21:00 to 15:00+1d" in lim.sentence()


def test_plan_names_the_halt_and_central_release_when_operators_cannot_help(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sets = [x for o in HALTED for x in ("--set", o)]
    code = main(["plan", "smoke", *sets, "--goal", "published_fraction >= 0.9 by 22:30",
                 "--vary", "hotline.operators=1..40", "--runs-max", "40", "--out",
                 str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("Varying hotline.operators"))
    assert "nothing is released before 16:00+1d (central.release_times)" in line
    assert "publication is halted from 21:00 to 15:00+1d" in line
    assert line.endswith("the keys that would move it: central.release_policy, "
                         "central.release_times, central.halt_start, central.halt_end.")
    doc = json.loads((tmp_path / "plan.json").read_text())
    assert doc["limits"][0]["stage"] == "release_wait"


def test_simulate_says_where_the_time_goes_and_what_limits_each_gate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "smoke", "--runs", "4", *[x for o in SCARCE for x in ("--set", o)],
                 "--set", 'gates=["hotline_wait_max_min <= 5", '
                 '"published_fraction >= 0.95 by 20:30"]', "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "where the time goes after each meeting" in out
    assert "holds on the hotline" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["stages"]) == set(STAGES)
    gates = [lim["gate"] for lim in summary["limits"]]
    assert gates == ["hotline_wait_max_min <= 5", "published_fraction >= 0.95 by 20:30"]
    assert summary["limits"][0]["stage"] in ("busy_signals", "holds", "redial_delays")
    assert "limit for 'published_fraction >= 0.95 by 20:30'" in out
