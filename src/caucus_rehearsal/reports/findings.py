"""The findings of a report: what went wrong (or right), in plain words, most serious first."""

from __future__ import annotations

from dataclasses import dataclass

from caucus_rehearsal.published import CONTRACT_V1_PUBLISHES, DATA_FIELDS, PUBLISHABLE
from caucus_rehearsal.reports import public
from caucus_rehearsal.reports.fidelity import Fidelity
from caucus_rehearsal.reports.metrics import GateResult, Stopped, hotline, pct
from caucus_rehearsal.reports.public import Window
from caucus_rehearsal.reports.reconcile import CLASSES, Reconciliation, UnitResult
from caucus_rehearsal.reports.security import finding_texts as security_texts
from caucus_rehearsal.reports.security import security
from caucus_rehearsal.reports.target_errors import target_errors
from caucus_rehearsal.reports.verdict import Verdict
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.zero import SKIP_FLAG
from caucus_rehearsal.simulator.units import format_clock

NAMES_SHOWN = 5
"""Unit names quoted in one finding before '... and N more'."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: ``rank`` orders them (lower is more serious), ``text`` says it."""

    rank: int
    key: str
    text: str


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def unit_name(u: UnitResult) -> str:
    """``1NW ADAIR (Adair, IA-0001)``."""
    where = ", ".join(x for x in (u.county, u.unit_id) if x)
    return f"{u.precinct} ({where})" if u.precinct != u.unit_id else u.unit_id


def _names(units: list[UnitResult]) -> str:
    shown = ", ".join(unit_name(u) for u in units[:NAMES_SHOWN])
    more = len(units) - NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _fmt(value: float | None) -> str:
    if value is None:
        return "not measured"
    if value == float("inf"):
        return "never"
    return f"{value:.4g}"


def _gate_text(g: GateResult, run: RunDir, n: int) -> str:
    """A failed gate in plain words (the gate itself in brackets)."""
    metric, v, at = g.gate.metric, g.value, g.gate.by
    when = f"by {format_clock(at)}" if at is not None else "by the end of the run"
    tail = f" (gate '{g.gate}')."
    if v is None:
        return f"Gate '{g.gate}' failed."
    if metric in ("published_fraction", "received_fraction"):
        what = "published" if metric == "published_fraction" else "acknowledged by the server"
        return f"Only {round(v * n)} of {n} precincts ({v:.0%}) were {what} {when}" + tail
    if metric.startswith("hotline_wait"):
        h = hotline(run.events)
        waits = [w for _, w in h.waits]
        med = pct(waits, 50.0) if waits else 0.0
        never = (f"; {_plural(h.never_answered, 'chair')} who dialled never got through"
                 if h.never_answered else "")
        return (f"Chairs waited up to {max(waits, default=0.0):.0f} minutes (median "
                f"{med:.0f}) from their first dial to an operator answering{never}" + tail)
    if metric.startswith("minutes_to_95pct"):
        what = metric.removeprefix("minutes_to_95pct_")
        if v == float("inf"):
            return f"95% of the precincts were never {what}" + tail
        return f"95% of the precincts were {what} only at {format_clock(v)}" + tail
    if metric == "p95_latency_ms":
        return f"Requests were slow: 95% answered within {v:.0f} ms" + tail
    if metric == "error_rate":
        return f"{v:.1%} of requests to the target failed ({g.note})" + tail
    return f"Gate '{g.gate}' failed: measured {_fmt(v)}" + (f" ({g.note})." if g.note else ".")


def _ids(ids: list[str]) -> str:
    more = len(ids) - NAMES_SHOWN
    return ", ".join(ids[:NAMES_SHOWN]) + (f" and {more:,} more" if more > 0 else "")


