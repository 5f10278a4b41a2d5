"""Reading a run directory (``docs/run-directory.md``) into plain records: the one reader.

Everything here tolerates a run that stopped half-way: a JSONL file whose last line was
cut off by the interruption is read up to that line (and the run is marked partial); a
file not written yet reads as empty. A missing ``run.json`` or ``truth.jsonl``, or a
malformed line *before* the last, is an :class:`~caucus_rehearsal.errors.InputFileError`
naming the file and line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.published import CONTRACT_V1_PUBLISHES, check_publishes
from caucus_rehearsal.rundir.reads import ReadStats
from caucus_rehearsal.rundir.records import Json, LostWorker, PlanUnit, TruthUnit
from caucus_rehearsal.rundir.vocab import (
    AUDIT_FILE,
    BAND_FILE,
    EVENTS_FILE,
    PLAN_FILE,
    READS_FILE,
    ROSTER_FILE,
    RUN_FILE,
    SNAPSHOTS_FILE,
    TRUTH_FILE,
    ZERO_STATE_FILE,
)
from caucus_rehearsal.rundir.zero import ZeroRead


@dataclass(slots=True)
class RunDir:
    """The parsed contents of one run directory; lists keep file order."""

    path: Path
    run: Json
    candidates: tuple[str, ...]
    truth: list[TruthUnit]
    plan: dict[str, PlanUnit]
    events: list[Json]
    published: Published
    audit: list[Json]
    band: Json | None
    locust_stats: list[dict[str, str]]
    reads: ReadStats = field(default_factory=ReadStats)
    """The public's reads, merged per bin and endpoint (``reads.jsonl``; empty: none)."""
    group_sde: dict[str, float] = field(default_factory=dict)
    """Per satellite group (the satellites' ``county``), the state delegates ``S`` its
    satellites share by attendance (``roster.json``, else the truth's SDE summed)."""
    ratios: dict[str, float] = field(default_factory=dict)
    """Per county (not satellite groups), state delegates / county delegates: the SDE of
    one county delegate (``roster.json``; empty without it)."""
    truncated: list[str] = field(default_factory=list)
    """Files whose last line was cut off (a sign the run was interrupted)."""
    missing: list[str] = field(default_factory=list)
    """Optional files that were not there."""

    @property
    def status(self) -> str:
        """``running``, ``complete``, ``interrupted`` or ``aborted`` (from ``run.json``)."""
        return str(self.run.get("status", "running"))

    @property
    def published_fields(self) -> frozenset[str]:
        """What the target publishes, as its adapter declared (``run.json``
        ``published_fields``; contract v1's fields when the run does not say)."""
        declared = self.run.get("published_fields")
        if declared is None:
            return CONTRACT_V1_PUBLISHES
        try:
            return check_publishes(declared)
        except ValueError as exc:
            raise InputFileError(f"{self.path / RUN_FILE}: {exc}") from None

    @property
    def partial(self) -> bool:
        """True when the run did not finish normally or left a cut-off file."""
        return self.status != "complete" or bool(self.truncated)

    @property
    def lost_workers(self) -> list[LostWorker]:
        """The load-generator processes lost mid-run (``run.json`` ``lost_workers``)."""
        return [cast(LostWorker, w) for w in self.run.get("lost_workers") or []
                if isinstance(w, dict)]

    @property
    def not_played(self) -> dict[str, int]:
        """Units whose chair a lost load generator did not play to the end -> its index."""
        return {str(u): int(w["worker"]) for w in self.lost_workers
                for u in w.get("units_not_played") or []}


def iter_jsonl(path: Path, truncated: list[str], *, required: bool = False) -> Iterator[Json]:
    """The objects of a JSONL file, streamed; a bad *last* line is dropped and its file
    noted in ``truncated``; a bad line before the last is an :class:`InputFileError`."""
    if not path.exists():
        if required:
            raise InputFileError(f"{path}: missing (not a complete run directory?)")
        return
    bad: tuple[int, str] | None = None
    try:
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                if bad is not None:
                    raise InputFileError(f"{path}: line {bad[0]} is not JSON ({bad[1]})")
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    bad = (i, exc.msg)
                    continue
                if not isinstance(obj, dict):
                    raise InputFileError(f"{path}: line {i} is not a JSON object")
                yield obj
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot be read ({exc})") from None
    if bad is not None:
        truncated.append(path.name)


