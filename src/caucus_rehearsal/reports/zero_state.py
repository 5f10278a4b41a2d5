"""The zero state: what the target published before the night, judged.

Before the first report a results feed must show the whole roster with nothing in it, in
the format of the live feed (Arizona publishes a "zero file" in election night's own
format; AP returns its test feeds to zero). ``rehearse run`` records one read of the
published results after provisioning (``zero_state.json``, :mod:`caucus_rehearsal.rundir.zero`);
this module checks it against the roster:

- **every unit listed**: each unit of the roster is among the precincts the target lists,
  reporting or not (checked when the adapter returns the zero rows, ``unreported``);
- **nothing in it**: no unit reporting, and every listed unit's attendance, alignments,
  delegates and SDE are 0. A unit that shows anything is a *leftover*, named with what
  it shows (test data published as real: the AP leak of 2016);
- **no unit outside the roster** (a leftover of another roster);
- **zero totals, no winner**: precincts reporting 0, every statewide total 0 (so no SDE
  leader), and no ``winner`` if the target names one;
- **the live feed's format**: the totals and every listed unit have the shape the live
  feed gave them (``snapshots.jsonl``: the statewide totals of its first fresh snapshot,
  the first precinct it published): the same fields, each tally with the same candidates.

``zero_state_errors`` counts the units missing, leftover or outside the roster, the
non-zero total figures, the units and totals in another format, and a read that failed.
It is not measured when the run skipped the read (``rehearse run --skip-zero-check``) or
recorded none (plain Locust, a run directory from before the zero read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from caucus_rehearsal.published import DATA_FIELDS, TOTAL_FIELDS
from caucus_rehearsal.rundir.reader import RunDir, iter_snapshots, read_zero_state
from caucus_rehearsal.rundir.zero import SKIP_FLAG
from caucus_rehearsal.simulator.units import format_clock

METRIC = "zero_state_errors"

FIELD_WORDS = {"attendance": "attendance", "first": "first alignment",
               "final": "final alignment", "delegates": "delegates", "sde": "SDE"}


@dataclass(frozen=True, slots=True)
class ZeroState:
    """The zero read, judged. ``recorded`` False: the run directory holds none."""

    recorded: bool
    skipped: bool = False
    read_min: float | None = None
    failed: str = ""
    """Why the read failed ("" when it worked)."""
    zero_rows: bool = False
    """Whether the target's zero rows were returned (else ``missing`` was not checked)."""
    listed: int = 0
    missing: tuple[str, ...] = ()
    leftovers: dict[str, str] = field(default_factory=dict)
    """Unit id -> what it showed (``reporting; attendance 120, final alignment 118``)."""
    outside: tuple[str, ...] = ()
    totals: tuple[str, ...] = ()
    """Non-zero total figures: ``precincts reporting 12``, ``final/Biden 340``."""
    format: dict[str, str] = field(default_factory=dict)
    """``statewide`` or a unit id -> how it differs from the live feed's format."""
    format_checked: bool = False
    """Whether the live feed showed a format to compare with (a fresh snapshot)."""

    @property
    def measured(self) -> bool:
        return self.recorded and not self.skipped

    @property
    def errors(self) -> int:
        """The ``zero_state_errors`` metric (0 when not measured)."""
        return (len(self.missing) + len(self.leftovers) + len(self.outside)
                + len(self.totals) + len(self.format) + bool(self.failed))


