"""Chart helpers: each takes a matplotlib ``Axes`` and data and returns the artists it drew.

The x axis of time charts is the simulation clock (minutes after 19:00), labelled as
clock times. No helper creates a figure or calls ``show``; see ``figures.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from caucus_rehearsal.reports.reconcile import CLASSES, Statewide
from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.simulator.units import format_clock

CLASS_COLOURS = {
    "published_correctly": "#2e7d32", "acknowledged_not_published": "#c62828",
    "published_altered": "#e53935", "published_wrong_precinct": "#6a1b9a",
    "overwritten_by_attacker": "#4a148c", "worksheet_error_published": "#ad1457",
    "keyed_differently": "#ffb300", "published_different": "#ef6c00",
    "worksheet_error_caught": "#0277bd", "acknowledged_unread": "#9e9e9e",
    "never_acknowledged": "#757575", "not_played": "#bdbdbd",
}
CHANNEL_COLOURS = {"app": "#1565c0", "hotline": "#f9a825", "paper": "#6d4c41"}


def clock_axis(ax: Axes) -> None:
    """Label the x axis of ``ax`` with clock times (the data are simulation minutes)."""
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: format_clock(x)))
    ax.set_xlabel("clock time (caucus night)")
    ax.grid(True, alpha=0.3)


def _bins(minutes: Sequence[float], width: float) -> tuple[np.ndarray, np.ndarray]:
    """Bin index per minute and the left edges of the bins, ``width`` minutes wide."""
    arr = np.asarray(minutes, dtype=float)
    lo = np.floor(arr.min() / width) * width if arr.size else 0.0
    idx = np.floor((arr - lo) / width).astype(int) if arr.size else np.zeros(0, int)
    edges = lo + width * np.arange(int(idx.max()) + 1 if idx.size else 0)
    return idx, edges


def plot_reporting_curve(ax: Axes, received_min: Sequence[float],
                         published: Sequence[tuple[float, int]], units: int,
                         band: Json | None) -> list[Any]:
    """% of units received and published against clock time, the simulated band behind.

    ``band`` is ``band.json``: ``{"minutes": [...], "received": {"p5": [...], "p95": [...]},
    "published": {...}}`` with fractions 0..1 of units at each simulation minute.
    """
    artists: list[Any] = []
    if band and band.get("minutes"):
        x = np.asarray(band["minutes"], dtype=float)
        for key, colour in (("received", "#90caf9"), ("published", "#a5d6a7")):
            layer = band.get(key) or {}
            if layer.get("p5") and layer.get("p95"):
                lo = 100.0 * np.asarray(layer["p5"], dtype=float)  # fractions -> %
                hi = 100.0 * np.asarray(layer["p95"], dtype=float)
                artists.append(ax.fill_between(x, lo, hi, color=colour,
                                               alpha=0.45, linewidth=0,
                                               label=f"simulated {key} p5–p95"))
    if received_min:
        xs = np.asarray([*received_min, received_min[-1] + 5.0], dtype=float)
        ys = 100.0 * np.minimum(np.arange(1, len(xs) + 1), len(received_min)) / units
        artists += ax.step(xs, ys, where="post", color="#0d47a1", label="received (live)")
    if published:
        px = [m for m, _ in published]
        py = [100.0 * c / units for _, c in published]
        artists += ax.step(px, py, where="post", color="#1b5e20", label="published (live)")
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of units")
    clock_axis(ax)
    if artists:
        ax.legend(loc="lower right", fontsize=8)
    return artists


def plot_channel_mix(ax: Axes, acks: Sequence[tuple[float, str]]) -> list[Any]:
    """Cumulative units acknowledged per channel against clock time (stacked)."""
    if not acks:
        return [ax.text(0.5, 0.5, "no unit acknowledged", ha="center", transform=ax.transAxes)]
    acks = sorted(acks)
    # a last point a little after the last acknowledgment, so its step is visible
    xs = [m for m, _ in acks] + [acks[-1][0] + max(5.0, 0.03 * (acks[-1][0] - acks[0][0]))]
    channels = sorted({c for _, c in acks}, key=lambda c: (c not in CHANNEL_COLOURS, c))
    ys = [np.cumsum([1 if c == ch else 0 for _, c in acks] + [0]) for ch in channels]
    artists = ax.stackplot(xs, ys, labels=channels, step="post",
                           colors=[CHANNEL_COLOURS.get(c, "#9e9e9e") for c in channels])
    ax.set_ylabel("units acknowledged")
    clock_axis(ax)
    ax.legend(loc="upper left", fontsize=8)
    return list(artists)


def _by_endpoint(requests: Sequence[Json]) -> dict[str, list[Json]]:
    groups: dict[str, list[Json]] = defaultdict(list)
    for e in requests:
        groups[f"{e.get('channel', '')}/{e.get('step', '')}"].append(e)
    return dict(sorted(groups.items()))


def plot_latency(ax: Axes, requests: Sequence[Json], width_min: float = 15.0) -> list[Any]:
    """Request latency p50 (dashed) and p95 (solid) per endpoint, per time bin."""
    artists: list[Any] = []
    for name, evs in _by_endpoint(requests).items():
        idx, edges = _bins([float(e.get("sim_min", 0.0)) for e in evs], width_min)
        lat = np.asarray([float(e["latency_ms"]) for e in evs])
        xs, p50, p95 = [], [], []
        for i, left in enumerate(edges):
            sel = lat[idx == i]
            if sel.size:
                xs.append(left + width_min / 2)
                p50.append(float(np.percentile(sel, 50)))
                p95.append(float(np.percentile(sel, 95)))
        (line,) = ax.plot(xs, p95, marker=".", label=f"{name} p95")
        artists.append(line)
        artists += ax.plot(xs, p50, linestyle="--", color=line.get_color(), alpha=0.7)
    ax.set_ylabel("latency, ms (p95 solid, p50 dashed)")
    if artists:
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
    clock_axis(ax)
    return artists


def plot_error_rate(ax: Axes, requests: Sequence[Json], failed: frozenset[str],
                    width_min: float = 15.0) -> list[Any]:
    """Fraction of requests failing (5xx, timeout, connection error) per endpoint and bin."""
    artists: list[Any] = []
    for name, evs in _by_endpoint(requests).items():
        idx, edges = _bins([float(e.get("sim_min", 0.0)) for e in evs], width_min)
        bad = np.asarray([e.get("outcome") in failed for e in evs])
        xs = [left + width_min / 2 for i, left in enumerate(edges) if (idx == i).any()]
        ys = [100.0 * float(bad[idx == i].mean()) for i in range(len(edges)) if (idx == i).any()]
        artists += ax.plot(xs, ys, marker=".", label=name)
    ax.set_ylabel("% of requests failed")
    ax.set_ylim(bottom=0)
    if artists:
        ax.legend(fontsize=7, ncol=2)
    clock_axis(ax)
    return artists


def plot_hotline_queue(ax: Axes, callers: Sequence[Json]) -> list[Any]:
    """Callers on hold (from ``queue_len``) against clock time."""
    pts = sorted((float(e.get("sim_min", 0.0)), int(e["queue_len"])) for e in callers
                 if isinstance(e.get("queue_len"), int | float))
    ax.set_ylabel("callers on hold")
    clock_axis(ax)
    if not pts:
        return [ax.text(0.5, 0.5, "no hotline calls", ha="center", transform=ax.transAxes)]
    return list(ax.step([p[0] for p in pts], [p[1] for p in pts], where="post",
                        color="#f9a825"))


def plot_hotline_waits(ax: Axes, callers: Sequence[Json],
                       waits: Sequence[tuple[float, float]] = ()) -> list[Any]:
    """Each chair's wait (first dial to answer; triangles) at the minute it was answered,
    and each single hold's length when it ended: answered (dots) or abandoned (crosses)."""
    artists: list[Any] = []
    if waits:
        artists.append(ax.scatter([w[0] for w in waits], [w[1] for w in waits], s=14,
                                  marker="^", color="#1565c0", alpha=0.6,
                                  label="wait since first dial"))
    for outcome, marker, colour in (("answered", "o", "#2e7d32"), ("abandoned", "x", "#c62828")):
        pts = [(float(e.get("sim_min", 0.0)), float(e["wait_min"])) for e in callers
               if e.get("outcome") == outcome and isinstance(e.get("wait_min"), int | float)]
        if pts:
            artists.append(ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12,
                                      marker=marker, color=colour, label=f"hold, {outcome}"))
    ax.set_ylabel("minutes")
    clock_axis(ax)
    if artists:
        ax.legend(fontsize=8)
    return artists


