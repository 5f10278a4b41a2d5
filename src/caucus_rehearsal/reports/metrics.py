"""The measured figures of a run: gate metrics, curves and schedule fidelity.

Every metric of :data:`~caucus_rehearsal.simulator.gates.GATE_METRICS` is measured from
the run directory and the reconciliation. A metric the run cannot measure (no snapshots
yet, no requests) is ``None`` with a note; its gate is shown as not measured and does
not fail. "Never reached" times are ``math.inf`` (they fail ``<=`` gates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from caucus_rehearsal.reports import consistency, integrity, public, security, zero_state
from caucus_rehearsal.reports.fidelity import Fidelity, judge
from caucus_rehearsal.reports.fidelity import measure as measure_fidelity
from caucus_rehearsal.reports.reconcile import Reconciliation
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.rundir.vocab import FAILED_OUTCOMES
from caucus_rehearsal.simulator.gates import GATE_METRICS, Gate
from caucus_rehearsal.simulator.units import format_clock


@dataclass(frozen=True, slots=True)
class Measure:
    """A metric's value (None: not measured) and a note on how it was read."""

    value: float | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class GateResult:
    """One gate, its measured value and how it was judged: ``status`` is ``pass``,
    ``fail``, ``inconclusive`` (measured, but the run's lateness could have decided it;
    ``why`` says how) or ``not measured``; ``passed`` is True/False only when judged."""

    gate: Gate
    value: float | None
    passed: bool | None
    note: str
    status: str = ""
    why: str = ""


def requests(events: list[Json]) -> list[Json]:
    """Events that are HTTP requests to the target (they carry a latency)."""
    return [e for e in events if e.get("actor") != "caller"
            and isinstance(e.get("latency_ms"), int | float)]


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100, linear interpolation) of non-empty ``values``."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


@dataclass(frozen=True, slots=True)
class Hotline:
    """The hotline as the chairs lived it (simulation minutes).

    ``waits`` holds, per chair an operator answered, (minute answered, wait): the time
    from the chair's first dial to the first answer, busy signals and redials included
    (``rehearse simulate``'s ``hotline_wait_*``). ``holds`` are single holds (one call on
    hold until answered or abandoned). ``never_answered`` counts chairs who dialled but
    were never answered.
    """

    waits: tuple[tuple[float, float], ...]
    never_answered: int
    holds: tuple[float, ...]
    abandoned: int
    busy: int
    answered_holds: tuple[float, ...] = ()
    """The holds of the calls an operator answered."""

    def figures(self) -> dict[str, float | int]:
        """The summary figures (minutes, counts), rounded for ``summary.json``."""
        w = [x for _, x in self.waits]
        return {"chairs_answered": len(w), "chairs_never_answered": self.never_answered,
                "wait_median_min": round(pct(w, 50.0), 3) if w else 0.0,
                "wait_max_min": round(max(w), 3) if w else 0.0,
                "holds": len(self.holds),
                "hold_median_min": round(pct(list(self.holds), 50.0), 3) if self.holds else 0.0,
                "hold_max_min": round(max(self.holds), 3) if self.holds else 0.0,
                "abandoned_holds": self.abandoned, "busy_signals": self.busy}


def hotline(events: list[Json]) -> Hotline:
    """Read the hotline caller events (``actor`` ``caller``, keyed by ``unit_id``).

    A chair's wait starts at its earliest ``call`` (or, if no dial was recorded, at the
    start of the hold that was answered) and ends at its earliest ``answered``.
    """
    first: dict[str, float] = {}
    answered: dict[str, float] = {}
    holds: list[float] = []
    answered_holds: list[float] = []
    abandoned = busy = 0
    for e in events:
        if e.get("actor") != "caller":
            continue
        uid, minute = str(e.get("unit_id", "")), float(e.get("sim_min", 0.0))
        outcome, wait = e.get("outcome"), e.get("wait_min")
        if e.get("step") == "call":
            first[uid] = min(first.get(uid, minute), minute)
        busy += outcome == "busy"
        if outcome in ("answered", "abandoned") and isinstance(wait, int | float):
            holds.append(float(wait))
            abandoned += outcome == "abandoned"
            first[uid] = min(first.get(uid, minute - float(wait)), minute - float(wait))
        if outcome == "answered":
            answered[uid] = min(answered.get(uid, minute), minute)
            if isinstance(wait, int | float):
                answered_holds.append(float(wait))
    waits = tuple(sorted((at, max(0.0, at - first.get(uid, at)))
                         for uid, at in answered.items()))
    return Hotline(waits, len(set(first) - set(answered)), tuple(holds), abandoned, busy,
                   tuple(answered_holds))


def received_curve(rec: Reconciliation) -> list[float]:
    """Sorted simulation minutes at which units were acknowledged."""
    return sorted(u.ack_min for u in rec.units if u.ack_min is not None)


