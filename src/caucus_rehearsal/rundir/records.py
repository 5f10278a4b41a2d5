"""The typed records of the run directory (docs/run-directory.md), defined once.

JSON records as they are written: :class:`RunInfo` (``run.json``), :class:`Event` (a line
of ``events.jsonl``), :class:`LostWorker` (in ``run.json``); a line of ``reads.jsonl`` is a
:class:`~caucus_rehearsal.rundir.reads.ReadBin`, a line of ``snapshots.jsonl`` is read as
a :class:`~caucus_rehearsal.rundir.reader.Snapshot`. And the records the reader makes of
``truth.jsonl`` and ``plan.jsonl``: :class:`TruthUnit` and :class:`PlanUnit`. The words
they use are in :mod:`.vocab`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

Json = dict[str, Any]


class LostWorker(TypedDict):
    """A load-generator process the master lost mid-run (its heartbeat stopped)."""

    worker: int
    """Its index (which units it owned: ``rehearsal.night.owners``)."""
    lost_wall: float
    lost_sim_min: float
    units_not_played: list[str]
    """The units it owned whose chair had not finished when it was lost, roster order."""


class RunInfo(TypedDict, total=False):
    """``run.json``: what the run was, written at its start and rewritten at its end."""

    scenario: str
    scenario_file: str
    overrides: list[str]
    seed: int
    speed: float
    speed_auto: str
    sim_start_min: float
    sim_end_min: float
    t0_wall: float | None
    target: str | None
    adapter: str
    published_fields: list[str]
    """What the target publishes, as its adapter declares (``caucus_rehearsal.published``)."""
    reference_server: bool | None
    server_faults: list[str]
    status: str
    """One of :data:`~caucus_rehearsal.rundir.vocab.RUN_STATUSES`."""
    stop_reason: str
    ended_wall: float | None
    version: str
    workers: int
    """Load-generator processes the master expected (1: a single local process)."""
    events_received: dict[str, int]
    """Per worker index, the event records the master wrote for it."""
    lost_workers: list[LostWorker]
    target_error: dict[str, Any]
    """Where the target broke the contract (``rehearsal.boundary.Problem``), if it did."""


class Event(TypedDict, total=False):
    """One line of ``events.jsonl``: one attempt by a simulated actor."""

    unit_id: str
    actor: str
    channel: str
    step: str
    attempt: int
    sim_min: float
    intended_wall: float
    sent_wall: float
    late_ms: float
    late_min: float
    late_target_ms: float
    latency_ms: float
    status: int
    outcome: str
    request_id: str
    detail: str
    payload: Json
    worker: int
    operator: str
    attacker: int
    queue_len: int | None
    wait_min: float


@dataclass(frozen=True, slots=True)
class TruthUnit:
    """One line of ``truth.jsonl``: ``tally`` maps field to count (or candidate -> count)."""

    unit_id: str
    county: str
    precinct: str
    satellite: bool
    delegates_total: int
    coin_toss: bool
    tally: Json


@dataclass(frozen=True, slots=True)
class PlanUnit:
    """What ``plan.jsonl`` says of one unit's worksheet: its tally and its error, if any."""

    unit_id: str
    tally: Json
    error: str | None
    error_detail: str
    raw: Json
