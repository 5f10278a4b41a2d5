"""``--speed auto``: the fastest speed at which this run can keep its schedule.

A short probe before the night (docs/time.md):

- the target's latency: :data:`PROBE_READS` reads of its published results (a read is
  at least as slow as a chair's small write, so this errs towards a lower speed); the
  compressed time a chair has between two actions (the plan's 10th-percentile think
  time) must stay :data:`LATENCY_MARGIN` times that p95 latency;
- the load generator's headroom: the share of one core this machine gives a busy loop
  right now (1.0 on a quiet machine, about 0.67 beside two CPU-bound processes on two
  cores), against the night's busiest :data:`BIN_MIN` simulated minutes of requests at
  :data:`CPU_MS_PER_REQUEST` (the generator's and the reference server's CPU per request,
  ``benchmarks/bench_rehearsal.py``), using at most :data:`CPU_BUDGET` of the headroom.

The speed is the lower of the two, rounded down to two significant figures, between 1
and :data:`MAX_SPEED`.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

import httpx

from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter
from caucus_rehearsal.simulator.plan import ChairPlan
from caucus_rehearsal.simulator.scenario import Scenario

PROBE_READS = 20
LATENCY_MARGIN = 1.0
"""The compressed think time must be at least the target's p95 latency times this."""
BIN_MIN = 5.0
CPU_MS_PER_REQUEST = 1.0
"""CPU per chair request in the load generator, and again in the reference server, each
on its own core (measured: 9.2 s and 9.8 s for 9,200 requests of well-prepared at speed
600, readers and start-up included)."""
CPU_BUDGET = 0.8
"""The share of the free CPU the night's busiest minutes may take."""
MAX_SPEED = 1200.0
HEADROOM_PROBE_S = 0.3


@dataclass(frozen=True, slots=True)
class SpeedChoice:
    """The chosen ``speed`` and what limited it, in words."""

    speed: float
    latency_p95_ms: float
    cpu_share: float
    by_latency: float
    by_cpu: float

    def text(self) -> str:
        limit = "the target's latency" if self.by_latency <= self.by_cpu else \
            "this machine's CPU headroom"
        return (f"speed auto: {self.speed:g} (target p95 latency {self.latency_p95_ms:.0f} ms "
                f"allows up to {self.by_latency:.0f}; {self.cpu_share:.0%} of a core free "
                f"allows up to {self.by_cpu:.0f}; limited by {limit})")


def cpu_share(seconds: float = HEADROOM_PROBE_S) -> float:
    """The share of one core a busy loop in this process gets over ``seconds``."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        sum(range(1000))
    return min(1.0, (time.process_time() - cpu0) / max(1e-9, time.perf_counter() - wall0))


def target_latency_s(adapter: TargetAdapter, client: httpx.Client,
                     reads: int = PROBE_READS) -> float:
    """The p95 of ``reads`` timed reads of the target's published results (seconds)."""
    took = []
    for _ in range(reads):
        t = time.perf_counter()
        adapter.published_since(client, None)
        took.append(time.perf_counter() - t)
    return statistics.quantiles(took, n=20)[-1] if len(took) > 1 else took[0]


def peak_requests_per_min(plans: tuple[ChairPlan, ...], scenario: Scenario) -> float:
    """The busiest :data:`BIN_MIN` of the modelled night in chair requests per simulated
    minute: an app chair's steps one think time apart from its start, a phone chair's
    operator sign-in and report."""
    app_steps = 4 + (1 if scenario.app.photo else 0)
    bins: dict[int, int] = {}
    for p in plans:
        if p.first_channel == "app" and scenario.app.enabled:
            moments = [p.ready_at + k * p.think_time_min for k in range(app_steps)]
        else:
            moments = [p.ready_at, p.ready_at]
        for m in moments:
            k = int(m // BIN_MIN)
            bins[k] = bins.get(k, 0) + 1
    return max(bins.values(), default=0) / BIN_MIN


def _round_down(x: float) -> float:
    if x <= 1:
        return 1.0
    step = 10.0 ** (math.floor(math.log10(x)) - 1)
    return round(math.floor(x / step) * step, 6)


def choose_speed(adapter: TargetAdapter, client: httpx.Client, plans: tuple[ChairPlan, ...],
                 scenario: Scenario) -> SpeedChoice:
    """Probe the target and this machine; the fastest faithful speed (see the module).

    The compressed think time the latency is held against is the plan's 10th percentile
    (:data:`LATENCY_MARGIN`)."""
    latency = target_latency_s(adapter, client)
    think = sorted(p.think_time_min for p in plans)
    think_p10_min = think[len(think) // 10] if think else 1.0
    by_latency = think_p10_min * 60.0 / max(1e-6, LATENCY_MARGIN * latency)
    share = cpu_share()
    budget_per_s = CPU_BUDGET * share * 1000.0 / CPU_MS_PER_REQUEST
    peak = peak_requests_per_min(plans, scenario)
    by_cpu = budget_per_s * 60.0 / peak if peak > 0 else MAX_SPEED
    speed = _round_down(min(MAX_SPEED, by_latency, by_cpu))
    return SpeedChoice(speed, latency * 1000.0, share, by_latency, by_cpu)
