"""A chair on the app: the flow's steps against the modelled target, retries, fallback.

The target (``[target]``) answers each request after a latency draw, fails it with
``error_rate``, refuses a sign-in with ``login_failure_rate``, serves at most
``capacity`` requests at once (the rest wait in line; longer than ``timeout`` is a
failure) and answers nothing useful during an outage window (the chair waits
``timeout`` and counts a failure). The chair's own behaviour is in :mod:`.plan`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from caucus_rehearsal.simulator.records import AppAttempt

if TYPE_CHECKING:
    from caucus_rehearsal.simulator.night import NightState


def in_outage(st: NightState, t: float) -> bool:
    """Whether minute ``t`` falls in one of the target's outage windows."""
    return any(start <= t < end for start, end in st.outages)


def request(st: NightState, i: int, step: str) -> Generator[Any, Any, str]:
    """One request of unit ``i``'s chair to the target; returns its outcome."""
    env, tgt = st.env, st.scenario.target
    if st.outages and in_outage(st, env.now):
        yield env.timeout(tgt.timeout)
        return "error"
    wait = st.target.acquire(tgt.timeout)
    if wait is not None:
        got = yield wait
        if not got:
            return "timeout"
    u, z = st.draws[i].next()
    latency = st.latency(u, z)
    yield env.timeout(latency)
    st.target.release()
    if latency > tgt.timeout:
        return "timeout"
    e, _ = st.draws[i].next()
    if e < tgt.error_rate:
        return "error"
    status = st.behaviour.app_status[i]
    if step == "login":
        v, _ = st.draws[i].next()
        if status == "cannot_login" or v < tgt.login_failure_rate:
            return "rejected"
    elif status == "confused":
        v, _ = st.draws[i].next()
        if v < st.scenario.people.confused_step_failure:
            return "chair_error"
    return "ok"


def use_app(st: NightState, i: int) -> Generator[Any, Any, bool]:
    """Unit ``i``'s chair walks the app flow; ``True`` once ``final`` is acknowledged
    (the photo step follows but does not change that), ``False`` on falling back."""
    env, b, pe = st.env, st.behaviour, st.scenario.people
    started, failures = env.now, 0
    think, patience = b.think[i], b.app_patience[i]
    acknowledged = False
    for step in st.steps:
        attempt = 0
        while True:
            yield env.timeout(think)
            t0 = env.now
            outcome = yield from request(st, i, step)
            st.app_attempts.append(AppAttempt(i, step, attempt, t0, env.now, outcome))
            attempt += 1
            if outcome == "ok":
                break
            failures += 1
            st.app_failures[i] = failures
            if failures >= pe.app_max_failures or env.now - started >= patience:
                return acknowledged
            yield env.timeout(b.backoff[i] * 2 ** (failures - 1))
        if step == "final":
            acknowledged = True
            st.acknowledge(i, "app")
    return acknowledged
