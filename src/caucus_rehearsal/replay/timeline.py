"""The published feed of a run as it evolved: a sequence of versions read from its snapshots.

A run directory's ``snapshots.jsonl`` (docs/run-directory.md) records what the target
published, fetch by fetch. :func:`read_timeline` turns it into the distinct states a
consumer of the feed saw, in contract-v1 shape (docs/contract.md), each with the moment
it appeared:

- position 1 is the zero state: the first snapshot itself when it shows nothing
  published, otherwise the roster with zero counts (a run whose first fetch already
  had data still starts from zero, as a real night does);
- every later snapshot whose content (or recorded version) differs from the current
  state is a new position; a 304 line, a 200 line with the same content and a failed
  fetch (status 0) are not;
- the feed's ``version`` is the target's when the snapshots record it, else the position;
- a precinct's ``version``, ``revision`` and ``channel`` are the target's when recorded;
  else its ``version`` is the number of distinct records it has had so far (1 when first
  published), its ``revision`` the feed version at which its record last changed, and its
  ``channel`` the one of its last acknowledged report before that fetch
  (``events.jsonl``; paper is keyed by a hotline operator, so it reads ``hotline``), or
  ``null``. A listed precinct with ``"reporting": false`` (a zero row) is not published.

Only the changes are held (one record per precinct and change), never every snapshot:
a night's snapshots can be hundreds of megabytes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.published import DATA_FIELDS
from caucus_rehearsal.rundir.reader import RunHead, iter_jsonl, iter_snapshots
from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.rundir.vocab import FINAL_STEPS
from caucus_rehearsal.simulator.units import parse_clock

TALLIES = tuple(f for f in DATA_FIELDS if f != "attendance")
"""The per-candidate fields of a published precinct, in contract order."""

_CHANNEL = {"app": "app", "hotline": "hotline", "paper": "hotline"}
"""The channel a target records for an acknowledgement by each rehearsal channel."""


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the roster as the feed names it."""

    county: str
    name: str
    satellite: bool


@dataclass(frozen=True, slots=True)
class Step:
    """One position of the feed: the state from ``sim_min`` until the next position.

    ``summary`` is the ``GET /v1/results`` object; ``changed`` maps each precinct whose
    published record changed at this position to its new record (``None``: no longer
    published).
    """

    position: int
    sim_min: float
    summary: Json
    changed: dict[str, Json | None]

    @property
    def version(self) -> int:
        """The feed's version at this position (the target's, or the position)."""
        return int(self.summary["version"])

    @property
    def reporting(self) -> int:
        """Precincts reporting, as published."""
        return int(self.summary["precincts_reporting"])


@dataclass(slots=True)
class Timeline:
    """The feed of one run; ``steps[i]`` is position ``i + 1``."""

    election: str
    candidates: tuple[str, ...]
    units: dict[str, Unit]
    steps: list[Step]
    start_min: float
    """Simulation minute the feed starts at (the run's start, or earlier data)."""
    end_min: float
    """Simulation minute of the last snapshot (the end of the recording)."""
    failed_min: list[float] = field(default_factory=list)
    """Minutes of the fetches that failed (status 0), in order."""
    starts: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.starts = [s.sim_min for s in self.steps]

    @property
    def total(self) -> int:
        """The number of positions."""
        return len(self.steps)

    def position_at(self, minute: float) -> int:
        """The position current at simulation minute ``minute`` (1 before the start)."""
        return max(1, bisect.bisect_right(self.starts, minute))

    def step(self, position: int) -> Step:
        """The step at ``position`` (1-based); ``IndexError`` outside 1..total."""
        if not 1 <= position <= len(self.steps):
            raise IndexError(f"position {position} is outside 1..{len(self.steps)}")
        return self.steps[position - 1]

    def states(self) -> Iterator[tuple[Step, dict[str, Json]]]:
        """Each step with every precinct published at it (precinct -> record; the same
        dict, updated in place from one step to the next)."""
        current: dict[str, Json] = {}
        for s in self.steps:
            for uid, rec in s.changed.items():
                if rec is None:
                    current.pop(uid, None)
                else:
                    current[uid] = rec
            yield s, current

    def state(self, position: int) -> dict[str, Json]:
        """Every precinct published at ``position`` with its record, in roster order."""
        self.step(position)
        for s, current in self.states():
            if s.position == position:
                order = {uid: i for i, uid in enumerate(self.units)}
                return dict(sorted(current.items(),
                                   key=lambda kv: order.get(kv[0], len(order))))
        raise AssertionError("unreachable: position checked above")  # pragma: no cover


