"""Where each unit's time goes, from the end of its meeting to publication.

A unit's night after its meeting is a run of intervals, each in one stage of
:data:`STAGES`: on the app (until acknowledged, or until the chair gave up on it), on
the phone (redials after busy signals, other redials, holds, operator service), paper
delivery, the central side (validation and verification, waiting for a verifier),
and publication (waiting for a release batch, or held by a halt). The night model adds
up the phone minutes as it goes (cheap counters, ``NightState.phone_spent``); the rest
is read from its records after the run (:func:`stage_times`), and each night is reduced
in its worker process (:func:`reduce_night`) to:

- per stage, the p50, p95 and mean of the minutes a unit spent in it (over all units);
- per timing gate (``published_fraction >= 0.95 by 22:30``), the *lateness* in each
  stage: of the time between the gate's clock time and each late unit's publication
  (receipt, for ``received_*``), how much it spent in each stage (``meeting`` when its
  meeting itself ran past that time). Summed over units, this splits the lateness
  exactly; within the phone block the order of the intervals is not kept, so its share
  after the gate's time is split in proportion to the block's parts.

Times are simulation minutes (0 = 19:00), capped at ``central.horizon``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from caucus_rehearsal.simulator.gates import Gate
from caucus_rehearsal.simulator.scenario import Central

Array = npt.NDArray[np.float64]
INF = math.inf

STAGES = ("app", "app_fallback", "busy_signals", "redial_delays", "holds",
          "operator_service", "paper", "verifier_wait", "verification", "release_wait",
          "halt")
"""The stages of a unit's time from the end of its meeting to publication."""

MEETING = "meeting"
LATE_STAGES = (MEETING, *STAGES)
"""Where lateness past a gate's time can be: the meeting still running, or a stage."""

STAGE_LABELS = {
    MEETING: "the meetings themselves",
    "app": "reporting through the app",
    "app_fallback": "app attempts before giving up on the app",
    "busy_signals": "busy signals (redialling after them)",
    "redial_delays": "redialling after hanging up on hold",
    "holds": "holds on the hotline",
    "operator_service": "hotline operator service",
    "paper": "paper delivery",
    "verifier_wait": "waiting for a verifier",
    "verification": "central validation and verification",
    "release_wait": "central release (waiting for a release batch)",
    "halt": "the halt of publication",
}

STAGE_KEYS = {
    MEETING: ("meeting.intro_business", "meeting.first_alignment", "meeting.math"),
    "app": ("target.capacity", "target.latency", "target.error_rate"),
    "app_fallback": ("people.app_can_login", "people.app_knows_flow", "target.error_rate",
                     "target.login_failure_rate"),
    "busy_signals": ("hotline.lines",),
    "redial_delays": ("hotline.operators", "people.redial_delay"),
    "holds": ("hotline.operators",),
    "operator_service": ("hotline.service_time", "hotline.operators"),
    "paper": ("hotline.lines", "hotline.operators", "paper.delivery"),
    "verifier_wait": ("central.verifiers",),
    "verification": ("central.verification_time", "central.validation_time"),
    "release_wait": ("central.release_policy", "central.release_times"),
    "halt": ("central.halt_start", "central.halt_end"),
}
"""The scenario keys that move each stage."""

_INDEX = {s: k for k, s in enumerate(STAGES)}


@dataclass(frozen=True, slots=True, eq=False)
class StageTimes:
    """One night's units: meeting end ``ready``, receipt and publication (capped at the
    ``horizon``: a unit at the horizon never got there) and their stage intervals,
    ``segments[j] = (stage index, start, end)`` (per-unit arrays; a unit outside a
    segment's stage has start == end)."""

    horizon: float
    ready: Array
    received: Array
    published: Array
    segments: tuple[tuple[int, Array, Array], ...]


