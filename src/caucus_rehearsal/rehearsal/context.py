"""The per-process state of a live run, rebuilt from the Locust arguments.

One :class:`RunContext` per Locust process (local, or each worker), built on first use
from ``environment.parsed_options`` (which the master ships to its workers, with the
scenario file's text, so a worker needs no file of the master's): the night, the clock,
the adapter, where its event records go (to the master: :mod:`.shipper`), this
process's shard of the units, operator tokens, and the live counters the master sums
for ``rehearse run``'s status line.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from typing import Any, Protocol

from caucus_rehearsal.rehearsal.adapters import load_adapter
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.night import (
    Night,
    build_night,
    operator_count,
    operator_credentials,
    owners,
)
from caucus_rehearsal.simulator.loader import load_scenario, load_scenario_text
from caucus_rehearsal.simulator.plan import ChairPlan
from caucus_rehearsal.simulator.scenario import Scenario


class EventSink(Protocol):
    """Where a process's event records go (:class:`~.shipper.EventShipper`)."""

    def write(self, record: dict[str, Any]) -> None: ...

    def unit_done(self, unit_id: str) -> None: ...


def run_scenario(opts: Any) -> Scenario:
    """The run's scenario: from the text the master shipped (``scenario_text``) when there
    is one, else from ``--scenario``; with the ``--set`` overrides either way."""
    overrides = list(getattr(opts, "scenario_set", None) or [])
    text = getattr(opts, "scenario_text", None)
    if text:
        return load_scenario_text(str(text), str(opts.scenario), overrides)
    return load_scenario(opts.scenario, overrides)


class RunContext:
    """Everything one Locust process needs; ``worker`` is its index among ``workers``;
    its event records go to ``sink``."""

    def __init__(self, opts: Any, host: str, worker: int, workers: int,
                 sink: EventSink) -> None:
        self.scenario = run_scenario(opts)
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
        self.events = sink
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

    def chair_done(self, unit_id: str) -> None:
        """The chair of ``unit_id`` has finished its night (whatever happened)."""
        self.chairs_done += 1
        self.events.unit_done(unit_id)

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

    def counters(self) -> dict[str, float]:
        """This process's live counters (the master sums them for the status line)."""
        return {"in_flight": self.in_flight, "requests": self.requests, "errors": self.errors,
                "chairs_done": self.chairs_done, "units_acked": self.units_acked}

    def wall_s(self, sim_minutes: float) -> float:
        """Wall seconds of a modelled duration (inf stays inf)."""
        return math.inf if math.isinf(sim_minutes) else self.clock.wall_seconds(sim_minutes)
