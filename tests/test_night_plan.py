"""The per-chair plan: drawn from the night model's replication 0, round-trips JSON."""

from __future__ import annotations

import json

from caucus_rehearsal.simulator.draws import draw_behaviour
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.night import run_night
from caucus_rehearsal.simulator.plan import draw_plan, plan_from_json, plan_to_json
from caucus_rehearsal.simulator.roster import build_roster
from caucus_rehearsal.simulator.truth import build_truth
from support.night import CANDIDATES, tiny_roster, tiny_truth


def test_plan_is_replication_zero_of_the_model_and_round_trips() -> None:
    scn = load_scenario("smoke")
    roster = tiny_roster(30)
    plans = draw_plan(scn, roster, tiny_truth(roster))
    b = draw_behaviour(scn, roster.units, 0)
    assert [p.ready_at for p in plans] == b.ready_at
    assert [p.app_status for p in plans] == b.app_status
    assert all(len(p.hold_patience_min) == scn.people.max_calls for p in plans)
    assert all(p.ready_at > 0 for p in plans)
    for p in plans:
        line = json.dumps(plan_to_json(p, CANDIDATES))
        assert plan_from_json(json.loads(line), CANDIDATES) == p


def test_one_units_draws_do_not_depend_on_the_others() -> None:
    scn = load_scenario("smoke")
    small, big = tiny_roster(5), tiny_roster(50, attendance=300)
    a = draw_behaviour(scn, small.units, 3)
    b = draw_behaviour(scn, big.units, 3)
    assert a.app_status == b.app_status[:5]
    assert a.hold_patience == b.hold_patience[:5]
    assert draw_behaviour(scn, small.units, 4).app_patience != a.app_patience


def test_the_plan_is_the_night_the_model_simulates_as_replication_zero() -> None:
    scn = load_scenario("smoke")
    roster = build_roster(scn)
    plans = draw_plan(scn, roster, build_truth(scn, roster))
    night = run_night(scn, roster.units, 0)
    assert [p.unit_id for p in plans] == [u.unit_id for u in roster.units]
    assert [p.ready_at for p in plans] == [u.ready_at for u in night.units]
    for p, u in zip(plans, night.units, strict=True):
        assert u.received >= p.ready_at
        if p.first_channel == "hotline":  # never touched the app
            assert not [a for a in night.app_attempts if a.unit_index == p.unit_index]
        if p.app_status == "cannot_login" and p.first_channel == "app":
            assert u.channel != "app"