def plot_schedule_lag(ax: Axes, send: Sequence[tuple[float, float]],
                      arrival: Sequence[tuple[float, float]],
                      width_min: float = 15.0) -> list[Any]:
    """p50 and p99 of send lag (and arrival lag when known), ms, per time bin."""
    artists: list[Any] = []
    for label, pts, colour in (("send lag", send, "#1565c0"), ("arrival lag", arrival, "#c62828")):
        if not pts:
            continue
        idx, edges = _bins([p[0] for p in pts], width_min)
        lag = np.asarray([p[1] for p in pts])
        keep = [i for i in range(len(edges)) if (idx == i).any()]
        xs = [edges[i] + width_min / 2 for i in keep]
        artists += ax.plot(xs, [float(np.percentile(lag[idx == i], 99)) for i in keep],
                           color=colour, marker=".", label=f"{label} p99")
        artists += ax.plot(xs, [float(np.percentile(lag[idx == i], 50)) for i in keep],
                           color=colour, linestyle="--", label=f"{label} p50")
    ax.set_ylabel("lag behind schedule, ms")
    clock_axis(ax)
    if artists:
        ax.legend(fontsize=8)
    return artists


def plot_reconciliation(ax: Axes, counts: dict[str, int]) -> list[Any]:
    """Units per reconciliation class, as horizontal bars with their counts."""
    keys = list(CLASSES)
    vals = [counts.get(k, 0) for k in keys]
    bars = ax.barh([CLASSES[k] for k in keys], vals,
                   color=[CLASS_COLOURS[k] for k in keys])
    ax.invert_yaxis()
    ax.bar_label(bars, padding=3, fontsize=8)
    ax.set_xlabel("units")
    ax.set_xlim(0, max(max(vals, default=0), 1) * 1.15)
    return list(bars)


def plot_candidate_totals(ax: Axes, statewide: Statewide, field: str = "sde") -> list[Any]:
    """Statewide ``field`` per candidate, truth against published, side by side."""
    cands = list(statewide.truth.get(field, {}))
    x = np.arange(len(cands))
    truth = [statewide.truth[field].get(c, 0.0) for c in cands]
    pub = [statewide.published.get(field, {}).get(c, 0.0) for c in cands]
    a = ax.bar(x - 0.2, truth, 0.4, label="truth", color="#455a64")
    b = ax.bar(x + 0.2, pub, 0.4, label="published", color="#26a69a")
    ax.set_xticks(x, cands, rotation=20, fontsize=8)
    ax.set_ylabel({"sde": "state delegate equivalents", "first": "first alignment",
                   "final": "final alignment"}.get(field, field))
    ax.legend(fontsize=8)
    return [a, b]
