"""How faithfully a run kept its schedule, and which gates that lets the report judge.

A live run plays a modelled night on a compressed clock (docs/time.md). Every attempt
records how late it was sent against its due moment (``late_ms``, ``late_min``) and how
much of that it spent waiting for the target's previous answer (``late_target_ms``);
hotline calls record when the pool had to take an announcement late (``late_min`` on
``call`` and ``nuisance`` events). From these:

- the run is **faithful** when request lateness stays within :data:`LATE_P99_BOUND_MIN`
  simulated minutes at the 99th percentile, the hotline pool took at most
  :data:`POOL_LATE_BOUND` of the calls late, and the load generator kept up with the
  public's reads (``reports/public.py``, ``reads_delivered``);
- a gate is judged (pass or fail) only when its result cannot be an artefact of the
  load generator: always when the run is faithful; otherwise by the rules of its metric's
  kind (:data:`~caucus_rehearsal.simulator.gates.METRIC_KINDS`, :func:`judge`); else it is
  **inconclusive**, with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.simulator.gates import METRIC_KINDS, Gate

LATE_P99_BOUND_MIN = 5.0
"""A faithful run sends 99% of its requests at most this many simulated minutes after
their due moment: the night's reports arrive over a couple of hours, so within this the
target gets the modelled load (measured: 3 minutes of p99 lateness moved the busiest
five minutes' load by 2%; see :data:`PEAK_LOAD_BOUND`)."""
PEAK_LOAD_BOUND = 0.1
"""...and sends its busiest :data:`LOAD_BIN_MIN` minutes within this share of the modelled
busiest (``peak_load_delivered`` within 1 +- this): lateness neither flattened nor
bunched the peak."""
PEAK_MIN_REQUESTS = 50
"""The peak is compared only when its busiest bin holds at least this many requests (a
small night's bins are too few to say anything)."""
LOAD_BIN_MIN = 5.0
"""Simulated minutes per bin when comparing the load sent with the load modelled."""
POOL_LATE_BOUND = 0.01
"""A faithful run's hotline pool takes at most this share of calls late."""


@dataclass(frozen=True, slots=True)
class Fidelity:
    """The schedule fidelity of one run (times in wall ms unless ``_min``: simulated)."""

    speed: float
    attempts: int
    late_p50_ms: float | None
    late_p99_ms: float | None
    late_max_ms: float | None
    late_p99_min: float
    late_max_min: float
    generator_p99_ms: float
    """Lateness that was not spent waiting for the target (the load generator's own)."""
    target_p99_ms: float
    """Lateness spent waiting for the target's previous answer (its latency longer than
    the compressed time the actor had before its next action)."""
    calls: int
    pool_late: int
    pool_late_max_min: float
    arrival_p50_ms: float | None
    arrival_p99_ms: float | None
    reasons: tuple[str, ...]
    peak_load_delivered: float | None
    """The busiest :data:`LOAD_BIN_MIN` of the night as sent, against the busiest as
    modelled (requests of chairs and operators): below 1 the peak was flattened, above 1
    bunched."""
    max_faithful_speed: float | None
    """The highest speed at which this run's measured lateness would have stayed within
    the bounds (lateness in simulated minutes grows with the speed); None when the run
    was faithful with no lateness worth scaling."""
    reads_delivered: float | None = None
    """The lowest share of the public's reads due that the load generator sent, over the
    busy bins (``reports/public.py``); None when no bin was busy enough to say."""

    @property
    def faithful(self) -> bool:
        return not self.reasons

    def as_json(self) -> dict[str, Any]:
        """The ``schedule_fidelity`` block of ``summary.json``."""
        return {
            "faithful": self.faithful, "reasons": list(self.reasons), "speed": self.speed,
            "attempts": self.attempts, "late_p50_ms": _r(self.late_p50_ms),
            "late_p99_ms": _r(self.late_p99_ms), "late_max_ms": _r(self.late_max_ms),
            "late_p99_min": _r(self.late_p99_min), "late_max_min": _r(self.late_max_min),
            "late_generator_p99_ms": _r(self.generator_p99_ms),
            "late_target_p99_ms": _r(self.target_p99_ms),
            "bound_late_p99_min": LATE_P99_BOUND_MIN,
            "bound_peak_load": [round(1 - PEAK_LOAD_BOUND, 3), round(1 + PEAK_LOAD_BOUND, 3)],
            "hotline_calls": self.calls, "hotline_late": self.pool_late,
            "hotline_late_max_min": _r(self.pool_late_max_min),
            "bound_hotline_late_share": POOL_LATE_BOUND,
            "arrival_lag_p50_ms": _r(self.arrival_p50_ms),
            "arrival_lag_p99_ms": _r(self.arrival_p99_ms),
            "peak_load_delivered": _r(self.peak_load_delivered),
            "max_faithful_speed": _r(self.max_faithful_speed, 1),
            "reads_delivered": _r(self.reads_delivered),
        }


def _r(v: float | None, digits: int = 3) -> float | None:
    return None if v is None or not math.isfinite(v) else round(v, digits)


def _g(minutes: float) -> str:
    return f"{minutes:.1f}" if minutes < 10 else f"{minutes:.0f}"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def late_ms(e: Json) -> float | None:
    """How late a request event was sent (wall ms); None when it carries no times."""
    if isinstance(e.get("late_ms"), int | float):
        return float(e["late_ms"])
    sent, due = e.get("sent_wall"), e.get("intended_wall")
    if isinstance(sent, int | float) and isinstance(due, int | float):
        return max(0.0, (float(sent) - float(due)) * 1000.0)
    return None


def measure(requests: list[Json], events: list[Json], speed: float,
            arrival_lags_ms: list[float]) -> Fidelity:
    """Fidelity of a run from its request events and its hotline caller events."""
    late: list[float] = []
    target: list[float] = []
    for e in requests:
        x = late_ms(e)
        if x is None:
            continue
        late.append(x)
        t = e.get("late_target_ms")
        target.append(min(x, float(t)) if isinstance(t, int | float) else 0.0)
    generator = [x - t for x, t in zip(late, target, strict=True)]
    to_min = speed / 60_000.0
    p99 = _pct(late, 99.0)
    calls = [e for e in events if e.get("step") in ("call", "nuisance")]
    pool_late = [float(e["late_min"]) for e in calls
                 if isinstance(e.get("late_min"), int | float) and e["late_min"] > 0]
    late_p99_min = (p99 or 0.0) * to_min
    due: dict[int, int] = {}
    went: dict[int, int] = {}
    for e in requests:
        x = late_ms(e)
        if e.get("actor") not in ("chair", "operator") or x is None \
                or not isinstance(e.get("sim_min"), int | float):
            continue
        at = float(e["sim_min"])
        k, j = int(at // LOAD_BIN_MIN), int((at + x * to_min) // LOAD_BIN_MIN)
        due[k] = due.get(k, 0) + 1
        went[j] = went.get(j, 0) + 1
    peak = max(went.values()) / max(due.values()) \
        if due and max(due.values()) >= PEAK_MIN_REQUESTS else None
    reasons: list[str] = []
    if late_p99_min > LATE_P99_BOUND_MIN:
        gen99, tgt99 = _pct(generator, 99.0) or 0.0, _pct(target, 99.0) or 0.0
        cause = ("mostly waiting for the target: its answers took longer than the "
                 "compressed time before the next action" if tgt99 > gen99 else
                 "the load generator itself was behind (CPU, scheduling)")
        reasons.append(f"requests were sent up to {_g(late_p99_min)} simulated minutes late "
                       f"(99th percentile, {p99:.0f} ms at speed {speed:g}; bound "
                       f"{LATE_P99_BOUND_MIN:g} min): {cause}")
    if peak is not None and abs(peak - 1.0) > PEAK_LOAD_BOUND:
        reasons.append(f"the busiest {LOAD_BIN_MIN:g} simulated minutes went out at "
                       f"{peak:.0%} of the modelled load (bound {1 - PEAK_LOAD_BOUND:.0%}-"
                       f"{1 + PEAK_LOAD_BOUND:.0%})")
    if calls and len(pool_late) > POOL_LATE_BOUND * len(calls):
        reasons.append(f"the hotline pool took {len(pool_late)} of {len(calls)} calls late "
                       f"(up to {_g(max(pool_late))} simulated minutes; bound "
                       f"{POOL_LATE_BOUND:.0%})")
    max_speed = None
    if late_p99_min > 0.05 * LATE_P99_BOUND_MIN:
        max_speed = speed * LATE_P99_BOUND_MIN / late_p99_min
    return Fidelity(
        speed=speed, attempts=len(late), late_p50_ms=_pct(late, 50.0), late_p99_ms=p99,
        late_max_ms=max(late, default=None), late_p99_min=late_p99_min,
        late_max_min=max(late, default=0.0) * to_min,
        generator_p99_ms=_pct(generator, 99.0) or 0.0, target_p99_ms=_pct(target, 99.0) or 0.0,
        calls=len(calls), pool_late=len(pool_late), pool_late_max_min=max(pool_late, default=0.0),
        arrival_p50_ms=_pct(arrival_lags_ms, 50.0), arrival_p99_ms=_pct(arrival_lags_ms, 99.0),
        reasons=tuple(reasons), peak_load_delivered=peak, max_faithful_speed=max_speed)


def judge(gate: Gate, value: float | None, fid: Fidelity,
          remeasure: Callable[[Gate], float | None]) -> tuple[str, str]:
    """(``pass``/``fail``/``inconclusive``/``not measured``, why) of one gate.

    A gate read off the published feed at a moment (kind ``published``) is judged only
    when its result is the same read the run's lateness (``late_p99_min``) earlier and
    later. Otherwise a faithful run's gates are judged as measured. When the run was not
    faithful, the target did not get the modelled load (requests went late, bunched or
    spread): no gate can pass on such evidence, and a failure stands only where the
    lateness cannot have caused it, by the kind of the gate's metric
    (:data:`~caucus_rehearsal.simulator.gates.METRIC_KINDS`):

    - ``integrity`` (the target kept or published wrong data): it stands;
    - ``latency`` (real response times as the generator measured them, which its own
      delays lengthen): it stands when it still fails with the generator's own lateness
      taken off;
    - ``published``: it stands (it fails whichever way the lateness is read);
    - ``hotline`` and ``modelled`` (decided on the modelled clock): it stands when the
      hotline pool took its calls in order;
    - ``load`` and any other: inconclusive.

    ``generator`` metrics measure the load generator itself: their failure is never the
    target's. ``remeasure(gate)`` measures a gate again at another ``by``.
    """
    if value is None:
        return "not measured", ""
    raw = gate.passes(value)
    kind = METRIC_KINDS.get(gate.metric, "load")
    if kind == "generator":
        return ("pass", "") if raw else ("inconclusive", "this gate measures the load "
                                         "generator, not the target")
    shift = fid.late_p99_min
    if kind == "published" and shift > 0:
        results = {raw}
        for d in (-shift, shift):
            v = remeasure(replace(gate, by=gate.by + d)) if gate.by is not None \
                else value + d
            if v is not None:
                results.add(gate.passes(v))
        if len(results) > 1:
            return "inconclusive", (f"read {_g(shift)} simulated minutes earlier or later "
                                    "(the run's lateness) it would "
                                    + ("fail" if raw else "pass"))
    if fid.faithful:
        return ("pass" if raw else "fail"), ""
    why = "; ".join(fid.reasons)
    if raw:
        return "inconclusive", f"the target did not get the modelled load: {why}"
    if kind == "integrity":
        return "fail", ""
    if kind == "latency":
        if not gate.passes(max(0.0, value - fid.generator_p99_ms)):
            return "fail", ""
        return "inconclusive", (f"it fails by less than the load generator's own lateness "
                                f"({fid.generator_p99_ms:.0f} ms at p99)")
    if kind in ("hotline", "modelled"):
        if fid.pool_late <= POOL_LATE_BOUND * max(1, fid.calls):
            return "fail", ""
        return "inconclusive", why
    if kind == "published":
        return "fail", ""  # it fails whichever way the lateness is read (above)
    return "inconclusive", why
