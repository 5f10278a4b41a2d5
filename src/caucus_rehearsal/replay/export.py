"""The published state at one moment of a run, as a canonical results file.

``rehearse report RUN_DIR --at 23:00`` writes what the target had published at 23:00
(the state :mod:`.timeline` gives for that moment, as ``rehearse replay`` serves it) in
the canonical results format of docs/data-format.md, which ``rehearse audit`` reads:
one row per published precinct, in roster order, with

- ``delegates_total``: D from the roster; for a satellite, from its published
  attendance by tier (``rules.satellite_delegates``);
- ``sde_ratio``: the county's state delegates over its county delegates; for a
  satellite, its attendance share of the group's state delegates among the group's
  satellites published at that moment (``rules.satellite_sde``), over its D;
- the published first and final alignments, delegates and SDE per candidate.

A precinct the roster does not know is written with D = 0 (the audit flags it).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caucus_rehearsal import rules
from caucus_rehearsal.audit import PARTS, REQUIRED
from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.replay.timeline import Timeline, read_timeline
from caucus_rehearsal.rundir.reader import RunHead, county_ratios
from caucus_rehearsal.rundir.records import Json
from caucus_rehearsal.simulator.units import format_clock


@dataclass(frozen=True, slots=True)
class Export:
    """What was written: the file, the position exported (of ``total``), since when it
    was current (simulation minute) and the precincts in it."""

    path: Path
    position: int
    total: int
    since_min: float
    rows: int
    precincts_total: int


def default_name(minute: float | None) -> str:
    """``published-2300.csv`` for 23:00, ``published-1600+1d.csv``, ``published-end.csv``."""
    label = "end" if minute is None else format_clock(minute).replace(":", "")
    return f"published-{label}.csv"


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _ratios(roster: Json, state: dict[str, Json]) -> dict[str, float]:
    """SDE of one county delegate for every published precinct of the roster."""
    precincts = {str(p["id"]): p for p in roster.get("precincts") or []
                 if isinstance(p, dict) and "id" in p}
    counties = {str(c["name"]): c for c in roster.get("counties") or []
                if isinstance(c, dict) and "name" in c}
    ratio = county_ratios(roster)
    out: dict[str, float] = {}
    groups: dict[str, list[str]] = {}
    for uid in state:
        p = precincts.get(uid)
        if p is None:
            continue
        if p.get("satellite"):
            groups.setdefault(str(p.get("county")), []).append(uid)
        else:
            out[uid] = ratio.get(str(p.get("county")), 0.0)
    for name, members in groups.items():
        shares = rules.satellite_sde(float(counties.get(name, {}).get("state_delegates", 0)),
                                     [max(0, _int(state[u].get("attendance"))) for u in members])
        for uid, share in zip(members, shares, strict=True):
            d = rules.satellite_delegates(max(0, _int(state[uid].get("attendance"))))
            out[uid] = share / d if d else 0.0
    return out


def write_results_csv(path: Path, timeline: Timeline, roster: Json,
                      state: dict[str, Json]) -> int:
    """Write ``state`` (precinct -> published record) to ``path`` in the canonical
    format, atomically; the number of rows."""
    cands = timeline.candidates
    roster_d = {str(p["id"]): _int(p.get("delegates")) for p in roster.get("precincts") or []
                if isinstance(p, dict) and "id" in p}
    ratios = _ratios(roster, state)
    header = ["unit_id", *REQUIRED, *(f"{part}_{c}" for part in (*PARTS, "sde") for c in cands)]
    tmp = path.with_name(path.name + ".tmp")
    try:
        _write(tmp, header, cands, roster_d, ratios, state)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return len(state)


def _write(tmp: Path, header: list[str], cands: tuple[str, ...], roster_d: dict[str, int],
           ratios: dict[str, float], state: dict[str, Json]) -> None:
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        for uid, rec in state.items():
            sat = bool(rec.get("satellite"))
            d = rules.satellite_delegates(max(0, _int(rec.get("attendance")))) if sat \
                else roster_d.get(uid, 0)
            row: list[Any] = [uid, rec.get("county", ""), rec.get("name", uid), int(sat), d,
                              round(ratios.get(uid, 0.0), 12)]
            for part in (*PARTS, "sde"):
                tally = rec.get(part) or {}
                row += [tally.get(c, 0) for c in cands]
            out.writerow(row)
        fh.flush()
        os.fsync(fh.fileno())


def export_at(head: RunHead, minute: float | None, path: Path | None = None) -> Export:
    """Write the state published at simulation minute ``minute`` (None: the last) of the
    run ``head`` describes, to ``path`` (default ``RUN_DIR/published-<time>.csv``)."""
    if head.roster is None:
        raise InputFileError(f"{head.path / 'roster.json'}: missing (the export needs the "
                             f"roster's delegates and county ratios)")
    timeline = read_timeline(head)
    position = timeline.total if minute is None else timeline.position_at(minute)
    state = timeline.state(position)
    target = path if path is not None else head.path / default_name(minute)
    if target.is_dir():
        raise InputFileError(f"{target}: is a directory (give a file name for the CSV)")
    try:
        rows = write_results_csv(target, timeline, head.roster, state)
    except OSError as exc:
        raise InputFileError(f"{target}: cannot be written ({exc.strerror or exc})") from None
    step = timeline.step(position)
    return Export(target, position, timeline.total, step.sim_min, rows,
                  int(step.summary["precincts_total"]))
