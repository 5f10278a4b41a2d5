"""Monte Carlo planning: many replications of the night, in parallel, summarised.

Replication ``r`` is fully determined by (scenario, roster, r): results are put back in
replication order before anything is summarised, so ``summary()`` is the same whatever
the number of worker processes. :class:`NightRunner` keeps its worker processes across
calls (``rehearse plan`` and ``calibrate`` run many small batches through one);
:mod:`.experiments` builds on it.
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
from caucus_rehearsal.simulator.passrate import night_readings
from caucus_rehearsal.simulator.roster import Unit
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.series import (
    call_tallies,
    fraction_curve,
    night_metrics,
    sorted_times,
)
from caucus_rehearsal.simulator.stages import NightStages, reduce_night

Array = npt.NDArray[np.float64]
QUANTILES = {"p5": 5.0, "p50": 50.0, "p95": 95.0}
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What Monte Carlo keeps of one night: its metrics, the sorted receipt and
    publication times of every unit (inf = never), the hotline waits of the chairs who
    got through (first dial to answer, minutes), the night's reading of each of the
    scenario's gates (``gates[i]`` for ``scenario.gates[i]``; None: not measured) and
    where the units' time went, reduced (:class:`~.stages.NightStages`)."""

    replication: int
    metrics: dict[str, float]
    received: Array
    published: Array
    waits: Array
    gates: tuple[float | None, ...] = ()
    stages: NightStages | None = None


def run_one(scenario: Scenario, units: tuple[Unit, ...], replication: int) -> RunOutcome:
    """One replication, reduced to what the summary needs."""
    res = run_night(scenario, units, replication)
    tallies = call_tallies(res)
    metrics = night_metrics(res, tallies)
    received = sorted_times([u.received for u in res.units])
    published = sorted_times([u.published for u in res.units])
    readings = night_readings(scenario.gates, metrics, received, published,
                              tallies["answered_holds"], len(tallies["holds"]))
    stages = None if res.stages is None else reduce_night(res.stages, scenario.gates)
    return RunOutcome(replication, metrics, received, published, tallies["waits"], readings,
                      stages)


RosterKey = tuple[Any, int]


def roster_key(scenario: Scenario) -> RosterKey:
    """What a scenario's roster depends on: its election and its seed."""
    return (scenario.election, scenario.scenario.seed)


class _Rosters:
    """Rosters built once per election and seed (or the units a caller supplied)."""

    def __init__(self, units: tuple[Unit, ...] | None) -> None:
        self.given = units
        self.built: dict[RosterKey, tuple[Unit, ...]] = {}

    def units(self, scenario: Scenario) -> tuple[Unit, ...]:
        if self.given is not None:
            return self.given
        key = roster_key(scenario)
        if key not in self.built:
            from caucus_rehearsal.simulator.roster import build_roster

            self.built[key] = build_roster(scenario).units
        return self.built[key]


_WORKER: dict[str, _Rosters] = {}


def _init_worker(units: tuple[Unit, ...] | None) -> None:
    # Ctrl-C, SIGTERM and SIGHUP (sent to the whole process group by a terminal, systemd
    # or `kill -- -PGID`) are the parent's to handle (one line, exit 3): it stops the
    # workers itself, rather than every worker printing a traceback.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    _WORKER["rosters"] = _Rosters(units)


def _run_chunk(scenario: Scenario, reps: Sequence[int]) -> list[RunOutcome]:
    units = _WORKER["rosters"].units(scenario)
    return [run_one(scenario, units, r) for r in reps]


class NightRunner:
    """Runs replications of the night on ``jobs`` processes kept alive across calls.

    ``run(scenario, replications)`` returns one :class:`RunOutcome` per replication, in
    the order given, whatever ``jobs`` is. Replication ``r`` of any scenario with the
    same seed draws the same random numbers (common random numbers), so two scenarios
    run on the same replications differ only by what they set. Each process builds a
    scenario's roster once (per election and seed); pass ``units`` to use those instead
    for every scenario. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, jobs: int = 1, units: tuple[Unit, ...] | None = None) -> None:
        if jobs < 1:
            raise ValueError(f"jobs(={jobs}) must be >= 1")
        self.jobs = jobs
        self._rosters = _Rosters(units)
        self._units = units
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> NightRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def units(self, scenario: Scenario) -> tuple[Unit, ...]:
        """The roster's units of ``scenario`` (built once per election and seed)."""
        return self._rosters.units(scenario)

    def run(self, scenario: Scenario, replications: Sequence[int],
            progress: Progress | None = None) -> list[RunOutcome]:
        """The outcomes of ``replications`` of ``scenario``, in that order."""
        reps = list(replications)
        total = len(reps)
        out: list[RunOutcome] = []
        if self.jobs == 1 or total == 1:
            units = self.units(scenario)
            for r in reps:
                out.append(run_one(scenario, units, r))
                if progress:
                    progress(len(out), total)
            return out
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.jobs, initializer=_init_worker,
                                             initargs=(self._units,))
        # Small chunks: on Ctrl-C only the chunks already handed to workers still run.
        size = max(1, min(4, math.ceil(total / (self.jobs * 4))))
        futures = [self._pool.submit(_run_chunk, scenario, reps[i:i + size])
                   for i in range(0, total, size)]
        try:
            for fut in as_completed(futures):
                out.extend(fut.result())
                if progress:
                    progress(len(out), total)
        except BaseException:  # Ctrl-C or a failed night: end the workers now
            # Their nights are discarded, and waiting for the running chunks took ~10 s on
            # iowa-2020 (too long for `docker stop`). Killed, the pool marks every pending
            # future broken by itself (cancelling them first makes Python 3.11's manager
            # thread fail on the cancelled ones). Python 3.14 has terminate_workers().
            workers = list((getattr(self._pool, "_processes", None) or {}).values())
            for proc in workers:
                proc.kill()
            self._pool.shutdown(wait=False)
            self._pool = None
            raise
        order = {r: i for i, r in enumerate(reps)}
        return sorted(out, key=lambda o: order[o.replication])

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def run_many(scenario: Scenario, units: tuple[Unit, ...], runs: int, jobs: int = 1,
             progress: Progress | None = None, first: int = 0) -> list[RunOutcome]:
    """Replications ``first .. first + runs - 1``, in that order, on ``jobs`` processes."""
    if runs < 1:
        raise ValueError(f"runs(={runs}) must be >= 1")
    with NightRunner(jobs, units) as runner:
        return runner.run(scenario, range(first, first + runs), progress)


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
