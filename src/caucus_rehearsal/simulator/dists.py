"""Named probability distributions, as written in scenario files.

Each is written as an inline table whose ``dist`` key names it; durations carry units
(``"6min"``), counts are plain numbers. Samples of a duration distribution are minutes.

================  =====================================  ===================================
``dist``          parameters                              meaning
================  =====================================  ===================================
``fixed``         ``value``                               always ``value``
``exponential``   ``mean``                                memoryless, mean ``mean``
``uniform``       ``low``, ``high``                       flat on [low, high]
``triangular``    ``low``, ``mode``, ``high``             peaked at ``mode``
``lognormal``     ``median``, ``p90``                     right-skewed; 90% fall below ``p90``
``normal``        ``mean``, ``sd``                        bell curve, clipped at 0
================  =====================================  ===================================

Example: ``service_time = {dist = "lognormal", median = "6min", p90 = "15min"}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Z90 = 1.2815515655446004
"""The standard normal's 90th percentile: a lognormal's sigma is ln(p90/median) / Z90."""

PARAMS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "exponential": ("mean",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "lognormal": ("median", "p90"),
    "normal": ("mean", "sd"),
}


@dataclass(frozen=True, slots=True)
class Dist:
    """A named distribution with its parameters already in minutes (or plain units)."""

    name: str
    params: tuple[float, ...]

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """One draw (``size=None``) or an array of ``size`` draws from ``rng``; never negative."""
        p = self.params
        out: Any
        if self.name == "fixed":
            out = p[0] if size is None else np.full(size, p[0])
        elif self.name == "exponential":
            out = rng.exponential(p[0], size)
        elif self.name == "uniform":
            out = rng.uniform(p[0], p[1], size)
        elif self.name == "triangular":
            out = p[1] if p[0] == p[2] and size is None else rng.triangular(p[0], p[1], p[2], size)
        elif self.name == "lognormal":
            out = rng.lognormal(math.log(p[0]), self.sigma, size)
        elif self.name == "normal":
            out = np.maximum(rng.normal(p[0], p[1], size), 0.0)
        else:  # pragma: no cover - construction validates the name
            raise ValueError(f"unknown distribution {self.name!r}")
        return float(out) if size is None else np.asarray(out, dtype=float)

    @property
    def sigma(self) -> float:
        """The lognormal's shape parameter (log-space standard deviation)."""
        return math.log(self.params[1] / self.params[0]) / Z90 if self.name == "lognormal" else 0.0

    @property
    def mean(self) -> float:
        """The distribution's mean, in its units."""
        p = self.params
        if self.name in ("fixed", "exponential", "normal"):
            return p[0]
        if self.name == "uniform":
            return (p[0] + p[1]) / 2
        if self.name == "triangular":
            return (p[0] + p[1] + p[2]) / 3
        return p[0] * math.exp(self.sigma**2 / 2)  # lognormal

    def quantiles(self, rng: np.random.Generator, qs: Sequence[float], n: int = 20000) -> Any:
        """Monte Carlo quantiles, for documentation and calibration tables."""
        return np.quantile(self.sample(rng, n), np.asarray(qs, dtype=float))


def check_params(name: str, params: tuple[float, ...]) -> str | None:
    """Why these parameters are impossible for ``name``, or ``None`` when they are fine."""
    if any(v < 0 for v in params):
        return "non-negative parameters"
    if name == "exponential" and params[0] <= 0:
        return "mean > 0"
    if name == "uniform" and params[0] > params[1]:
        return "low <= high"
    if name == "triangular" and not params[0] <= params[1] <= params[2]:
        return "low <= mode <= high"
    if name == "lognormal" and not 0 < params[0] < params[1]:
        return "0 < median < p90"
    return None
