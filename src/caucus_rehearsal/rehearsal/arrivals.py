"""When the public and the media read: the arrival instants of a process's share of the
demand (``simulator/demand.py``), in wall time.

Page views are a Poisson process whose rate at each wall instant is the demand at the
modelled moment the run's clock shows then (per **real** second: docs/time.md), drawn
slice by slice (:data:`SLICE_S`) from the process's own seeded stream; media pollers are
periodic, each with its own seeded phase. Each load-generator process plays
``1/workers`` of the page views (independent Poisson processes add up to the demand)
and the pollers whose number modulo ``workers`` is its own.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

import numpy as np

from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.simulator.demand import Demand, Surge, public_requests_per_s
from caucus_rehearsal.simulator.streams import stream

SLICE_S = 0.1
"""Wall seconds per slice of the page-view arrivals: each slice draws its Poisson count at
the rate of its midpoint, and spreads the arrivals uniformly over it."""

Arrival = tuple[float, str, int]
"""(due wall time, endpoint, media poller number or -1)."""


def page_view_arrivals(rng: np.random.Generator, clock: SimClock, demand: Demand,
                       night_surges: tuple[Surge, ...], start_wall: float, end_wall: float,
                       share: float) -> Iterator[Arrival]:
    """The due instants of this process's page-view reads in wall time, in order: a
    Poisson process at ``share`` of the demand's rate, slice by slice (:data:`SLICE_S`)."""
    t = start_wall
    while t < end_wall:
        width = min(SLICE_S, end_wall - t)
        rate = share * public_requests_per_s(demand, night_surges, clock.sim(t + width / 2))
        n = int(rng.poisson(rate * width)) if rate > 0 else 0
        if n:
            for due in np.sort(t + rng.random(n) * width):
                yield float(due), "results", -1
        t += width


def media_arrivals(seed: int, demand: Demand, start_wall: float, end_wall: float,
                   worker: int, workers: int) -> Iterator[Arrival]:
    """The due instants of the media pollers this process plays (number ``p`` with
    ``p % workers == worker``), each periodic with its own seeded phase, in order."""
    period = demand.media_poll_s

    def poller(p: int) -> Iterator[Arrival]:
        t = start_wall + period * float(stream(seed, "media-poller", p).random())
        while t < end_wall:
            yield t, "feed", p
            t += period

    mine = [poller(p) for p in range(demand.media_pollers) if p % workers == worker]
    return heapq.merge(*mine)
