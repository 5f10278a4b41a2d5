"""The chart of the published feed over the night, with its integrity violations marked.

Two panels on the simulation clock: the precincts reporting as the feed declared them
(and the precincts it listed as published), and the statewide final alignment as
published against the sum of the published precincts' (a spike opens a gap between the
two). Each violation (:mod:`.integrity`) is a marker at the moment its snapshot was
fetched, coloured by kind; a snapshot whose totals and precincts came from two states of
the feed (not compared) is a hollow grey circle, so the gap it shows is not taken for a
violation. Helpers take an ``Axes`` and data and return the artists they
drew; none creates a figure or calls ``show``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes

from caucus_rehearsal.reports.charts import clock_axis
from caucus_rehearsal.reports.integrity import LABELS, Point, Violation

KIND_STYLE = {"reporting_decreases": ("#c62828", "v"),
              "disappeared_precincts": ("#6a1b9a", "X"),
              "silent_changes": ("#ef6c00", "D"),
              "snapshot_total_errors": ("#ad1457", "*"),
              "over_attendance": ("#0277bd", "^")}
"""Per violation kind: colour and marker."""

TORN_LABEL = "totals and precincts of two states (not compared)"
"""The legend of the snapshots read torn."""

TOTAL_KINDS = ("snapshot_total_errors",)
"""Violations marked on the totals panel; the rest go on the reporting panel."""


def _at(points: Sequence[Point], minute: float, value: Any) -> float:
    """The value shown by the last point at or before ``minute``."""
    shown = 0.0
    for p in points:
        if p.sim_min > minute + 1e-9:
            break
        shown = float(value(p))
    return shown


def _mark(ax: Axes, points: Sequence[Point], violations: Sequence[Violation],
          kinds: Sequence[str], value: Any) -> list[Any]:
    artists: list[Any] = []
    for i, kind in enumerate(kinds):
        found = [v for v in violations if v.kind == kind]
        if not found:
            continue
        colour, marker = KIND_STYLE[kind]
        xs = [v.sim_min for v in found]
        # kinds seen at one moment share a point: each smaller and above the one before
        artists.append(ax.scatter(xs, [_at(points, x, value) for x in xs],
                                  s=max(40, 160 - 45 * i), marker=marker, color=colour,
                                  zorder=5 + i,
                                  label=f"{LABELS[kind]} ({len(found)})"))
        for x in xs:
            artists.append(ax.axvline(x, color=colour, alpha=0.25, linewidth=1))
    return artists


def _mark_torn(ax: Axes, points: Sequence[Point], value: Any) -> list[Any]:
    torn = [p for p in points if p.torn]
    if not torn:
        return []
    return [ax.scatter([p.sim_min for p in torn], [float(value(p)) for p in torn], s=50,
                       facecolors="none", edgecolors="#757575", zorder=4,
                       label=f"{TORN_LABEL} ({len(torn)})")]


def plot_feed_reporting(ax: Axes, points: Sequence[Point], units: int,
                        violations: Sequence[Violation]) -> list[Any]:
    """Precincts reporting (declared) and published (listed) per fresh snapshot, with
    every violation but the totals' marked on the declared line."""
    artists: list[Any] = []
    if points:
        xs = [p.sim_min for p in points]
        artists += ax.step(xs, [p.reporting for p in points], where="post", color="#1b5e20",
                           label="precincts reporting (as declared)")
        artists += ax.step(xs, [p.published for p in points], where="post", color="#66bb6a",
                           linestyle="--", label="precincts published (listed)")
    kinds = [k for k in KIND_STYLE if k not in TOTAL_KINDS]
    artists += _mark(ax, points, violations, kinds, lambda p: p.reporting)
    artists += _mark_torn(ax, points, lambda p: p.reporting)
    ax.set_ylim(0, max(units, max((p.reporting for p in points), default=0)) * 1.05 + 1)
    ax.set_ylabel("precincts")
    clock_axis(ax)
    if artists:
        ax.legend(loc="upper left", fontsize=8)
    return artists


def plot_feed_totals(ax: Axes, points: Sequence[Point],
                     violations: Sequence[Violation]) -> list[Any]:
    """The statewide final alignment as published and as its published precincts sum,
    with the snapshots whose totals differed marked."""
    artists: list[Any] = []
    if points:
        xs = [p.sim_min for p in points]
        artists += ax.step(xs, [p.final_total for p in points], where="post",
                           color="#0d47a1", label="statewide final alignment (published)")
        artists += ax.step(xs, [p.final_summed for p in points], where="post",
                           color="#90caf9", linestyle="--",
                           label="sum of the published precincts")
    artists += _mark(ax, points, violations, TOTAL_KINDS, lambda p: p.final_total)
    artists += _mark_torn(ax, points, lambda p: p.final_total)
    ax.set_ylabel("people (final alignment)")
    clock_axis(ax)
    if artists:
        ax.legend(loc="upper left", fontsize=8)
    return artists
