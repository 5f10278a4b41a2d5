"""Charts of what the public saw (``reports/public.py``): each helper takes an ``Axes``
and data, and draws; x axes are simulation minutes shown as clock times, surges are
marked as shaded spans with their names."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes

from caucus_rehearsal.reports.charts import clock_axis
from caucus_rehearsal.reports.public import Window
from caucus_rehearsal.rundir.reads import (
    READ_BIN_MIN,
    ReadBin,
    ReadStats,
    failed,
    latency_p_ms,
    staleness_p_s,
)


def _per_bin(reads: ReadStats) -> list[tuple[float, ReadBin]]:
    """(bin start minute, the bin's endpoints merged), in clock order."""
    merged: dict[int, ReadBin] = {}
    for (k, _ep), b in reads.bins.items():
        merged.setdefault(k, ReadBin()).add(b)
    return [(k * READ_BIN_MIN, b) for k, b in sorted(merged.items())]


def mark_surges(ax: Axes, windows: list[Window]) -> None:
    """Shade each surge's window and name it."""
    for w in windows:
        if math.isfinite(w.start):
            ax.axvspan(w.start, w.end, color="#ffcc80", alpha=0.35, lw=0)
            ax.annotate(w.name, (w.start, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -10), textcoords="offset points", fontsize=7,
                        color="#e65100", clip_on=True)


def plot_demand(ax: Axes, reads: ReadStats, modelled: list[tuple[float, float]],
                windows: list[Window], speed: float) -> None:
    """Requests per real second: the modelled demand, the reads due, and those served."""
    wall_s = READ_BIN_MIN * 60.0 / speed
    rows = _per_bin(reads)
    mark_surges(ax, windows)
    if modelled:
        ax.plot([m for m, _ in modelled], [r for _, r in modelled], color="#9e9e9e", lw=1,
                label="demand (modelled)")
    if rows:
        x = [m + READ_BIN_MIN / 2 for m, _ in rows]
        ax.step(x, [b.counts["due"] / wall_s for _, b in rows], where="mid",
                color="#1565c0", label="reads due")
        ax.step(x, [b.counts["ok"] / wall_s for _, b in rows], where="mid",
                color="#2e7d32", label="reads served")
        dropped = [(b.counts["dropped_busy"] + b.counts["dropped_late"]) / wall_s
                   for _, b in rows]
        if any(dropped):
            ax.step(x, dropped, where="mid", color="#c62828", label="reads dropped")
    ax.set_ylabel("requests per real second")
    ax.legend(loc="upper right", fontsize=8)
    clock_axis(ax)


def plot_read_latency(ax: Axes, ax_err: Axes, reads: ReadStats, windows: list[Window]) -> None:
    """Read latency p50 and p99 from the due moment (log scale), and the share of reads
    that failed, per bin."""
    rows = _per_bin(reads)
    mark_surges(ax, windows)
    mark_surges(ax_err, windows)
    x = [m + READ_BIN_MIN / 2 for m, _ in rows]
    for q, colour in ((50, "#1565c0"), (99, "#c62828")):
        y = [latency_p_ms(b, q) for _, b in rows]
        ax.plot(x, [np.nan if v is None or not math.isfinite(v) else v for v in y],
                marker=".", color=colour, label=f"p{q}")
        never = [xi for xi, v in zip(x, y, strict=True) if v == math.inf]
        if never:
            ax.plot(never, [ax.get_ylim()[1] if ax.has_data() else 1.0] * len(never), "x",
                    color=colour, label=f"p{q}: never answered")
    ax.set_yscale("log")
    ax.set_ylabel("read latency, ms")
    ax.legend(loc="upper right", fontsize=8)
    clock_axis(ax)
    share = [failed(b) / b.counts["sent"] if b.counts["sent"] else 0.0 for _, b in rows]
    ax_err.bar(x, share, width=READ_BIN_MIN * 0.9, color="#c62828")
    ax_err.set_ylabel("reads failed")
    ax_err.set_ylim(0, max(0.05, max(share, default=0.0) * 1.1))
    clock_axis(ax_err)


def plot_staleness(ax: Axes, reads: ReadStats, windows: list[Window]) -> None:
    """The 99th percentile staleness of the answers per bin (seconds; 0 when fresh)."""
    rows = [(m, staleness_p_s(b, 99)) for m, b in _per_bin(reads)]
    mark_surges(ax, windows)
    ax.step([m + READ_BIN_MIN / 2 for m, _ in rows],
            [np.nan if v is None else v for _, v in rows], where="mid", color="#6a1b9a")
    ax.set_ylabel("staleness p99, s")
    ax.set_ylim(bottom=0)
    clock_axis(ax)


def plot_writes_in_surges(ax: Axes, windows: list[Window]) -> None:
    """The chairs' write latency p50 and p95 in each surge and outside them."""
    names = [w.name for w in windows]
    y = np.arange(len(windows))
    for offset, q, colour in ((-0.2, 50, "#1565c0"), (0.2, 95, "#c62828")):
        vals = [float(np.percentile(w.writes_ms, q)) if w.writes_ms else 0.0
                for w in windows]
        finite = [v if math.isfinite(v) else 0.0 for v in vals]
        ax.barh(y + offset, finite, height=0.4, color=colour, label=f"p{q}")
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("chair write latency, ms")
    ax.legend(loc="lower right", fontsize=8)
