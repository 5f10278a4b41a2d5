"""The central side: validation, verification by N verifiers, and the release policy.

Nothing here feeds back into what chairs do, so the central side is computed from the
night's receipt times after the SimPy run, exactly as a first-come-first-served queue of
``verifiers`` servers would process them (each report: ``validation_time``, then the
next free verifier for ``verification_time``). Publication then follows
``release_policy``; a halt (``halt_start``..``halt_end``, the 2020 conversion failure)
moves every publication that would fall inside it to ``halt_end``.
"""

from __future__ import annotations

import bisect
import heapq
import math

from caucus_rehearsal.simulator.scenario import Central

INF = math.inf


def verify(received: list[float], validate: list[float], check: list[float],
           verifiers: int, shifts: tuple[tuple[float, int], ...] = ()) -> list[float]:
    """When each report is verified (inf if never received); FIFO by arrival.

    ``shifts`` (clock minute, verifiers on duty from then on) change the staffing: desk
    ``k`` is on duty while more than ``k`` verifiers are. Each report goes to the desk
    that can start it first; a report started on duty is finished even if the shift ends.
    """
    n = len(received)
    order = sorted((t, i) for i, t in enumerate(received) if t < INF)
    done = [INF] * n
    if not shifts:
        free = [-INF] * verifiers
        for t, i in order:
            ready = t + validate[i]
            start = max(ready, heapq.heappop(free))
            finish = start + check[i]
            heapq.heappush(free, finish)
            done[i] = finish
        return done
    staffing = [(-INF, verifiers), *shifts]
    desks = max(n for _, n in staffing)
    duty = [_on_duty(staffing, k) for k in range(desks)]
    heap: list[tuple[float, int]] = [(-INF, k) for k in range(desks)]  # (free from, desk)
    for t, i in order:
        ready = t + validate[i]
        while True:  # the earliest-free desk, moved to its next time on duty if off
            avail, k = heapq.heappop(heap)
            start = _next_on(duty[k], max(ready, avail))
            if start == max(ready, avail):
                break
            heapq.heappush(heap, (start, k))
        if start == INF:  # nobody will ever be on duty again
            heapq.heappush(heap, (avail, k))
            continue
        finish = start + check[i]
        heapq.heappush(heap, (finish, k))
        done[i] = finish
    return done


def _on_duty(staffing: list[tuple[float, int]], desk: int) -> list[tuple[float, float]]:
    """The (from, until) windows in which desk ``desk`` is staffed, in time order."""
    out: list[tuple[float, float]] = []
    for j, (start, count) in enumerate(staffing):
        end = staffing[j + 1][0] if j + 1 < len(staffing) else INF
        if count > desk and end > start:
            if out and out[-1][1] == start:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
    return out


def _next_on(windows: list[tuple[float, float]], t: float) -> float:
    """The first moment at or after ``t`` inside one of ``windows`` (inf if none)."""
    for start, end in windows:
        if t < end:
            return max(t, start)
    return INF


def release_moments(c: Central, verified: list[float]) -> list[float]:
    """The policy's release times, sorted: empty for ``continuous``."""
    if c.release_policy == "batches":
        return sorted(c.release_times)
    if c.release_policy == "percent":
        times = sorted(t for t in verified if t < INF)
        n = len(verified)
        out = []
        for p in c.release_percents:
            k = max(1, math.ceil(p / 100 * n))
            if k <= len(times):
                out.append(times[k - 1])
        return sorted(set(out))
    return []


def publish(c: Central, verified: list[float]) -> list[float]:
    """When each unit is published: at the first release moment at or after its
    verification (continuously after the last one), moved out of a halt, inf after
    ``horizon``."""
    moments = release_moments(c, verified)
    out = []
    for v in verified:
        if v == INF:
            out.append(INF)
            continue
        k = bisect.bisect_left(moments, v)
        t = moments[k] if k < len(moments) else v
        if c.halt_start is not None and c.halt_end is not None and c.halt_start <= t < c.halt_end:
            t = c.halt_end
        out.append(t if t < c.horizon else INF)
    return out