def read_jsonl(path: Path, truncated: list[str], *, required: bool = False) -> list[Json]:
    """:func:`iter_jsonl` as a list."""
    return list(iter_jsonl(path, truncated, required=required))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One line of ``snapshots.jsonl`` as the published state it shows.

    ``status`` is the fetch's (200, 304 not modified, 0 failed). ``results`` is the
    normalised published results as of this fetch: a 200 line's own; for a 304 line the
    previous readable line's (the same object); ``None`` when the fetch failed or a 304
    has nothing readable before it. ``fetched_wall`` is Unix seconds (None if absent).
    """

    sim_min: float
    fetched_wall: float | None
    status: int
    results: Json | None
    detail: str = ""

    @property
    def fresh(self) -> bool:
        """True when this line brought results of its own (a 200 with results)."""
        return self.status == 200 and self.results is not None


def iter_snapshots(path: Path, truncated: list[str]) -> Iterator[Snapshot]:
    """The lines of ``snapshots.jsonl`` in order, streamed (the file can be hundreds of
    megabytes): only the current published state is held. A line whose results are not
    an object counts as a failed fetch."""
    last: Json | None = None
    for snap in iter_jsonl(path, truncated):
        raw = snap.get("status", 200)
        status = raw if isinstance(raw, int) else 0
        results = snap.get("results")
        wall = snap.get("fetched_wall")
        if status == 304:
            shown = last
        elif status == 200 and isinstance(results, dict):
            shown = last = results
        else:
            shown = None
        yield Snapshot(float(snap.get("sim_min", 0.0)),
                       float(wall) if isinstance(wall, int | float) else None,
                       status, shown, str(snap.get("detail", "")))


@dataclass(slots=True)
class Published:
    """What the snapshots show, kept small: snapshots can be hundreds of megabytes.

    ``curve`` holds (simulation minute, units of the roster present) per readable
    snapshot (status 200, or 304: unchanged since the previous one); ``first_seen`` the
    minute each unit first appeared; ``final`` the last readable normalised results
    (``{}``: none).
    """

    curve: list[tuple[float, int]] = field(default_factory=list)
    first_seen: dict[str, float] = field(default_factory=dict)
    final: Json = field(default_factory=dict)


def read_snapshots(path: Path, known: set[str], truncated: list[str]) -> Published:
    """Stream ``snapshots.jsonl`` into a :class:`Published`."""
    out = Published()
    for snap in iter_snapshots(path, truncated):
        if snap.results is None:
            continue
        if not snap.fresh:  # 304: not modified since the last readable fetch
            out.curve.append((snap.sim_min, out.curve[-1][1]))
            continue
        precincts = snap.results.get("precincts") or {}
        for uid in precincts:
            out.first_seen.setdefault(str(uid), snap.sim_min)
        out.curve.append((snap.sim_min, sum(1 for k in precincts if k in known)))
        out.final = snap.results
    return out


def read_json(path: Path) -> Json:
    """A JSON object file; :class:`InputFileError` when missing or not one."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{path}: missing (not a run directory?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise InputFileError(f"{path}: expected a JSON object")
    return obj


def _truth_unit(obj: Json, where: str) -> TruthUnit:
    try:
        tally = obj["tally"]
        if not isinstance(tally, dict):
            raise TypeError("tally is not an object")
        return TruthUnit(
            unit_id=str(obj["unit_id"]), county=str(obj.get("county", "")),
            precinct=str(obj.get("precinct", obj["unit_id"])),
            satellite=bool(obj.get("satellite", False)),
            delegates_total=int(obj.get("delegates_total", 0)),
            coin_toss=bool(obj.get("coin_toss", False)), tally=tally)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputFileError(f"{where}: a unit line lacks a field or has a bad one ({exc})") \
            from None


def _plan_unit(obj: Json) -> PlanUnit | None:
    ws = obj.get("worksheet")
    if "unit_id" not in obj or not isinstance(ws, dict) or not isinstance(ws.get("tally"), dict):
        return None
    err = ws.get("error")
    return PlanUnit(str(obj["unit_id"]), ws["tally"], None if err is None else str(err),
                    str(ws.get("error_detail", "")), obj)


def group_sde(roster: Json | None, truth: list[TruthUnit]) -> dict[str, float]:
    """Each satellite group's state delegates: ``roster.json``'s ``state_delegates`` of
    the group's county, or else the sum of its satellites' true SDE (4-decimal rounding)."""
    out: dict[str, float] = {}
    for unit in truth:
        if unit.satellite:
            sde = unit.tally.get("sde") or {}
            out[unit.county] = out.get(unit.county, 0.0) + sum(
                float(v) for v in sde.values() if isinstance(v, int | float))
    for county in (roster or {}).get("counties") or []:
        if isinstance(county, dict) and county.get("name") in out \
                and isinstance(county.get("state_delegates"), int | float):
            out[str(county["name"])] = float(county["state_delegates"])
    return out


