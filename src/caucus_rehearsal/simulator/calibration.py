"""Fitting a scenario to observed facts: a simulation-based search (``rehearse calibrate``).

Each candidate sets the fitted keys (``--fit KEY=LO..HI``) and runs the same
replications ``0 .. runs - 1`` of the night (common random numbers: every candidate
sees the same chairs, calls and delays, so candidates differ only by the keys); its
misfit is :func:`~.facts.misfit` of the facts at the median night. Optuna's TPE sampler,
seeded and multivariate, proposes the candidates, so the search is the same for the
same seed; the first candidate is the scenario's own values (clipped into the
ranges), so the fit is never worse than the start.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from caucus_rehearsal.errors import MISSING, ScenarioError
from caucus_rehearsal.simulator.experiments import Experiment
from caucus_rehearsal.simulator.facts import Fact, FactFit, fit_facts, misfit
from caucus_rehearsal.simulator.loader import parse_value
from caucus_rehearsal.simulator.units import format_clock, parse_clock, parse_duration

INT, FLOAT, DURATION, CLOCK = "int", "float", "duration", "clock"


@dataclass(frozen=True, slots=True)
class FitKey:
    """A scenario key searched from ``low`` to ``high`` (minutes for durations and clock
    times); ``kind`` says how a point is written back into the scenario."""

    key: str
    low: float
    high: float
    kind: str

    def value(self, x: float) -> Any:
        """The scenario value of point ``x`` (what ``--set KEY=VALUE`` would set)."""
        if self.kind == INT:
            return round(x)
        if self.kind == DURATION:
            return f"{x:.4g}min"
        if self.kind == CLOCK:
            return format_clock(x)
        return float(f"{x:.4g}")

    def point(self, value: Any) -> float | None:
        """The search point of a scenario value (None when it is not of this key's kind)."""
        try:
            if self.kind in (INT, FLOAT) and isinstance(value, (int, float)):
                return float(value)
            if self.kind == DURATION and isinstance(value, str):
                return parse_duration(value)
            if self.kind == CLOCK and isinstance(value, str):
                return parse_clock(value)
        except ValueError:
            return None
        return None

    def __str__(self) -> str:
        return f"{self.key}={self.value(self.low)}..{self.value(self.high)}"


def parse_fit(text: str) -> FitKey:
    """``"hotline.operators=30..80"`` or ``"hotline.service_time.median=6min..15min"``."""
    key, sep, span = text.partition("=")
    low_text, dots, high_text = span.partition("..")
    key = key.strip()
    if not sep or not dots or not key or not low_text.strip() or not high_text.strip():
        raise ScenarioError("--fit", text, text, "KEY=LO..HI, like hotline.operators=30..80")
    lo, hi = parse_value(low_text.strip()), parse_value(high_text.strip())
    kinds = {k: _as(k, lo, hi) for k in (INT, FLOAT, DURATION, CLOCK)}
    kind = next((k for k, v in kinds.items() if v is not None), None)
    if kind is None:
        raise ScenarioError("--fit", key, span, "two numbers, durations ('6min..15min') or "
                                                "clock times ('21:30..23:00')")
    low, high = kinds[kind]  # type: ignore[misc]
    if not low < high:
        raise ScenarioError("--fit", key, span, "LO below HI")
    return FitKey(key, low, high, kind)


def _as(kind: str, lo: Any, hi: Any) -> tuple[float, float] | None:
    pair = (lo, hi)
    if kind == INT:
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        return (float(lo), float(hi)) if ok else None
    if kind == FLOAT:
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
        return (float(lo), float(hi)) if ok else None
    if not all(isinstance(v, str) for v in pair):
        return None
    parse = parse_duration if kind == DURATION else parse_clock
    try:
        return parse(lo), parse(hi)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Trial:
    """One candidate: its values, misfit and how many facts were within tolerance."""

    number: int
    values: dict[str, Any]
    misfit: float
    within: int


@dataclass(slots=True)
class Calibration:
    """The search so far: every trial, the best one's facts, the nights run."""

    keys: tuple[FitKey, ...]
    runs: int
    start: dict[str, Any]
    trials: list[Trial] = field(default_factory=list)
    best_fits: list[FactFit] = field(default_factory=list)
    interrupted: bool = False

    @property
    def best(self) -> Trial | None:
        """The trial of least misfit (the earliest among equals)."""
        return min(self.trials, key=lambda t: (t.misfit, t.number)) if self.trials else None

    @property
    def nights(self) -> int:
        """Simulated nights spent on the search."""
        return len(self.trials) * self.runs


Report = Callable[[Calibration, Trial], None]


def check_keys(exp: Experiment, keys: Sequence[FitKey]) -> None:
    """Each key's both ends must make a valid scenario (errors name ``--fit``)."""
    seen: set[str] = set()
    for k in keys:
        if k.key in seen:
            raise ScenarioError("--fit", k.key, str(k), "each key fitted once")
        seen.add(k.key)
        for end in (k.low, k.high):
            exp.scenario({k.key: k.value(end)})


def start_values(exp: Experiment, keys: Sequence[FitKey]) -> dict[str, Any]:
    """The scenario's own value of each key, clipped into its range (the middle when the
    key is not set in the file as a plain value)."""
    out: dict[str, Any] = {}
    raw = exp.raw({})
    for k in keys:
        node: Any = raw
        for part in k.key.split("."):
            node = node.get(part, MISSING) if isinstance(node, dict) else MISSING
        x = k.point(node)
        x = (k.low + k.high) / 2 if x is None else min(max(x, k.low), k.high)
        out[k.key] = k.value(x)
    return out


def calibrate(exp: Experiment, facts: Sequence[Fact], keys: Sequence[FitKey], runs: int,
              trials: int, seed: int, report: Report | None = None) -> Calibration:
    """Search ``trials`` candidates, each on replications ``0 .. runs - 1``.

    Ctrl-C stops the search between or during candidates and returns what was found,
    ``interrupted`` set; a candidate the scenario refuses (a median above its p90...)
    is told to the sampler as failed and not counted.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Multivariate TPE models the keys jointly (they interact: more operators need less
    # patience...); on the synthetic night of tests/test_calibrate.py it recovers the
    # known values from 6 of 6 search seeds in 30 candidates, against 4 of 6 key by key.
    with warnings.catch_warnings():  # multivariate TPE is marked experimental in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=min(10, max(1, trials // 3)), multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    result = Calibration(tuple(keys), runs, start_values(exp, keys))
    study.enqueue_trial({k.key: _point_of(k, result.start[k.key]) for k in keys})
    reps = range(runs)
    for _ in range(trials):
        try:
            trial = study.ask()
            values = {k.key: k.value(_suggest(trial, k)) for k in keys}
            try:
                outcomes = exp.nights(values, reps)
            except ScenarioError:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            fits = fit_facts(facts, outcomes)
            m = misfit(fits)
            study.tell(trial, m)
            t = Trial(len(result.trials), values, m, sum(f.within for f in fits))
            result.trials.append(t)
            if result.best is t:
                result.best_fits = fits
            if report:
                report(result, t)
        except KeyboardInterrupt:
            result.interrupted = True
            break
    return result


def _point_of(k: FitKey, value: Any) -> float:
    x = k.point(value)
    assert x is not None  # start_values wrote it in the key's kind
    return round(x) if k.kind == INT else x


def _suggest(trial: Any, k: FitKey) -> float:
    if k.kind == INT:
        return float(trial.suggest_int(k.key, round(k.low), round(k.high)))
    return float(trial.suggest_float(k.key, k.low, k.high))
