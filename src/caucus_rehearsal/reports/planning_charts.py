"""Charts of Monte Carlo planning (``rehearse simulate``).

Each helper takes a matplotlib ``Axes`` and plain data (lists and dicts as in
``summary.json``) and returns the artists it drew; none creates a figure or calls
``show``. Time axes are simulation minutes (0 = 19:00) labelled as clock times.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter, PercentFormatter

from caucus_rehearsal.simulator.units import format_clock

COLOURS = {"received": "#1565c0", "published": "#2e7d32",
           "app": "#1565c0", "hotline": "#f9a825", "paper": "#6d4c41"}


CLOCK_STEPS = (15, 30, 60, 120, 180, 360, 720, 1440, 2880)
"""Tick spacings for clock axes, minutes."""

MINUTE_ZERO = 19 * 60
"""Minute 0 of the simulation clock is 19:00: ticks fall on round clock times."""


def set_title(ax: Axes, title: str, width: int = 80) -> None:
    """A title wrapped to ``width`` characters, so that none is cut off."""
    ax.set_title("\n".join(textwrap.wrap(title, width)), fontsize="medium")


def clock_ticks(lo: float, hi: float, most: int = 9) -> list[float]:
    """Simulation minutes of round clock times (every 15 min ... 2 days) from ``lo`` to
    ``hi``, at most about ``most`` of them."""
    step = next((st for st in CLOCK_STEPS if (hi - lo) / st <= most), CLOCK_STEPS[-1])
    first = math.ceil((lo + MINUTE_ZERO) / step) * step - MINUTE_ZERO
    return [float(t) for t in np.arange(first, hi + 1e-9, step)]


def clock_axis(axis: Any, lo: float, hi: float) -> None:
    """Round clock-time ticks, labelled ``22:30`` / ``06:00+1d``, on an x or y axis."""
    axis.set_major_locator(FixedLocator(clock_ticks(lo, hi)))
    axis.set_major_formatter(FuncFormatter(lambda v, _p: format_clock(v)))


def window(band: Mapping[str, Any], marks: Sequence[float] = ()) -> tuple[float, float]:
    """The clock minutes that matter in a band: from 19:00 (or earlier, if 5% of units
    report before then on some night: satellites meet earlier) to the last publication
    on most nights (p5 at 99.9%), widened to show ``marks``."""
    x = np.asarray(band["minutes"], dtype=float)
    started = np.flatnonzero(np.asarray(band["received"]["p95"]) >= 0.05)
    done = np.flatnonzero(np.asarray(band["published"]["p5"]) >= 0.999)
    lo = min(0.0, float(x[started[0]])) if started.size else float(x[0])
    hi = float(x[done[0]]) if done.size else float(x[-1])
    lo, hi = min([lo, *marks]), max([hi, *marks])
    pad = max(5.0, (hi - lo) * 0.03)
    return lo - pad, hi + pad


def fan_chart(ax: Axes, band: Mapping[str, Any], title: str = "",
              goals: Sequence[tuple[float, float, str]] = ()) -> list[Any]:
    """% received and % published against clock time: the median night's line and the
    band where 90% of nights fall (p5-p95), over the window that matters.

    ``band`` is ``{"minutes": [...], "received": {"p5", "p50", "p95"}, "published": ...}``
    with fractions 0..1; ``goals`` are (clock minute, fraction, label) drawn as markers.
    """
    x = np.asarray(band["minutes"], dtype=float)
    artists: list[Any] = []
    for key in ("received", "published"):
        b = band[key]
        colour = COLOURS[key]
        artists.append(ax.fill_between(x, np.asarray(b["p5"]) * 100, np.asarray(b["p95"]) * 100,
                                       color=colour, alpha=0.25, linewidth=0,
                                       label=f"{key}: 90% of nights (p5-p95)"))
        artists += ax.plot(x, np.asarray(b["p50"]) * 100, color=colour,
                           label=f"{key}: median night")
    for minute, fraction, label in goals:
        artists.append(ax.axvline(minute, color="#c62828", linestyle="--", linewidth=1))
        artists += ax.plot([minute], [fraction * 100], marker="v", color="#c62828",
                           linestyle="none", label=f"goal: {label}")
    lo, hi = window(band, [m for m, _, _ in goals])
    ax.set_xlim(lo, hi)
    clock_axis(ax.xaxis, lo, hi)
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.set_ylim(0, 101)
    ax.set_xlabel("clock time (caucus night; +1d is the next day)")
    ax.set_ylabel("units")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        set_title(ax, title)
    return artists


def wait_histogram(ax: Axes, waits_min: Sequence[float] | np.ndarray, runs: int) -> list[Any]:
    """The hotline wait distribution (first dial to answer), minutes, per run on average."""
    w = np.asarray(waits_min, dtype=float)
    if not w.size:
        return [ax.text(0.5, 0.5, "no hotline calls answered", ha="center",
                        transform=ax.transAxes)]
    hi = max(1.0, float(np.percentile(w, 99.5)))
    counts, edges = np.histogram(w, bins=40, range=(0.0, hi))
    bars = ax.bar(edges[:-1], counts / max(runs, 1), width=np.diff(edges), align="edge",
                  color=COLOURS["hotline"], edgecolor="white")
    ax.set_xlabel("wait from first dial to an operator, minutes")
    ax.set_ylabel("chairs per night")
    ax.set_title(f"Hotline waits of the chairs who got through ({runs} nights)")
    ax.grid(True, alpha=0.3)
    med = float(np.median(w))
    line = ax.axvline(med, color="black", linestyle="--", label=f"median {med:.0f} min")
    ax.legend()
    return [bars, line]


def channel_mix(ax: Axes, shares: Mapping[str, Mapping[str, float]]) -> list[Any]:
    """Share of units per reporting channel: median bars with p5-p95 whiskers.

    ``shares`` maps ``app``/``hotline``/``paper`` to ``{"p5", "p50", "p95"}`` fractions.
    """
    names = [n for n in ("app", "hotline", "paper") if n in shares]
    mid = np.array([shares[n]["p50"] for n in names]) * 100
    low = mid - np.array([shares[n]["p5"] for n in names]) * 100
    high = np.array([shares[n]["p95"] for n in names]) * 100 - mid
    bars = ax.bar(names, mid, yerr=[low, high], capsize=6,
                  color=[COLOURS[n] for n in names])
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.set_ylabel("units reporting through")
    ax.set_title("Channel that delivered each unit's report (median night, p5-p95)")
    ax.grid(True, axis="y", alpha=0.3)
    labels = ax.bar_label(bars, labels=[f"{m:.0f}%" for m in mid], label_type="center")
    return [bars, *labels]


def sweep_chart(ax: Axes, key: str, values: Sequence[Any],
                outcomes: Mapping[str, Sequence[Mapping[str, float | None]]],
                title: str = "", goals: Sequence[tuple[float, str]] = ()) -> list[Any]:
    """Outcome against swept values: the median night's line and the p5-p95 band (90% of
    nights), one per outcome.

    ``outcomes`` maps a label to one ``{"p5","p50","p95"}`` (clock minutes) per swept
    value; ``None`` (never reached) is left out. ``goals`` are (clock minute, label),
    drawn as horizontal lines.
    """
    x = np.arange(len(values))
    artists: list[Any] = []
    reached: list[float] = []
    for name, qs in outcomes.items():
        def col(q: str, qs: Sequence[Mapping[str, float | None]] = qs) -> np.ndarray:
            return np.array([np.nan if v[q] is None else v[q] for v in qs], dtype=float)
        lo_, mid, hi_ = col("p5"), col("p50"), col("p95")
        reached += [float(v) for v in np.concatenate([lo_, hi_]) if np.isfinite(v)]
        artists.append(ax.fill_between(x, lo_, hi_, alpha=0.2,
                                       label=f"{name}: 90% of nights (p5-p95)"))
        artists += ax.plot(x, mid, marker="o", label=f"{name}: median night")
    for minute, label in goals:
        artists.append(ax.axhline(minute, color="#c62828", linestyle="--", linewidth=1,
                                  label=f"goal: {label}"))
        reached.append(minute)
    ax.set_xticks(x, [str(v) for v in values])
    ax.set_xlabel(key)
    if reached:
        lo, hi = min(reached), max(reached)
        pad = max(5.0, (hi - lo) * 0.05)
        ax.set_ylim(lo - pad, hi + pad)
        clock_axis(ax.yaxis, lo - pad, hi + pad)
    ax.set_ylabel("clock time reached")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        set_title(ax, title)
    return artists


def pass_chart(ax: Axes, key: str, series: Sequence[Mapping[str, Any]], required: float,
               answer: float | None, others: Sequence[tuple[float, float]] = (),
               title: str = "") -> list[Any]:
    """Share of nights passing a goal against a varied key, with intervals.

    ``series`` holds one ``{"label", "x", "p", "low", "high"}`` per goal (lists, shares
    0..1) along the key with the other keys at the answer; ``others`` are (x, p) of
    candidates with other values of the other keys (drawn faint); ``required`` is the
    threshold (dashed) and ``answer`` the recommended value (a vertical line).
    """
    artists: list[Any] = []
    if others:
        xs, ps = zip(*others, strict=True)
        artists.append(ax.scatter(xs, np.asarray(ps) * 100, color="#9e9e9e", s=12,
                                  label="other combinations"))
    for s in series:
        order = np.argsort(np.asarray(s["x"], dtype=float))
        x = np.asarray(s["x"], dtype=float)[order]
        p, lo, hi = (np.asarray(s[k], dtype=float)[order] * 100 for k in ("p", "low", "high"))
        artists.append(ax.errorbar(x, p, yerr=[p - lo, hi - p], marker="o", capsize=3,
                                   label=f"{s['label']} (interval)"))
    artists.append(ax.axhline(required * 100, color="#c62828", linestyle="--",
                              label=f"required {required:.0%}"))
    if answer is not None:
        artists.append(ax.axvline(answer, color="#2e7d32", linestyle=":",
                                  label=f"answer {answer:g}"))
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.set_ylim(-2, 102)
    ax.set_xlabel(key)
    ax.set_ylabel("simulated nights passing")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        set_title(ax, title)
    return artists
