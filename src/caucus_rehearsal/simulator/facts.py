"""Observed facts a scenario should reproduce, and how far the model is from them.

A facts file (TOML, docs/calibration.md "Facts files") names what was observed on a
real night, each fact a metric of the night model with an observed value or range, a
tolerance and its source::

    [facts]
    name = "iowa-2020"
    description = "what the 2020 record says"

    [[fact]]
    name = "first release: 62% published"
    metric = "published_fraction"
    at = "16:00+1d"            # published_fraction / received_fraction: read at a clock time
    observed = 0.62            # or a range: [0.60, 0.64]
    tolerance = 0.03           # the same unit as observed
    source = "AP, 4 Feb 2020: 62% released at 4 p.m. CST"

Values carry the metric's unit: fractions and counts are plain numbers, clock-time
metrics take clock times (``"16:00+1d"``) and a duration tolerance, duration metrics
take durations (``"1h"``). A fact is *within tolerance* when the median night's value
lies within ``tolerance`` of the observed value or range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caucus_rehearsal.errors import MISSING, ScenarioError
from caucus_rehearsal.simulator.loader import read_toml, scenarios_dir
from caucus_rehearsal.simulator.montecarlo import RunOutcome, fraction_at, quantiles
from caucus_rehearsal.simulator.series import MILESTONES
from caucus_rehearsal.simulator.units import format_clock, parse_clock, parse_duration

FRACTION, COUNT, DURATION, CLOCK = "fraction", "count", "duration", "clock"

FACT_METRICS: dict[str, str] = {
    "published_fraction": FRACTION, "received_fraction": FRACTION,
    "app_share": FRACTION, "hotline_share": FRACTION, "paper_share": FRACTION,
    "hotline_wait_median_min": DURATION, "hotline_wait_max_min": DURATION,
    "hotline_hold_median_min": DURATION, "hotline_hold_max_min": DURATION,
    "abandoned_calls": COUNT, "busy_signals": COUNT, "nuisance_calls": COUNT,
    "operator_typos": COUNT, "app_attempts": COUNT, "app_failures": COUNT,
    "hotline_calls": COUNT, "hotline_failures": COUNT, "paper_deliveries": COUNT,
    "nuisance_first_min": CLOCK, "first_release_min": CLOCK,
    **{f"minutes_to_{p}pct_{k}": CLOCK for p in MILESTONES for k in ("received", "published")},
}
"""Every metric a fact may name (a per-night metric of :func:`~.series.night_metrics`)
and its kind: ``fraction`` 0..1, ``count``, ``duration`` (minutes, written with a unit),
``clock`` (minutes after 19:00, written as a clock time)."""

AT_METRICS = ("published_fraction", "received_fraction")
"""Metrics read at a clock time given by the fact's ``at`` (else at the horizon)."""

FACTS_DIR = "facts"
"""The folder of bundled facts files inside the scenarios folder (never listed as
scenarios: ``rehearse scenarios`` lists only the folder's own ``*.toml``)."""

