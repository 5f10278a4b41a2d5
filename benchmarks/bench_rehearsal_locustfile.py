"""Locust users for benchmarks/bench_rehearsal.py's no-wait throughput comparison.

``PlainFastHttp`` is the baseline: a bare FastHttpUser GET in a loop. ``ChairMachinery``
sends the same request through the path every chair attempt takes (adapter-built
``HttpCall``, ``send``: X-Request-Id, catch_response validation, adapter interpretation,
counters, one flushed ``events.jsonl`` line), also without waiting.
"""

from __future__ import annotations

import time

from locust import FastHttpUser, constant, task

from caucus_rehearsal.rehearsal.send import send
from caucus_rehearsal.rehearsal.users import context


class PlainFastHttp(FastHttpUser):
    """The baseline: what Locust alone costs per request."""

    wait_time = constant(0)

    @task
    def results(self) -> None:
        self.client.get("/v1/results", name="/v1/results")


class ChairMachinery(FastHttpUser):
    """The rehearsal's per-attempt machinery around the same request."""

    wait_time = constant(0)

    @task
    def results(self) -> None:
        ctx = context(self.environment)
        send(self.client, ctx, ctx.adapter.results_call(None), ctx.clock.sim(time.time()),
             unit_id="IA-0001", actor="chair", channel="app")
