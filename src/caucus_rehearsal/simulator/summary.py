"""The outcome of a Monte Carlo planning run: ``summary.json``, gates, per-run rows.

Every number is a plain float (``inf`` written as ``null``: never reached), and nothing
depends on wall time or the number of worker processes, so the same scenario, seed and
runs give a byte-identical ``summary.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from caucus_rehearsal.simulator.bottleneck import limit, stage_table
from caucus_rehearsal.simulator.gates import GATE_METRICS, Gate
from caucus_rehearsal.simulator.montecarlo import (
    RunOutcome,
    band,
    fraction_at,
    metric_quantiles,
    quantiles,
)
from caucus_rehearsal.simulator.passrate import judge, pass_share
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.units import format_clock


def evaluate_gates(gates: Sequence[Gate], outcomes: Sequence[RunOutcome]) -> list[dict[str, Any]]:
    """Each gate with the share of nights that pass it (Wilson interval), the median
    run's value, and the verdict: on the share for a gate with a confidence
    (``with 95%``), else on the median run (``judged_on`` says which). ``passed`` is
    None when the model cannot measure the gate's metric."""
    out = []
    for i, g in enumerate(gates):
        values = [o.gates[i] for o in outcomes]
        row: dict[str, Any] = {"gate": str(g), "metric": g.metric,
                               "meaning": GATE_METRICS[g.metric], "confidence": g.confidence,
                               "value": None, "median_run_passed": None, "pass_share": None,
                               "judged_on": None, "sure": None, "passed": None}
        sh = pass_share(g, values)
        if sh is not None:
            median = quantiles([v for v in values if v is not None])["p50"]
            row.update(value=median, median_run_passed=g.passes(median),
                       pass_share=sh.to_json())
            if g.confidence is None:
                row.update(judged_on="median run", passed=row["median_run_passed"])
            else:
                v = judge(sh, g.confidence)
                row.update(judged_on="share of nights", passed=v.meets, sure=v.sure)
        out.append(row)
    return out


def build_summary(scenario: Scenario, outcomes: Sequence[RunOutcome],
                  sweep: list[dict[str, Any]] | None = None,
                  swept: dict[str, str] | None = None) -> dict[str, Any]:
    """``summary.json``: runs, metrics (p5/p50/p95 of every per-run metric), gates, the
    published-by-clock-time fractions of the gate times, the reporting band, where the
    units' time goes (``stages``) and what limits each timing or hotline gate
    (``limits``, :mod:`.bottleneck`)."""
    milestones = sorted({g.by for g in scenario.gates if g.by is not None} | {299.0})
    by_time = {format_clock(t): {
        "received": quantiles(fraction_at(outcomes, t, False)),
        "published": quantiles(fraction_at(outcomes, t, True))} for t in milestones}
    channel_counts = {ch: quantiles([o.metrics[f"{ch}_share"] * len(o.received)
                                     for o in outcomes]) for ch in ("app", "hotline", "paper")}
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "runs": len(outcomes),
        "units": len(outcomes[0].received),
        "metrics": metric_quantiles(outcomes),
        "channel_units": channel_counts,
        "fractions_by_clock": by_time,
        "gates": evaluate_gates(scenario.gates, outcomes),
        "band": band(outcomes),
    }
    summary["stages"] = stage_table([o.stages for o in outcomes if o.stages is not None])
    summary["limits"] = limits_of(scenario, outcomes)
    if sweep is not None:
        summary["sweep"] = sweep
        summary["swept"] = swept  # the combination the top-level fields describe
    return summary


def limits_of(scenario: Scenario, outcomes: Sequence[RunOutcome]) -> list[dict[str, Any]]:
    """What limits each of the scenario's timing and hotline gates (:mod:`.bottleneck`)."""
    nights = [o.stages for o in outcomes if o.stages is not None]
    found = (limit(scenario, g, i, nights) for i, g in enumerate(scenario.gates))
    return [lim.to_json() for lim in found if lim is not None]


def _clean(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def dumps(summary: dict[str, Any]) -> str:
    """The summary as stable JSON text (sorted keys, inf as null, a final newline)."""
    return json.dumps(_clean(summary), indent=1, sort_keys=True, allow_nan=False) + "\n"


def run_rows(outcomes: Sequence[RunOutcome]) -> tuple[list[str], list[list[str]]]:
    """The per-run outcomes CSV: a header and one row per replication (inf as empty)."""
    names = sorted(outcomes[0].metrics)
    rows = [[str(o.replication)] + [repr(o.metrics[k]) if math.isfinite(o.metrics[k]) else ""
                                    for k in names] for o in outcomes]
    return ["replication", *names], rows


def all_waits(outcomes: Sequence[RunOutcome]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Every run's hotline waits together (minutes)."""
    return np.concatenate([o.waits for o in outcomes]) if outcomes else np.zeros(0)
