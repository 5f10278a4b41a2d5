"""Integrity over time: the published feed checked snapshot by snapshot, not only at the end.

A results feed is consumed while it changes, so a glitch that heals is still a glitch
someone published (Wayne County 2018: precincts reporting fell from over 80% to under
20%; Sussex County 2016: a candidate's total spiked for two minutes and reverted). Over
the readable snapshots of ``snapshots.jsonl`` (streamed: a night's can be hundreds of
megabytes; a 304 line repeats the state before it and a failed fetch shows nothing), each
fresh state is compared with the one before and with itself:

- ``reporting_decreases``: precincts reporting (as the feed declares it, else the
  precincts it lists as published) fell;
- ``disappeared_precincts``: a published precinct is no longer published (each precinct
  counted once, at the first time);
- ``silent_changes``: a published precinct's result changed without a new correction
  marker the target declares (its ``revision`` went up; without one, the feed's
  ``version``), or the feed's totals or precincts reporting changed while its ``version``
  did not go up. Each (precinct or feed, moment) counts; not measured when the target
  publishes no version marker at all;
- ``snapshot_total_errors``: a snapshot whose statewide totals differ from the sum of
  its published precincts, by the arithmetic of the last-snapshot gate
  (:func:`.consistency.sum_errors`, the sums kept up to date precinct by precinct); a
  snapshot whose totals and precinct list came from different states of the feed
  (``precincts_version``: the adapter could not read one state whole) is not compared;
- ``over_attendance``: a published precinct whose first or final alignment sums to more
  than its published attendance (each precinct counted once).

Each violation carries the moment it was seen: the snapshot's ``sim_min`` (when the
orchestrator fetched it, on the run's clock). The run's lateness can move when something
appears but cannot make a feed go back, drop a precinct or change one silently, so these
are ``integrity`` gates, judged as measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from caucus_rehearsal.published import DATA_FIELDS, TOTAL_FIELDS
from caucus_rehearsal.reports.compare import diff
from caucus_rehearsal.reports.consistency import count, sum_errors
from caucus_rehearsal.rundir.reader import RunDir, iter_snapshots
from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.simulator.units import format_clock

METRICS = ("reporting_decreases", "disappeared_precincts", "silent_changes",
           "snapshot_total_errors", "over_attendance")
"""The gate metrics measured here (their meaning: ``simulator.gates.GATE_METRICS``)."""

LABELS = {"reporting_decreases": "precincts reporting fell",
          "disappeared_precincts": "published precincts disappeared",
          "silent_changes": "results changed without a new version",
          "snapshot_total_errors": "statewide totals differ from the precincts' sum",
          "over_attendance": "counts above the attendance"}
"""Each metric's violation in a few words (the chart's legend, the report's table)."""

SHOWN = 5
"""Precinct ids one violation's text names before '... and N more'."""

EXAMPLES = 100
"""Subjects ``summary.json`` lists per violation (``subjects_total`` counts them all)."""

FEED = "feed"
"""The subject of a violation of the feed as a whole (its totals, its version)."""


@dataclass(frozen=True, slots=True)
class Violation:
    """What one snapshot showed wrong, of one kind (a metric of :data:`METRICS`):
    ``subjects`` are the precinct ids (or :data:`FEED`), ``text`` says it in words."""

    kind: str
    sim_min: float
    fetched_wall: float | None
    subjects: tuple[str, ...]
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": format_clock(self.sim_min),
                "sim_min": round(self.sim_min, 3), "fetched_wall": self.fetched_wall,
                "subjects": list(self.subjects[:EXAMPLES]), "subjects_total": len(self.subjects),
                "text": self.text}


@dataclass(frozen=True, slots=True)
class Point:
    """The published state at one fresh snapshot (the chart's data): precincts
    reporting as declared, precincts published, the feed's version (None: none), the
    statewide final alignment as published and as its published precincts sum, and
    whether the totals and the precincts came from two states of the feed (``torn``: not
    compared)."""

    sim_min: float
    reporting: int
    published: int
    version: float | None
    final_total: float
    final_summed: float
    torn: bool = False


@dataclass(frozen=True, slots=True)
class History:
    """The checks of the feed over time; ``snapshots`` fresh states were read."""

    snapshots: int = 0
    violations: tuple[Violation, ...] = ()
    points: tuple[Point, ...] = ()
    unmeasured: dict[str, str] = field(default_factory=dict)
    """Metric -> why it could not be measured (the target does not publish what it needs)."""
    torn: int = 0
    """Snapshots whose totals were not compared: totals and precincts of two states."""
    unmarked: int = 0
    """Precinct changes that could not be judged: no version marker before and after."""

    def of(self, kind: str) -> list[Violation]:
        """The violations of one kind, in time order."""
        return [v for v in self.violations if v.kind == kind]

    def value(self, kind: str) -> int:
        """The metric's value: distinct precincts for ``disappeared_precincts`` and
        ``over_attendance``, subjects seen for ``silent_changes``, snapshots otherwise."""
        found = self.of(kind)
        if kind in ("disappeared_precincts", "over_attendance"):
            return len({s for v in found for s in v.subjects})
        if kind == "silent_changes":
            return sum(len(v.subjects) for v in found)
        return len(found)