def consistency_findings(rec: Reconciliation) -> list[Finding]:
    """What the published results get wrong in themselves (:mod:`.consistency`); each
    finding's key is the gate metric that counts it."""
    c = rec.consistency
    out: list[Finding] = []
    if c.statewide:
        e = c.statewide
        more = f" (and {_plural(len(e) - 1, 'other total')})" if len(e) > 1 else ""
        out.append(Finding(3, "statewide_total_errors", "The published statewide totals are "
                           f"not the sum of the published precincts: {e[0].text()}{more}."))
    if c.counties:
        e = c.counties
        more = f" (and {_plural(len(e) - 1, 'other total')})" if len(e) > 1 else ""
        out.append(Finding(5, "county_total_errors", "The published county totals are not "
                           f"the sum of the county's published precincts: {e[0].text()}{more}."))
    if c.phantoms:
        ids = list(c.phantoms)
        copies = [f"{p} repeats {c.phantom_copies[p]}" for p in ids if p in c.phantom_copies]
        shown = f" ({'; '.join(copies[:NAMES_SHOWN])})" if copies else ""
        out.append(Finding(4, "phantom_precincts", f"The target published "
                           f"{_plural(len(ids), 'precinct')} that "
                           f"{'is' if len(ids) == 1 else 'are'} not in the roster: "
                           f"{_ids(ids)}{shown}."))
    if c.duplicates:
        ids = [f"{k} ({n} times)" for k, n in c.duplicates.items()]
        out.append(Finding(4, "duplicate_precincts", f"The target published "
                           f"{_plural(len(ids), 'precinct')} more than once: {_ids(ids)}."))
    if c.sde:
        bad = [u for u in rec.units if u.unit_id in c.sde]
        first = c.sde[bad[0].unit_id][0].text("rule", "published")
        out.append(Finding(5, "sde_errors", f"{_plural(len(bad), 'published precinct')} "
                           f"{'has' if len(bad) == 1 else 'have'} SDE that do not follow "
                           f"from {'its' if len(bad) == 1 else 'their'} published delegates "
                           f"under the rules: {_names(bad)} (e.g. {first})."))
    return out


CLASS_RANKS = {"acknowledged_not_published": 2, "overwritten_by_attacker": 2,
               "published_altered": 3, "published_wrong_precinct": 3,
               "worksheet_error_published": 7, "keyed_differently": 7,
               "published_different": 7, "acknowledged_unread": 8, "never_acknowledged": 8,
               "worksheet_error_caught": 9}
"""How serious a finding about each class of units is (lower: more); the precincts
published correctly are said last."""

AGGREGATES = {"data_loss": {"acknowledged_not_published", "published_altered",
                            "published_wrong_precinct"},
              "mismatches": {"published_altered", "published_wrong_precinct"}}
"""The gate metrics that sum classes: their failure is said by the classes' findings."""


def class_findings(rec: Reconciliation,
                   by_class: dict[str, list[UnitResult]]) -> list[Finding]:
    """One finding per class of units that went wrong, in the class's own words (those of
    its gate metric, ``simulator.gates.UNIT_CLASSES``), keyed by the class."""
    out: list[Finding] = []
    n = len(rec.units)
    for klass, rank in CLASS_RANKS.items():
        units = by_class.get(klass, [])
        if not units or (not rec.has_snapshots and klass != "never_acknowledged"):
            continue
        were = "was" if len(units) == 1 else "were"
        head = f"{_plural(len(units), 'precinct')} {were} {CLASSES[klass]}"
        if klass == "never_acknowledged":
            text = (f"{_plural(len(units), 'precinct')} of {n} {were} {CLASSES[klass]} "
                    f"(e.g. {unit_name(units[0])}: {units[0].reason}).")
        elif klass == "acknowledged_not_published":
            acked = sorted(u.ack_min for u in units if u.ack_min is not None)
            span = f" ({format_clock(acked[0])} to {format_clock(acked[-1])})" \
                if len(acked) > 1 else ""
            text = f"{head}{span}: {_names(units)}."
        elif klass == "worksheet_error_caught":
            text = f"{head}: {_names(units)}."
        elif klass == "worksheet_error_published" and units[0].vs_truth:
            u = units[0]
            text = (f"{head}: {_names(units)} (e.g. {u.worksheet_error or 'unlabelled'}: "
                    f"{u.vs_truth[0].text()}).")
        else:
            text = f"{head}: {_names(units)} (e.g. {units[0].reason})."
        out.append(Finding(rank, klass, text))
    return out