def published_curve(run: RunDir) -> list[tuple[float, int]]:
    """(simulation minute, units of the roster present) for each readable snapshot."""
    return run.published.curve


def _time_to(curve: list[tuple[float, int]], need: int) -> float:
    for minute, count in curve:
        if count >= need:
            return minute
    return math.inf


def send_lags_ms(events: list[Json]) -> list[float]:
    """Per attempt, actual send time minus intended time, milliseconds."""
    return [(float(e["sent_wall"]) - float(e["intended_wall"])) * 1000.0 for e in events
            if isinstance(e.get("sent_wall"), int | float)
            and isinstance(e.get("intended_wall"), int | float)]


def arrival_lags_ms(run: RunDir) -> list[tuple[float, float]]:
    """(simulation minute, lag ms) per attempt found in the audit trail: the server's
    receipt time minus the intended time."""
    received: dict[str, float] = {}
    for row in run.audit:
        at = row.get("received_wall", row.get("received_at"))
        if isinstance(at, int | float) and row.get("request_id"):
            received.setdefault(str(row["request_id"]), float(at))
    return [(float(e.get("sim_min", 0.0)),
             (received[str(e["request_id"])] - float(e["intended_wall"])) * 1000.0)
            for e in run.events if str(e.get("request_id")) in received
            and isinstance(e.get("intended_wall"), int | float)]


def fidelity(run: RunDir) -> Fidelity:
    """The run's schedule fidelity (:mod:`.fidelity`)."""
    speed = float(run.run.get("speed") or 1.0)
    fid = measure_fidelity(requests(run.events), run.events, speed,
                           [lag for _, lag in arrival_lags_ms(run)])
    share, short = public.delivered(run)
    return replace(fid, reads_delivered=share,
                   reasons=fid.reasons + ((short,) if short else ()))


def answered(e: Json) -> bool:
    """Whether a request got an answer (any HTTP status) rather than none at all."""
    return bool(e.get("status"))


def _at(curve: list[tuple[float, int]], by: float | None, run: RunDir) -> Measure:
    """Units published at ``by`` (the last snapshot at or before it), else at the end."""
    if not curve:
        return Measure(None, "no snapshot of the published results")
    if by is None:
        return Measure(float(curve[-1][1]), f"at the last snapshot ({format_clock(curve[-1][0])})")
    before = [c for m, c in curve if m <= by + 1e-9]
    if curve[-1][0] < by and run.status != "complete":
        return Measure(None, f"the run stopped before {format_clock(by)}")
    return Measure(float(before[-1]) if before else 0.0, f"at {format_clock(by)}")


