"""Monte Carlo planning: many replications of the night, in parallel, summarised.

Replication ``r`` is fully determined by (scenario, roster, r): results are put back in
replication order before anything is summarised, so ``summary()`` is the same whatever
the number of worker processes.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from caucus_rehearsal.simulator.night import run_night
from caucus_rehearsal.simulator.roster import Unit
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.series import (
    call_tallies,
    fraction_curve,
    night_metrics,
    sorted_times,
)

Array = npt.NDArray[np.float64]
QUANTILES = {"p5": 5.0, "p50": 50.0, "p95": 95.0}
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What Monte Carlo keeps of one night: its metrics, the sorted receipt and
    publication times of every unit (inf = never) and the hotline waits of the chairs who
    got through (first dial to answer, minutes)."""

    replication: int
    metrics: dict[str, float]
    received: Array
    published: Array
    waits: Array


def run_one(scenario: Scenario, units: tuple[Unit, ...], replication: int) -> RunOutcome:
    """One replication, reduced to what the summary needs."""
    res = run_night(scenario, units, replication)
    tallies = call_tallies(res)
    return RunOutcome(replication, night_metrics(res, tallies),
                      sorted_times([u.received for u in res.units]),
                      sorted_times([u.published for u in res.units]),
                      tallies["waits"])


_WORKER: dict[str, Any] = {}


def _init_worker(scenario: Scenario, units: tuple[Unit, ...]) -> None:
    # Ctrl-C is the parent's to handle (one line, exit 3), not every worker's traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER["scenario"], _WORKER["units"] = scenario, units


def _run_chunk(reps: Sequence[int]) -> list[RunOutcome]:
    return [run_one(_WORKER["scenario"], _WORKER["units"], r) for r in reps]


def run_many(scenario: Scenario, units: tuple[Unit, ...], runs: int, jobs: int = 1,
             progress: Progress | None = None, first: int = 0) -> list[RunOutcome]:
    """Replications ``first .. first + runs - 1``, in that order, on ``jobs`` processes."""
    if runs < 1:
        raise ValueError(f"runs(={runs}) must be >= 1")
    if jobs < 1:
        raise ValueError(f"jobs(={jobs}) must be >= 1")
    reps = list(range(first, first + runs))
    out: list[RunOutcome] = []
    if jobs == 1:
        for r in reps:
            out.append(run_one(scenario, units, r))
            if progress:
                progress(len(out), runs)
        return out
    # Small chunks: on Ctrl-C only the chunks already handed to workers still run.
    size = max(1, min(4, math.ceil(runs / (jobs * 4))))
    chunks = [reps[i:i + size] for i in range(0, runs, size)]
    pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(scenario, units))
    try:
        for fut in as_completed([pool.submit(_run_chunk, c) for c in chunks]):
            out.extend(fut.result())
            if progress:
                progress(len(out), runs)
    except BaseException:  # Ctrl-C or a failed night: drop the chunks not yet started
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return sorted(out, key=lambda o: o.replication)


def quantiles(values: Sequence[float] | Array) -> dict[str, float]:
    """p5, p50 and p95 (linear interpolation; inf where the runs never got there)."""
    arr = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        qs = np.percentile(arr, list(QUANTILES.values()))
    return {k: (math.inf if math.isnan(q) else float(q))
            for k, q in zip(QUANTILES, qs, strict=True)}


def metric_quantiles(outcomes: Sequence[RunOutcome]) -> dict[str, dict[str, float]]:
    """For every metric, its p5/p50/p95 over the runs."""
    names = sorted(outcomes[0].metrics)
    return {k: quantiles([o.metrics[k] for o in outcomes]) for k in names}


def fraction_at(outcomes: Sequence[RunOutcome], minute: float, published: bool) -> list[float]:
    """Per run, the fraction of units received (or published) by ``minute``."""
    return [float(fraction_curve(o.published if published else o.received,
                                 len(o.received), np.array([minute]))[0]) for o in outcomes]


def grid_for(outcomes: Sequence[RunOutcome], points: int = 400) -> Array:
    """Clock minutes spanning the reporting of every run, at a round step."""
    finite = [t for o in outcomes for arr in (o.received, o.published)
              for t in (arr[0], arr[np.isfinite(arr)][-1] if np.isfinite(arr).any() else arr[0])
              if math.isfinite(t)]
    if not finite:
        return np.array([0.0])
    lo, hi = min(finite), max(finite)
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120) if (hi - lo) / s <= points), 240)
    start = math.floor(lo / step) * step
    return np.arange(start, hi + step, step, dtype=float)


def band(outcomes: Sequence[RunOutcome], grid: Array | None = None) -> dict[str, Any]:
    """p5/p50/p95 of the fraction received and published at each grid minute."""
    g = grid_for(outcomes) if grid is None else grid
    out: dict[str, Any] = {"minutes": g.tolist()}
    for key, pub in (("received", False), ("published", True)):
        curves = np.array([fraction_curve(o.published if pub else o.received,
                                          len(o.received), g) for o in outcomes])
        qs = np.percentile(curves, list(QUANTILES.values()), axis=0)
        out[key] = {k: q.tolist() for k, q in zip(QUANTILES, qs, strict=True)}
    return out


def reporting_band(scenario: Scenario, runs: int, jobs: int = 1) -> dict[str, Any]:
    """The simulated band of % received and % published for the live run's report:
    ``{"minutes": [...], "received": {"p5": [...], "p50": [...], "p95": [...]},
    "published": {...}}``, fractions 0..1 of units at each sim minute."""
    from caucus_rehearsal.simulator.roster import build_roster

    units = build_roster(scenario).units
    return band(run_many(scenario, units, runs, jobs))