def _ids(ids: list[str]) -> str:
    more = len(ids) - SHOWN
    return ", ".join(ids[:SHOWN]) + (f" and {more:,} more" if more > 0 else "")


def _number(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _sum(row: Json, name: str) -> float:
    part = row.get(name)
    return sum(count(v) for v in part.values()) if isinstance(part, Mapping) else 0.0


class _Sums:
    """The published precincts' totals per field and candidate, kept by adding and
    taking away only the precincts that changed (a night's snapshots repeat most of
    their precincts unchanged)."""

    def __init__(self) -> None:
        self.by_field: dict[str, dict[str, float]] = {f: {} for f in TOTAL_FIELDS}

    def add(self, row: Json, sign: float) -> None:
        for name, summed in self.by_field.items():
            part = row.get(name)
            if isinstance(part, Mapping):
                for cand, v in part.items():
                    summed[str(cand)] = summed.get(str(cand), 0.0) + sign * count(v)


class _Checker:
    """The state carried from one fresh snapshot to the next."""

    def __init__(self, run: RunDir) -> None:
        fields = run.published_fields
        self.data = tuple(f for f in DATA_FIELDS if f in fields)
        self.sums = tuple(f for f in TOTAL_FIELDS if f in fields) \
            if "statewide" in fields else ()
        self.alignments = tuple(f for f in ("first", "final") if f in fields) \
            if "attendance" in fields else ()
        self.prev: Json | None = None
        self.prev_reporting = 0
        self.prev_precincts: dict[str, Json] = {}
        self.running = _Sums()
        self.gone: set[str] = set()
        self.over: set[str] = set()
        self.found: list[Violation] = []
        self.points: list[Point] = []
        self.snapshots = self.torn = self.unmarked = 0
        self.markers = False

    def add(self, kind: str, at: float, wall: float | None, subjects: list[str],
            text: str) -> None:
        self.found.append(Violation(kind, at, wall, tuple(subjects), text))

    def step(self, results: Json, at: float, wall: float | None) -> None:
        shown = results.get("precincts")
        precincts: dict[str, Json] = {str(k): v for k, v in shown.items()
                                      if isinstance(v, dict)} \
            if isinstance(shown, Mapping) else {}
        declared = _number(results.get("precincts_reporting"))
        reporting = int(declared) if declared is not None else len(precincts)
        version = _number(results.get("version"))
        self.markers = self.markers or version is not None or any(
            "revision" in p for p in precincts.values())
        old = self.prev_precincts
        changed = [uid for uid, row in precincts.items()
                   if (was := old.get(uid)) is None
                   or any(row.get(f) != was.get(f) for f in DATA_FIELDS)]
        gone = sorted(uid for uid in old if uid not in precincts)
        for uid in [*gone, *changed]:
            if uid in old:
                self.running.add(old[uid], -1.0)
        for uid in changed:
            self.running.add(precincts[uid], 1.0)
        if self.prev is not None:
            self._compare(self.prev, results, old, precincts, changed, gone, reporting,
                          version, at, wall)
        self._self_checks(results, precincts, changed, at, wall)
        sw = results.get("statewide")
        final = sw.get("final") if isinstance(sw, Mapping) else None
        self.points.append(Point(at, reporting, len(precincts), version,
                                 sum(count(v) for v in final.values())
                                 if isinstance(final, Mapping) else 0.0,
                                 sum(self.running.by_field["final"].values()),
                                 "precincts_version" in results))
        self.prev, self.prev_reporting, self.prev_precincts = results, reporting, precincts
        self.snapshots += 1

    def _compare(self, prev: Json, now: Json, old: dict[str, Json], precincts: dict[str, Json],
                 changed: list[str], gone: list[str], reporting: int, version: float | None,
                 at: float, wall: float | None) -> None:
        before = self.prev_reporting
        if reporting < before:
            self.add("reporting_decreases", at, wall, [FEED],
                     f"precincts reporting fell from {before:,} to {reporting:,}")
        if gone:
            again = "" if any(uid not in self.gone for uid in gone) else " (again)"
            self.gone.update(gone)
            self.add("disappeared_precincts", at, wall, gone,
                     f"{len(gone):,} published precinct{'s' if len(gone) > 1 else ''} "
                     f"disappeared{again}: {_ids(gone)}")
        old_version = _number(prev.get("version"))
        newer = None if version is None or old_version is None else version > old_version
        silent: list[str] = []
        example = ""
        for uid in changed:
            row, was = precincts[uid], old.get(uid)
            if was is None or all(row.get(f) == was.get(f) for f in self.data):
                continue
            rev, old_rev = _number(row.get("revision")), _number(was.get("revision"))
            marked = rev > old_rev if rev is not None and old_rev is not None else newer
            if marked is None:
                self.unmarked += 1
            elif not marked:
                silent.append(uid)
                if not example:
                    changes = diff(was, row, self.data)
                    example = f" (e.g. {uid} " + "; ".join(
                        d.text("before", "now") for d in changes[:2]) + ")"
        feed_changed = [what for what, a, b in (
            ("the statewide totals", prev.get("statewide"), now.get("statewide")),
            ("precincts reporting", before, reporting)) if a != b]
        if feed_changed and newer is False:
            back = version is not None and old_version is not None and version < old_version
            self.add("silent_changes", at, wall, [FEED],
                     f"{' and '.join(feed_changed)} changed while the feed's version "
                     + (f"went back from {_version(old_version)} to {_version(version)}"
                        if back else f"stayed at {_version(old_version)}"))
        if silent:
            marker = "revision" if any("revision" in precincts[u] for u in silent) \
                else "the feed's version"
            silent.sort()
            self.add("silent_changes", at, wall, silent,
                     f"{len(silent):,} published precinct{'s' if len(silent) > 1 else ''} "
                     f"changed without a new {marker}: {_ids(silent)}{example}")

    def _self_checks(self, results: Json, precincts: dict[str, Json], changed: list[str],
                     at: float, wall: float | None) -> None:
        if self.sums:
            if "precincts_version" in results:
                self.torn += 1
            else:
                errs = sum_errors("statewide", results.get("statewide"),
                                  {f: self.running.by_field[f] for f in self.sums},
                                  len(precincts))
                if errs:
                    more = f" (and {len(errs) - 1} other total{'s' if len(errs) > 2 else ''})" \
                        if len(errs) > 1 else ""
                    self.add("snapshot_total_errors", at, wall, [FEED],
                             f"{errs[0].text()}{more}")
        over: list[str] = []
        example = ""
        for uid in changed:  # an unchanged precinct was checked when it last changed
            row = precincts[uid]
            att = _number(row.get("attendance"))
            if att is None or uid in self.over:
                continue
            for name in self.alignments:
                if _sum(row, name) > att:
                    over.append(uid)
                    if not example:
                        example = (f" (e.g. {uid}: {name} alignment {_sum(row, name):.0f}, "
                                   f"attendance {att:.0f})")
                    break
        if over:
            over.sort()
            self.over.update(over)  # each precinct once: a count that stays too high is one
            self.add("over_attendance", at, wall, over,
                     f"{len(over):,} published precinct{'s' if len(over) > 1 else ''} "
                     f"counted more people than attended: {_ids(over)}{example}")


def _version(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}" if v == int(v) else f"{v:g}"


def check(run: RunDir) -> History:
    """Stream the run's snapshots and check the published feed over time."""
    c = _Checker(run)
    for snap in iter_snapshots(run.path / "snapshots.jsonl", []):
        if snap.fresh and snap.results is not None:
            c.step(snap.results, snap.sim_min, snap.fetched_wall)
    unmeasured: dict[str, str] = {}
    if not c.sums:
        unmeasured["snapshot_total_errors"] = "the target does not publish statewide totals"
    if not c.alignments:
        unmeasured["over_attendance"] = "the target does not publish attendance and alignments"
    if not c.markers:
        unmeasured["silent_changes"] = "the target publishes no version marker"
    return History(c.snapshots, tuple(c.found), tuple(c.points), unmeasured, c.torn,
                   c.unmarked)


def measure(h: History, metric: str) -> tuple[float | None, str]:
    """(value, how it was read) of one of :data:`METRICS`; None: not measured."""
    if not h.snapshots:
        return None, "no snapshot of the published results"
    if metric in h.unmeasured:
        return None, h.unmeasured[metric]
    found = h.of(metric)
    note = f"over {h.snapshots} published states"
    if found:
        note += f"; first seen at {format_clock(found[0].sim_min)}"
    if metric == "snapshot_total_errors" and h.torn:
        note += f"; {h.torn} not compared (totals and precincts of two states)"
    if metric == "silent_changes" and h.unmarked:
        note += f"; {h.unmarked} changes without a marker to judge them by"
    return float(h.value(metric)), note


def history_json(h: History) -> dict[str, Any]:
    """The ``integrity`` block of ``summary.json``."""
    return {"snapshots": h.snapshots, "torn_snapshots": h.torn,
            "unjudged_changes": h.unmarked,
            "metrics": {m: None if m in h.unmeasured or not h.snapshots else h.value(m)
                        for m in METRICS},
            "not_measured": dict(h.unmeasured),
            "violations": [v.as_json() for v in h.violations]}
