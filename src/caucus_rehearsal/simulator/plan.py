"""The per-chair plan: what each chair will do on the night, for the live rehearsal.

``draw_plan(scenario, roster, truth)`` takes replication 0 of exactly the draws the
night model (``rehearse simulate``) uses (:mod:`.draws`), so the live run replays one
of the simulated nights. Times are simulation minutes (0 = 19:00); durations are
minutes. One plan per unit, in roster order; ``plan.jsonl`` holds one
:func:`plan_to_json` line per unit (docs/run-directory.md).

How a chair acts (the same rules as the model in :mod:`.night`):

- at ``ready_at`` it starts on ``first_channel``;
- on the app it walks the steps (sign in, attendance, first, final, photo), pausing
  ``think_time_min`` before every attempt; after a failure it falls back to the hotline
  once it has failed ``app_max_failures`` times or ``app_patience_min`` has passed since
  it started, else it retries after ``backoff_min * 2**(failures - 1)``.
  ``cannot_login`` chairs always fail sign-in; ``confused`` chairs get a step wrong
  with probability ``confused_step_failure``;
- on the hotline, call ``k`` (0-based, at most ``max_calls``) holds at most
  ``hold_patience_min[k]`` (unless ``hotline.abandonment`` is false: then it holds
  until answered); after a busy signal or hanging up it waits ``redial_delay_min[k]``;
- after ``max_calls`` calls the worksheet goes on paper, arriving ``paper_delay_min``
  later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from caucus_rehearsal.simulator.draws import draw_behaviour
from caucus_rehearsal.simulator.roster import Roster
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.truth import Truth, Worksheet, tally_from_json, tally_to_json

PLAN_REPLICATION = 0
"""The Monte Carlo replication whose draws become the plan."""

APP_STEPS = ("login", "attendance", "first", "final", "photo")
"""The app flow, in order; ``final`` acknowledges the unit; ``photo`` only when
``app.photo`` is on."""


@dataclass(frozen=True, slots=True)
class ChairPlan:
    """One chair's night; see the module docstring for how the fields are used."""

    unit_id: str
    unit_index: int
    ready_at: float
    app_status: str
    first_channel: str
    app_patience_min: float
    app_max_failures: int
    backoff_min: float
    think_time_min: float
    confused_step_failure: float
    hold_patience_min: tuple[float, ...]
    redial_delay_min: tuple[float, ...]
    max_calls: int
    paper_delay_min: float
    worksheet: Worksheet


def draw_plan(scenario: Scenario, roster: Roster, truth: Truth) -> tuple[ChairPlan, ...]:
    """Every chair's plan, in roster order, from replication 0 of the night model."""
    b = draw_behaviour(scenario, roster.units, PLAN_REPLICATION)
    pe = scenario.people
    return tuple(
        ChairPlan(
            unit_id=u.unit_id,
            unit_index=u.index,
            ready_at=b.ready_at[i],
            app_status=b.app_status[i],
            first_channel=b.first_channel[i],
            app_patience_min=b.app_patience[i],
            app_max_failures=pe.app_max_failures,
            backoff_min=b.backoff[i],
            think_time_min=b.think[i],
            confused_step_failure=pe.confused_step_failure,
            hold_patience_min=tuple(b.hold_patience[i]),
            redial_delay_min=tuple(b.redial_delay[i]),
            max_calls=pe.max_calls,
            paper_delay_min=b.paper_delay[i],
            worksheet=truth.worksheets[i],
        )
        for i, u in enumerate(roster.units)
    )


tally_json = tally_to_json
"""Kept for callers of the first version: the truth's :func:`~.truth.tally_to_json`."""


def plan_to_json(p: ChairPlan, candidates: tuple[str, ...]) -> dict[str, Any]:
    """One ``plan.jsonl`` line: every field, the worksheet with its tally by name."""
    out: dict[str, Any] = {}
    for f in fields(ChairPlan):
        value = getattr(p, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    w = p.worksheet
    out["worksheet"] = {"unit_id": w.unit_id, "tally": tally_to_json(w.tally, candidates),
                        "error": w.error, "error_detail": w.error_detail}
    return out


def plan_from_json(d: Mapping[str, Any], candidates: tuple[str, ...]) -> ChairPlan:
    """A :class:`ChairPlan` from one ``plan.jsonl`` line (the inverse of :func:`plan_to_json`)."""
    w = d["worksheet"]
    worksheet = Worksheet(unit_id=str(w.get("unit_id", d["unit_id"])),
                          tally=tally_from_json(w["tally"], candidates),
                          error=w["error"], error_detail=str(w.get("error_detail", "")))
    return ChairPlan(
        unit_id=str(d["unit_id"]),
        unit_index=int(d["unit_index"]),
        ready_at=float(d["ready_at"]),
        app_status=str(d["app_status"]),
        first_channel=str(d["first_channel"]),
        app_patience_min=float(d["app_patience_min"]),
        app_max_failures=int(d["app_max_failures"]),
        backoff_min=float(d["backoff_min"]),
        think_time_min=float(d["think_time_min"]),
        confused_step_failure=float(d["confused_step_failure"]),
        hold_patience_min=tuple(float(x) for x in d["hold_patience_min"]),
        redial_delay_min=tuple(float(x) for x in d["redial_delay_min"]),
        max_calls=int(d["max_calls"]),
        paper_delay_min=float(d["paper_delay_min"]),
        worksheet=worksheet,
    )
