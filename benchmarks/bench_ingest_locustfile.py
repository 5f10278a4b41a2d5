"""Locust users for benchmarks/bench_ingest.py: every worker ships event records to the
master as fast as it can make them, through the rehearsal's own shipper
(``rehearsal/shipper.py``), and records reads into its aggregates; the master is the
rehearsal's own recorder (``rehearsal/recorder.py``), the run directory's only writer.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

import gevent
from locust import User, constant, task
from locust.exception import StopUser

import caucus_rehearsal.rehearsal.users as hooks  # the rehearsal's listeners, no user class
from caucus_rehearsal.rehearsal.process_state import state_of

SECONDS = float(os.environ.get("FIREHOSE_S", "10"))
TEMPLATE: dict[str, Any] = {
    "unit_id": "IA-0001", "actor": "chair", "channel": "app", "step": "final", "attempt": 1,
    "sim_min": 112.4, "intended_wall": 0.0, "sent_wall": 0.0, "late_ms": 0.4,
    "late_min": 0.004, "latency_ms": 4.2, "status": 201, "outcome": "ok",
    "request_id": "IA-0001-final-w0-1", "detail": "", "worker": 0,
    "payload": {"attendance": 120, "first": {"A": 60, "B": 40, "C": 20},
                "final": {"A": 70, "B": 50}, "delegates": {"A": 3, "B": 2}}}


class Firehose(User):
    """One per worker: event records as fast as this process can make them, for
    ``FIREHOSE_S`` seconds; prints how many it made."""

    fixed_count = 0
    wait_time = constant(0)

    @task
    def pour(self) -> None:
        ctx = hooks.context(self.environment)
        st = state_of(self.environment)
        shipper, reads = st.shipper, st.demand.stats if st.demand else None
        assert shipper is not None and reads is not None
        gevent.sleep(max(0.0, ctx.clock.t0_wall - time.time()))
        rng = random.Random(ctx.worker)
        n, end = 0, time.time() + SECONDS
        while time.time() < end:
            for _ in range(100):
                now = time.time()
                rec = dict(TEMPLATE, sim_min=round(ctx.clock.sim(now), 4), intended_wall=now,
                           sent_wall=now, worker=ctx.worker, request_id=f"r-{ctx.worker}-{n}")
                ctx.log(**rec)
                if n % 10 == 0:
                    reads.at(ctx.clock.sim(now), "results").record(
                        "ok", rng.uniform(0.001, 0.05), 0.0001, versioned=True)
                n += 1
            gevent.sleep(0)
        print(json.dumps({"worker": ctx.worker, "made": n, "seconds": SECONDS}), flush=True)
        raise StopUser()