def parse_moment(text: str) -> float | None:
    """A moment of the night as the simulation minute: a clock time (``"23:00"``,
    ``"16:00+1d"``) or minutes after 19:00 (``"240"``, ``"-30"``); ``"end"`` is None (the
    last state). ``ValueError`` says what would have been accepted."""
    text = text.strip()
    if text == "end":
        return None
    if ":" in text:
        return parse_clock(text)
    try:
        minute = float(text)
    except ValueError:
        raise ValueError(f"moment {text!r} must be a clock time like '23:00' or "
                         f"'16:00+1d', minutes after 19:00 like '240', or 'end'") from None
    if minute != minute or minute in (float("inf"), float("-inf")):
        raise ValueError(f"moment {text!r} is not a finite number of minutes")
    return minute


def _units(head: RunHead) -> tuple[str, tuple[str, ...], dict[str, Unit]]:
    """Election name, candidates and units: ``roster.json``, else the truth."""
    roster = head.roster or {}
    cands = roster.get("candidates")
    candidates = tuple(str(c) for c in cands) if isinstance(cands, list) and cands \
        else head.candidates
    units: dict[str, Unit] = {}
    for p in roster.get("precincts") or []:
        if isinstance(p, dict) and "id" in p:
            units[str(p["id"])] = Unit(str(p.get("county", "")), str(p.get("name", p["id"])),
                                       bool(p.get("satellite", False)))
    if not units:
        units = {t.unit_id: Unit(t.county, t.precinct, t.satellite) for t in head.truth}
    election = str(roster.get("election") or head.run.get("scenario") or "")
    return election, candidates, units


def _tally(raw: Any, candidates: tuple[str, ...], kind: type[int] | type[float]) -> Json:
    """Every candidate in roster order (absent: 0), then any other key as published."""
    got = raw if isinstance(raw, dict) else {}
    out: Json = {c: got.get(c, kind(0)) for c in candidates}
    out.update({k: v for k, v in got.items() if k not in out})
    return out


class _Channels:
    """Per unit, the channels of its acknowledged reports in time order (``events.jsonl``)."""

    def __init__(self, path: Path, truncated: list[str]) -> None:
        self._acks: dict[str, tuple[list[float], list[str]]] = {}
        for ev in iter_jsonl(path, truncated):
            channel = ev.get("channel")
            if ev.get("outcome") != "ok" or ev.get("actor") not in ("chair", "operator") \
                    or channel not in FINAL_STEPS or ev.get("step") != FINAL_STEPS[channel]:
                continue
            wall = ev.get("sent_wall", ev.get("intended_wall"))
            if not isinstance(wall, int | float):
                continue
            walls, names = self._acks.setdefault(str(ev.get("unit_id")), ([], []))
            i = bisect.bisect_right(walls, float(wall))
            walls.insert(i, float(wall))
            names.insert(i, _CHANNEL[channel])

    def at(self, uid: str, wall: float | None) -> str | None:
        """The channel of ``uid``'s last acknowledgement sent by ``wall`` (else its first)."""
        got = self._acks.get(uid)
        if not got:
            return None
        walls, names = got
        i = len(walls) if wall is None else bisect.bisect_right(walls, wall)
        return names[max(i - 1, 0)]


def _is_zero(summary: Json) -> bool:
    """True when a summary shows nothing: no precinct reporting, every count 0."""
    return summary["precincts_reporting"] == 0 and not any(
        v for t in summary["statewide"].values() for v in t.values())


def _summary(election: str, candidates: tuple[str, ...], results: Json, total_units: int,
             version: int) -> Json:
    total = results.get("precincts_total")
    total = total if isinstance(total, int) else total_units
    reporting = results.get("precincts_reporting")
    precincts = results.get("precincts")
    if not isinstance(reporting, int):
        reporting = len(precincts) if isinstance(precincts, dict) else 0
    raw = results.get("statewide")
    sw: Json = raw if isinstance(raw, dict) else {}
    recorded = results.get("version")
    return {
        "election": election, "candidates": list(candidates),
        "version": recorded if isinstance(recorded, int) else version,
        "precincts_total": total, "precincts_reporting": reporting,
        "percent_reporting": round(100.0 * reporting / total, 2) if total else 0.0,
        "statewide": {"first": _tally(sw.get("first"), candidates, int),
                      "final": _tally(sw.get("final"), candidates, int),
                      "sde": _tally(sw.get("sde"), candidates, float)},
    }


