"""Reconciliation: truth, worksheet, acknowledged and published, per unit and statewide.

Four layers per unit: the **truth** (``truth.jsonl``), the **worksheet** the chair
reported (``plan.jsonl``, errors included), what the target **acknowledged** (the data
steps of ``events.jsonl`` with outcome ``ok``, merged in send order, up to the last ``ok``
final step) and what it **published** (the last snapshot, plus the history of snapshots).

Only the fields the target publishes (``RunDir.published_fields``) are compared. Each
unit gets exactly one class (:data:`CLASSES`, defined with its words and gate metric in
``simulator/gates.py``), decided in this order:

1. published differently from the truth and from what was acknowledged, after the target
   accepted an attacker's write to it (``cross_precinct``, :mod:`.security`) ->
   ``overwritten_by_attacker`` (not data loss: the report's security findings say who);
2. published, and its published data equals another unit's reported data and not its
   own -> ``published_wrong_precinct``;
3. acknowledged and published, but published differs from what was acknowledged (a field
   truncated or altered by the target) -> ``published_altered``;
4. published and equal to the truth -> ``published_correctly``;
5. the worksheet differs from the truth and the published data is the worksheet's ->
   ``worksheet_error_published``;
6. acknowledged as an operator keyed it, which differs from the worksheet (a hotline
   typo), and published so -> ``keyed_differently``;
7. any other published difference from the truth -> ``published_different``;
8. not published but acknowledged, in a run that stopped early (interrupted, aborted) after
   the last readable snapshot -> ``acknowledged_unread`` (not judged: nothing read the
   published results after it);
9. not published but acknowledged -> ``acknowledged_not_published`` (data loss);
10. not acknowledged, the worksheet is wrong and the target rejected it ->
    ``worksheet_error_caught``;
11. not acknowledged, and its chair was not played to the end because the load generator
    playing it was lost (``run.json`` ``lost_workers``) -> ``not_played``: the rehearsal
    cannot say anything of the target for it;
12. otherwise ``never_acknowledged`` (gave up, on hold, paper pending...).

A satellite's SDE is its group's state delegates shared by attendance among the group's
satellites that have reported (``rules.satellite_sde``), so while some are unpublished
the right value differs from the final truth. A published satellite's SDE is therefore
checked against that rule over the satellites of its group published in the same
snapshot (their published attendance, its published delegates); its counts are still
checked against the truth. A target that keeps counting satellites it acknowledged but
did not publish gives values that follow the rule over those too: such a unit counts as
published correctly (the loss is counted on the lost units) and is marked
``sde_shared_with_lost``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from caucus_rehearsal.published import DATA_FIELDS
from caucus_rehearsal.reports import integrity, zero_state
from caucus_rehearsal.reports.compare import KEY_FIELDS, Diff, diff, reported_key, same
from caucus_rehearsal.reports.consistency import Consistency, check, count, satellite_sde
from caucus_rehearsal.reports.integrity import History
from caucus_rehearsal.reports.security import overwritten_units
from caucus_rehearsal.reports.zero_state import ZeroState
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.rundir.vocab import DATA_STEPS, FINAL_STEPS
from caucus_rehearsal.simulator.gates import UNIT_CLASSES
from caucus_rehearsal.simulator.units import format_clock

CLASSES = UNIT_CLASSES
"""Every reconciliation class, in the order reports list them, with its words."""

CHAIR_ACTORS = frozenset({"chair", "operator", "caller"})


@dataclass(frozen=True, slots=True)
class UnitResult:
    """One unit's reconciliation.

    ``vs_truth`` lists published-vs-truth differences, ``vs_ack`` published-vs-acknowledged
    ones; ``ack_min``/``published_min`` are simulation minutes of the acknowledgment and
    of the first snapshot that showed the unit (None: never).
    """

    unit_id: str
    county: str
    precinct: str
    klass: str
    reason: str
    channel: str
    ack_min: float | None
    published_min: float | None
    worksheet_error: str | None
    vs_truth: tuple[Diff, ...] = ()
    vs_ack: tuple[Diff, ...] = ()
    published_as: str = ""
    """For a wrong-precinct unit: whose data was published under it."""
    sde_shared_with_lost: str = ""
    """For a satellite: its group, when its published SDE shares the group's delegates
    with satellites acknowledged but never published (a consequence of data loss)."""

    @property
    def data_lost(self) -> bool:
        """Acknowledged but not published exactly as acknowledged, and not because an
        attacker overwrote it nor because the run stopped before it could read the feed
        again (the ``data_loss`` gate)."""
        return self.ack_min is not None \
            and self.klass not in ("overwritten_by_attacker", "acknowledged_unread") and (
            self.published_min is None or bool(self.vs_ack))

    @property
    def mismatched(self) -> bool:
        """Published, but not as acknowledged, and not because an attacker overwrote it
        (the ``mismatches`` gate)."""
        return self.ack_min is not None and self.published_min is not None \
            and self.klass != "overwritten_by_attacker" and bool(self.vs_ack)


@dataclass(frozen=True, slots=True)
class Statewide:
    """Totals per field and candidate: truth against published; the SDE leaders."""

    truth: dict[str, dict[str, float]]
    published: dict[str, dict[str, float]]
    truth_winner: tuple[str, ...]
    published_winner: tuple[str, ...]

    @property
    def winner_differs(self) -> bool:
        return bool(self.published_winner) and self.truth_winner != self.published_winner


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """All units in roster order, the statewide totals, what the snapshots show, how
    consistent the published results are in themselves, and the published feed before
    and over the night."""

    units: tuple[UnitResult, ...]
    statewide: Statewide
    has_snapshots: bool
    consistency: Consistency = field(default_factory=lambda: Consistency(checked=False))
    counts: dict[str, int] = field(default_factory=dict)
    zero_state: ZeroState = field(default_factory=lambda: ZeroState(recorded=False))
    """The feed before the night (:mod:`.zero_state`)."""
    integrity: History = field(default_factory=History)
    """The feed over the night, snapshot by snapshot (:mod:`.integrity`)."""


@dataclass(slots=True)
class _Ack:
    tally: Json
    channel: str
    sim_min: float


def acknowledged(events: list[Json]) -> dict[str, _Ack]:
    """Per unit, the acknowledged data: ok data-step payloads merged in send order, up to and
    including the last ok final step (later partial steps start a new submission)."""
    merged: dict[str, Json] = defaultdict(dict)
    out: dict[str, _Ack] = {}
    ordered = sorted((e for e in events if e.get("actor") in CHAIR_ACTORS
                      and e.get("step") in DATA_STEPS and e.get("outcome") == "ok"),
                     key=lambda e: float(e.get("sent_wall") or e.get("intended_wall") or 0.0))
    for ev in ordered:
        uid = str(ev.get("unit_id", ""))
        payload = ev.get("payload")
        if isinstance(payload, dict):
            merged[uid].update(payload)
        channel = str(ev.get("channel", ""))
        if FINAL_STEPS.get(channel) == ev.get("step"):
            out[uid] = _Ack(dict(merged[uid]), channel, float(ev.get("sim_min", 0.0)))
    return out


def _why_not_acknowledged(events: list[Json], partial: bool) -> str:
    if not events:
        return "the run stopped before this unit reported" if partial \
            else "no report attempt recorded"
    last = events[-1]
    outcome, channel, step = last.get("outcome"), last.get("channel"), last.get("step")
    if outcome == "gave_up":
        return f"the chair gave up on the {channel}" + (
            "; the paper worksheet is pending" if channel == "hotline" else "")
    if channel == "hotline" and step in ("call", "hold"):
        return "the chair was still trying the hotline when the run ended"
    if outcome == "rejected":
        return f"the target rejected the {step} report ({last.get('detail') or 'validation'})"
    return f"last attempt: {channel} {step} -> {outcome}"


def _classify(uid: str, truth: Json, ws: Json | None, ws_error: str | None,
              ack: _Ack | None, pub: Json | None, owners: dict[str, set[str]],
              unit_events: list[Json], partial: bool, fields: tuple[str, ...],
              attack: Json | None, last_read: float | None
              ) -> tuple[str, str, tuple[Diff, ...], tuple[Diff, ...], str]:
    """(class, reason, vs_truth, vs_ack, published_as) of one unit, comparing only the
    ``fields`` the target publishes; ``attack``: the first attacker's write to it the
    target accepted; ``last_read``: the moment of the last readable snapshot (None: none)."""
    ws_wrong = ws is not None and not same(truth, ws, KEY_FIELDS)
    reported = tuple(f for f in KEY_FIELDS if f in fields)
    if pub is not None:
        vs_truth = tuple(diff(truth, pub, fields))
        # SDE is derived by the target, so only what the chair reports is compared
        vs_ack = tuple(diff(ack.tally, pub, reported)) if ack else ()
        own = (not vs_truth or (ack is not None and not vs_ack)
               or (ws is not None and same(ws, pub, reported)))
        others = owners.get(reported_key(pub, reported), set()) - {uid}
        if attack is not None and vs_truth and (vs_ack or ack is None):
            return ("overwritten_by_attacker",
                    f"the target accepted a write to it with "
                    f"{attack.get('session_of') or 'another precinct'}'s session: "
                    + vs_truth[0].text(), vs_truth, vs_ack, "")
        if not own and others:
            who = ", ".join(sorted(others))
            return ("published_wrong_precinct",
                    f"its published results are those reported by {who}", vs_truth, vs_ack, who)
        if vs_ack:
            kinds = "truncated" if any(d.got is None for d in vs_ack) else "altered"
            return ("published_altered",
                    f"the target {kinds} what it acknowledged: " + vs_ack[0].text(
                        "acknowledged", "published"), vs_truth, vs_ack, "")
        if not vs_truth:
            return "published_correctly", "", (), (), ""
        if ws_wrong and ws is not None and same(ws, pub, reported):
            return ("worksheet_error_published",
                    f"the chair's worksheet error ({ws_error or 'unlabelled'}) was published: "
                    + vs_truth[0].text(), vs_truth, (), "")
        if ack is not None and ws is not None and not same(ws, ack.tally, reported):
            return ("keyed_differently", f"the number keyed differs from the worksheet: "
                    f"{vs_truth[0].text()}", vs_truth, (), "")
        return ("published_different", f"published differs from the truth: "
                f"{vs_truth[0].text()}", vs_truth, (), "")
    if ack is not None and partial and (last_read is None or ack.sim_min > last_read):
        return ("acknowledged_unread",
                f"acknowledged via {ack.channel} at {format_clock(ack.sim_min)}, after the "
                "last read of the published results"
                + (f" ({format_clock(last_read)})" if last_read is not None else "")
                + ": the run stopped before it could check it", (), (), "")
    if ack is not None:
        return ("acknowledged_not_published",
                f"acknowledged via {ack.channel} but absent from the published results",
                (), (), "")
    rejected = any(e.get("outcome") == "rejected" and e.get("step") in DATA_STEPS
                   for e in unit_events)
    if ws_wrong and rejected:
        return ("worksheet_error_caught",
                f"the target's validation rejected the worksheet ({ws_error or 'unlabelled'})",
                (), (), "")
    return "never_acknowledged", _why_not_acknowledged(unit_events, partial), (), (), ""


def _totals(tallies: list[Json], candidates: tuple[str, ...]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in ("first", "final", "delegates", "sde"):
        sums = dict.fromkeys(candidates, 0.0)
        for t in tallies:
            for cand, v in (t.get(name) or {}).items():
                if isinstance(v, int | float):
                    sums[str(cand)] = sums.get(str(cand), 0.0) + float(v)
        out[name] = {c: round(v, 4) for c, v in sums.items()}
    return out


def _leaders(sde: dict[str, float]) -> tuple[str, ...]:
    if not sde or max(sde.values()) <= 0:
        return ()
    top = max(sde.values())
    return tuple(sorted(c for c, v in sde.items() if abs(v - top) <= 1e-9))


def reconcile(run: RunDir) -> Reconciliation:
    """Classify every unit of the run and total the statewide results."""
    acks = acknowledged(run.events)
    final, first_seen = run.published.final, run.published.first_seen
    last_read = run.published.curve[-1][0] if run.published.curve else None
    published: dict[str, Json] = {str(k): v for k, v in (final.get("precincts") or {}).items()
                                  if isinstance(v, dict)}
    fields = tuple(f for f in DATA_FIELDS if f in run.published_fields)
    reported = tuple(f for f in KEY_FIELDS if f in fields)
    owners: dict[str, set[str]] = defaultdict(set)
    for uid, a in acks.items():
        owners[reported_key(a.tally, reported)].add(uid)
    for uid, p in run.plan.items():
        owners[reported_key(p.tally, reported)].add(uid)
    by_unit: dict[str, list[Json]] = defaultdict(list)
    for ev in run.events:
        if ev.get("actor") in CHAIR_ACTORS:
            by_unit[str(ev.get("unit_id", ""))].append(ev)
    attacked = overwritten_units(run.events)
    sat_sde = satellite_sde(run, published)
    sat_published = Counter(t.county for t in run.truth if t.unit_id in sat_sde)
    held = {uid: int(count(a.tally.get("attendance"))) for uid, a in acks.items()
            if uid not in published}
    sat_held = satellite_sde(run, published, held)
    held_in = Counter(t.county for t in run.truth if t.satellite and t.unit_id in held)
    results: list[UnitResult] = []
    not_played = run.not_played
    for t in run.truth:
        plan = run.plan.get(t.unit_id)
        ack = acks.get(t.unit_id)
        pub = published.get(t.unit_id)
        ref = {**t.tally, "sde": sat_sde[t.unit_id]} if t.unit_id in sat_sde else t.tally
        klass, reason, vs_truth, vs_ack, who = _classify(
            t.unit_id, ref, plan.tally if plan else None, plan.error if plan else None,
            ack, pub, owners, by_unit.get(t.unit_id, []), run.partial, fields,
            attacked.get(t.unit_id), last_read)
        if klass == "never_acknowledged" and t.unit_id in not_played:
            klass, reason = "not_played", (f"the load generator playing it (worker "
                                           f"{not_played[t.unit_id]}) was lost mid-run")
        shared = ""
        if t.unit_id in sat_sde and klass == "published_different" and vs_truth \
                and not vs_ack and all(d.field == "sde" for d in vs_truth):
            if pub is not None and same({"sde": sat_held[t.unit_id]}, pub, ("sde",)):
                klass, vs_truth, shared = "published_correctly", (), t.county
                reason = (f"its SDE follows the satellite rule over the satellites of "
                          f"{t.county} the target acknowledged, "
                          f"{held_in[t.county]} of them never published")
            else:
                reason = (f"its SDE does not follow the satellite rule ({t.county}'s state "
                          f"delegates shared by attendance over the "
                          f"{sat_published[t.county]} satellites published): "
                          f"{vs_truth[0].text('rule', 'published')}")
        results.append(UnitResult(
            unit_id=t.unit_id, county=t.county, precinct=t.precinct, klass=klass,
            reason=reason, channel=ack.channel if ack else "",
            ack_min=ack.sim_min if ack else None,
            published_min=first_seen.get(t.unit_id) if pub is not None else None,
            worksheet_error=plan.error if plan else None,
            vs_truth=vs_truth, vs_ack=vs_ack, published_as=who, sde_shared_with_lost=shared))
    truth_tot = _totals([t.tally for t in run.truth], run.candidates)
    shown = final.get("statewide") if "statewide" in run.published_fields else None
    pub_tot: dict[str, dict[str, float]] = {}
    for k in ("first", "final", "sde"):
        part = shown.get(k) if isinstance(shown, dict) and k in fields else None
        if isinstance(part, dict):
            pub_tot[k] = {str(c): round(float(v), 4) for c, v in part.items()
                          if isinstance(v, int | float) and not isinstance(v, bool)}
    counts = dict.fromkeys(CLASSES, 0)
    for r in results:
        counts[r.klass] += 1
    return Reconciliation(
        units=tuple(results),
        statewide=Statewide(
            truth=truth_tot, published=pub_tot,
            truth_winner=_leaders(truth_tot["sde"]),
            published_winner=_leaders(pub_tot.get("sde", {}))),
        has_snapshots=bool(final),
        consistency=check(run, published, held, owners, reported),
        counts=counts, zero_state=zero_state.check(run), integrity=integrity.check(run))
