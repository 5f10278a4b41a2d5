"""The plan's sequential stopping rule and its monotone search, on synthetic nights."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from caucus_rehearsal.simulator.gates import parse_gate
from caucus_rehearsal.simulator.montecarlo import RunOutcome
from caucus_rehearsal.simulator.planner import Axis, Planner, Point
from caucus_rehearsal.simulator.sequential import Evaluation, Goal, Sampler

GOAL = Goal(parse_gate("published_fraction >= 0.5"), 0.95)
EMPTY = np.zeros(0)


def bernoulli_nights(p: float, seed: int = 1) -> Callable[[range], list[RunOutcome]]:
    """Nights whose reading passes GOAL with probability ``p`` (replication-keyed)."""
    def nights(reps: range) -> list[RunOutcome]:
        return [RunOutcome(r, {}, EMPTY, EMPTY, EMPTY,
                           (1.0 if np.random.default_rng([seed, r]).random() < p else 0.0,))
                for r in reps]
    return nights


@pytest.mark.parametrize("p, stops_by", [(1.0, 160), (0.2, 10), (0.0, 10)])
def test_a_candidate_far_from_the_threshold_stops_early(p: float, stops_by: int) -> None:
    ev = Sampler((GOAL,), runs_max=400).evaluate({}, 0.0, bernoulli_nights(p))
    assert ev.stopped == "sure" and ev.nights <= stops_by
    assert ev.meets((GOAL,)) is (p > 0.95)


def test_a_candidate_near_the_threshold_runs_to_runs_max() -> None:
    looked: list[int] = []
    ev = Sampler((GOAL,), runs_max=400).evaluate({}, 0.0, bernoulli_nights(0.95),
                                                 lambda e: looked.append(e.nights))
    assert ev.stopped == "runs-max" and ev.nights == 400
    assert looked == [10, 20, 40, 80, 160, 320, 400]
    s = ev.shares()[0]
    assert s.low < 0.95 <= s.high and not ev.sure((GOAL,))


def test_a_goal_surely_missed_stops_the_candidate_whatever_the_others() -> None:
    other = Goal(parse_gate("received_fraction >= 0.5"), 0.5)

    def nights(reps: range) -> list[RunOutcome]:
        return [RunOutcome(r, {}, EMPTY, EMPTY, EMPTY, (0.0, 1.0)) for r in reps]

    ev = Sampler((GOAL, other), runs_max=400).evaluate({}, 0.0, nights)
    assert ev.nights == 10 and not ev.meets((GOAL, other))


def synthetic(meets: Callable[[dict[str, Any]], bool], calls: list[Point],
              nights: int = 200) -> Callable[[Point, dict[str, Any], float], Evaluation]:
    """Candidates that pass every night, or none, as ``meets`` says."""
    def evaluate(p: Point, values: dict[str, Any], cost: float) -> Evaluation:
        calls.append(p)
        return Evaluation(values, cost, [[meets(values)] * nights], 0.95, "sure")
    return evaluate


def brute_force(axes: Sequence[Axis], meets: Callable[[dict[str, Any]], bool]) -> float:
    best = float("inf")
    for combo in itertools.product(*(a.values for a in axes)):
        values = {a.key: v for a, v in zip(axes, combo, strict=True)}
        if meets(values):
            best = min(best, sum(a.weight * v for a, v in zip(axes, combo, strict=True)))
    return best


def test_one_key_binary_search_finds_the_threshold_and_its_cheaper_neighbour_fails() -> None:
    calls: list[Point] = []
    axes = [Axis("hotline.operators", tuple(range(5, 121)))]
    planner = Planner(axes, (GOAL,), synthetic(lambda v: v["hotline.operators"] >= 57, calls))
    result = planner.search()
    assert result.answer is not None
    assert planner.values(result.answer) == {"hotline.operators": 57}
    assert result.neighbours == [(51,)] and not planner.evaluated[(51,)].meets((GOAL,))
    assert len(calls) == len(set(calls)) <= 10  # ~log2(116) + top + bottom, each once
    assert not result.exhaustive and not result.violations


@pytest.mark.parametrize("weights", [(3.0, 1.0), (1.0, 3.0), (1.0, 1.0)])
def test_two_keys_give_the_cheapest_pair(weights: tuple[float, float]) -> None:
    axes = [Axis("hotline.lines", tuple(range(0, 21)), weights[0]),
            Axis("hotline.operators", tuple(range(0, 41)), weights[1])]

    def meets(v: dict[str, Any]) -> bool:
        return 2 * v["hotline.lines"] + v["hotline.operators"] >= 30 and v["hotline.lines"] >= 2

    calls: list[Point] = []
    planner = Planner(axes, (GOAL,), synthetic(meets, calls))
    result = planner.search()
    assert result.answer is not None and not result.exhaustive
    assert planner.cost(result.answer) == brute_force(axes, meets)
    assert len(calls) < 21 * 41 / 4


def test_a_key_where_more_hurts_is_caught_and_searched_exhaustively() -> None:
    calls: list[Point] = []
    axes = [Axis("central.verifiers", tuple(range(0, 50)))]
    # Meets at the bottom and at the top but not in between: not monotone.
    planner = Planner(axes, (GOAL,), synthetic(
        lambda v: v["central.verifiers"] <= 5 or v["central.verifiers"] >= 40, calls))
    result = planner.search()
    assert result.violations and result.exhaustive
    assert result.answer == (0,)


def test_no_answer_when_the_top_fails_and_the_bottom_too() -> None:
    calls: list[Point] = []
    planner = Planner([Axis("hotline.operators", tuple(range(1, 50)))], (GOAL,),
                      synthetic(lambda v: False, calls))
    result = planner.search()
    assert result.answer is None and not result.exhaustive
    assert calls == [(48,), (0,)]


def test_two_keys_on_the_night_model_give_the_cheapest_pair_of_the_full_grid() -> None:
    from caucus_rehearsal.simulator.experiments import Experiment
    from caucus_rehearsal.simulator.planner import PlanResult

    goal = Goal(parse_gate("published_fraction >= 0.9 by 21:15"), 0.8)
    sampler = Sampler((goal,), runs_max=40)
    axes = [Axis("hotline.operators", tuple(range(1, 7)), 5.0),
            Axis("hotline.lines", tuple(range(1, 11)), 1.0)]
    with Experiment("smoke", ["people.app_installed=0.3"]) as exp:
        def evaluate(_p: Point, values: dict[str, Any], cost: float) -> Evaluation:
            return sampler.evaluate(values, cost,
                                    lambda reps: exp.nights(values, reps, [goal.gate]))

        searched = Planner(axes, (goal,), evaluate)
        result = searched.search()
        full = Planner(axes, (goal,), evaluate)
        every = full.exhaustive(PlanResult(None, full.top, full.evaluated))
    assert result.answer is not None and every.answer is not None
    assert searched.cost(result.answer) == full.cost(every.answer)
    assert not result.exhaustive
    assert len(searched.evaluated) < len(axes[0].values) * len(axes[1].values) / 2
