"""The report's figures: built with the chart helpers, saved as PNG under ``charts/``.

Figures are made with ``matplotlib.figure.Figure`` on the Agg canvas (no pyplot, no
global state), and saved without the ``Software`` metadata so that the same run gives
the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from caucus_rehearsal.reports import charts, feed_charts, public_charts
from caucus_rehearsal.reports.metrics import (
    arrival_lags_ms,
    hotline,
    published_curve,
    received_curve,
    requests,
)
from caucus_rehearsal.reports.public import Window
from caucus_rehearsal.reports.reconcile import Reconciliation
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.vocab import FAILED_OUTCOMES
from caucus_rehearsal.simulator.demand import (
    media_requests_per_s,
    public_requests_per_s,
    scenario_surges,
)
from caucus_rehearsal.simulator.scenario import Scenario

DPI = 100


@dataclass(frozen=True, slots=True)
class Chart:
    """One saved figure: file ``name`` (under ``charts/``), ``title``, PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def _render(draw: Callable[[list[Axes]], object], rows: int, height_in: float) -> bytes:
    fig = Figure(figsize=(10, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    draw(axes)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def run_span(run: RunDir) -> tuple[float, float] | None:
    """The run's simulated clock span (``run.json`` start to end, widened to any later
    event or snapshot), so that the simulated band does not squeeze the live lines."""
    start, end = run.run.get("sim_start_min"), run.run.get("sim_end_min")
    if not isinstance(start, int | float) or not isinstance(end, int | float) or end <= start:
        return None
    last = max([float(e.get("sim_min", 0.0)) for e in run.events]
               + [m for m, _ in run.published.curve], default=float(end))
    return float(start), max(float(end), last)


def build_charts(run: RunDir, rec: Reconciliation) -> list[Chart]:
    """Every chart of the report, in the order the page shows them."""
    n = len(rec.units)
    reqs = requests(run.events)
    callers = [e for e in run.events if e.get("actor") == "caller"]
    acks = [(u.ack_min, u.channel) for u in rec.units if u.ack_min is not None]
    send = [(float(e.get("sim_min", 0.0)),
             (float(e["sent_wall"]) - float(e["intended_wall"])) * 1000.0) for e in reqs
            if isinstance(e.get("sent_wall"), int | float)
            and isinstance(e.get("intended_wall"), int | float)]
    arrival_pts = arrival_lags_ms(run)

    def curve(ax: list[Axes]) -> None:
        charts.plot_reporting_curve(ax[0], received_curve(rec), published_curve(run), n,
                                    run.band)
        span = run_span(run)
        if span is not None:
            ax[0].set_xlim(*span)

    def hotline_chart(ax: list[Axes]) -> None:
        charts.plot_hotline_queue(ax[0], callers)
        charts.plot_hotline_waits(ax[1], callers, hotline(run.events).waits)

    def latency(ax: list[Axes]) -> None:
        charts.plot_latency(ax[0], reqs)
        charts.plot_error_rate(ax[1], reqs, FAILED_OUTCOMES)

    def totals(ax: list[Axes]) -> None:
        charts.plot_candidate_totals(ax[0], rec.statewide, "sde")
        charts.plot_candidate_totals(ax[1], rec.statewide, "final")

    def feed(ax: list[Axes]) -> None:
        h = rec.integrity
        feed_charts.plot_feed_reporting(ax[0], h.points, n, h.violations)
        feed_charts.plot_feed_totals(ax[1], h.points, h.violations)
        span = run_span(run)
        if span is not None:
            for a in ax:
                a.set_xlim(*span)

    specs: list[tuple[str, str, str, Callable[[list[Axes]], object], int, float]] = [
        ("reporting_curve", "Reporting curve",
         "% of units acknowledged (received) and present in the published results, "
         "against the simulated p5–p95 band, over the run's clock span.", curve, 1, 4.0),
        ("published_feed", "The published feed over time",
         "Each readable snapshot: precincts reporting as the feed declared them and as it "
         "listed them (top), the statewide final alignment as published and as its "
         "precincts sum (bottom); markers: integrity violations at the moment they were "
         "seen.", feed, 2, 6.0),
        ("reconciliation", "Reconciliation",
         "Every unit in exactly one class.",
         lambda ax: charts.plot_reconciliation(ax[0], rec.counts), 1, 3.2),
        ("candidate_totals", "Candidate totals, truth against published",
         "Statewide SDE (top) and final alignment (bottom).", totals, 2, 6.0),
        ("channel_mix", "Channel mix over time",
         "Units acknowledged, by the channel that got them through.",
         lambda ax: charts.plot_channel_mix(ax[0], acks), 1, 3.5),
        ("latency", "Request latency and errors per endpoint",
         "15-minute bins of simulated time.", latency, 2, 6.5),
        ("hotline", "Hotline queue and waits",
         "Callers on hold; each chair's wait from its first dial to an operator answering "
         "(busy signals and redials included), and each single hold's length.",
         hotline_chart, 2, 6.0),
        ("schedule_lag", "Schedule lag",
         "How late the load generator sent each attempt (and when the target received it, "
         "if its audit trail was read).",
         lambda ax: charts.plot_schedule_lag(ax[0], send, arrival_pts), 1, 3.5),
    ]
    return [Chart(name, title, caption, _render(draw, rows, h))
            for name, title, caption, draw, rows, h in specs]


def build_public_charts(run: RunDir, scenario: Scenario, windows: list[Window]) -> list[Chart]:
    """The charts of what the public saw (none when the run made no reads)."""
    if not run.reads.bins:
        return []
    speed = float(run.run.get("speed") or scenario.live.speed)
    surges = scenario_surges(scenario)
    minutes = np.arange(scenario.live.start, scenario.live.end, 1.0)
    modelled = [(float(m), public_requests_per_s(scenario.demand, surges, float(m))
                 + media_requests_per_s(scenario.demand)) for m in minutes]
    surged = [w for w in windows if math.isfinite(w.start)]

    def latency(ax: list[Axes]) -> None:
        public_charts.plot_read_latency(ax[0], ax[1], run.reads, surged)

    specs: list[tuple[str, str, str, Callable[[list[Axes]], object], int, float]] = [
        ("public_demand", "The public's demand against what was served",
         "Requests per real second in each 5-minute bin of simulated time: the modelled "
         "demand, the reads due, served (2xx/304) and dropped by the load generator; surges "
         "shaded.", lambda ax: public_charts.plot_demand(ax[0], run.reads, modelled, surged,
                                                         speed), 1, 3.8),
        ("public_latency", "Read latency and failures over the night",
         "Latency from each read's due moment, p50 and p99 (log scale), and the share of "
         "reads that failed (5xx, other 4xx, timeouts, no connection); surges shaded.",
         latency, 2, 6.0),
        ("public_staleness", "How stale the public's answers were",
         "99th percentile of the seconds since a newer version of the results had been "
         "seen, per bin (0: fresh).",
         lambda ax: public_charts.plot_staleness(ax[0], run.reads, surged), 1, 3.0),
        ("public_writes", "Chairs' writes inside and outside the surges",
         "Latency of the chairs' and operators' data writes (p50, p95) in each surge's "
         "window and outside them: uploads and reads share the target.",
         lambda ax: public_charts.plot_writes_in_surges(ax[0], windows), 1,
         1.2 + 0.45 * len(windows)),
    ]
    return [Chart(name, title, caption, _render(draw, rows, h))
            for name, title, caption, draw, rows, h in specs]


def save_charts(items: list[Chart], folder: Path) -> list[Path]:
    """Write each chart as ``folder/<name>.png``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for c in items:
        p = folder / f"{c.name}.png"
        p.write_bytes(c.png)
        paths.append(p)
    return paths