def county_ratios(roster: Json | None) -> dict[str, float]:
    """Per county of ``roster.json`` that is not a satellite group, state delegates per
    county delegate (0 for a county without county delegates)."""
    out: dict[str, float] = {}
    for county in (roster or {}).get("counties") or []:
        if not isinstance(county, dict) or county.get("satellite_group"):
            continue
        state, dels = county.get("state_delegates"), county.get("county_delegates")
        if isinstance(state, int | float) and isinstance(dels, int | float):
            out[str(county.get("name"))] = float(state) / float(dels) if dels else 0.0
    return out


def _candidates(truth: list[TruthUnit]) -> tuple[str, ...]:
    """Candidates in the order of the first truth line's first alignment."""
    for unit in truth:
        first = unit.tally.get("first")
        if isinstance(first, dict):
            return tuple(str(k) for k in first)
    return ()


@dataclass(frozen=True, slots=True)
class RunHead:
    """What a run directory says before the night: ``run.json``, ``roster.json`` (None
    when absent) and the truth, read without the (possibly large) events and snapshots."""

    path: Path
    run: Json
    roster: Json | None
    truth: list[TruthUnit]
    candidates: tuple[str, ...]
    truncated: list[str]

    @property
    def snapshots(self) -> Path:
        """The run's ``snapshots.jsonl`` (read it with :func:`iter_snapshots`)."""
        return self.path / SNAPSHOTS_FILE


def read_run_head(path: Path) -> RunHead:
    """``run.json``, ``roster.json`` and ``truth.jsonl`` of the run directory at ``path``;
    :class:`InputFileError` when it is not one."""
    if not path.is_dir():
        raise InputFileError(f"{path}: not a directory (expected a run directory)")
    run = read_json(path / RUN_FILE)
    truncated: list[str] = []
    truth_path = path / TRUTH_FILE
    truth = [_truth_unit(o, str(truth_path))
             for o in read_jsonl(truth_path, truncated, required=True)]
    if not truth:
        raise InputFileError(f"{truth_path}: holds no units")
    roster = read_json(path / ROSTER_FILE) if (path / ROSTER_FILE).exists() else None
    return RunHead(path, run, roster, truth, _candidates(truth), truncated)


def read_reads(path: Path, truncated: list[str]) -> ReadStats:
    """``reads.jsonl`` merged into a :class:`ReadStats` (empty when absent); a line that
    is not a read bin is an :class:`InputFileError` naming the file."""
    stats = ReadStats()
    try:
        stats.merge_rows(read_jsonl(path, truncated))
    except (KeyError, ValueError, TypeError) as exc:
        raise InputFileError(f"{path}: a line is not a read bin ({exc})") from None
    return stats


def read_run_dir(path: Path) -> RunDir:
    """Parse the run directory at ``path``; :class:`InputFileError` when it is not one."""
    head = read_run_head(path)
    truncated, truth = head.truncated, head.truth
    missing: list[str] = []
    plan: dict[str, PlanUnit] = {}
    for obj in read_jsonl(path / PLAN_FILE, truncated):
        unit = _plan_unit(obj)
        if unit is not None:
            plan[unit.unit_id] = unit
    events = read_jsonl(path / EVENTS_FILE, truncated)
    published = read_snapshots(head.snapshots, {t.unit_id for t in truth}, truncated)
    audit = read_jsonl(path / AUDIT_FILE, truncated)
    band: Json | None = None
    if (path / BAND_FILE).exists():
        band = read_json(path / BAND_FILE)
    stats: list[dict[str, str]] = []
    stats_path = path / "locust_stats.csv"
    if stats_path.exists():
        with stats_path.open(newline="", encoding="utf-8") as fh:
            stats = list(csv.DictReader(fh))
    for name in (PLAN_FILE, EVENTS_FILE, SNAPSHOTS_FILE, BAND_FILE):
        if not (path / name).exists():
            missing.append(name)
    return RunDir(path=path, run=head.run, candidates=head.candidates, truth=truth, plan=plan,
                  events=events, published=published, audit=audit, band=band,
                  locust_stats=stats, reads=read_reads(path / READS_FILE, truncated),
                  group_sde=group_sde(head.roster, truth),
                  ratios=county_ratios(head.roster), truncated=truncated, missing=missing)


def read_zero_state(run_dir: Path) -> ZeroRead | None:
    """The run's ``zero_state.json`` (None: not recorded); :class:`InputFileError` when
    it is not a zero read."""
    path = run_dir / ZERO_STATE_FILE
    if not path.exists():
        return None
    try:
        return ZeroRead.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputFileError(f"{path}: not a zero read ({exc})") from None
