"""The vocabulary of the run directory, defined once: its files, and the actors, channels,
steps and outcomes of ``events.jsonl`` (docs/run-directory.md).

The app's steps are the model's (:data:`caucus_rehearsal.simulator.plan.APP_STEPS`): the
live rehearsal replays the model's night, so its records use the model's names; the
adversaries' are the attacks' (:data:`caucus_rehearsal.attacks.ATTACKS`).
"""

from __future__ import annotations

from caucus_rehearsal.attacks import ATTACKS
from caucus_rehearsal.simulator.plan import APP_STEPS

# ---- files ------------------------------------------------------------------------------
SCENARIO_FILE = "scenario.toml"
RUN_FILE = "run.json"
ROSTER_FILE = "roster.json"
TRUTH_FILE = "truth.jsonl"
PLAN_FILE = "plan.jsonl"
EVENTS_FILE = "events.jsonl"
SNAPSHOTS_FILE = "snapshots.jsonl"
AUDIT_FILE = "audit.jsonl"
READS_FILE = "reads.jsonl"
BAND_FILE = "band.json"
ZERO_STATE_FILE = "zero_state.json"
"""The zero read: the target's published results before the night (``rehearse run``)."""
LIVE_DIR = ".live"
"""Where the master keeps the run's live counters (``status.json``) for ``rehearse run``'s
status line; not part of the record."""
STATUS_FILE = "status.json"

# ---- run.json ---------------------------------------------------------------------------
RUN_STATUSES = ("preparing", "running", "complete", "interrupted", "aborted")
"""``run.json`` ``status``: the last three say the run has ended."""
ENDED = RUN_STATUSES[2:]

# ---- events.jsonl -----------------------------------------------------------------------
ACTORS = ("chair", "operator", "caller", "adversary", "reader")
"""Who made an attempt: a precinct chair (app), a hotline operator or the paper desk
keying a report in, a chair on the phone (the hotline's queue events), an adversary;
``reader`` only when the adapter failed to build the public's read (the reads themselves
are aggregated in ``reads.jsonl``)."""
CHANNELS = ("app", "hotline", "paper")
APP_DATA_STEPS = APP_STEPS[1:]
"""The app's data steps after sign-in, in order."""
HOTLINE_STEPS = ("call", "hold", "report")
"""A dial (``call``), the end of a hold (``hold``), the operator's entry (``report``)."""
PAPER_STEPS = ("delivered",)
OTHER_STEPS = ("operator_login", "gave_up", "adapter")
"""``adapter``: the target's adapter raised while building a request (a protocol error)."""
ADVERSARY_STEPS = (*ATTACKS, "nuisance")
"""The attacks (``caucus_rehearsal.attacks``) and the nuisance callers."""
STEPS = (*APP_STEPS, *HOTLINE_STEPS, *PAPER_STEPS, *OTHER_STEPS, *ADVERSARY_STEPS)

FINAL_STEPS: dict[str, str] = {"app": "final", "hotline": "report", "paper": "delivered"}
"""Per channel, the data step whose ``ok`` acknowledges the unit."""
DATA_STEPS = frozenset({"attendance", "first", "final", "report", "delivered"})
"""Steps that carry a ``payload`` of results."""

OUTCOMES: dict[str, str] = {
    "ok": "the target acknowledged",
    "rejected": "a 4xx the actor cannot fix (a 422 validation error, a refused sign-in)",
    "error": "a 5xx",
    "timeout": "no answer within live.request_timeout",
    "conn_error": "no connection",
    "locked_out": "429: too many attempts",
    "busy": "all hotline lines busy",
    "queued": "the caller got a line and is on hold",
    "answered": "an operator took the call",
    "abandoned": "the caller hung up on hold",
    "gave_up": "the chair stops trying this channel",
    "protocol_error": "an answer the adapter cannot read, or the adapter raised "
                      "(rehearsal/boundary.py): the target broke the contract",
}
FAILED_OUTCOMES = frozenset({"error", "timeout", "conn_error", "protocol_error"})
"""Request outcomes that count as failures of the target (4xx answers do not)."""
