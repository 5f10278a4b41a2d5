"""Published consistency: what the target published, checked against itself and the roster.

Independent of the truth and of what was acknowledged, on the last readable snapshot
(taken after the load stopped, so totals and precincts come from one state):

- **totals**: each published total, statewide and (where the target publishes them) per
  county, per field and candidate, equals the sum of the published precincts (all of
  them as published, phantoms included in the statewide sum). Counts must be equal; an
  SDE total may differ by the rounding of its terms (half a unit of the 4th decimal each);
- **phantoms**: published precinct ids that are not in the roster;
- **duplicates**: precincts the target listed more than once (counted by the adapter:
  ``duplicates`` in the normalised results, :mod:`caucus_rehearsal.published`);
- **SDE**: each published precinct's SDE follow from its own published delegates under
  the rules: delegates x its county's ratio (state delegates / county delegates,
  ``roster.json``; ``rules.sde``), or, for a satellite, its group's state delegates
  shared by attendance over the satellites published with it (``rules.satellite_sde``,
  :func:`satellite_sde`), split by its delegates.

Each check runs only on what the target publishes (``RunDir.published_fields``); one it
cannot make is ``None``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sized
from dataclasses import dataclass, field

from caucus_rehearsal import rules
from caucus_rehearsal.published import TOTAL_FIELDS
from caucus_rehearsal.reports.compare import SDE_TOLERANCE, Diff, diff, reported_key
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.records import Json


def count(v: object) -> float:
    """A published count as a float (anything that is not a number counts 0)."""
    return max(0.0, float(v)) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0


def satellite_sde(run: RunDir, published: Mapping[str, Json],
                  held: Mapping[str, int] | None = None) -> dict[str, dict[str, float]]:
    """Per published satellite, the SDE per candidate that ``rules.satellite_sde`` gives
    over the satellites of its group published with it (4 decimals, as published); with
    ``held`` (unit -> attendance of satellites acknowledged but not published), over
    those too, which is what a target that keeps counting withheld records gives."""
    group_of = {t.unit_id: t.county for t in run.truth if t.satellite}
    held = held or {}
    groups: dict[str, list[str]] = defaultdict(list)
    for t in run.truth:
        if t.unit_id in group_of and (t.unit_id in published or t.unit_id in held):
            groups[t.county].append(t.unit_id)
    out: dict[str, dict[str, float]] = {}
    for group, ids in groups.items():
        att = [int(count(published[u].get("attendance"))) if u in published else held[u]
               for u in ids]
        for uid, share in zip(ids, rules.satellite_sde(run.group_sde.get(group, 0.0), att),
                              strict=True):
            if uid not in published:
                continue
            dels = published[uid].get("delegates") or {}
            won = {c: count(dels.get(c)) if isinstance(dels, Mapping) else 0.0
                   for c in run.candidates}
            total = sum(won.values())
            out[uid] = {c: round(share * x / total, 4) if total else 0.0 for c, x in won.items()}
    return out


@dataclass(frozen=True, slots=True)
class TotalError:
    """A published total that is not the sum of the published precincts: ``scope`` is
    ``statewide`` or a county; ``published`` None when the total lacks it."""

    scope: str
    field: str
    candidate: str
    published: float | None
    summed: float

    def text(self) -> str:
        """``statewide final/Biden: published 1234, the published precincts sum to 734``."""
        def fmt(v: float) -> str:
            return f"{v:.4f}" if self.field == "sde" else f"{v:.0f}"
        shown = "missing" if self.published is None else fmt(self.published)
        return (f"{self.scope} {self.field}/{self.candidate}: published {shown}, "
                f"the published precincts sum to {fmt(self.summed)}")

    def as_json(self) -> dict[str, object]:
        return {"scope": self.scope, "field": self.field, "candidate": self.candidate,
                "published": self.published, "summed": round(self.summed, 4)}


@dataclass(frozen=True, slots=True)
class Consistency:
    """The checks of the published results against themselves and the roster.

    ``statewide``/``counties``/``sde`` are None when the check was not made (the target
    does not publish what it needs, or no snapshot was readable).
    """

    checked: bool
    statewide: tuple[TotalError, ...] | None = None
    counties: tuple[TotalError, ...] | None = None
    phantoms: tuple[str, ...] = ()
    phantom_copies: dict[str, str] = field(default_factory=dict)
    """Phantom id -> the roster units whose reported results it repeats."""
    duplicates: dict[str, int] = field(default_factory=dict)
    sde: dict[str, tuple[Diff, ...]] | None = None
    """Per published precinct of the roster whose SDE do not follow from its delegates,
    the differences (``want``: the rule's value, ``got``: the published one)."""
    sde_unchecked: tuple[str, ...] = ()
    """Published precincts whose SDE could not be checked (no county ratio known)."""


def _sum(tallies: list[Json], name: str) -> dict[str, float]:
    sums: dict[str, float] = {}
    for t in tallies:
        part = t.get(name)
        if isinstance(part, Mapping):
            for cand, v in part.items():
                sums[str(cand)] = sums.get(str(cand), 0.0) + count(v)
    return sums


def total_errors(scope: str, total: object, tallies: list[Json],
                 fields: tuple[str, ...]) -> tuple[TotalError, ...]:
    """Every (field, candidate) of the published ``total`` that differs from the sum of
    ``tallies`` (a candidate or field the total lacks counts as published None)."""
    return sum_errors(scope, total, {name: _sum(tallies, name) for name in fields},
                      len(tallies))


def sum_errors(scope: str, total: object, sums: Mapping[str, Mapping[str, float]],
               terms: int) -> tuple[TotalError, ...]:
    """:func:`total_errors` against sums already made: ``sums`` per field (those
    compared) and candidate, each the sum of ``terms`` published tallies (an SDE sum may
    differ from its total by the rounding of its terms)."""
    out: list[TotalError] = []
    total = total if isinstance(total, Mapping) else {}
    for name, summed in sums.items():
        shown = total.get(name)
        shown = shown if isinstance(shown, Mapping) else {}
        slack = SDE_TOLERANCE * (terms + 1) if name == "sde" else 0.5
        for cand in sorted(set(summed) | {str(c) for c in shown}):
            v = shown.get(cand)
            pub = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
            want = summed.get(cand, 0.0)
            if (pub is None and abs(want) > slack) or (pub is not None
                                                        and abs(pub - want) > slack):
                out.append(TotalError(scope, name, cand, pub, want))
    return tuple(out)


def check(run: RunDir, published: Mapping[str, Json], held: Mapping[str, int],
          owners: Mapping[str, set[str]], reported: tuple[str, ...]) -> Consistency:
    """Check the last readable snapshot (``published``: its precincts that are objects);
    ``held``: attendance of satellites acknowledged but not published (their group's SDE
    may count them, see :mod:`.reconcile`); ``owners``: reported data
    (``compare.reported_key`` over the ``reported`` fields the target publishes) -> the
    roster units that reported it, to name whose results a phantom repeats."""
    final = run.published.final
    if not final:
        return Consistency(checked=False)
    fields = run.published_fields
    known = {t.unit_id: t for t in run.truth}
    tallies = list(published.values())
    sums = tuple(f for f in TOTAL_FIELDS if f in fields)
    statewide = total_errors("statewide", final.get("statewide"), tallies, sums) \
        if "statewide" in fields else None
    counties: tuple[TotalError, ...] | None = None
    if "counties" in fields:
        shown = final.get("counties")
        shown = shown if isinstance(shown, Mapping) else {}
        by_county: dict[str, list[Json]] = defaultdict(list)
        for uid, p in published.items():
            if uid in known:
                by_county[known[uid].county].append(p)
        errs: list[TotalError] = []
        for county in sorted(set(by_county) | {str(c) for c in shown}):
            errs += total_errors(county, shown.get(county), by_county.get(county, []), sums)
        counties = tuple(errs)
    phantoms = tuple(sorted(set(published) - set(known)))
    copies: dict[str, str] = {}
    for uid in phantoms:
        who = owners.get(reported_key(published[uid], reported), set())
        if who:
            copies[uid] = ", ".join(sorted(who))
    dups = final.get("duplicates")
    duplicates = {str(k): int(v) for k, v in sorted(dups.items())
                  if isinstance(v, int) and v > 1} if isinstance(dups, Mapping) else {}
    sde: dict[str, tuple[Diff, ...]] | None = None
    unchecked: list[str] = []
    if "sde" in fields and "delegates" in fields:
        sde = {}
        over_published = satellite_sde(run, published)
        over_held = satellite_sde(run, published, held)
        for uid, p in published.items():
            t = known.get(uid)
            if t is None:
                continue
            if t.satellite:
                wants = [over_published[uid], over_held[uid]]
            elif t.county in run.ratios:
                dels = p.get("delegates")
                won = [int(count(dels.get(c))) if isinstance(dels, Mapping) else 0
                       for c in run.candidates]
                wants = [dict(zip(run.candidates, rules.sde(won, run.ratios[t.county]),
                                  strict=True))]
            else:
                unchecked.append(uid)
                continue
            shown = p.get("sde")
            got = {"sde": shown if isinstance(shown, Mapping) else {}}
            found = [tuple(diff({"sde": w}, got, ("sde",))) for w in wants]
            if all(found):
                sde[uid] = found[0]
    return Consistency(checked=True, statewide=statewide, counties=counties,
                       phantoms=phantoms, phantom_copies=copies, duplicates=duplicates,
                       sde=sde, sde_unchecked=tuple(sorted(unchecked)))


EXAMPLES = 100
"""Phantom precinct ids ``summary.json`` lists (with whose results each repeats)."""

METRICS = ("statewide_total_errors", "county_total_errors", "phantom_precincts",
           "duplicate_precincts", "sde_errors")
"""The gate metrics measured here (their meaning: ``simulator.gates.GATE_METRICS``)."""

_NOT_PUBLISHED = {"statewide_total_errors": "statewide totals",
                  "county_total_errors": "county totals", "sde_errors": "SDE and delegates"}


def measure(c: Consistency, metric: str) -> tuple[float | None, str]:
    """(value, how it was read) of one of :data:`METRICS`; None: not measured."""
    if not c.checked:
        return None, "no snapshot of the published results"
    found: Sized | None = {
        "statewide_total_errors": c.statewide, "county_total_errors": c.counties,
        "phantom_precincts": c.phantoms, "duplicate_precincts": c.duplicates,
        "sde_errors": c.sde}[metric]
    if found is None:
        return None, f"the target does not publish {_NOT_PUBLISHED[metric]}"
    note = "at the last snapshot"
    if metric == "sde_errors" and c.sde_unchecked:
        note += f"; {len(c.sde_unchecked)} precincts not checked (no county ratio)"
    return float(len(found)), note


def consistency_json(c: Consistency) -> dict[str, object]:
    """The ``published_consistency`` block of ``summary.json`` (None: not checked)."""
    def totals(errs: tuple[TotalError, ...] | None) -> list[dict[str, object]] | None:
        return None if errs is None else [e.as_json() for e in errs]

    return {
        "checked": c.checked,
        "statewide_total_errors": totals(c.statewide),
        "county_total_errors": totals(c.counties),
        "phantom_precincts": len(c.phantoms),
        "phantom_examples": {p: c.phantom_copies.get(p, "") for p in c.phantoms[:EXAMPLES]},
        "duplicate_precincts": dict(c.duplicates),
        "sde_errors": None if c.sde is None else {
            uid: [d.as_json() for d in diffs] for uid, diffs in c.sde.items()},
        "sde_unchecked": list(c.sde_unchecked),
    }
