"""Locust users for benchmarks/bench_public_reads.py.

``PlainRead`` is the baseline: a bare FastHttpUser GET in a loop (closed loop, no wait).
``OpenReads`` starts the rehearsal's own open-workload reader
(:class:`caucus_rehearsal.rehearsal.public.PublicDemand`) on smoke's scenario with
``[demand]`` set to ``--read-rate`` page views a real second, and writes what it
recorded (its ``reads.jsonl`` rows) to ``--reads-out`` when the test stops.
"""

from __future__ import annotations

import json
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


class PlainRead(FastHttpUser):
    """The baseline: what Locust alone costs per request."""

    wait_time = constant(0)

    @task
    def results(self) -> None:
        self.client.get("/v1/results", name="/v1/results")


class OpenReads(User):
    """Plays the open-workload reader at ``--read-rate`` (one instance)."""

    fixed_count = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        sc = load_scenario("smoke", [f"demand.public_views_per_s={opts.read_rate}",
                                     "demand.doors_close_peak=1", "demand.media_pollers=0",
                                     "live.speed=60"])
        t0 = time.time() + 0.5
        clock = SimClock(t0, 60.0, sc.live.start)
        ctx = SimpleNamespace(scenario=sc, clock=clock, end_wall=t0 + 3600.0, worker=0,
                              workers=1, adapter=ContractV1Adapter(self.host or "", ()))
        self.demand = PublicDemand(self.environment, ctx)  # type: ignore[arg-type]
        self.demand.start()
        out = opts.reads_out

        def dump(**_: Any) -> None:
            self.demand.greenlet.kill(block=False)  # type: ignore[union-attr]
            if out:
                with open(out, "w") as fh:
                    json.dump(self.demand.stats.rows(), fh)

        self.environment.events.test_stopping.add_listener(dump)

    @task
    def idle(self) -> None:
        gevent.sleep(1)
