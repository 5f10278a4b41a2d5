"""Chart helpers draw what they are given on the Axes they are given."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from caucus_rehearsal.reports.charts import plot_reconciliation, plot_reporting_curve
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
