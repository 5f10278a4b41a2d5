"""Time series and metrics derived from one night's records, after the run.

Times are simulation minutes (0 = 19:00); a time never reached is ``inf``. Fractions
are of all units (0..1).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from caucus_rehearsal.simulator.records import NUISANCE, NightResult

Array = npt.NDArray[np.float64]
INF = math.inf

MILESTONES = (50, 90, 95, 100)
"""Percent of units received/published whose times the metrics report."""

CHANNELS = ("app", "hotline", "paper", "none")


def sorted_times(times: list[float]) -> Array:
    """``times`` as a sorted array (inf last)."""
    return np.sort(np.asarray(times, dtype=float))


def fraction_curve(times_sorted: Array, n: int, grid: Array) -> Array:
    """Fraction of ``n`` units whose time is <= each grid minute (a step curve)."""
    return np.searchsorted(times_sorted, grid, side="right") / n


def time_to_fraction(times_sorted: Array, fraction: float) -> float:
    """Minute at which ``fraction`` of the units is reached (inf if never)."""
    n = len(times_sorted)
    k = max(1, math.ceil(fraction * n - 1e-9))
    return float(times_sorted[k - 1]) if k <= n else INF


def chair_holds(result: NightResult) -> Array:
    """Hold times (minutes) of chairs' calls that got a line (answered or abandoned)."""
    return np.array([c.hold for c in result.calls if c.caller != NUISANCE
                     and c.outcome != "busy"], dtype=float)


def queue_length(result: NightResult) -> tuple[Array, Array]:
    """The hotline hold queue as a step function: (times, callers on hold from then on).

    Every call that got a line joins the queue at its dial and leaves after its hold.
    """
    ts: list[float] = []
    ds: list[int] = []
    for c in result.calls:
        if c.outcome != "busy" and c.hold > 0:
            ts += [c.dial, c.dial + c.hold]
            ds += [1, -1]
    if not ts:
        return np.zeros(1), np.zeros(1)
    order = np.argsort(np.asarray(ts), kind="stable")
    t = np.asarray(ts)[order]
    return t, np.cumsum(np.asarray(ds, dtype=float)[order])


def queue_area(t: Array, length: Array) -> float:
    """The integral of the queue length over time (caller-minutes on hold)."""
    return float(np.sum(length[:-1] * np.diff(t))) if len(t) > 1 else 0.0


def channel_counts(result: NightResult) -> dict[str, int]:
    """Units per delivering channel (``none``: not received before the horizon)."""
    counts = Counter(u.channel for u in result.units)
    return {ch: counts.get(ch, 0) for ch in CHANNELS}


def call_tallies(result: NightResult) -> dict[str, Any]:
    """One pass over the calls: chairs' holds (of every call that got a line, and of the
    answered ones), waits (first dial to answer), counts."""
    first: dict[int, float] = {}
    holds: list[float] = []
    answered: list[float] = []
    waits: list[float] = []
    abandoned = busy = typos = 0
    nuisance: list[float] = []
    for c in result.calls:
        caller, outcome = c.caller, c.outcome
        if caller == NUISANCE:
            nuisance.append(c.dial)
            continue
        start = first.setdefault(caller, c.dial)
        if outcome == "busy":
            busy += 1
            continue
        holds.append(c.hold)
        if outcome == "answered":
            answered.append(c.hold)
            waits.append(c.dial + c.hold - start)
            typos += c.typo
        else:
            abandoned += 1
    return {"holds": np.asarray(holds), "answered_holds": np.asarray(answered),
            "waits": np.asarray(waits), "abandoned": abandoned,
            "busy": busy, "typos": typos, "nuisance": nuisance}


def night_metrics(result: NightResult, tallies: dict[str, Any] | None = None) -> dict[str, float]:
    """The per-run outcome metrics (minutes after 19:00, fractions 0..1, counts).

    ``hotline_wait_*`` is what a chair who got through waited: from its first dial to
    an operator answering, busy signals and redials included (what 2020's "45 minutes
    to 3 hours" measured); ``hotline_hold_*`` is one call's time on hold.
    """
    n = len(result.units)
    rec = sorted_times([u.received for u in result.units])
    pub = sorted_times([u.published for u in result.units])
    t = call_tallies(result) if tallies is None else tallies
    holds, delays, nuis = t["holds"], t["waits"], t["nuisance"]
    ch = channel_counts(result)
    m: dict[str, float] = {
        "app_share": ch["app"] / n,
        "hotline_share": ch["hotline"] / n,
        "paper_share": ch["paper"] / n,
        "hotline_wait_median_min": float(np.median(delays)) if len(delays) else 0.0,
        "hotline_wait_max_min": float(delays.max()) if len(delays) else 0.0,
        "hotline_hold_median_min": float(np.median(holds)) if len(holds) else 0.0,
        "hotline_hold_max_min": float(holds.max()) if len(holds) else 0.0,
        "abandoned_calls": float(t["abandoned"]),
        "busy_signals": float(t["busy"]),
        "nuisance_calls": float(len(nuis)),
        "nuisance_first_min": min(nuis) if nuis else INF,
        "operator_typos": float(t["typos"]),
        "first_release_min": float(pub[0]) if n else INF,
        "received_fraction": float(np.isfinite(rec).mean()),
        "published_fraction": float(np.isfinite(pub).mean()),
    }
    for p in MILESTONES:
        m[f"minutes_to_{p}pct_received"] = time_to_fraction(rec, p / 100)
        m[f"minutes_to_{p}pct_published"] = time_to_fraction(pub, p / 100)
    answered = len(delays)
    m.update({
        "app_attempts": float(len(result.app_attempts)),
        "app_failures": float(sum(1 for a in result.app_attempts if a.outcome != "ok")),
        "hotline_calls": float(t["busy"] + t["abandoned"] + answered),
        "hotline_failures": float(t["busy"] + t["abandoned"]),
        "paper_deliveries": float(ch["paper"]),
    })
    return m
