"""``build_report(run_dir)``: reconcile, judge the gates, write the report files.

Writes into ``run_dir``: ``summary.json`` (deterministic: the same run directory gives
the same bytes; nothing in it depends on when the report was built), ``precincts.csv``
(one row per unit with its class), ``charts/*.png`` and ``report.html``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.reports import public
from caucus_rehearsal.reports.consistency import consistency_json
from caucus_rehearsal.reports.fidelity import Fidelity
from caucus_rehearsal.reports.figures import build_charts, build_public_charts, save_charts
from caucus_rehearsal.reports.findings import Finding, findings, not_checked, unit_name
from caucus_rehearsal.reports.integrity import history_json
from caucus_rehearsal.reports.metrics import (
    GateResult,
    Stopped,
    evaluate,
    fidelity,
    hotline,
    target_stopped,
)
from caucus_rehearsal.reports.page import render
from caucus_rehearsal.reports.reconcile import CLASSES, Reconciliation, reconcile
from caucus_rehearsal.reports.security import security, security_json
from caucus_rehearsal.reports.target_errors import target_errors
from caucus_rehearsal.reports.verdict import Verdict, decide
from caucus_rehearsal.reports.zero_state import zero_json
from caucus_rehearsal.rundir.reader import RunDir, read_run_dir
from caucus_rehearsal.simulator.gates import Gate
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.units import format_clock

SUMMARY_VERSION = 2


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What a report concluded: ``verdict`` "pass"/"fail"/"inconclusive"/"error", its
    ``exit_code`` (0/1/4/3), why it is inconclusive or an error (``reasons``), whether the
    run was ``partial``, the files written and the findings (most serious first)."""

    verdict: str
    exit_code: int
    reasons: tuple[str, ...]
    partial: bool
    paths: tuple[Path, ...]
    findings: tuple[str, ...]
    gates: tuple[GateResult, ...]
    reconciliation: Reconciliation


def run_scenario(run: RunDir) -> Scenario:
    """The scenario as used (``scenario.toml`` with ``run.json``'s overrides)."""
    name = str(run.run.get("scenario_file") or "scenario.toml")
    path = run.path / name
    if not path.is_file():
        raise InputFileError(f"{path}: missing (the scenario as used by the run)")
    overrides = [str(o) for o in run.run.get("overrides") or []]
    return load_scenario(str(path), overrides)


def scenario_gates(run: RunDir) -> tuple[Gate, ...]:
    """The gates of the scenario as used."""
    return run_scenario(run).gates


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Server faults of a run: ``whole_run`` (``run.json`` ``server_faults``, on from the
    start) and ``scheduled`` (``[[live.faults]]``: fault, on at, off at or None) which the
    run switches only on the reference server (``applied``)."""

    whole_run: tuple[str, ...]
    scheduled: tuple[tuple[str, float, float | None], ...]
    applied: bool

    def text(self) -> str:
        """``incomplete-output from 21:00`` ..., or ``none``."""
        parts = [f"{f} (whole run)" for f in self.whole_run]
        for fault, at, until in self.scheduled:
            when = f"{format_clock(at)}–{format_clock(until)}" if until is not None \
                else f"from {format_clock(at)}"
            parts.append(f"{fault} {when}" + ("" if self.applied else
                                               " (not applied: not the reference server)"))
        return ", ".join(parts) or "none"

    def as_json(self) -> dict[str, Any]:
        return {"whole_run": list(self.whole_run), "applied": self.applied,
                "scheduled": [{"fault": f, "at": format_clock(at),
                               "until": None if u is None else format_clock(u)}
                              for f, at, u in self.scheduled]}


def fault_plan_of_run(run: RunDir) -> FaultPlan:
    """:func:`fault_plan` with the run's own scenario."""
    return fault_plan(run, run_scenario(run))


def fault_plan(run: RunDir, scenario: Scenario) -> FaultPlan:
    """The server faults set for the run and those scheduled by its scenario."""
    return FaultPlan(tuple(str(f) for f in run.run.get("server_faults") or []),
                     tuple((f.fault, f.at, f.until) for f in scenario.live.faults),
                     run.run.get("reference_server") is not False)


def _num(v: float | None, digits: int = 6) -> float | None:
    if v is None or math.isinf(v) or math.isnan(v):
        return None
    return round(v, digits)


def _gate_json(g: GateResult) -> dict[str, Any]:
    return {"gate": str(g.gate), "metric": g.gate.metric, "op": g.gate.op,
            "threshold": g.gate.threshold,
            "by": None if g.gate.by is None else format_clock(g.gate.by),
            "value": _num(g.value), "never": g.value is not None and math.isinf(g.value),
            "result": g.status, "why": g.why, "note": g.note}


