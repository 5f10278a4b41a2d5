"""The verdict of a run: pass, fail, inconclusive or error, and its exit code.

- **error** (exit 3): the target broke the contract or could not be reached: an answer
  its adapter could not read, a read that never ends, a call the run could not make
  (:mod:`.target_errors`); the target's failure, named, before any gate;
- **fail** (exit 1): a gate was judged failed (:func:`.fidelity.judge`), or the target
  stopped answering during the run;
- **inconclusive** (exit 4): nothing failed, but the run cannot vouch for the target: no
  report was acknowledged or no request answered (no evidence), no gate could be
  measured, a gate could not be judged because of the run's own lateness, the run did
  not finish, or a load generator was lost mid-run (its unfinished units are named);
- **pass** (exit 0): otherwise.

A rehearsal never passes or fails because of the machine it ran on: what the load
generator's lateness could have decided is inconclusive (docs/time.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from caucus_rehearsal.errors import EXIT_GATE_FAILED, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_TARGET
from caucus_rehearsal.reports.metrics import GateResult, Stopped, answered, requests
from caucus_rehearsal.reports.reconcile import Reconciliation
from caucus_rehearsal.reports.target_errors import target_errors
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.simulator.units import format_clock

EXIT_CODES = {"pass": EXIT_OK, "fail": EXIT_GATE_FAILED, "inconclusive": EXIT_INCONCLUSIVE,
              "error": EXIT_TARGET}


@dataclass(frozen=True, slots=True)
class Verdict:
    """``verdict`` (pass/fail/inconclusive/error), its exit code, and for an inconclusive
    or error run the reasons, most basic first."""

    verdict: str
    reasons: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def decide(run: RunDir, rec: Reconciliation, gates: list[GateResult],
           stopped: Stopped | None) -> Verdict:
    """The verdict of a run from its judged gates (which carry its fidelity) and its
    evidence."""
    broken = target_errors(run)
    if broken.any:
        return Verdict("error", (broken.reason(),))
    if stopped is not None or any(g.status == "fail" for g in gates):
        return Verdict("fail")
    reasons: list[str] = []
    reqs = requests(run.events)
    acked = sum(1 for u in rec.units if u.ack_min is not None)
    if reqs and not any(answered(e) for e in reqs):
        reasons.append(f"the target answered none of the run's {len(reqs)} requests")
    elif acked == 0:
        reasons.append("no report was acknowledged by the target, so there is nothing to "
                       "judge it by" + ("" if reqs else " (no request was sent)"))
    if gates and all(g.status == "not measured" for g in gates):
        reasons.append("no gate could be measured")
    unjudged: dict[str, list[str]] = {}
    for g in gates:
        if g.status == "inconclusive":
            unjudged.setdefault(g.why, []).append(f"'{g.gate}'")
    for why, names in unjudged.items():
        what = "gate " + names[0] if len(names) == 1 else f"{len(names)} gates ({', '.join(names)})"
        reasons.append(f"{what} could not be judged: {why}")
    if run.partial:
        reasons.append(f"the run did not finish (status '{run.status}')")
    reasons += lost_worker_reasons(run, rec)
    return Verdict("inconclusive", tuple(reasons)) if reasons else Verdict("pass")


UNITS_NAMED = 20
"""Units a lost worker's reason names before '... and N more'."""


def lost_worker_reasons(run: RunDir, rec: Reconciliation) -> list[str]:
    """Per load generator lost mid-run, the units it did not play: the rehearsal cannot
    judge the target on them (never the target's failure)."""
    unplayed = {u.unit_id for u in rec.units if u.klass == "not_played"}
    out = []
    for w in run.lost_workers:
        units = [u for u in w.get("units_not_played") or [] if u in unplayed]
        if not units:
            continue
        named = ", ".join(units[:UNITS_NAMED]) + (
            f" and {len(units) - UNITS_NAMED} more" if len(units) > UNITS_NAMED else "")
        out.append(f"load generator {w['worker']} was lost at "
                   f"{format_clock(float(w['lost_sim_min']))} (simulated): the "
                   f"{len(units)} unit{'s' if len(units) != 1 else ''} it was playing and "
                   f"had not finished were not played to the end, so the rehearsal says "
                   f"nothing of the target for them: {named}")
    return out
