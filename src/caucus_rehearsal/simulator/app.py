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

from caucus_rehearsal.simulator.records import AppAttempt, make

if TYPE_CHECKING:
    from caucus_rehearsal.simulator.night import NightState


def in_outage(st: NightState, t: float) -> bool:
    """Whether minute ``t`` falls in one of the target's outage windows."""
    return any(start <= t < end for start, end in st.outages)


def judge(st: NightState, i: int, step: str, latency: float) -> str:
    """The outcome of a request of unit ``i``'s chair that the target served in
    ``latency`` minutes: a timeout, a server error, a refused sign-in, a chair's mistake
    (``confused``), or ``ok``."""
    tgt, draw = st.scenario.target, st.draws.next
    if latency > tgt.timeout:
        return "timeout"
    if draw(i)[0] < tgt.error_rate:
        return "error"
    status = st.behaviour.app_status[i]
    if step == "login":
        if status == "cannot_login" or draw(i)[0] < tgt.login_failure_rate:
            return "rejected"
    elif status == "confused" and draw(i)[0] < st.scenario.people.confused_step_failure:
        return "chair_error"
    return "ok"


def use_app(st: NightState, i: int) -> Generator[Any, Any, bool]:
    """Unit ``i``'s chair walks the app flow; ``True`` once ``final`` is acknowledged
    (the photo step follows but does not change that), ``False`` on falling back.

    Each attempt: think, then the request (an outage costs ``target.timeout``; a full
    target is waited for at most ``target.timeout``; then the latency), then
    :func:`judge`. The request's waits are written inline rather than as a nested
    generator: a night makes thousands of them (benchmarks/bench_night.py).
    """
    env, b, pe = st.env, st.behaviour, st.scenario.people
    timeout, target, draw = env.timeout, st.target, st.draws.next
    wait_max, outages = st.scenario.target.timeout, st.outages
    started, failures = env.now, 0
    think, patience = b.think[i], b.app_patience[i]
    acknowledged, append = False, st.app_attempts.append
    for step in st.steps:
        attempt = 0
        while True:
            yield timeout(think)
            t0 = env.now
            if outages and in_outage(st, t0):
                yield timeout(wait_max)
                outcome = "error"
            else:
                wait = target.acquire(wait_max)
                got = True if wait is None else (yield wait)
                if got:
                    latency = st.latency(*draw(i))
                    yield timeout(latency)
                    target.release()
                    outcome = judge(st, i, step, latency)
                else:
                    outcome = "timeout"
            append(make(AppAttempt, (i, step, attempt, t0, env.now, outcome)))
            attempt += 1
            if outcome == "ok":
                break
            failures += 1
            st.app_failures[i] = failures
            if failures >= pe.app_max_failures or env.now - started >= patience:
                return acknowledged
            yield timeout(b.backoff[i] * 2 ** (failures - 1))
        if step == "final":
            acknowledged = True
            st.acknowledge(i, "app")
    return acknowledged