_INTEGRITY_LEAD = {
    "reporting_decreases": ("The published precincts reporting fell", "time", 3),
    "disappeared_precincts": ("Published precincts disappeared from the published results",
                              "precinct", 3),
    "silent_changes": ("Published results changed without a new version", "change", 4),
    "snapshot_total_errors": ("The published statewide totals were not the sum of the "
                              "published precincts", "snapshot", 4),
    "over_attendance": ("Published precincts counted more people than attended",
                        "precinct", 5),
}


def feed_findings(rec: Reconciliation) -> list[Finding]:
    """What the feed showed wrong before the night (:mod:`.zero_state`) and over it
    (:mod:`.integrity`), with the moments; each finding's key is its gate metric."""
    z, out = rec.zero_state, []
    names = {u.unit_id: unit_name(u) for u in rec.units}

    def named(ids: list[str]) -> str:
        more = len(ids) - NAMES_SHOWN
        return ", ".join(names.get(i, i) for i in ids[:NAMES_SHOWN]) + (
            f" and {more:,} more" if more > 0 else "")

    when = "" if z.read_min is None else f" ({format_clock(z.read_min)})"
    if z.failed:
        out.append(Finding(3, "zero_state_errors", "The published results could not be read "
                           f"before the first report{when} ({z.failed}), so the rehearsal "
                           "cannot show the target starts from zero (for a target that "
                           f"cannot show a zero state: rehearse run {SKIP_FLAG})."))
    problems = []
    if z.leftovers:
        first = next(iter(z.leftovers))
        problems.append(f"it already showed {_plural(len(z.leftovers), 'unit')}, leftovers "
                        f"of an earlier night or test: {named(list(z.leftovers))} (e.g. "
                        f"{first}: {z.leftovers[first]})")
    if z.totals:
        more = f" and {len(z.totals) - NAMES_SHOWN} more" if len(z.totals) > NAMES_SHOWN else ""
        problems.append("its totals were not zero: " + ", ".join(z.totals[:NAMES_SHOWN]) + more)
    if z.missing:
        problems.append(f"{_plural(len(z.missing), 'unit')} of the roster "
                        f"{'was' if len(z.missing) == 1 else 'were'} not listed: "
                        f"{named(list(z.missing))}")
    if z.outside:
        problems.append(f"it listed {_plural(len(z.outside), 'unit')} outside the roster: "
                        f"{_ids(list(z.outside))}")
    if z.format:
        first = next(iter(z.format))
        problems.append(f"{_plural(len(z.format), 'entry', 'entries')} differed from the live "
                        f"feed's format (e.g. {first} {z.format[first]})")
    if problems:
        out.append(Finding(3, "zero_state_errors", "The target did not start from zero: "
                           f"before the first report{when} " + "; ".join(problems) + "."))
    if z.skipped:
        out.append(Finding(10, "zero_state_skipped", "The zero state before the night was not "
                           f"checked ({SKIP_FLAG})."))
    h = rec.integrity
    for kind, (lead, unit, rank) in _INTEGRITY_LEAD.items():
        found = h.of(kind)
        if not found:
            continue
        last = f"; last at {format_clock(found[-1].sim_min)}" if len(found) > 1 else ""
        out.append(Finding(rank, kind, f"{lead} ({_plural(h.value(kind), unit)}): first at "
                           f"{format_clock(found[0].sim_min)}, {found[0].text}{last}."))
    return out


def not_checked(run: RunDir) -> list[str]:
    """What the target does not publish (words of ``PUBLISHABLE``), so nothing checked it."""
    return [w for w in PUBLISHABLE if w not in run.published_fields]


def _stopped_text(s: Stopped) -> str:
    how = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(s.kinds.items()))
    return (f"The target stopped answering at {format_clock(s.since)}: {s.unanswered} of the "
            f"{s.requests} requests sent from then on got no answer ({how}). What follows "
            "in this report (chairs giving up, precincts never acknowledged) is its "
            "consequence.")


def _inconclusive_text(v: Verdict, fid: Fidelity | None) -> str:
    text = "The rehearsal is inconclusive: " + "; ".join(v.reasons) + "."
    if fid is not None and not fid.faithful and fid.max_faithful_speed is not None:
        text += (f" At this run's measured lateness, a speed of about "
                 f"{fid.max_faithful_speed:.0f} or less would have kept to the schedule "
                 "(or run it on a quieter machine, or with more Locust workers).")
    return text


