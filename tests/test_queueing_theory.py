"""The hotline against queueing theory, through the full night model.

A hotline-only scenario (no app, unlimited lines, one call per chair, exponential
service) whose meetings end uniformly over a long window W makes chairs arrive as a
Poisson stream of rate N/W (N uniform points on [0, W]): in the middle of the window
the hotline is an M/M/c queue (Erlang C), or with exponential patience M/M/c+M
(Erlang A). Tolerances are the replications' 95% confidence intervals.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from caucus_rehearsal.simulator.loader import from_mapping
from caucus_rehearsal.simulator.night import run_night
from caucus_rehearsal.simulator.records import NightResult
from caucus_rehearsal.simulator.scenario import Scenario
from support.night import hotline_only_raw, tiny_roster

W = 2000.0
"""Minutes over which meetings end."""
N = 1400
"""Chairs per replication: lambda = N / W = 0.7 per minute."""
REPS = 25


def hotline_only(operators: int, service_mean: float, patience_mean: float | None,
                 seed: int = 7, lines: int = 0, hold_capacity: int | None = None) -> Scenario:
    """The M/M/c (patience None) or M/M/c+M scenario described above (``lines`` and
    ``hold_capacity`` as in the scenario; the defaults hold everyone)."""
    raw = hotline_only_raw(W, service_mean, patience_mean, seed)
    raw["hotline"]["operators"] = operators
    raw["hotline"]["lines"] = lines
    if hold_capacity is not None:
        raw["hotline"]["hold_capacity"] = hold_capacity
    return from_mapping(raw, "<test>")


def middle_calls(res: NightResult) -> list[Any]:
    """Calls dialled in the steady middle of the window (20%..80% of W)."""
    return [c for c in res.calls if 0.2 * W <= c.dial < 0.8 * W]


def ci95(xs: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% t confidence interval."""
    a = np.asarray(xs)
    return float(a.mean()), float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1)
                                  / math.sqrt(len(a)))


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """(P(wait), mean wait) of M/M/c."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait, p_wait / (c * mu - lam)


def erlang_a_abandon(lam: float, mu: float, c: int, theta: float) -> float:
    """Fraction of arrivals who abandon in M/M/c+M (birth-death chain, truncated)."""
    p = [1.0]
    for n in range(1, 2000):
        p.append(p[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    total = sum(p)
    return sum(pn * max(n - c, 0) * theta for n, pn in enumerate(p)) / total / lam


def erlang_b(offered: float, c: int) -> float:
    """Blocking probability of M/M/c/c (the Erlang B recursion)."""
    b = 1.0
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    return b


def runs(scn: Scenario) -> list[NightResult]:
    roster = tiny_roster(N, attendance=100)
    return [run_night(scn, roster.units, r) for r in range(REPS)]


def test_mmc_matches_erlang_c() -> None:
    c, mean_service = 5, 5.0  # utilisation 0.7
    lam, mu = N / W, 1 / mean_service
    p_wait, wq = erlang_c(lam, mu, c)
    waits, waited = [], []
    for res in runs(hotline_only(c, mean_service, None)):
        calls = middle_calls(res)
        assert all(cl.outcome == "answered" for cl in calls)
        waits.append(float(np.mean([cl.hold for cl in calls])))
        waited.append(float(np.mean([cl.hold > 0 for cl in calls])))
    m, h = ci95(waits)
    assert abs(m - wq) <= h, (m, h, wq)
    m, h = ci95(waited)
    assert abs(m - p_wait) <= h, (m, h, p_wait)


@pytest.mark.parametrize("patience", [5.0, 20.0])
def test_abandonment_matches_erlang_a(patience: float) -> None:
    c, mean_service = 4, 6.0
    lam, mu = N / W, 1 / mean_service  # offered load 4.2 on 4 operators: overloaded
    expected = erlang_a_abandon(lam, mu, c, 1 / patience)
    fractions = []
    for res in runs(hotline_only(c, mean_service, patience)):
        calls = middle_calls(res)
        fractions.append(float(np.mean([cl.outcome == "abandoned" for cl in calls])))
    m, h = ci95(fractions)
    assert abs(m - expected) <= h, (m, h, expected)


def test_erlang_a_direction_more_patience_fewer_abandons() -> None:
    """The theory's direction, with the model's: shorter patience abandons more."""
    lam, mu = N / W, 1 / 6.0
    assert erlang_a_abandon(lam, mu, 4, 1 / 5) > erlang_a_abandon(lam, mu, 4, 1 / 20)
    roster = tiny_roster(N, attendance=100)
    short = run_night(hotline_only(4, 6.0, 5.0), roster.units, 0)
    long_ = run_night(hotline_only(4, 6.0, 20.0), roster.units, 0)

    def abandoned(res: NightResult) -> int:
        return sum(c.outcome == "abandoned" for c in res.calls)

    assert abandoned(short) > abandoned(long_) > 0


@pytest.mark.parametrize(("lines", "hold_capacity"), [(4, None), (0, 0), (9, 0)])
def test_busy_probability_matches_erlang_b(lines: int, hold_capacity: int | None) -> None:
    """Nobody can hold: as many lines as operators (callers hold on lines), or a phone
    system that queues nobody (``hold_capacity = 0``, lines unlimited or more than the
    operators): M/M/4/4, offered load 4.2, a busy signal with Erlang B's probability."""
    c, mean_service = 4, 6.0
    expected = erlang_b(N / W * mean_service, c)
    fractions = []
    for res in runs(hotline_only(c, mean_service, None, lines=lines,
                                 hold_capacity=hold_capacity)):
        calls = middle_calls(res)
        assert all(cl.hold == 0 for cl in calls if cl.outcome == "answered")
        fractions.append(float(np.mean([cl.outcome == "busy" for cl in calls])))
    m, h = ci95(fractions)
    assert abs(m - expected) <= h, (m, h, expected)


def test_hold_capacity_bounds_the_queue_and_lines_the_talkers() -> None:
    """With ``hold_capacity = 3`` never more than 3 callers hold at once (6 lines would
    let only 2 hold), and 2 lines let only 2 of 4 operators talk."""
    from caucus_rehearsal.simulator.series import queue_length

    res = run_night(hotline_only(4, 6.0, None, lines=6, hold_capacity=3),
                    tiny_roster(N, attendance=100).units, 0)
    _, holding = queue_length(res)
    assert holding.max() == 3
    res = run_night(hotline_only(4, 6.0, None, lines=2, hold_capacity=50),
                    tiny_roster(N, attendance=100).units, 0)
    answered = sorted((c.dial + c.hold, c.dial + c.hold + c.service) for c in res.calls
                      if c.outcome == "answered")
    talking = max(sum(1 for s, e in answered if s <= t < e) for t, _ in answered)
    assert talking == 2