FACT_KEYS = ("name", "metric", "at", "observed", "tolerance", "source", "weight")
NEVER_PENALTY = 1e4
"""Misfit of a fact whose median night never reaches it (an infinite clock time)."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One observed fact: ``metric`` (read at clock minute ``at``) was between ``low``
    and ``high`` (equal for a single value), give or take ``tolerance``; ``weight``
    scales its share of the misfit. Values are in the metric's model units (minutes,
    fractions, counts)."""

    name: str
    metric: str
    low: float
    high: float
    tolerance: float
    source: str
    at: float | None = None
    weight: float = 1.0

    @property
    def kind(self) -> str:
        """The metric's kind (:data:`FACT_METRICS`)."""
        return FACT_METRICS[self.metric]

    def values(self, outcomes: Sequence[RunOutcome]) -> list[float]:
        """The fact's metric on each night."""
        if self.metric in AT_METRICS and self.at is not None:
            return fraction_at(outcomes, self.at, self.metric == "published_fraction")
        return [o.metrics[self.metric] for o in outcomes]

    def distance(self, value: float) -> float:
        """How far ``value`` lies outside the observed value or range (0 inside)."""
        if not math.isfinite(value):
            return math.inf
        return max(self.low - value, value - self.high, 0.0)

    def within(self, value: float) -> bool:
        """Whether ``value`` is within tolerance of what was observed."""
        return self.distance(value) <= self.tolerance + 1e-12

    def misfit(self, value: float) -> float:
        """``weight * (distance / tolerance)**2``: 1 at the edge of the tolerance."""
        d = self.distance(value)
        if not math.isfinite(d):
            return self.weight * NEVER_PENALTY
        return self.weight * (d / self.tolerance) ** 2

    def show(self, value: float) -> str:
        """``value`` written in the fact's unit (a clock time, minutes, a % or a count)."""
        if not math.isfinite(value):
            return "never"
        if self.kind == CLOCK:
            return format_clock(value)
        if self.kind == DURATION:
            return f"{value:.0f} min" if value >= 10 else f"{value:.1f} min"
        if self.kind == FRACTION:
            return f"{value:.1%}"
        return f"{value:,.0f}"

    def observed_text(self) -> str:
        """What was observed, in its unit, with the tolerance."""
        seen = self.show(self.low) if self.low == self.high else \
            f"{self.show(self.low)}-{self.show(self.high)}"
        tol = (f"{self.tolerance:.0f} min" if self.kind in (CLOCK, DURATION)
               else f"{self.tolerance:.1%}" if self.kind == FRACTION else f"{self.tolerance:g}")
        where = f" by {format_clock(self.at)}" if self.at is not None else ""
        return f"{seen} ± {tol}{where}"


@dataclass(frozen=True, slots=True)
class Facts:
    """A facts file: its name, description, the facts in file order and where it came from."""

    name: str
    description: str
    facts: tuple[Fact, ...]
    source: str