def stage_times(central: Central, ready_at: Sequence[float], first_channel: Sequence[str],
                channel: Sequence[str], received: Sequence[float],
                phone_start: Sequence[float], gave_up: Sequence[float],
                phone_spent: Sequence[Sequence[float]], validate: Sequence[float],
                check: Sequence[float], verified: Sequence[float],
                published: Sequence[float]) -> StageTimes:
    """The stage intervals of every unit of one night (see the module docstring).

    ``channel`` and ``received`` are the model's own (not cut at the horizon);
    ``phone_spent[i]`` holds unit ``i``'s minutes in redials after busy signals, other
    redials, holds and operator service.
    """
    h = central.horizon

    def arr(x: Sequence[float]) -> Array:
        out: Array = np.minimum(np.asarray(x, dtype=float), h)
        return out

    ready, recv, pstart, quit_ = arr(ready_at), arr(received), arr(phone_start), arr(gave_up)
    ver, pub = arr(verified), arr(published)
    recv = np.maximum(recv, ready)
    app_first = np.array([c == "app" for c in first_channel])
    by_app = np.array([c == "app" for c in channel])
    on_paper = np.array([c == "paper" for c in channel])
    phoned = np.isfinite(np.asarray(phone_start, dtype=float))
    # The app: from the meeting's end to the acknowledgement, or to the first dial.
    app_end = np.where(app_first, np.where(phoned, pstart, np.where(by_app, recv, h)), ready)
    segs: list[tuple[int, Array, Array]] = [
        (_INDEX["app"], ready, np.where(by_app, app_end, ready)),
        (_INDEX["app_fallback"], ready, np.where(by_app, ready, app_end))]
    # The phone, in proportion (its intervals interleave): busy, redial, holds, service.
    spent = np.asarray(phone_spent, dtype=float).reshape(len(ready), 4)
    spent[:, 2] += np.where(phoned & ~app_first, pstart - ready, 0.0)  # waiting for opening
    t = app_end
    for name, col in (("busy_signals", 0), ("redial_delays", 1), ("holds", 2),
                      ("operator_service", 3)):
        end = np.minimum(t + spent[:, col], h)
        segs.append((_INDEX[name], t, end))
        t = end
    segs.append((_INDEX["paper"], np.where(on_paper, np.maximum(quit_, t), recv), recv))
    # The central side: validation, the wait for a verifier, verification.
    verified_ok = np.isfinite(np.asarray(verified, dtype=float))
    v_start = np.where(verified_ok, np.minimum(recv + arr(validate), ver), recv)
    c_start = np.where(verified_ok, np.maximum(ver - np.asarray(check, dtype=float), v_start),
                       recv)
    segs += [(_INDEX["verification"], recv, v_start),
             (_INDEX["verifier_wait"], v_start, c_start),
             (_INDEX["verification"], c_start, np.where(verified_ok, ver, recv))]
    # Publication: waiting for a release, except the part of it inside a halt.
    v = np.where(verified_ok, ver, recv)
    hs = INF if central.halt_start is None else central.halt_start
    he = INF if central.halt_end is None else central.halt_end
    a, b = np.clip(hs, v, pub), np.clip(he, v, pub)
    segs += [(_INDEX["release_wait"], v, a), (_INDEX["halt"], a, b),
             (_INDEX["release_wait"], b, pub)]
    return StageTimes(h, ready, recv, pub, tuple(segs))


@dataclass(frozen=True, slots=True)
class Mark:
    """The clock minute a timing gate reads at, whether it is about publication (else
    receipt), and the fraction of units it asks for."""

    minute: float
    published: bool
    fraction: float


def mark_of(gate: Gate) -> Mark | None:
    """The timing mark of a gate about when units are received or published, else None."""
    m = gate.metric
    if m in ("published_fraction", "received_fraction") and gate.by is not None:
        return Mark(gate.by, m == "published_fraction", gate.threshold)
    if m in ("minutes_to_95pct_published", "minutes_to_95pct_received") and gate.op in ("<=", "<"):
        return Mark(gate.threshold, m.endswith("published"), 0.95)
    return None


@dataclass(frozen=True, slots=True, eq=False)
class NightStages:
    """One night, reduced: per stage of :data:`STAGES` the p50, p95 and mean minutes per
    unit; per gate, the lateness minutes per :data:`LATE_STAGES` past its mark (None for
    a gate without one), the minute its fraction was reached (inf: never) and the
    fraction of meetings over by its mark (nan without one)."""

    p50: Array
    p95: Array
    mean: Array
    late: tuple[Array | None, ...]
    reach: tuple[float, ...]
    ended: tuple[float, ...]


def reduce_night(times: StageTimes, gates: Sequence[Gate]) -> NightStages:
    """What the summary needs of one night's stage times."""
    n = len(times.ready)
    durations = np.zeros((len(STAGES), n))
    for k, start, end in times.segments:
        durations[k] += end - start
    p50, p95 = np.percentile(durations, [50.0, 95.0], axis=1) if n else (
        np.zeros(len(STAGES)), np.zeros(len(STAGES)))
    late: list[Array | None] = []
    reach: list[float] = []
    ended: list[float] = []
    for g in gates:
        mark = mark_of(g)
        if mark is None:
            late.append(None)
            reach.append(INF)
            ended.append(math.nan)
            continue
        t = mark.minute
        due = times.published if mark.published else times.received
        out = np.zeros(len(LATE_STAGES))
        out[0] = float(np.clip(np.minimum(times.ready, due) - t, 0.0, None).sum())
        for k, start, end in times.segments:
            out[k + 1] += float(np.clip(np.minimum(end, due) - np.maximum(start, t),
                                        0.0, None).sum())
        late.append(out)
        ordered = np.sort(np.where(due >= times.horizon, INF, due))
        need = max(1, math.ceil(mark.fraction * n - 1e-9))
        reach.append(float(ordered[need - 1]) if need <= n else INF)
        ended.append(float(np.count_nonzero(times.ready <= t)) / n if n else math.nan)
    return NightStages(p50, p95, durations.mean(axis=1), tuple(late), tuple(reach),
                       tuple(ended))
