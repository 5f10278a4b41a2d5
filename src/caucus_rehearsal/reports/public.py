"""What the public saw: the reads of ``reads.jsonl`` against the scenario's ``[demand]``.

Per surge of the night (doors close, each release, each alert: ``simulator/demand.py``)
and outside them: the reads that fell due, were served, dropped by the load generator,
failed (errors and timeouts), their latency from the due moment, how stale the answers
were, and the chairs' write latency in the same minutes (the Ottawa failure: uploads
and reads exhausting the target together). A surge's window runs from its moment for
:data:`SURGE_SPAN` time constants (its excess is then down to 5%).

The gate metrics ``read_error_rate``, ``read_p99_ms``, ``read_staleness_p99_s`` and
``dropped_reads`` are measured here over the whole night.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.reads import (
    READ_BIN_MIN,
    ReadBin,
    failed,
    late_p_ms,
    latency_p_ms,
    staleness_p_s,
)
from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.rundir.vocab import DATA_STEPS
from caucus_rehearsal.simulator.demand import Surge, scenario_surges
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.units import format_clock

SURGE_SPAN = 3.0
"""A surge's window: this many time constants (``demand.surge_decay``) from its moment."""
READ_METRICS = ("read_error_rate", "read_p99_ms", "read_staleness_p99_s", "dropped_reads")
DELIVERED_BOUND = 0.9
"""A faithful run sends at least this share of the reads due in every busy bin."""
DELIVERED_MIN_DUE = 50
"""...judged on bins with at least this many reads due."""


@dataclass(frozen=True, slots=True)
class Window:
    """One stretch of the night (a surge, or everything outside the surges): its reads
    merged, and the chairs' write latencies (ms) in it."""

    name: str
    start: float
    end: float
    reads: ReadBin
    writes_ms: tuple[float, ...]

    def as_json(self) -> Json:
        """One row of ``summary.json``'s ``public.windows``."""
        c = self.reads.counts
        return {
            "window": self.name,
            "from": format_clock(self.start) if math.isfinite(self.start) else None,
            "to": format_clock(self.end) if math.isfinite(self.end) else None,
            "reads_due": c["due"], "reads_served": c["ok"],
            "reads_dropped": c["dropped_busy"] + c["dropped_late"],
            "reads_failed": failed(self.reads), "read_errors": c["errors"] + c["rejected"],
            "read_timeouts": c["timeouts"] + c["conn_errors"],
            "read_p50_ms": _num(latency_p_ms(self.reads, 50)),
            "read_p99_ms": _num(latency_p_ms(self.reads, 99)),
            "staleness_p99_s": _num(staleness_p_s(self.reads, 99)),
            "stale_reads": c["stale"],
            "chair_writes": len(self.writes_ms),
            "chair_write_p50_ms": _num(_pct(self.writes_ms, 50)),
            "chair_write_p95_ms": _num(_pct(self.writes_ms, 95)),
        }


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(v, 3)


def _pct(values: tuple[float, ...], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q, method="higher"))


def surge_windows(scenario: Scenario) -> list[tuple[Surge, float]]:
    """Each surge of the night within the live window, with the minute its window ends
    (:data:`SURGE_SPAN` time constants later, or at the next surge)."""
    live = scenario.live
    night = [s for s in scenario_surges(scenario) if live.start <= s.at <= live.end]
    span = SURGE_SPAN * scenario.demand.surge_decay
    return [(s, min(s.at + span, night[i + 1].at) if i + 1 < len(night) else s.at + span)
            for i, s in enumerate(night)]


def chair_writes(events: list[Json]) -> list[tuple[float, float]]:
    """(simulation minute, latency ms) of the chairs' and operators' data writes that got
    an answer; one that got none counts as infinitely slow."""
    out = []
    for e in events:
        if e.get("actor") in ("chair", "operator") and e.get("step") in DATA_STEPS \
                and isinstance(e.get("latency_ms"), int | float):
            lat = float(e["latency_ms"]) if e.get("status") else math.inf
            out.append((float(e.get("sim_min", 0.0)), lat))
    return out


def windows(run: RunDir, scenario: Scenario) -> list[Window]:
    """The surges of the night, then everything outside them."""
    spans = [(s.what, s.at, end) for s, end in surge_windows(scenario)]
    writes = chair_writes(run.events)

    def inside(minute: float, a: float, b: float) -> bool:
        return a <= minute < b

    out = []
    taken: set[tuple[int, str]] = set()
    for what, a, b in spans:
        merged = ReadBin()
        for (k, ep), rb in run.reads.bins.items():
            if inside(k * READ_BIN_MIN, a, b):
                merged.add(rb)
                taken.add((k, ep))
        out.append(Window(what, a, b, merged,
                          tuple(lat for m, lat in writes if inside(m, a, b))))
    rest = ReadBin()
    for key, rb in run.reads.bins.items():
        if key not in taken:
            rest.add(rb)
    out.append(Window("outside the surges", -math.inf, math.inf, rest,
                      tuple(lat for m, lat in writes
                            if not any(inside(m, a, b) for _, a, b in spans))))
    return out