@dataclass(frozen=True, slots=True)
class FactFit:
    """One fact against the model: the p5/p50/p95 of its metric over the nights."""

    fact: Fact
    p5: float
    p50: float
    p95: float

    @property
    def within(self) -> bool:
        """Whether the median night is within the fact's tolerance."""
        return self.fact.within(self.p50)

    def to_json(self) -> dict[str, Any]:
        """One row of ``fit.json`` (model units; inf as None)."""
        f = self.fact

        def num(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {"fact": f.name, "metric": f.metric, "at": f.at, "observed": [f.low, f.high],
                "tolerance": f.tolerance, "source": f.source,
                "model": {"p5": num(self.p5), "p50": num(self.p50), "p95": num(self.p95)},
                "within": self.within, "misfit": num(f.misfit(self.p50)),
                "shown": {"observed": f.observed_text(),
                          "model": " / ".join(f.show(v) for v in (self.p5, self.p50, self.p95))}}


def fit_facts(facts: Sequence[Fact], outcomes: Sequence[RunOutcome]) -> list[FactFit]:
    """Every fact against the nights ``outcomes``."""
    out = []
    for fact in facts:
        q = quantiles(fact.values(outcomes))
        out.append(FactFit(fact, q["p5"], q["p50"], q["p95"]))
    return out


def misfit(fits: Sequence[FactFit]) -> float:
    """The total misfit: the sum of every fact's :meth:`Fact.misfit` at its median night."""
    return sum(f.fact.misfit(f.p50) for f in fits)


def resolve_facts(name: str | Path) -> Path:
    """The facts file ``name``: a path, or the key of a bundled one (``iowa-2020`` is
    ``scenarios/facts/iowa-2020.toml``)."""
    path = Path(name)
    if path.is_file():
        return path
    bundled = scenarios_dir() / FACTS_DIR / f"{name}.toml"
    if "/" not in str(name) and path.suffix != ".toml" and bundled.is_file():
        return bundled
    keys = ", ".join(sorted(p.stem for p in (scenarios_dir() / FACTS_DIR).glob("*.toml")))
    raise ScenarioError(str(name), "", MISSING,
                        f"an existing facts file or one of the bundled keys ({keys})")


def load_facts(name: str | Path) -> Facts:
    """The facts file ``name`` (:func:`resolve_facts`); :class:`ScenarioError` names file,
    key, value and what was expected."""
    p = resolve_facts(name)
    file = str(p)
    raw = read_toml(p)
    unknown = [k for k in raw if k not in ("facts", "fact")]
    if unknown:
        raise ScenarioError(file, unknown[0], raw[unknown[0]], "only [facts] and [[fact]] tables")
    head = raw.get("facts", {})
    if not isinstance(head, Mapping):
        raise ScenarioError(file, "facts", head, "a table with name and description")
    for key in head:
        if key not in ("name", "description"):
            raise ScenarioError(file, f"facts.{key}", head[key],
                                "one of the keys name, description")
    items = raw.get("fact")
    if not isinstance(items, list) or not items:
        raise ScenarioError(file, "fact", items if items is not None else MISSING,
                            "at least one [[fact]] table")
    facts = tuple(_fact(file, f"fact[{i}]", item) for i, item in enumerate(items))
    names = [f.name for f in facts]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ScenarioError(file, "fact.name", dup, "a name used by one fact only")
    return Facts(str(head.get("name", p.stem)), str(head.get("description", "")), facts, file)


def _fact(file: str, key: str, item: Any) -> Fact:
    if not isinstance(item, Mapping):
        raise ScenarioError(file, key, item, "a table")
    for k in item:
        if k not in FACT_KEYS:
            raise ScenarioError(file, f"{key}.{k}", item[k],
                                "one of the known keys (" + ", ".join(FACT_KEYS) + ")")
    for k in ("name", "metric", "observed", "tolerance", "source"):
        if k not in item:
            raise ScenarioError(file, f"{key}.{k}", MISSING, "a value")
    for k in ("name", "metric", "source"):
        if not isinstance(item[k], str) or not item[k].strip():
            raise ScenarioError(file, f"{key}.{k}", item[k], "a non-empty string")
    metric = item["metric"]
    if metric not in FACT_METRICS:
        raise ScenarioError(file, f"{key}.metric", metric,
                            "one of the metrics " + ", ".join(FACT_METRICS))
    kind = FACT_METRICS[metric]
    at = None
    if "at" in item:
        if metric not in AT_METRICS:
            raise ScenarioError(file, f"{key}.at", item["at"],
                                "no 'at' (only " + " and ".join(AT_METRICS) + " take one)")
        at = _clock(file, f"{key}.at", item["at"])
    observed = item["observed"]
    pair = observed if isinstance(observed, list) else [observed, observed]
    if len(pair) != 2:
        raise ScenarioError(file, f"{key}.observed", observed, "a value or a range [low, high]")
    low, high = (_value(file, f"{key}.observed", kind, v) for v in pair)
    if low > high:
        raise ScenarioError(file, f"{key}.observed", observed,
                            "a range [low, high] with low <= high")
    tol_kind = DURATION if kind == CLOCK else kind
    tolerance = _value(file, f"{key}.tolerance", tol_kind, item["tolerance"])
    if tolerance <= 0:
        raise ScenarioError(file, f"{key}.tolerance", item["tolerance"], "a tolerance above 0")
    weight = item.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
        raise ScenarioError(file, f"{key}.weight", weight, "a number above 0")
    return Fact(item["name"].strip(), metric, low, high, tolerance, item["source"].strip(), at,
                float(weight))


def _clock(file: str, key: str, raw: Any) -> float:
    try:
        if isinstance(raw, str):
            return parse_clock(raw)
    except ValueError:
        pass
    raise ScenarioError(file, key, raw, "a clock time like '23:05+1d'")


def _value(file: str, key: str, kind: str, raw: Any) -> float:
    if kind == CLOCK:
        return _clock(file, key, raw)
    if kind == DURATION:
        try:
            if isinstance(raw, str):
                return parse_duration(raw)
        except ValueError:
            pass
        raise ScenarioError(file, key, raw, "a duration with a unit, like '45min' or '1h'")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
        raise ScenarioError(file, key, raw, "a number >= 0")
    if kind == FRACTION and raw > 1:
        raise ScenarioError(file, key, raw, "a fraction from 0 to 1")
    return float(raw)