def summary(run: RunDir, rec: Reconciliation, gates: list[GateResult], found: list[Finding],
            fid: Fidelity, verdict: Verdict, stopped: Stopped | None = None,
            faults: FaultPlan | None = None) -> dict[str, Any]:
    """The content of ``summary.json``."""
    lost = [u for u in rec.units if u.klass == "acknowledged_not_published"]
    sw = rec.statewide
    return {
        "version": SUMMARY_VERSION,
        "verdict": verdict.verdict,
        "exit_code": verdict.exit_code,
        "inconclusive_reasons": list(verdict.reasons) if verdict.verdict == "inconclusive"
        else [],
        "target_errors": target_errors(run).as_json(),
        "target_stopped": None if stopped is None else {
            "since": format_clock(stopped.since), "since_min": round(stopped.since, 3),
            "requests": stopped.requests, "unanswered": stopped.unanswered,
            "by_outcome": dict(sorted(stopped.kinds.items()))},
        "scenario": run.run.get("scenario"),
        "run_status": run.status,
        "server_faults": (faults or fault_plan_of_run(run)).as_json(),
        "partial": run.partial,
        "truncated_files": sorted(run.truncated),
        "units": len(rec.units),
        "gates": [_gate_json(g) for g in gates],
        "reconciliation": dict(rec.counts),
        "data_loss": sum(u.data_lost for u in rec.units),
        "mismatches": sum(u.mismatched for u in rec.units),
        "lost_precincts": [{"unit_id": u.unit_id, "name": unit_name(u), "channel": u.channel}
                           for u in lost],
        "mismatched_precincts": [{"unit_id": u.unit_id, "name": unit_name(u),
                                  "differences": [d.as_json() for d in u.vs_ack]}
                                 for u in rec.units if u.mismatched],
        "published_fields": sorted(run.published_fields),
        "not_checked": not_checked(run),
        "published_consistency": consistency_json(rec.consistency),
        "security": security_json(security(run)),
        "zero_state": zero_json(rec.zero_state),
        "integrity": history_json(rec.integrity),
        "statewide": {"truth": sw.truth, "published": sw.published,
                      "truth_sde_leader": list(sw.truth_winner),
                      "published_sde_leader": list(sw.published_winner),
                      "winner_differs": sw.winner_differs},
        "hotline": hotline(run.events).figures(),
        "schedule_fidelity": fid.as_json(),
        "findings": [f.text for f in found],
    }


def precincts_csv(rec: Reconciliation) -> str:
    """One row per unit: its class, what happened, and the differences found."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["unit_id", "county", "precinct", "class", "class_label", "reason", "channel",
                "acknowledged_at", "published_at", "worksheet_error", "published_vs_truth",
                "published_vs_acknowledged"])
    for u in rec.units:
        w.writerow([u.unit_id, u.county, u.precinct, u.klass, CLASSES[u.klass], u.reason,
                    u.channel,
                    "" if u.ack_min is None else format_clock(u.ack_min),
                    "" if u.published_min is None else format_clock(u.published_min),
                    u.worksheet_error or "",
                    "; ".join(d.text() for d in u.vs_truth),
                    "; ".join(d.text("acknowledged", "published") for d in u.vs_ack)])
    return buf.getvalue()


def build_report(run_dir: Path) -> ReportOutcome:
    """Build the report of the run in ``run_dir`` (complete or partial) and write its files.

    Raises :class:`InputFileError` (or ``ScenarioError``) when ``run_dir`` is not a
    readable run directory.
    """
    run_dir = Path(run_dir)
    run = read_run_dir(run_dir)
    scenario = run_scenario(run)
    faults = fault_plan(run, scenario)
    fid = fidelity(run)
    gates = evaluate(run, rec := reconcile(run), scenario.gates, fid)
    stopped = target_stopped(run.events)
    verdict = decide(run, rec, gates, stopped)
    view = public.windows(run, scenario) if run.reads.bins else []
    found = findings(run, rec, gates, verdict, stopped, fid, view)
    charts = build_charts(run, rec) + build_public_charts(run, scenario, view)
    paths = save_charts(charts, run_dir / "charts")
    doc = summary(run, rec, gates, found, fid, verdict, stopped, faults)
    doc["public"] = public.as_json(run, view)
    files = {
        "summary.json": json.dumps(doc, indent=2, allow_nan=False) + "\n",
        "precincts.csv": precincts_csv(rec),
        "report.html": render(run, rec, gates, found, fid, charts, verdict.verdict,
                              faults.text(), view),
    }
    for name, text in files.items():
        path = run_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return ReportOutcome(verdict=verdict.verdict, exit_code=verdict.exit_code,
                         reasons=verdict.reasons, partial=run.partial, paths=tuple(paths),
                         findings=tuple(f.text for f in found), gates=tuple(gates),
                         reconciliation=rec)