def measure(run: RunDir, rec: Reconciliation, gate: Gate | None, metric: str) -> Measure:
    """The value of ``metric`` for this run (read at ``gate.by`` where that applies).

    Fractions and times to a share of the units are over the units the rehearsal played:
    a unit a lost load generator did not play (``not_played``) says nothing of the target.
    """
    if metric in public.READ_METRICS:
        value, note = public.measure(run, metric)
        return Measure(value, note)
    n = sum(1 for u in rec.units if u.klass != "not_played") or len(rec.units)
    by = gate.by if gate else None
    pub = published_curve(run)
    if metric == "published_fraction":
        m = _at(pub, by, run)
        return Measure(None if m.value is None else m.value / n, m.note)
    if metric == "received_fraction":
        acks = received_curve(rec)
        got = len([a for a in acks if by is None or a <= by + 1e-9])
        return Measure(got / n, f"at {format_clock(by)}" if by is not None else "at the end")
    if metric in ("data_loss", "mismatches") or metric in rec.counts:
        if not rec.has_snapshots:
            return Measure(None, "no snapshot of the published results")
        if metric == "data_loss":
            return Measure(float(sum(u.data_lost for u in rec.units)))
        if metric == "mismatches":
            return Measure(float(sum(u.mismatched for u in rec.units)))
        return Measure(float(rec.counts[metric]), f"of {n} units")
    if metric in security.METRICS:
        return Measure(*security.measure(security.security(run), metric))
    if metric in consistency.METRICS:
        return Measure(*consistency.measure(rec.consistency, metric))
    if metric in integrity.METRICS:
        return Measure(*integrity.measure(rec.integrity, metric))
    if metric == zero_state.METRIC:
        return Measure(*zero_state.measure(rec.zero_state))
    reqs = requests(run.events)
    if metric == "p95_latency_ms":
        # A request that got no answer (refused, timed out) is not a fast one: infinitely slow.
        lat = [float(e["latency_ms"]) if answered(e) else math.inf for e in reqs]
        if not lat:
            return Measure(None, "no requests")
        unanswered = sum(1 for x in lat if math.isinf(x))
        value = float(np.percentile(np.asarray(lat, dtype=float), 95.0, method="higher"))
        return Measure(value, f"{len(lat)} requests" + (
            f", {unanswered} unanswered (counted as never)" if unanswered else ""))
    if metric == "error_rate":
        bad = sum(1 for e in reqs if e.get("outcome") in FAILED_OUTCOMES)
        return Measure(bad / len(reqs) if reqs else None, f"{bad} of {len(reqs)} requests")
    if metric.startswith("hotline_"):
        h = hotline(run.events)
        waits = [w for _, w in h.waits]
        chairs = f"{len(waits)} chairs answered (first dial to answer)" + (
            f"; {h.never_answered} never answered" if h.never_answered else "")
        if metric == "hotline_wait_max_min":
            return Measure(max(waits, default=0.0), chairs)
        if metric == "hotline_wait_median_min":
            return Measure(pct(waits, 50.0) if waits else 0.0, chairs)
        if metric == "hotline_hold_max_min":
            return Measure(max(h.holds, default=0.0), f"{len(h.holds)} single holds")
        if metric == "hotline_service_level":
            within = gate.within if gate is not None and gate.within is not None else 0.0
            soon = sum(1 for w in h.answered_holds if w <= within + 1e-9)
            return Measure(soon / len(h.holds) if h.holds else 1.0,
                           f"{soon} of {len(h.holds)} chairs' calls on a line answered within "
                           f"{within:g} min")
    if metric == "abandoned_calls":
        return Measure(float(sum(1 for e in run.events if e.get("actor") == "caller"
                                 and e.get("outcome") == "abandoned")))
    if metric == "app_share":
        acked = [u for u in rec.units if u.ack_min is not None]
        return Measure(sum(u.channel == "app" for u in acked) / len(acked) if acked else None,
                       f"of {len(acked)} acknowledged units")
    need = math.ceil(0.95 * n)
    if metric == "minutes_to_95pct_received":
        acks = received_curve(rec)
        return Measure(acks[need - 1] if len(acks) >= need else math.inf)
    if metric == "minutes_to_95pct_published":
        if not pub:
            return Measure(None, "no snapshot of the published results")
        return Measure(_time_to(pub, need))
    if metric == "send_lag_p99_ms":
        lags = send_lags_ms(reqs)
        return Measure(pct(lags, 99.0) if lags else None, f"{len(lags)} attempts")
    raise ValueError(f"metric {metric!r} is not one of {', '.join(GATE_METRICS)}")


def evaluate(run: RunDir, rec: Reconciliation, gates: tuple[Gate, ...],
             fid: Fidelity | None = None) -> list[GateResult]:
    """Each gate measured and judged against the run's fidelity (:func:`.fidelity.judge`)."""
    fid = fid if fid is not None else fidelity(run)
    out = []
    for gate in gates:
        m = measure(run, rec, gate, gate.metric)
        status, why = judge(gate, m.value, fid,
                            lambda g: measure(run, rec, g, g.metric).value)
        passed = {"pass": True, "fail": False}.get(status)
        out.append(GateResult(gate, m.value, passed, m.note, status, why))
    return out


@dataclass(frozen=True, slots=True)
class Stopped:
    """The target stopped answering: from simulation minute ``since`` (the first request of
    the unanswered stretch) to the end, ``unanswered`` of ``requests`` got no answer;
    ``kinds`` counts them by outcome (``conn_error``, ``timeout``)."""

    since: float
    requests: int
    unanswered: int
    kinds: dict[str, int]


STOPPED_SHARE = 0.9
"""A stretch to the end of the run with at least this share of requests unanswered..."""
STOPPED_MIN_REQUESTS = 10
"""...and at least this many requests means the target stopped answering."""


def target_stopped(events: list[Json]) -> Stopped | None:
    """Whether the target stopped answering before the end of the run, and when: the
    longest stretch of requests up to the last in which at least :data:`STOPPED_SHARE`
    got no answer, after the target had answered at least one. None otherwise."""
    reqs = sorted((e for e in requests(events) if isinstance(e.get("sent_wall"), int | float)),
                  key=lambda e: float(e["sent_wall"]))
    if not any(answered(e) for e in reqs):
        return None
    best: int | None = None
    bad = 0
    for i in range(len(reqs) - 1, -1, -1):
        bad += not answered(reqs[i])
        n = len(reqs) - i
        if n >= STOPPED_MIN_REQUESTS and bad >= STOPPED_SHARE * n:
            best = i
    if best is None:
        return None
    while answered(reqs[best]):
        best += 1  # the stretch starts with its first unanswered request
    if all(not answered(e) for e in reqs[:best]):
        return None
    tail = reqs[best:]
    kinds: dict[str, int] = {}
    for e in tail:
        if not answered(e):
            kinds[str(e.get("outcome"))] = kinds.get(str(e.get("outcome")), 0) + 1
    return Stopped(float(tail[0].get("sim_min", 0.0)), len(tail), sum(kinds.values()), kinds)
