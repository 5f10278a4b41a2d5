"""The public's and the media's demand (``[demand]``) and its arrival instants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caucus_rehearsal.errors import ScenarioError
from caucus_rehearsal.rehearsal.arrivals import media_arrivals, page_view_arrivals
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.simulator.demand import (
    Demand,
    Surge,
    in_surge,
    scenario_surges,
    surges,
    views_per_s,
)
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.streams import stream


def test_a_surge_jumps_to_its_peak_and_its_excess_decays_by_e_per_time_constant() -> None:
    d = Demand(public_views_per_s=10.0, surge_decay=15.0)
    s = (Surge(60.0, 9.0, "alert"),)
    assert views_per_s(d, s, 59.99) == 10.0
    assert views_per_s(d, s, 60.0) == pytest.approx(90.0)
    assert views_per_s(d, s, 75.0) == pytest.approx(10.0 + 80.0 / math.e)
    assert in_surge(d, s, 61.0) and not in_surge(d, s, 200.0)
    two = (Surge(0.0, 3.0, "a"), Surge(0.0, 5.0, "b"))  # overlapping surges add
    assert views_per_s(d, two, 0.0) == pytest.approx(10.0 * (1 + 2 + 4))


def test_surges_of_a_night_in_clock_order_and_only_real_ones() -> None:
    d = Demand(public_views_per_s=1.0, doors_close_peak=9.0, release_peak=1.0)
    assert [x.what for x in surges(d, 0.0, (1260.0,), batches=True)] == ["doors close"]
    d = Demand(public_views_per_s=1.0, release_peak=4.0)
    got = surges(d, 0.0, (1600.0, 1260.0), batches=True)
    assert [(x.at, x.what) for x in got] == [(1260.0, "release 1"), (1600.0, "release 2")]
    assert surges(d, 0.0, (1260.0,), batches=False) == ()


def test_bundled_demand_is_calibrated_to_the_issue_figures() -> None:
    iowa = load_scenario("iowa-2020")
    minutes = np.arange(0.0, 240.0, 0.01)
    s = scenario_surges(iowa)
    avg = float(np.mean([views_per_s(iowa.demand, s, m) for m in minutes]))
    assert 100 <= avg <= 130  # ~120 views/s over a few hours (Iowa GOP 2024)
    assert max(x.peak for x in s) == 16.0 and iowa.demand.media_poll_s == pytest.approx(5.0)
    smoke = load_scenario("smoke")
    assert 0 < smoke.demand.public_views_per_s <= 10  # kept small for CI


def test_the_retired_reader_keys_say_where_they_went() -> None:
    with pytest.raises(ScenarioError, match=r"live.readers.*\[demand\]"):
        load_scenario("smoke", ["live.readers=20"])
    with pytest.raises(ScenarioError, match=r"refresh_storm_readers.*\[demand\]"):
        load_scenario("smoke", ["adversaries.refresh_storm_readers=2"])
    with pytest.raises(ScenarioError, match=r"demand\.nonsense"):
        load_scenario("smoke", ["demand.nonsense=1"])
    with pytest.raises(ScenarioError, match=r"demand\.alerts"):
        load_scenario("smoke", ['demand.alerts=[{at = "21:00", peak = 0.5}]'])


def test_page_views_are_poisson_at_the_real_rate_whatever_the_speed() -> None:
    """Counts per wall second follow the demand per real second (mean and variance of a
    Poisson process), at speed 60 and at 600 alike."""
    d = Demand(public_views_per_s=50.0)
    for speed in (60.0, 600.0):
        clock = SimClock(1000.0, speed, -30.0)
        got = [t for t, _, _ in page_view_arrivals(stream(1, "t", int(speed)), clock, d, (),
                                                    1000.0, 1200.0, 1.0)]
        assert got == sorted(got)
        counts = np.bincount((np.asarray(got) - 1000.0).astype(int), minlength=200)
        assert abs(counts.mean() - 50.0) < 4 * math.sqrt(50.0 / 200)
        assert 0.7 * 50 < counts.var() < 1.3 * 50


def test_two_processes_shares_add_up_to_the_demand_and_follow_a_surge() -> None:
    d = Demand(public_views_per_s=20.0, surge_decay=10.0)
    s = (Surge(0.0, 9.0, "doors close"),)
    clock = SimClock(0.0, 600.0, -30.0)  # minute 0 is wall 3.0
    both = [t for w in range(2) for t, _, _ in page_view_arrivals(
        stream(7, "pv", w, 2), clock, d, s, 0.0, 20.0, 0.5)]
    expected = sum(views_per_s(d, s, clock.sim(t + 0.005)) * 0.01
                   for t in np.arange(0.0, 20.0, 0.01))
    assert abs(len(both) - expected) < 4 * math.sqrt(expected)
    before = sum(1 for t in both if t < 3.0)
    just_after = sum(1 for t in both if 3.0 <= t < 6.0)
    assert just_after > 3 * before  # the surge after doors close


def test_every_media_poller_is_played_by_exactly_one_process_at_its_interval() -> None:
    d = Demand(media_pollers=5, media_poll_interval=5 / 60)
    seen: dict[int, list[float]] = {}
    for w in range(2):
        for t, endpoint, p in media_arrivals(3, d, 0.0, 60.0, w, 2):
            assert endpoint == "feed" and p % 2 == w
            seen.setdefault(p, []).append(t)
    assert sorted(seen) == [0, 1, 2, 3, 4]
    for times in seen.values():
        assert np.allclose(np.diff(times), 5.0) and len(times) == 12