class _Builder:
    """Folds the snapshot lines into steps, keeping only what changed."""

    def __init__(self, election: str, candidates: tuple[str, ...], units: dict[str, Unit],
                 channels: _Channels) -> None:
        self.election, self.candidates, self.units = election, candidates, units
        self.channels = channels
        self.raw: dict[str, Json] = {}  # each published precinct as last recorded
        self.counts: dict[str, int] = {}  # records each precinct has had
        self.summary_key: Any = None
        self.steps: list[Step] = []

    def record(self, uid: str, raw: Json, wall: float | None, version: int) -> Json:
        """The contract-v1 precinct of ``raw``, first published at feed ``version``."""
        unit = self.units.get(uid, Unit("", uid, False))
        recorded = {k: raw.get(k) for k in ("version", "revision")}
        channel = raw.get("channel")
        rec: Json = {"county": unit.county, "name": unit.name, "satellite": unit.satellite,
                     "reporting": True,
                     "channel": channel if isinstance(channel, str)
                     else self.channels.at(uid, wall),
                     "version": recorded["version"] if isinstance(recorded["version"], int)
                     else self.counts[uid],
                     "revision": recorded["revision"] if isinstance(recorded["revision"], int)
                     else version,
                     "attendance": raw.get("attendance", 0)}
        for k in TALLIES:
            rec[k] = _tally(raw.get(k), self.candidates, float if k == "sde" else int)
        rec.update({k: v for k, v in raw.items() if k not in rec})
        return rec

    def add(self, minute: float, wall: float | None, results: Json) -> None:
        """A readable snapshot: a new step when anything differs from the current one."""
        listed = results.get("precincts")
        precincts = {str(uid): raw for uid, raw in listed.items()
                     if isinstance(raw, dict) and raw.get("reporting", True) is not False} \
            if isinstance(listed, dict) else {}
        fresh = {uid: raw for uid, raw in precincts.items() if self.raw.get(uid) != raw}
        gone = [uid for uid in self.raw if uid not in precincts]
        summary = _summary(self.election, self.candidates, results, len(self.units), 0)
        key = summary  # a recorded version is part of it: a new version is a new body
        if not fresh and not gone and key == self.summary_key and self.steps:
            return
        self.summary_key = key
        if not self.steps and not _is_zero(summary):  # data from the first fetch: zero first
            zero = _summary(self.election, self.candidates, {}, len(self.units), 1)
            self.steps.append(Step(1, minute, zero, {}))
        position = len(self.steps) + 1
        summary = _summary(self.election, self.candidates, results, len(self.units), position)
        changed: dict[str, Json | None] = {}
        for uid, raw in fresh.items():
            self.raw[uid] = raw
            self.counts[uid] = self.counts.get(uid, 0) + 1
            changed[uid] = self.record(uid, raw, wall, int(summary["version"]))
        for uid in gone:
            del self.raw[uid]
            changed[uid] = None
        self.steps.append(Step(position, minute, summary, changed))


def read_timeline(head: RunHead) -> Timeline:
    """The feed of the run ``head`` describes; :class:`InputFileError` when its
    ``snapshots.jsonl`` is missing or holds no readable snapshot."""
    path = head.snapshots
    if not path.exists():
        raise InputFileError(f"{path}: missing (the run recorded no published results)")
    election, candidates, units = _units(head)
    builder = _Builder(election, candidates, units,
                       _Channels(head.path / "events.jsonl", head.truncated))
    failed: list[float] = []
    first_min: float | None = None
    last_min: float | None = None
    for snap in iter_snapshots(path, head.truncated):
        first_min = snap.sim_min if first_min is None else first_min
        last_min = snap.sim_min
        if snap.fresh and snap.results is not None:
            builder.add(snap.sim_min, snap.fetched_wall, snap.results)
        elif snap.status != 304:
            failed.append(snap.sim_min)
    if not builder.steps or first_min is None or last_min is None:
        raise InputFileError(f"{path}: holds no readable snapshot of the published results")
    steps = builder.steps
    start = head.run.get("sim_start_min")
    start_min = float(start) if isinstance(start, int | float) else first_min
    if len(steps) > 1:  # the zero state never starts after the first data
        start_min = min(start_min, steps[1].sim_min)
    steps[0] = Step(1, start_min, steps[0].summary, steps[0].changed)
    return Timeline(election, candidates, units, steps, start_min, max(last_min, start_min),
                    failed)

