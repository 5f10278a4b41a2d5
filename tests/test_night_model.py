"""The night model: exact logs on tiny nights, Little's law, metamorphic relations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caucus_rehearsal.simulator import central
from caucus_rehearsal.simulator.loader import from_mapping, load_scenario
from caucus_rehearsal.simulator.montecarlo import metric_quantiles, run_many
from caucus_rehearsal.simulator.night import run_night
from caucus_rehearsal.simulator.records import NUISANCE
from caucus_rehearsal.simulator.scenario import Central, Scenario
from caucus_rehearsal.simulator.series import chair_holds, queue_area, queue_length
from support.night import tiny_roster


def scenario(**tables: dict[str, Any]) -> Scenario:
    """The smoke-like defaults with some tables replaced."""
    raw: dict[str, Any] = {"scenario": {"name": "t", "seed": 11}}
    raw.update(tables)
    return from_mapping(raw, "<test>")


def test_a_ready_chair_on_a_perfect_target_logs_the_whole_flow() -> None:
    scn = scenario(
        people={"app_installed": 1.0, "app_can_login": 1.0, "app_knows_flow": 1.0,
                "step_think_time": {"dist": "fixed", "value": "1min"}},
        target={"latency": {"dist": "fixed", "value": "6s"}, "error_rate": 0.0})
    res = run_night(scn, tiny_roster(1).units, 0)
    log = [(a.step, a.outcome, round(a.end - res.units[0].ready_at, 6))
           for a in res.app_attempts]
    assert log == [("login", "ok", 1.1), ("attendance", "ok", 2.2), ("first", "ok", 3.3),
                   ("final", "ok", 4.4), ("photo", "ok", 5.5)]
    u = res.units[0]
    assert u.channel == "app" and u.calls == 0
    assert u.received == pytest.approx(u.ready_at + 4.4)
    assert u.published == u.verified >= u.received  # continuous release


def test_a_chair_who_cannot_log_in_falls_back_to_the_hotline_after_n_failures() -> None:
    scn = scenario(
        people={"app_installed": 1.0, "app_can_login": 0.0, "app_max_failures": 3,
                "app_patience": {"dist": "fixed", "value": "10h"}},
        target={"error_rate": 0.0})
    res = run_night(scn, tiny_roster(1).units, 0)
    assert [(a.step, a.outcome) for a in res.app_attempts] == [("login", "rejected")] * 3
    assert res.units[0].channel == "hotline"
    assert [c.outcome for c in res.calls] == ["answered"]


def test_busy_lines_make_chairs_redial_and_finally_send_paper() -> None:
    scn = scenario(app={"enabled": False},
                   people={"max_calls": 2, "hold_patience": {"dist": "fixed", "value": "1min"},
                           "redial_delay": {"dist": "fixed", "value": "5min"}},
                   hotline={"lines": 1, "operators": 1,
                            "service_time": {"dist": "fixed", "value": "10h"}},
                   meeting={"intro_business": {"dist": "fixed", "value": "20min"},
                            "first_alignment": {"dist": "fixed", "value": "10min"},
                            "math": {"dist": "fixed", "value": "10min"}},
                   paper={"delivery": {"dist": "fixed", "value": "1d"}})
    res = run_night(scn, tiny_roster(3).units, 0)
    by_caller = {i: [c.outcome for c in res.calls if c.caller == i] for i in range(3)}
    assert sorted(by_caller.values()) == [["answered"], ["busy", "busy"], ["busy", "busy"]]
    paper = [u for u in res.units if u.channel == "paper"]
    assert len(paper) == 2
    assert all(u.received == pytest.approx(u.ready_at + 5 + 5 + 1440) for u in paper)


def test_littles_law_holds_exactly_on_a_night_that_starts_and_ends_empty() -> None:
    scn = load_scenario("iowa-2020", ["election.source=synthetic", "election.units=300",
                                      "hotline.operators=6", "hotline.lines=40"])
    res = run_night(scn, tiny_roster(300, attendance=120).units, 0)
    t, length = queue_length(res)
    assert length[-1] == 0 and length.min() >= 0
    holds = chair_holds(res).sum() + sum(c.hold for c in res.calls
                                         if c.caller == NUISANCE and c.outcome != "busy")
    # L * T == lambda * T * W: the area under the queue is the sum of the holds.
    assert queue_area(t, length) == pytest.approx(holds, rel=1e-12)
    assert holds > 1000  # the queue really formed


def test_release_policies_and_the_halt() -> None:
    c = Central(release_policy="batches", release_times=(100.0, 200.0),
                halt_start=150.0, halt_end=300.0)
    assert central.publish(c, [50.0, 120.0, 250.0, math.inf]) == [100.0, 300.0, 300.0,
                                                                  math.inf]
    c = Central(release_policy="percent", release_percents=(50.0, 100.0))
    assert central.publish(c, [10.0, 20.0, 30.0, 40.0]) == [20.0, 20.0, 40.0, 40.0]
    assert central.verify([0.0, 0.0, 1.0], [0.0] * 3, [5.0] * 3, 2) == [5.0, 5.0, 10.0]


def test_verifier_shifts() -> None:
    """One verifier until minute 10, nobody until 20, then two: a report started on duty
    is finished (6 -> 12), the next waits for the shift at 20, and one who arrives at 5
    takes the second desk at 20. Shifts that restate the staffing change nothing."""
    verify = central.verify
    assert verify([0, 0, 0, 5], [0] * 4, [6, 6, 6, 1], 1, ((10, 0), (20, 2))) == [6, 12, 26, 21]
    assert verify([0, 0, 0], [0] * 3, [6] * 3, 1, ((10, 0),)) == [6, 12, math.inf]
    times = [float(t) for t in range(0, 200, 7)]
    plain = verify(times, [0.5] * len(times), [9.0] * len(times), 3)
    assert verify(times, [0.5] * len(times), [9.0] * len(times), 3, ((50, 3),)) == plain
    fewer = verify(times, [0.5] * len(times), [9.0] * len(times), 3, ((50, 1),))
    assert all(a >= b for a, b in zip(fewer, plain, strict=True)) and fewer != plain


def median_over_runs(scn: Scenario, metric: str, n: int = 120, runs: int = 6) -> float:
    units = tiny_roster(n, attendance=150).units
    return metric_quantiles(run_many(scn, units, runs))[metric]["p50"]


def test_more_operators_never_lengthen_the_median_wait() -> None:
    waits = [median_over_runs(load_scenario("smoke", [f"hotline.operators={k}",
                                                      "people.app_installed=0.3"]),
                              "hotline_wait_median_min") for k in (2, 3, 4, 6, 9)]
    assert waits == sorted(waits, reverse=True), waits
    assert waits[0] > waits[-1]


def test_a_longer_outage_never_speeds_up_reporting() -> None:
    times = []
    for minutes in (0, 20, 60, 120):
        outage = f"target.outages=[{{start = '19:50', duration = '{minutes}min'}}]"
        scn = load_scenario("smoke", [outage, "hotline.operators=2"])
        times.append(median_over_runs(scn, "minutes_to_95pct_received"))
    assert times == sorted(times), times
    assert times[0] < times[-1]


def test_same_seed_same_night_and_replications_differ() -> None:
    scn = load_scenario("smoke")
    units = tiny_roster(40).units
    a, b = run_night(scn, units, 2), run_night(scn, units, 2)
    assert a == b
    assert run_night(scn, units, 3).units != a.units
    assert np.isfinite([u.published for u in a.units]).all()


@settings(max_examples=15, deadline=None)
@given(operators=st.integers(0, 4), lines=st.integers(0, 6), installed=st.floats(0, 1),
       abandonment=st.booleans(), seed=st.integers(0, 2**31), replication=st.integers(0, 50))
def test_every_night_keeps_its_books(operators: int, lines: int, installed: float,
                                     abandonment: bool, seed: int, replication: int) -> None:
    """Whatever the staffing: every unit reports through exactly one channel, times
    only move forward, each hotline unit was answered exactly once, and the hold queue
    integrates to the sum of the holds (Little's law)."""
    scn = scenario(scenario={"name": "p", "seed": seed},
                   hotline={"operators": operators, "lines": lines, "abandonment": abandonment},
                   people={"app_installed": installed, "max_calls": 3})
    res = run_night(scn, tiny_roster(25, attendance=200).units, replication)
    for u in res.units:
        assert u.channel in ("app", "hotline", "paper")
        assert u.ready_at <= u.received <= u.verified <= u.published
        answered = [c for c in res.calls if c.caller == u.unit_index and c.outcome == "answered"]
        assert len(answered) == (u.channel == "hotline")
        assert u.channel != "app" or any(a.step == "final" and a.outcome == "ok"
                                         for a in res.app_attempts
                                         if a.unit_index == u.unit_index)
    t, length = queue_length(res)
    holds = sum(c.hold for c in res.calls if c.outcome != "busy")
    assert queue_area(t, length) == pytest.approx(holds, rel=1e-9, abs=1e-9)