def findings(run: RunDir, rec: Reconciliation, gates: list[GateResult],
             verdict: Verdict | None = None, stopped: Stopped | None = None,
             fid: Fidelity | None = None, view: list[Window] | None = None) -> list[Finding]:
    """Every finding of the run, most serious first (ties keep this function's order);
    ``view``: what the public saw (``reports/public.py``)."""
    out: list[Finding] = []
    for i, text in enumerate(public.findings_texts(view or [])):
        out.append(Finding(6, f"public:{i}", text))
    by_class: dict[str, list[UnitResult]] = {k: [] for k in rec.counts}
    for u in rec.units:
        by_class[u.klass].append(u)
    n = len(rec.units)
    if stopped is not None:
        out.append(Finding(-2, "target_stopped", _stopped_text(stopped)))
    if verdict is not None and verdict.verdict == "inconclusive":
        out.append(Finding(-1, "inconclusive", _inconclusive_text(verdict, fid)))
    elif fid is not None and not fid.faithful:
        out.append(Finding(10, "fidelity", "The run did not keep its schedule ("
                           + "; ".join(fid.reasons) + "), but every gate's result holds "
                           "whatever that lateness."))
    broken = target_errors(run)
    if broken.any:
        reason = broken.reason()
        out.append(Finding(0, "target_error", reason[0].upper() + reason[1:] + "."))
    if run.partial:
        why = f"status '{run.status}'" + (
            f", cut-off {', '.join(run.truncated)}" if run.truncated else "")
        out.append(Finding(0, "partial", f"This run is partial ({why}): the figures cover "
                           "only what was recorded before it stopped."))
    if not rec.has_snapshots:
        out.append(Finding(1, "no_snapshots", "No snapshot of the published results was "
                           "recorded, so nothing could be checked against what was published."))
    out += class_findings(rec, by_class)
    out += [Finding(rank, key, text) for rank, key, text in security_texts(security(run))]
    out += consistency_findings(rec)  # before the leader: they explain a wrong one
    out += feed_findings(rec)
    sw = rec.statewide
    if sw.winner_differs:
        shown, true = " / ".join(sw.published_winner), " / ".join(sw.truth_winner)
        out.append(Finding(4, "winner", f"The published SDE leader ({shown}) is not the true "
                           f"leader ({true})."))
    said = {f.key for f in out}
    for aggregate, parts in AGGREGATES.items():
        if said & parts:
            said.add(aggregate)
    for g in gates:
        if g.status == "fail" and g.gate.metric not in said:
            out.append(Finding(6, f"gate:{g.gate}", _gate_text(g, run, n)))
    shared = [u for u in rec.units if u.sde_shared_with_lost]
    if shared:
        groups = sorted({u.sde_shared_with_lost for u in shared})
        out.append(Finding(7, "sde_shared", f"{_plural(len(shared), 'published satellite')} "
                           f"of {', '.join(groups)} share their group's state delegates with "
                           "satellites the server acknowledged but never published, so the "
                           "published SDE of these groups fall short by the lost satellites' "
                           "share."))
    unchecked = not_checked(run)
    missing = [w for w in unchecked if w in CONTRACT_V1_PUBLISHES]
    if missing and rec.has_snapshots:
        words = [PUBLISHABLE[w] for w in missing]
        out.append(Finding(10, "not_checked", "Not checked, because the target does not "
                           f"publish {'it' if len(words) == 1 else 'them'} (as its adapter "
                           f"declares): {', '.join(words)}."))
    good = by_class["published_correctly"]
    if rec.has_snapshots:
        scope = "" if not missing else " in what the target publishes (" + ", ".join(
            PUBLISHABLE[w] for w in PUBLISHABLE if w in run.published_fields
            and w in DATA_FIELDS) + ")"
        out.append(Finding(20, "published_correctly", f"{len(good)} of {n} precincts were "
                           f"{CLASSES['published_correctly']}{scope}."))
    measured = [g for g in gates if g.status in ("pass", "fail", "inconclusive")]
    if measured and all(g.status == "pass" for g in measured):
        out.append(Finding(21, "gates", f"All {_plural(len(measured), 'measured gate')} "
                           "passed."))
    return sorted(out, key=lambda f: f.rank)
