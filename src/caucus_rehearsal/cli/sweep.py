"""Sweeps of ``rehearse simulate``: one or several ``--sweep KEY=V1,V2,...`` make a grid
of scenarios, each simulated on the same replications; a table with one labelled row
per combination; ``summary.json["sweep"]`` and the chart ``sweep.png``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from caucus_rehearsal.errors import ScenarioError, UsageError
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.montecarlo import RunOutcome, metric_quantiles
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.summary import evaluate_gates, limits_of
from caucus_rehearsal.simulator.units import format_clock

MAX_COMBINATIONS = 200
"""Largest grid of swept values accepted."""

Combination = dict[str, str]


def parse_sweep(text: str) -> tuple[str, list[str]]:
    """``"hotline.operators=40,50"`` -> ``("hotline.operators", ["40", "50"])``."""
    key, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key.strip() or not items:
        raise ScenarioError("--sweep", text, text, "KEY=V1,V2,..., like hotline.operators=40,80")
    return key.strip(), items


def grid(texts: Sequence[str]) -> list[Combination]:
    """Every combination of the swept values, the first key varying slowest."""
    swept = [parse_sweep(t) for t in texts]
    keys = [k for k, _ in swept]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise UsageError(f"--sweep {twice[0]} given twice; one list of values per key")
    combos = [dict(zip(keys, vs, strict=True)) for vs in itertools.product(*(v for _, v in swept))]
    if len(combos) > MAX_COMBINATIONS:
        raise UsageError(f"--sweep: {len(combos)} combinations; at most {MAX_COMBINATIONS}")
    return combos


def sweep_scenario(name: str, overrides: list[str], combo: Combination) -> Scenario:
    """The scenario with the combination applied, validated like ``--set`` (errors name
    --sweep)."""
    try:
        return load_scenario(name, [*overrides, *(f"{k}={v}" for k, v in combo.items())])
    except ScenarioError as exc:
        if exc.file == "--set" and any(exc.key == k or exc.key.startswith(k + ".")
                                       for k in combo):
            raise ScenarioError("--sweep", exc.key, exc.value, exc.expected) from None
        raise


def label(combo: Combination) -> str:
    """``hotline.operators=40, hotline.lines=80``."""
    return ", ".join(f"{k}={v}" for k, v in combo.items())


def sweep_row(combo: Combination, scn: Scenario, outcomes: Sequence[RunOutcome]) -> dict[str, Any]:
    """One combination in ``summary.json["sweep"]``: its values, metrics, gates, limits.
    (``key`` and ``value`` as well when one key is swept.)"""
    row: dict[str, Any] = {"values": dict(combo), "metrics": metric_quantiles(outcomes),
                           "gates": evaluate_gates(scn.gates, outcomes),
                           "limits": limits_of(scn, outcomes)}
    if len(combo) == 1:
        ((row["key"], row["value"]),) = combo.items()
    return row


def _clock(v: float | None) -> str:
    return "never" if v is None or v == float("inf") else format_clock(v)


def _clocks(q: dict[str, float | None]) -> str:
    """``22:15 [22:05, 22:31]``: the median night and p5, p95."""
    return f"{_clock(q['p50'])} [{_clock(q['p5'])}, {_clock(q['p95'])}]"


def sweep_table(summary: dict[str, Any]) -> str:
    """One row per combination: the swept values, 95% received and published (median
    night [p5, p95]), the longest hotline wait, the channel mix, each gate's share."""
    rows = summary["sweep"]
    keys = list(rows[0]["values"])
    gates = [g["gate"] for g in rows[0]["gates"] if g["passed"] is not None]
    head = [*keys, "95% received", "95% published", "wait max", "app/hotline/paper",
            *(f"gate {i + 1}" for i in range(len(gates)))]
    body = []
    for r in rows:
        m = r["metrics"]
        shares = "/".join(f"{m[f'{ch}_share']['p50']:.0%}" for ch in ("app", "hotline", "paper"))
        cells = [*(str(r["values"][k]) for k in keys), _clocks(m["minutes_to_95pct_received"]),
                 _clocks(m["minutes_to_95pct_published"]),
                 f"{m['hotline_wait_max_min']['p50']:.0f} min", shares]
        for g in r["gates"]:
            if g["passed"] is not None:
                cells.append(f"{'PASS' if g['passed'] else 'FAIL'} "
                             f"{g['pass_share']['probability']:.0%}")
        body.append(cells)
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(x, widths, strict=True)) for x in [head, *body]]
    legend = [f"gate {i + 1}: {g} (PASS/FAIL as judged, and the share of nights passing)"
              for i, g in enumerate(gates)]
    return "\n".join([f"{summary['scenario']}: sweep of {' x '.join(keys)}, "
                      f"{summary['runs']} nights each on the same replications; clock times "
                      "of the median night [p5, p95]", "", *lines, "", *legend])