def measure(run: RunDir, metric: str) -> tuple[float | None, str]:
    """(value, note) of a ``read_*`` or ``dropped_reads`` gate metric over the night;
    None when the run made no reads."""
    total = run.reads.total()
    c = total.counts
    if not c["due"]:
        return None, "no reads (the scenario's [demand] is empty, or none were recorded)"
    if metric == "dropped_reads":
        dropped = c["dropped_busy"] + c["dropped_late"]
        return float(dropped), (f"of {c['due']} reads due: {c['dropped_busy']} with too many "
                                f"in flight, {c['dropped_late']} the generator was too late "
                                "for")
    if not c["sent"]:
        return None, "no read was sent"
    if metric == "read_error_rate":
        bad, asked = failed(total) + c["dropped_busy"], c["sent"] + c["dropped_busy"]
        return bad / asked, (f"{bad} of {asked} reads: {c['errors']} 5xx, {c['rejected']} "
                             f"other 4xx, {c['timeouts']} timeouts, {c['conn_errors']} without "
                             f"a connection, {c['dropped_busy']} not sent because "
                             "max_in_flight reads were already waiting for the target")
    if metric == "read_p99_ms":
        return latency_p_ms(total, 99), (f"{c['sent']} reads, from their due moment; "
                                         f"{c['timeouts'] + c['conn_errors']} unanswered "
                                         "(counted as never)")
    if metric == "read_staleness_p99_s":
        value = staleness_p_s(total, 99)
        if value is None:
            return None, "the target's answers carry no feed version"
        return value, f"{c['stale']} of {c['versioned']} versioned answers were stale"
    raise ValueError(f"metric {metric!r} is not one of {', '.join(READ_METRICS)}")


def delivered(run: RunDir) -> tuple[float | None, str | None]:
    """The lowest share of the reads due that the load generator kept up with, over the
    bins with at least :data:`DELIVERED_MIN_DUE` due (None: none that busy), and the
    fidelity reason when it is below :data:`DELIVERED_BOUND`. A read not sent because
    ``max_in_flight`` reads were already waiting for the target is the target's doing
    (it counts as failed in ``read_error_rate``), not the generator's: only reads it was
    too late for count against the run's fidelity."""
    worst: tuple[float, int, str] | None = None
    for (k, _ep), b in run.reads.bins.items():
        due = b.counts["due"]
        if due >= DELIVERED_MIN_DUE:
            share = 1.0 - b.counts["dropped_late"] / due
            if worst is None or share < worst[0]:
                worst = (share, k, _ep)
    if worst is None:
        return None, None
    share, k, ep = worst
    if share >= DELIVERED_BOUND:
        return share, None
    return share, (f"the load generator sent only {share:.0%} of the public's reads due at "
                   f"{format_clock(k * READ_BIN_MIN)} ({ep}; bound {DELIVERED_BOUND:.0%}): "
                   "the target did not get the modelled read load")


def as_json(run: RunDir, view: list[Window]) -> Json:
    """``summary.json``'s ``public``: the night's reads in total and per window."""
    total = run.reads.total()
    c = total.counts
    return {
        "reads_due": c["due"], "reads_served": c["ok"],
        "reads_dropped": c["dropped_busy"] + c["dropped_late"],
        "reads_failed": failed(total),
        "read_p50_ms": _num(latency_p_ms(total, 50)),
        "read_p99_ms": _num(latency_p_ms(total, 99)),
        "read_p99_never": latency_p_ms(total, 99) == math.inf,
        "staleness_p99_s": _num(staleness_p_s(total, 99)),
        "generator_late_p99_ms": _num(late_p_ms(total, 99)),
        "windows": [w.as_json() for w in view],
    }


FAILED_SHARE = 0.05
"""A surge in which at least this share of the reads failed is named in the findings..."""
SLOWED = 2.0
"""...and so are the chairs' writes when their p95 in it is this many times outside."""


def findings_texts(view: list[Window]) -> list[str]:
    """What the public saw, in words: each surge in which reads failed (and the chairs'
    writes slowed with them: the Ottawa failure), and reads the generator dropped."""
    out = []
    outside = next((w for w in view if not math.isfinite(w.start)), None)
    base = _pct(outside.writes_ms, 95) if outside is not None else None
    for w in view:
        if not math.isfinite(w.start):
            continue
        c = w.reads.counts
        bad = failed(w.reads)
        if c["sent"] < 20 or bad < FAILED_SHARE * c["sent"]:
            continue
        text = (f"In the surge after {w.name} ({format_clock(w.start)}), {bad} of "
                f"{c['sent']} reads of the public ({bad / c['sent']:.0%}) failed "
                f"({c['errors']} server errors, {c['timeouts'] + c['conn_errors']} "
                "unanswered)")
        inside = _pct(w.writes_ms, 95)
        if inside is not None and base and inside >= SLOWED * base:
            shown = "never" if not math.isfinite(inside) else f"{inside:.0f} ms"
            text += (f", and the chairs' writes slowed to p95 {shown} against {base:.0f} ms "
                     "outside the surges: uploads and reads exhausted the target together "
                     "(the Ottawa failure)")
        out.append(text + ".")
    dropped = sum(w.reads.counts["dropped_busy"] + w.reads.counts["dropped_late"]
                  for w in view)
    if dropped:
        out.append(f"The load generator could not send {dropped} of the public's reads when "
                   "they were due (dropped, counted, never sent late): a bigger or another "
                   "machine would send them ('rehearse run --workers', 'rehearse worker').")
    return out
