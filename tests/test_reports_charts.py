"""Chart helpers draw what they are given on the Axes they are given."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from caucus_rehearsal.reports.charts import plot_reconciliation, plot_reporting_curve
from caucus_rehearsal.reports.feed_charts import TORN_LABEL, plot_feed_reporting, plot_feed_totals
from caucus_rehearsal.reports.integrity import Point, Violation
from caucus_rehearsal.reports.reconcile import CLASSES

BAND = {"minutes": [0.0, 60.0, 120.0],
        "received": {"p5": [0.0, 0.2, 0.8], "p50": [0.0, 0.3, 0.9], "p95": [0.1, 0.5, 0.95]},
        "published": {"p5": [0.0, 0.1, 0.6], "p50": [0.0, 0.2, 0.8], "p95": [0.0, 0.4, 0.9]}}


def test_reporting_curve_draws_band_in_percent_behind_live_lines() -> None:
    ax = Figure().add_subplot()
    artists = plot_reporting_curve(ax, [10.0, 20.0, 30.0, 40.0], [(15.0, 1), (45.0, 4)], 4, BAND)
    assert [isinstance(a, PolyCollection) for a in artists] == [True, True, False, False]
    assert all(isinstance(a, Line2D) for a in artists[2:])
    top = artists[0].get_paths()[0].vertices[:, 1].max()
    assert top == 95.0  # received p95 at 0.95 drawn as 95 %
    received = artists[2]
    assert list(received.get_ydata()) == [25.0, 50.0, 75.0, 100.0, 100.0]
    assert ax.get_xaxis().get_major_formatter()(210.0) == "22:30"


def test_reconciliation_bars_one_per_class() -> None:
    ax = Figure().add_subplot()
    counts = dict.fromkeys(CLASSES, 0) | {"acknowledged_not_published": 412}
    bars = plot_reconciliation(ax, counts)
    assert [b.get_width() for b in bars] == [counts[k] for k in CLASSES]
    assert np.isclose(ax.get_xlim()[1], 412 * 1.15)


FEED = [Point(60.0, 10, 10, 1, 500.0, 500.0), Point(65.0, 20, 18, 2, 900.0, 850.0, torn=True),
        Point(70.0, 5, 5, 1, 250.0, 250.0), Point(75.0, 20, 20, 3, 1100.0, 1000.0)]
SEEN = (Violation("reporting_decreases", 70.0, None, ("feed",), "fell from 20 to 5"),
        Violation("snapshot_total_errors", 75.0, None, ("feed",), "final/A: 1100 vs 1000"))


def test_the_feed_chart_marks_each_violation_where_the_feed_was_and_torn_reads_apart() -> None:
    ax = Figure().add_subplot()
    drawn = [a for a in plot_feed_reporting(ax, FEED, 40, SEEN) if a.get_label()[0] != "_"]
    assert [a.get_label() for a in drawn] == [
        "precincts reporting (as declared)", "precincts published (listed)",
        "precincts reporting fell (1)", f"{TORN_LABEL} (1)"]
    assert drawn[2].get_offsets().tolist() == [[70.0, 5.0]]  # at the moment, on the line
    assert drawn[3].get_offsets().tolist() == [[65.0, 20.0]]
    ax = Figure().add_subplot()
    drawn = [a for a in plot_feed_totals(ax, FEED, SEEN) if a.get_label()[0] != "_"]
    assert [a.get_label() for a in drawn][2:] == [
        "statewide totals differ from the precincts' sum (1)", f"{TORN_LABEL} (1)"]
    assert drawn[2].get_offsets().tolist() == [[75.0, 1100.0]]
