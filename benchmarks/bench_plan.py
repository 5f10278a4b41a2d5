"""Nights spent by ``rehearse plan`` against an exhaustive grid, on the same question.

The question: the fewest hotline operators (``--vary hotline.operators=LO..HI:STEP``)
for which ``published_fraction >= 0.95 by 22:30`` passes on at least 95% of the
``well-prepared`` nights. Both answer it with the same confidence: 95% intervals on the
share of passing nights, at most ``--runs-max`` nights per candidate.

- ``plan``: the planner of ``rehearse plan`` (sequential sampling, monotone search).
- ``grid``: every candidate on ``--runs-max`` nights (replications 0..N-1, the same
  common random numbers), judged by its 95% Wilson interval as ``plan`` judges.

Printed, in one run: nights and wall time of each, the ratio of nights (issue 12's
target: at most a third), and both answers with their share of passing nights. Wall
time depends on what else runs on the 2 cores (the load average is printed).

    python3 benchmarks/bench_plan.py [--step 5] [--runs-max 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from caucus_rehearsal.simulator.experiments import Experiment
from caucus_rehearsal.simulator.gates import parse_gate
from caucus_rehearsal.simulator.passrate import judge, share
from caucus_rehearsal.simulator.planner import Axis, Planner, Point
from caucus_rehearsal.simulator.sequential import Evaluation, Goal, Sampler

GOAL = Goal(parse_gate("published_fraction >= 0.95 by 22:30"), 0.95)
KEY = "hotline.operators"


def by_plan(exp: Experiment, values: tuple[int, ...], runs_max: int) -> tuple[Any, int]:
    """The planner's answer (operators or None) and the nights it ran."""
    sampler = Sampler((GOAL,), runs_max)

    def evaluate(_p: Point, v: dict[str, Any], cost: float) -> Evaluation:
        ev = sampler.evaluate(v, cost, lambda reps: exp.nights(v, reps, [GOAL.gate]))
        print(f"  plan: {v}: {ev.nights} nights, {ev.shares()[0]}", file=sys.stderr)
        return ev

    planner = Planner([Axis(KEY, values)], (GOAL,), evaluate)
    result = planner.search()
    nights = sum(e.nights for e in planner.evaluated.values())
    if result.answer is None:
        return None, nights
    ev = planner.evaluated[result.answer]
    return (ev.values[KEY], ev.shares()[0]), nights


def by_grid(exp: Experiment, values: tuple[int, ...], runs_max: int) -> tuple[Any, int]:
    """Every candidate on ``runs_max`` nights; the least that meets, and the nights."""
    answer, nights = None, 0
    for v in values:
        outs = exp.nights({KEY: v}, range(runs_max), [GOAL.gate])
        nights += len(outs)
        s = share([GOAL.gate.passes(o.gates[0]) for o in outs if o.gates[0] is not None])
        print(f"  grid: {KEY}={v}: {len(outs)} nights, {s}", file=sys.stderr)
        if answer is None and judge(s, GOAL.required).meets:
            answer = (v, s)
    return answer, nights


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--low", type=int, default=5)
    ap.add_argument("--high", type=int, default=120)
    ap.add_argument("--step", type=int, default=5)
    ap.add_argument("--runs-max", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    values = tuple(range(args.low, args.high + 1, args.step))
    print(f"well-prepared, '{GOAL}' on at least 95% of nights, {KEY} in {values[0]}.."
          f"{values[-1]} step {args.step} ({len(values)} candidates), at most "
          f"{args.runs_max} nights each, {args.jobs} processes; load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    with Experiment("well-prepared", jobs=args.jobs) as exp:
        t0 = time.perf_counter()
        plan_answer, plan_nights = by_plan(exp, values, args.runs_max)
        t1 = time.perf_counter()
        grid_answer, grid_nights = by_grid(exp, values, args.runs_max)
        t2 = time.perf_counter()
    for name, answer, nights, wall in (("plan", plan_answer, plan_nights, t1 - t0),
                                       ("grid", grid_answer, grid_nights, t2 - t1)):
        text = "none" if answer is None else f"{KEY}={answer[0]}, passing {answer[1]}"
        print(f"{name}: {nights:6d} nights, {wall:7.1f} s wall; answer {text}")
    print(f"nights: plan / grid = {plan_nights / grid_nights:.3f} (target <= 0.333); "
          f"wall: plan / grid = {(t1 - t0) / (t2 - t1):.3f}; load average now "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
