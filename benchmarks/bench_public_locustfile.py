"""Locust users for benchmarks/bench_public_reads.py.

``PlainRead`` is the baseline: a bare FastHttpUser GET in a loop (closed loop, no wait).
``ClosedReads`` makes the same reads as the open-workload reader, its own
``PublicDemand.read``, but in a closed loop (``--closed-readers`` greenlets, each reading
again as soon as it has its answer): what the reader's work per read costs, apart from
the open workload's arrivals. ``OpenReads`` starts the rehearsal's own open-workload reader
(:class:`caucus_rehearsal.rehearsal.public.PublicDemand`) on smoke's scenario with
``[demand]`` set to ``--read-rate`` page views a real second, and writes what it
recorded (its ``reads.jsonl`` rows) to ``--reads-out`` when the test stops.

Either writes to ``--cpu-out`` the CPU seconds this process spent, the wall seconds and
the requests answered from the moment the load began to the test's end: requests per
CPU second is what one core does whatever else the machine runs meanwhile.
"""

from __future__ import annotations

import json
import resource
import time
from types import SimpleNamespace
from typing import Any

import gevent
from locust import FastHttpUser, User, constant, events, task

from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.public import PublicDemand
from caucus_rehearsal.simulator.loader import load_scenario


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--read-rate", type=float, default=100.0)
    parser.add_argument("--reads-out", default="")
    parser.add_argument("--cpu-out", default="")
    parser.add_argument("--closed-readers", type=int, default=32)


def cpu_s() -> float:
    """CPU seconds (user + system) this process has used."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class CpuMeter:
    """CPU and wall seconds from :meth:`begin` to :meth:`end`, written as JSON."""

    def __init__(self) -> None:
        self.cpu0 = self.wall0 = 0.0

    def begin(self) -> None:
        self.cpu0, self.wall0 = cpu_s(), time.time()

    def end(self, path: str, requests: int) -> None:
        if path and self.wall0:
            with open(path, "w") as fh:
                json.dump({"cpu_s": cpu_s() - self.cpu0, "wall_s": time.time() - self.wall0,
                           "requests": requests}, fh)


METER = CpuMeter()


class PlainLoad:
    """The environment of a run that plays :class:`PlainRead` (set at test start)."""

    environment: Any = None


@events.test_start.add_listener
def _plain_starts(environment: Any, **_: Any) -> None:
    if any(u is PlainRead for u in environment.user_classes):
        PlainLoad.environment = environment


@events.spawning_complete.add_listener
def _plain_began(**_: Any) -> None:
    env = PlainLoad.environment
    if env is not None and env.parsed_options.cpu_out:
        env.stats.reset_all()
        METER.begin()


@events.test_stopping.add_listener
def _plain_ended(environment: Any, **_: Any) -> None:
    if any(u is PlainRead for u in environment.user_classes):
        METER.end(environment.parsed_options.cpu_out, environment.stats.total.num_requests
                  - environment.stats.total.num_failures)


class PlainRead(FastHttpUser):
    """The baseline: what Locust alone costs per request."""

    wait_time = constant(0)

    @task
    def results(self) -> None:
        self.client.get("/v1/results", name="/v1/results")


SPEED = 300.0
"""The bench's clock speed: a bin of reads (5 simulated minutes) is one wall second."""


def public_demand(user: User, rate: float, t0: float) -> PublicDemand:
    """The rehearsal's reader on smoke's scenario at ``rate`` page views a second, no
    surges, no media, from wall time ``t0``."""
    sc = load_scenario("smoke", [f"demand.public_views_per_s={rate}",
                                 "demand.doors_close_peak=1", "demand.media_pollers=0",
                                 f"live.speed={SPEED:g}"])
    clock = SimClock(t0, SPEED, sc.live.start)
    ctx = SimpleNamespace(scenario=sc, clock=clock, end_wall=t0 + 3600.0, worker=0,
                          workers=1, adapter=ContractV1Adapter(user.host or "", ()))
    return PublicDemand(user.environment, ctx)  # type: ignore[arg-type]


class ClosedReads(User):
    """``--closed-readers`` greenlets making the reader's reads back to back (one
    instance)."""

    fixed_count = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        demand = public_demand(self, 1.0, time.time())
        minute = demand.ctx.clock.sim(time.time())

        def loop() -> None:
            while True:
                demand.read(time.time(), minute, "results", -1)

        METER.begin()
        readers = [gevent.spawn(loop) for _ in range(opts.closed_readers)]

        def dump(**_: Any) -> None:
            for g in readers:
                g.kill(block=False)
            METER.end(opts.cpu_out, demand.stats.total().counts["ok"])

        self.environment.events.test_stopping.add_listener(dump)

    @task
    def idle(self) -> None:
        gevent.sleep(1)


class OpenReads(User):
    """Plays the open-workload reader at ``--read-rate`` (one instance)."""

    fixed_count = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        t0 = time.time() + 0.5
        self.demand = public_demand(self, opts.read_rate, t0)
        gevent.sleep(max(0.0, t0 - time.time()))
        METER.begin()
        self.demand.start()
        out = opts.reads_out

        def dump(**_: Any) -> None:
            self.demand.greenlet.kill(block=False)  # type: ignore[union-attr]
            METER.end(opts.cpu_out, self.demand.stats.total().counts["ok"])
            if out:
                with open(out, "w") as fh:
                    json.dump(self.demand.stats.rows(), fh)

        self.environment.events.test_stopping.add_listener(dump)

    @task
    def idle(self) -> None:
        gevent.sleep(1)
