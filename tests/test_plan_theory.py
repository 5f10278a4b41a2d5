"""``rehearse plan`` against queueing theory: the operators it recommends for a service
level equal the agents Erlang C requires (and Erlang A with patience).

A hotline-only night (no app, unlimited lines, one call per chair, exponential service)
whose meetings end uniformly over a long window W has Poisson arrivals in its middle:
an M/M/c queue, or M/M/c+M with exponential patience. The goal "at least S of the calls
answered within T", at confidence 0.5 (the median night meets it), then asks for the
least c whose stationary service level reaches S, which the test computes on its own:
Erlang C's closed form, and Erlang A from the birth-death chain of the number in system
with the waiting-time phases of an arrival (matrix exponential). Targets are chosen
with a margin of at least 0.03 on either side of the required c, so that the edges of
the night and the night-to-night noise cannot move the answer.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w
from scipy.linalg import expm

from caucus_rehearsal.cli import main
from support.night import hotline_only_raw

W = 2000.0
"""Minutes over which meetings end."""
MEAN_SERVICE = 5.0
WITHIN = 1.0
"""Minutes on hold within which a call counts as answered in time."""


def erlang_c_service_level(lam: float, mu: float, c: int, t: float) -> float:
    """P(an arrival waits at most t) in M/M/c (0 when unstable)."""
    a = lam / mu
    if c <= a:
        return 0.0
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return 1 - p_wait * math.exp(-(c * mu - lam) * t)


def erlang_a_service_level(lam: float, mu: float, c: int, theta: float, t: float,
                           n_max: int = 400) -> float:
    """P(an arrival is answered within t) in M/M/c+M (patience rate theta).

    An arrival that finds n >= c in the system has k = n - c callers ahead; the line
    ahead shortens at rate c*mu + j*theta with j ahead, and it is answered at the next
    service completion once none is ahead, unless its own patience runs out first.
    """
    p = [1.0]
    for n in range(1, n_max):
        p.append(p[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    probs = np.asarray(p) / sum(p)
    level = float(probs[:c].sum())
    for n in range(c, n_max):
        k = n - c
        m = k + 1  # phases; state m: answered, m + 1: gave up
        q = np.zeros((m + 2, m + 2))
        for i in range(m):
            rate = c * mu + (k - i) * theta
            q[i, i + 1] += rate
            q[i, m + 1] += theta
            q[i, i] = -(rate + theta)
        level += float(probs[n]) * float(expm(q * t)[0, m])
        if probs[n] < 1e-12:
            break
    return level


def required(level: Any, target: float) -> tuple[int, float]:
    """The least c whose service level reaches ``target``, and the smaller margin."""
    c = next(c for c in range(1, 100) if level(c) >= target)
    return c, min(level(c) - target, target - level(c - 1))


def hotline_only(path: Path, lam: float, patience_mean: float | None) -> Path:
    """The scenario file of a hotline-only night with ``lam`` calls a minute."""
    raw = hotline_only_raw(W, MEAN_SERVICE, patience_mean, seed=11)
    raw["election"] = {"units": round(lam * W), "counties": 4}
    path.write_text(tomli_w.dumps(raw))
    return path


def planned_operators(tmp_path: Path, scenario: Path, target: float) -> int:
    out = tmp_path / "plan"
    code = main(["plan", str(scenario), "--goal",
                 f"hotline_service_level >= {target} within {WITHIN:g}min",
                 "--vary", "hotline.operators=1..25", "--confidence", "0.5",
                 "--runs-max", "40", "--out", str(out)])
    assert code == 0
    doc = json.loads((out / "plan.json").read_text())
    return int(doc["recommendation"]["values"]["hotline.operators"])


def test_the_erlang_a_chain_becomes_erlang_c_without_abandonment() -> None:
    for c in (4, 6, 9):
        assert erlang_a_service_level(0.7, 0.2, c, 1e-9, WITHIN) == pytest.approx(
            erlang_c_service_level(0.7, 0.2, c, WITHIN), abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("lam, target", [(0.4, 0.8), (0.7, 0.8), (1.0, 0.85)])
def test_plan_recommends_the_erlang_c_agents(tmp_path: Path, lam: float,
                                             target: float) -> None:
    mu = 1 / MEAN_SERVICE
    agents, margin = required(lambda c: erlang_c_service_level(lam, mu, c, WITHIN), target)
    assert margin >= 0.03
    scenario = hotline_only(tmp_path / "mmc.toml", lam, None)
    assert planned_operators(tmp_path, scenario, target) == agents


@pytest.mark.slow
@pytest.mark.parametrize("lam, target", [(0.4, 0.85), (0.7, 0.8), (1.0, 0.83)])
def test_plan_recommends_the_erlang_a_agents_with_patience(tmp_path: Path, lam: float,
                                                           target: float) -> None:
    mu, patience = 1 / MEAN_SERVICE, 3.0
    agents, margin = required(
        lambda c: erlang_a_service_level(lam, mu, c, 1 / patience, WITHIN), target)
    assert margin >= 0.03
    scenario = hotline_only(tmp_path / "mmcm.toml", lam, patience)
    assert planned_operators(tmp_path, scenario, target) == agents
