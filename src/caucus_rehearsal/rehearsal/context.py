"""The per-process state of a live run, rebuilt from the Locust arguments.

One :class:`RunContext` per Locust process (local, or each worker), built on first use
from ``environment.parsed_options`` (which the master ships to its workers): the night,
the clock, the adapter, the event log, this process's shard of the units, operator
tokens, and the counters the live status line reads (``.live/w<index>.json``).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

from caucus_rehearsal.rehearsal.adapters import load_adapter
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.eventlog import EVENTS_FILE, EventLog
from caucus_rehearsal.rehearsal.night import (
    Night,
    build_night,
    operator_count,
    operator_credentials,
    owners,
)
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.plan import ChairPlan

LIVE_DIR = ".live"
"""Run-directory folder where each Locust process keeps its live counters."""


class RunContext:
    """Everything one Locust process needs; ``worker`` is its index among ``workers``."""

    def __init__(self, opts: Any, host: str, worker: int, workers: int) -> None:
        overrides = list(getattr(opts, "scenario_set", None) or [])
        self.scenario = load_scenario(opts.scenario, overrides)
        sc = self.scenario
        self.speed = float(opts.speed or sc.live.speed)
        t0 = float(opts.t0 or 0.0)
        if t0 <= 0:
            raise ValueError("--t0 is not set (the master sets it at test start)")
        self.clock = SimClock(t0, self.speed, sc.live.start)
        self.end_sim = sc.live.end
        self.end_wall = self.clock.wall(sc.live.end)
        self.night: Night = build_night(sc)
        self.worker, self.workers = worker, workers
        self.run_dir = Path(opts.run_dir)
        self.events = EventLog(self.run_dir / EVENTS_FILE)
        self.adapter = load_adapter(opts.adapter)(host, self.night.candidates,
                                                  getattr(opts, "admin_token", "") or "")
        owner = owners(sc.seed, len(self.night.plans), workers)
        self.owned: list[ChairPlan] = [p for p in self.night.plans if owner[p.unit_index] == worker]
        self._unclaimed: deque[ChairPlan] = deque(self.owned)
        self.operators = dict(operator_credentials(sc.seed, operator_count(sc)))
        self.operator_tokens: dict[str, str] = {}
        self.acknowledged: list[tuple[str, str, float]] = []
        """(unit_id, chair token, modelled minute) of each app final acknowledged: the
        adversaries' victims."""
        self.in_flight = 0
        self.requests = 0
        self.errors = 0
        self.chairs_done = 0
        self.units_acked = 0
        self._seq = itertools.count(1)

    # ---- units --------------------------------------------------------------------------
    def claim(self) -> ChairPlan | None:
        """The next owned unit no chair slot has taken yet."""
        return self._unclaimed.popleft() if self._unclaimed else None

    @property
    def all_chairs_done(self) -> bool:
        return self.chairs_done >= len(self.owned)

    # ---- logging ------------------------------------------------------------------------
    def request_id(self, unit_id: str, step: str) -> str:
        """A run-unique request id, sent as X-Request-Id."""
        return f"{unit_id}-{step}-w{self.worker}-{next(self._seq)}"

    def log(self, **fields: Any) -> None:
        """Append one event; fills ``worker`` and, when the caller gave no modelled moment,
        ``sim_min`` of now."""
        fields.setdefault("worker", self.worker)
        if "sim_min" not in fields:
            fields["sim_min"] = round(self.clock.sim(time.time()), 4)
        self.events.write(fields)

    def write_live(self) -> None:
        """Publish this process's counters for the orchestrator's status line."""
        path = self.run_dir / LIVE_DIR / f"w{self.worker}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({
            "wall": time.time(), "in_flight": self.in_flight, "requests": self.requests,
            "errors": self.errors, "chairs": len(self.owned), "chairs_done": self.chairs_done,
            "units_acked": self.units_acked}))
        os.replace(tmp, path)

    def wall_s(self, sim_minutes: float) -> float:
        """Wall seconds of a modelled duration (inf stays inf)."""
        return math.inf if math.isinf(sim_minutes) else self.clock.wall_seconds(sim_minutes)
