"""The phone hotline: chairs calling in, nuisance callers, lines and operators.

A caller first needs a line (``hotline.lines``; all busy is a busy signal), then waits on
hold for an operator (``hotline.operators``, first come first served) until answered
or until its patience runs out (``hotline.abandonment``). With ``hotline.hold_capacity``
set, the phone system holds callers in its own queue instead: a caller who finds no
operator free and that many callers already holding hears a busy signal, and at most
``lines`` operators talk at once (``NightState`` sizes the pool so). The operator's service time
includes reading the numbers back; with ``typo_rate`` one number is keyed wrong.
Nuisance callers (``[adversaries]``) arrive as a Poisson stream from ``nuisance_start``
while any chair may still call, and each holds an operator for ``nuisance_hold``.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from caucus_rehearsal.simulator.records import NUISANCE, Call, make

if TYPE_CHECKING:
    from caucus_rehearsal.simulator.night import NightState

CHUNK = 256
"""Nuisance callers drawn per block from the night's ``nuisance`` stream."""


def queue_full(st: NightState) -> bool:
    """Whether the phone system's own hold queue (``hotline.hold_capacity``) turns a
    caller away: no operator free and the queue full (never when the option is unset)."""
    ops = st.operators
    return ops.free == 0 and ops.waiting >= st.hold_capacity


def call(st: NightState, caller: int, call_no: int, patience: float,
         service: float) -> Generator[Any, Any, str]:
    """One dial by a nuisance caller; returns ``busy``, ``abandoned`` or ``answered``
    (after holding an operator for ``service`` minutes). Chairs dial in :func:`phone`."""
    env = st.env
    dial = env.now
    if queue_full(st) or not st.lines.take():
        st.calls.append(Call(caller, call_no, dial, "busy", 0.0, 0.0))
        return "busy"
    wait = st.operators.acquire(patience if st.abandonment else math.inf)
    if wait is not None:
        answered = yield wait
        if not answered:
            st.lines.put()
            st.calls.append(Call(caller, call_no, dial, "abandoned", env.now - dial, 0.0))
            return "abandoned"
    hold = env.now - dial
    yield env.timeout(service)
    st.operators.release()
    st.lines.put()
    st.calls.append(Call(caller, call_no, dial, "answered", hold, service))
    return "answered"


def phone(st: NightState, i: int, ready_at: float = -math.inf,
          finish: bool = False) -> Generator[Any, Any, bool]:
    """Unit ``i``'s chair calls until answered (``True``) or out of calls (``False``).

    It first waits until ``ready_at`` (and the hotline's opening). With ``finish`` it
    also closes the unit's night (:meth:`NightState.finish`): a chair whose first channel
    is the phone runs this as its whole process, saving a generator level on every one
    of its dials. Each dial is :func:`call`, written inline for speed. Where the chair's
    time goes is added up as it goes (``st.phone_spent[i]``, for :mod:`.stages`).
    """
    env, lines, operators = st.env, st.lines, st.operators
    calls = st.calls
    start = max(ready_at, st.scenario.hotline.opens)
    if env.now < start:
        yield env.timeout(start - env.now)
    st.phone_start[i] = env.now
    spent = st.phone_spent[i]  # minutes: busy-signal redials, other redials, holds, service
    patience, redial = st.behaviour.hold_patience[i], st.behaviour.redial_delay[i]
    capacity, timeout, abandonment = lines.capacity, env.timeout, st.abandonment
    hold_capacity = st.hold_capacity
    draw, typo_rate = st.draws.next, st.scenario.hotline.typo_rate
    append = calls.append
    done, made = False, 0
    for k in range(st.scenario.people.max_calls if operators.servers else 0):
        dial, made = env.now, k + 1
        if ((capacity and lines.busy >= capacity)  # busy signal: no line to hold on
                or (not operators.free and operators.waiting >= hold_capacity)):
            append(make(Call, (i, k, dial, "busy", 0.0, 0.0, False)))
            spent[0] += redial[k]
        else:
            lines.busy += 1
            wait = operators.acquire(patience[k] if abandonment else math.inf)
            answered = True if wait is None else (yield wait)
            if answered:
                hold = env.now - dial
                service = st.service_time(*draw(i))
                typo = draw(i)[0] < typo_rate
                yield timeout(service)
                operators.release()
                lines.busy -= 1
                append(make(Call, (i, k, dial, "answered", hold, service, typo)))
                spent[2] += hold
                spent[3] += service
                st.acknowledge(i, "hotline")
                done = True
                break
            lines.busy -= 1
            held = env.now - dial
            append(make(Call, (i, k, dial, "abandoned", held, 0.0, False)))
            spent[1] += redial[k]
            spent[2] += held
        yield timeout(redial[k])
    st.unit_calls[i] = made
    if finish:
        st.finish(i, done)
    return done


def nuisance(st: NightState) -> Generator[Any, Any, None]:
    """Nuisance callers from ``nuisance_start`` while any chair may still call."""
    adv = st.scenario.adversaries
    if adv.nuisance_start is None or adv.nuisance_rate_per_min <= 0:
        return
    env, rng = st.env, st.nuisance_rng
    if env.now < adv.nuisance_start:
        yield env.timeout(adv.nuisance_start - env.now)
    mean_gap = 1.0 / adv.nuisance_rate_per_min
    hold, patience = st.nuisance_hold, st.nuisance_patience
    n = 0
    while st.phone_pending > 0:
        if n % CHUNK == 0:  # draw in blocks: gap, then (u, z) for the hold and the patience
            gaps = rng.standard_exponential(CHUNK).tolist()
            us, zs = rng.random((CHUNK, 2)).tolist(), rng.standard_normal((CHUNK, 2)).tolist()
        j = n % CHUNK
        yield env.timeout(gaps[j] * mean_gap)
        if st.phone_pending <= 0:
            break
        (u1, u2), (z1, z2) = us[j], zs[j]
        env.process(call(st, NUISANCE, n, patience(u2, z2), hold(u1, z1)))
        st.processes += 1
        n += 1