def _number(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _fmt(name: str, v: float) -> str:
    return f"{v:.4f}" if name == "sde" else f"{v:.0f}"


def _shows(row: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    """The non-zero figures of a listed unit: ``attendance 120``, ``final alignment 118``."""
    out = []
    for name in fields:
        v = row.get(name)
        if isinstance(v, Mapping):
            total = sum(x for x in (_number(y) for y in v.values()) if x is not None)
            if any(_number(y) for y in v.values()):
                out.append(f"{FIELD_WORDS[name]} {_fmt(name, total)}")
        elif x := _number(v):
            out.append(f"{FIELD_WORDS[name]} {_fmt(name, x)}")
    return out


def _shape(v: object) -> object:
    """What a value looks like to a consumer of the feed: a tally's candidates, else
    its kind."""
    if isinstance(v, Mapping):
        return frozenset(str(k) for k in v)
    if _number(v) is not None:
        return "a number"
    return "missing" if v is None else f"a {type(v).__name__}"


def _signature(part: object, fields: tuple[str, ...]) -> dict[str, object] | None:
    if not isinstance(part, Mapping):
        return None
    return {f: _shape(part.get(f)) for f in fields}


def live_format(run: RunDir) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """The format of the live feed: the shapes of the statewide totals of the first
    fresh snapshot and of the first precinct it published (None: never seen)."""
    statewide = row = None
    for snap in iter_snapshots(run.path / "snapshots.jsonl", []):
        if not snap.fresh or snap.results is None:
            continue
        if statewide is None:
            statewide = _signature(snap.results.get("statewide"), TOTAL_FIELDS)
        shown = snap.results.get("precincts")
        if row is None and isinstance(shown, Mapping):
            row = next((_signature(p, DATA_FIELDS) for p in shown.values()
                        if isinstance(p, Mapping)), None)
        if statewide is not None and row is not None:
            break
    return statewide, row


def _differs(part: object, live: dict[str, object], fields: tuple[str, ...]) -> str:
    """How ``part`` differs from the live feed's format ``live`` ("" when it does not)."""
    mine = _signature(part, fields)
    if mine is None:
        return "is not an object"
    out = []
    for f in fields:
        a, b = mine[f], live[f]
        if a == b:
            continue
        if isinstance(a, frozenset) and isinstance(b, frozenset):
            if b - a:
                out.append(f"lacks {f} for {', '.join(sorted(b - a))}")
            if a - b:
                out.append(f"has {f} for {', '.join(sorted(a - b))}, which the live feed lacks")
        else:
            shown = "a tally" if isinstance(a, frozenset) else a
            want = "a tally" if isinstance(b, frozenset) else b
            out.append(f"has {f} {shown} where the live feed has {want}")
    return "; ".join(out)


def check(run: RunDir) -> ZeroState:
    """Judge the run's zero read against its roster (``truth.jsonl``)."""
    read = read_zero_state(run.path)
    if read is None:
        return ZeroState(recorded=False)
    if read.skipped:
        return ZeroState(recorded=True, skipped=True)
    if read.status != 200 or read.results is None:
        return ZeroState(recorded=True, read_min=read.sim_min,
                         failed=read.detail or f"status {read.status}")
    res = read.results
    fields = run.published_fields
    data = tuple(f for f in DATA_FIELDS if f in fields)
    roster = {t.unit_id for t in run.truth}
    shown = res.get("precincts")
    reporting = {str(k): v for k, v in shown.items()} if isinstance(shown, Mapping) else {}
    zero = res.get("unreported")
    rows = {str(k): v for k, v in zero.items()} if isinstance(zero, Mapping) else {}
    listed = {**rows, **reporting}
    live_totals, live_row = live_format(run)
    leftovers: dict[str, str] = {}
    fmt: dict[str, str] = {}
    for uid, row in listed.items():
        what = _shows(row, data) if isinstance(row, Mapping) else []
        if uid in reporting:
            what.insert(0, "reporting")
        if what:
            leftovers[uid] = ", ".join(what)
        if live_row is not None and (differs := _differs(row, live_row, DATA_FIELDS)):
            fmt[uid] = differs
    totals: list[str] = []
    declared = _number(res.get("precincts_reporting"))
    if declared:
        totals.append(f"precincts reporting {declared:.0f}")
    sw = res.get("statewide")
    if live_totals is not None and (differs := _differs(sw, live_totals, TOTAL_FIELDS)):
        fmt["statewide"] = differs
    if "statewide" in fields:
        sums = tuple(f for f in TOTAL_FIELDS if f in fields)
        if isinstance(sw, Mapping):
            for name in sums:
                part = sw.get(name)
                if isinstance(part, Mapping):
                    totals += [f"{name}/{c} {_fmt(name, x)}" for c, v in part.items()
                               if (x := _number(v))]
    if res.get("winner"):
        totals.append(f"winner {res['winner']}")
    return ZeroState(
        recorded=True, read_min=read.sim_min, zero_rows=isinstance(zero, Mapping),
        listed=len(listed),
        missing=tuple(u.unit_id for u in run.truth if u.unit_id not in listed)
        if isinstance(zero, Mapping) else (),
        leftovers={u: leftovers[u] for u in sorted(leftovers, key=_roster_order(run))},
        outside=tuple(sorted(set(listed) - roster)), totals=tuple(totals), format=fmt,
        format_checked=live_row is not None or live_totals is not None)


def _roster_order(run: RunDir) -> Any:
    order = {t.unit_id: i for i, t in enumerate(run.truth)}
    return lambda uid: (order.get(uid, len(order)), uid)


def measure(z: ZeroState) -> tuple[float | None, str]:
    """(value, how it was read) of ``zero_state_errors``; None: not measured."""
    if not z.recorded:
        return None, "no zero read recorded (a run that did not read the feed before the night)"
    if z.skipped:
        return None, f"skipped ({SKIP_FLAG})"
    if z.failed:
        return float(z.errors), f"the read before the night failed: {z.failed}"
    at = "" if z.read_min is None else f" at {format_clock(z.read_min)}"
    note = f"read{at}, {z.listed} units listed"
    if not z.zero_rows:
        note += "; whether every unit is listed not checked (the adapter returns no zero rows)"
    return float(z.errors), note


def zero_json(z: ZeroState) -> dict[str, Any]:
    """The ``zero_state`` block of ``summary.json``."""
    return {"recorded": z.recorded, "skipped": z.skipped,
            "read_at": None if z.read_min is None else format_clock(z.read_min),
            "failed": z.failed or None, "errors": z.errors if z.measured else None,
            "zero_rows_listed": z.zero_rows, "units_listed": z.listed,
            "missing": list(z.missing), "leftovers": dict(z.leftovers),
            "outside_roster": list(z.outside), "totals": list(z.totals),
            "format_compared": z.format_checked, "format": dict(z.format)}
