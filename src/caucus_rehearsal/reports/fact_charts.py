"""The chart of ``rehearse calibrate``: each observed fact against the model's band.

One small panel per fact, in the fact's own unit: the observed value or range (dark),
its tolerance (light), and the model's p5-p95 over the simulated nights as a bar with
the median night as a dot (green within tolerance, red not). Helpers take a matplotlib
``Figure`` or ``Axes`` and the rows of ``fit.json``; none calls ``show``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from caucus_rehearsal.simulator.facts import CLOCK, FACT_METRICS, FRACTION
from caucus_rehearsal.simulator.units import format_clock

WITHIN, MISSED, OBSERVED = "#2e7d32", "#c62828", "#455a64"


def fact_panel(ax: Axes, row: Mapping[str, Any]) -> list[Any]:
    """One fact (a ``fit.json`` table row) against the model's p5 / p50 / p95."""
    low, high = row["observed"]
    tol = row["tolerance"]
    model = row["model"]
    artists: list[Any] = [
        ax.axvspan(low - tol, high + tol, color=OBSERVED, alpha=0.15, linewidth=0),
        ax.axvspan(low, high, color=OBSERVED, alpha=0.45, linewidth=0) if high > low
        else ax.axvline(low, color=OBSERVED, linewidth=2),
    ]
    colour = WITHIN if row["within"] else MISSED
    p5, p50, p95 = (model[k] for k in ("p5", "p50", "p95"))
    finite = [v for v in (p5, p50, p95) if v is not None and math.isfinite(v)]
    if finite:
        artists += ax.plot([min(finite), max(finite)], [0, 0], color=colour, linewidth=4,
                           solid_capstyle="butt")
    if p50 is not None:
        artists += ax.plot([p50], [0], "o", color=colour, markersize=7)
    else:
        artists.append(ax.text(0.98, 0.5, "never", color=MISSED, ha="right",
                               transform=ax.transAxes))
    span = [v for v in (*finite, low - tol, high + tol)]
    pad = 0.15 * (max(span) - min(span) or 1.0)
    ax.set_xlim(min(span) - pad, max(span) + pad)
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    kind = FACT_METRICS[row["metric"]]
    if kind == FRACTION:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    elif kind == CLOCK:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_clock(v)))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title("\n".join(textwrap.wrap(row["fact"], 42)), fontsize=8, color=colour)
    return artists


def fact_grid(fig: Figure, rows: Sequence[Mapping[str, Any]], title: str = "") -> None:
    """Every fact as its own panel on ``fig`` (three to a row)."""
    cols = 3
    n = max(1, len(rows))
    grid = fig.subplots(math.ceil(n / cols), cols, squeeze=False)
    for i, ax in enumerate(grid.flat):
        if i < len(rows):
            fact_panel(ax, rows[i])
        else:
            ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
