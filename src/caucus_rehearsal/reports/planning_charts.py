"""Charts of Monte Carlo planning (``rehearse simulate``).

Each helper takes a matplotlib ``Axes`` and plain data (lists and dicts as in
``summary.json``) and returns the artists it drew; none creates a figure or calls
``show``. Time axes are simulation minutes (0 = 19:00) labelled as clock times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from caucus_rehearsal.simulator.units import format_clock

COLOURS = {"received": "#1565c0", "published": "#2e7d32",
           "app": "#1565c0", "hotline": "#f9a825", "paper": "#6d4c41"}


def fan_chart(ax: Axes, band: Mapping[str, Any], title: str = "") -> list[Any]:
    """% received and % published against clock time: the median line and p5-p95 band.

    ``band`` is ``{"minutes": [...], "received": {"p5", "p50", "p95"}, "published": ...}``
    with fractions 0..1.
    """
    x = np.asarray(band["minutes"], dtype=float)
    artists: list[Any] = []
    for key in ("received", "published"):
        b = band[key]
        colour = COLOURS[key]
        artists.append(ax.fill_between(x, np.asarray(b["p5"]) * 100, np.asarray(b["p95"]) * 100,
                                       color=colour, alpha=0.25, linewidth=0,
                                       label=f"{key} p5-p95"))
        artists += ax.plot(x, np.asarray(b["p50"]) * 100, color=colour, label=f"{key} median")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_clock(v)))
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.set_ylim(0, 101)
    ax.set_xlabel("clock time (caucus night)")
    ax.set_ylabel("units")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
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
    ax.grid(True, axis="y", alpha=0.3)
    labels = ax.bar_label(bars, labels=[f"{m:.0f}%" for m in mid], label_type="center")
    return [bars, *labels]


def sweep_chart(ax: Axes, key: str, values: Sequence[Any],
                outcomes: Mapping[str, Sequence[Mapping[str, float | None]]]) -> list[Any]:
    """Outcome against a swept scenario value: p50 line, p5-p95 band, one per metric.

    ``outcomes`` maps a metric name (minutes after 19:00) to one ``{"p5","p50","p95"}``
    per swept value; ``None`` (never reached) is left out.
    """
    x = np.arange(len(values))
    artists: list[Any] = []
    for name, qs in outcomes.items():
        def col(q: str, qs: Sequence[Mapping[str, float | None]] = qs) -> np.ndarray:
            return np.array([np.nan if v[q] is None else v[q] for v in qs], dtype=float)
        artists.append(ax.fill_between(x, col("p5"), col("p95"), alpha=0.2))
        artists += ax.plot(x, col("p50"), marker="o", label=name)
    ax.set_xticks(x, [str(v) for v in values])
    ax.set_xlabel(key)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_clock(v)))
    ax.set_ylabel("clock time reached")
    ax.grid(True, alpha=0.3)
    ax.legend()
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
        ax.set_title(title, fontsize="medium")
    return artists
