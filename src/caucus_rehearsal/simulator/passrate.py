"""How often simulated nights pass a gate: per-night readings, the pass share with a
Wilson interval, and the verdict on a required confidence.

A gate is read on each simulated night (:func:`night_readings`, done in the worker that
ran the night); over ``n`` nights, ``k`` pass. The share ``k / n`` gets a Wilson score
interval (SciPy's ``binomtest(k, n).proportion_ci(method="wilson")``), which keeps its
coverage near 0 and 1, where planning questions live. :func:`judge` compares the share
with a required probability ``p``: *sure* when the whole interval lies on one side of
``p``, otherwise (undecided) on the point estimate, flagged as not sure.

Sequential sampling (``rehearse plan``) looks at the share after 10, 20, 40, ... nights
(:func:`looks`); each look's interval is at level ``1 - (1 - level) / K`` for ``K``
looks (Bonferroni), so the chance that any look of a candidate misleads stays within
``1 - level``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from caucus_rehearsal.simulator.gates import Gate
from caucus_rehearsal.simulator.series import fraction_curve

Array = npt.NDArray[np.float64]

LEVEL = 0.95
"""Confidence level of every pass-share interval the tools print."""

FIRST_LOOK = 10
"""Nights before the first look of a sequential evaluation (then doubling)."""

SIMULATED_GATE_METRICS = (
    "published_fraction", "received_fraction", "hotline_wait_max_min",
    "hotline_wait_median_min", "hotline_hold_max_min", "hotline_service_level",
    "abandoned_calls", "app_share", "minutes_to_95pct_received", "minutes_to_95pct_published",
)
"""Gate metrics the night model measures; the others are shown as not measured."""


def night_readings(gates: Sequence[Gate], metrics: dict[str, float], received: Array,
                   published: Array, answered_holds: Array,
                   line_calls: int) -> tuple[float | None, ...]:
    """One night's value of each gate's metric (None: not measured by the model).

    ``received``/``published`` are the night's sorted unit times; ``answered_holds`` the
    holds of the chairs' answered calls and ``line_calls`` the chairs' calls that got a
    line (answered or abandoned), for ``hotline_service_level``.
    """
    n = len(received)
    out: list[float | None] = []
    for g in gates:
        if g.metric not in SIMULATED_GATE_METRICS:
            out.append(None)
        elif g.metric in ("published_fraction", "received_fraction") and g.by is not None:
            times = published if g.metric == "published_fraction" else received
            out.append(float(fraction_curve(times, n, np.array([g.by]))[0]))
        elif g.metric == "hotline_service_level":
            within = 0.0 if g.within is None else g.within
            out.append(float(np.count_nonzero(answered_holds <= within + 1e-9)) / line_calls
                       if line_calls else 1.0)
        else:
            out.append(metrics[g.metric])
    return tuple(out)


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson score interval of ``k`` passes in ``n`` nights at ``level``."""
    if n < 1:
        raise ValueError(f"n(={n}) must be >= 1")
    if not 0 <= k <= n:
        raise ValueError(f"k(={k}) must be in 0..n(={n})")
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True, slots=True)
class Share:
    """``passed`` of ``nights`` passed; ``low``..``high`` the interval at ``level``."""

    passed: int
    nights: int
    low: float
    high: float
    level: float

    @property
    def estimate(self) -> float:
        return self.passed / self.nights

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "nights": self.nights, "probability": self.estimate,
                "low": self.low, "high": self.high, "level": self.level}

    def __str__(self) -> str:
        return f"{self.estimate:.1%} [{self.low:.1%}, {self.high:.1%}]"


def share(passes: Sequence[bool], level: float = LEVEL) -> Share:
    """The share of nights that passed, with its Wilson interval."""
    k, n = sum(bool(p) for p in passes), len(passes)
    low, high = wilson(k, n, level)
    return Share(k, n, low, high, level)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A share against a required probability: ``meets`` and whether it is ``sure``."""

    meets: bool
    sure: bool


def judge(s: Share, required: float) -> Verdict:
    """Sure when the interval lies wholly at or above ``required`` (meets) or wholly below
    it (fails); otherwise the point estimate decides, not sure."""
    if s.low >= required:
        return Verdict(True, True)
    if s.high < required:
        return Verdict(False, True)
    return Verdict(s.estimate >= required, False)


def looks(runs_max: int, first: int = FIRST_LOOK) -> list[int]:
    """Night counts at which a sequential evaluation looks: ``first``, doubling, then
    ``runs_max`` (at least one look)."""
    if runs_max < 1:
        raise ValueError(f"runs_max(={runs_max}) must be >= 1")
    out, n = [], min(first, runs_max)
    while n < runs_max:
        out.append(n)
        n *= 2
    return [*out, runs_max]


def look_level(runs_max: int, level: float = LEVEL) -> float:
    """The per-look interval level that keeps all of :func:`looks` within ``level``."""
    return 1 - (1 - level) / len(looks(runs_max))


def gate_passes(gate: Gate, values: Sequence[float | None]) -> list[bool] | None:
    """Per night, whether it passed ``gate`` (None when the model cannot measure it)."""
    if any(v is None for v in values):
        return None
    return [gate.passes(v) for v in values if v is not None]


def pass_share(gate: Gate, values: Sequence[float | None],
               level: float = LEVEL) -> Share | None:
    """The share of nights that passed ``gate`` with its interval, or None."""
    passes = gate_passes(gate, values)
    return None if passes is None or not passes else share(passes, level)

