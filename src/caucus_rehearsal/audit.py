"""Audit a per-precinct results file against the caucus rules (``rehearse audit``).

The canonical results format (docs/data-format.md; ``scenarios/data/iowa-2020-results.csv``
is one): a header row, then per unit ``unit_id, county, precinct, satellite (0/1),
delegates_total (D), sde_ratio (SDE of one county delegate)``, then per candidate
``first_<cand>``, ``final_<cand>``, ``delegates_<cand>`` and optionally ``sde_<cand>``.
T, the attendance, is the sum of the first alignment.

A unit is *flagged* when :func:`caucus_rehearsal.rules.check` finds anything but an
advisory problem; it is an *exact match* when its reported delegates are an allocation the
rules give under some outcome of the coin tosses.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from caucus_rehearsal import rules
from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.simulator.streams import stream

REQUIRED = ("county", "precinct", "satellite", "delegates_total", "sde_ratio")
PARTS = ("first", "final", "delegates")


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One unit's reported results; counts in the file's candidate order."""

    line: int
    unit_id: str
    county: str
    precinct: str
    satellite: bool
    delegates_total: int
    sde_ratio: float
    first: tuple[int, ...]
    final: tuple[int, ...]
    delegates: tuple[int, ...]
    sde: tuple[float, ...] | None

    @property
    def attendance(self) -> int:
        """T: the head count of the first alignment."""
        return sum(self.first)


@dataclass(frozen=True, slots=True)
class UnitAudit:
    """The verdict on one unit: its problems (advisory ones included), exact match, and
    its SDE per candidate recomputed from the final alignment (the reported delegates when
    they are an exact match; empty when the counts are negative)."""

    row: ResultRow
    problems: tuple[rules.Problem, ...]
    exact: bool
    recomputed_sde: tuple[float, ...] = ()

    @property
    def flagged(self) -> bool:
        """True when a problem makes the numbers impossible under the rules."""
        return any(p.code not in rules.ADVISORY_CODES for p in self.problems)


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Every unit's verdict plus the statewide SDE recomputed from the final alignments."""

    candidates: tuple[str, ...]
    units: tuple[UnitAudit, ...]
    recomputed_sde: dict[str, float]
    reported_sde: dict[str, float] | None

    def exact_rate(self, satellite: bool | None = None) -> tuple[int, int]:
        """(exact matches, units) among all units, or only satellites / in-state ones."""
        chosen = [u for u in self.units if satellite is None or u.row.satellite == satellite]
        return sum(u.exact for u in chosen), len(chosen)


def read_results(path: Path) -> tuple[tuple[str, ...], list[ResultRow]]:
    """The candidates and rows of a canonical results file; ``InputFileError`` names the
    file, line and column of the first thing wrong."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            cands = tuple(h.removeprefix("final_") for h in header if h.startswith("final_"))
            missing = [h for h in REQUIRED if h not in header]
            missing += [f"{p}_{c}" for p in PARTS for c in cands if f"{p}_{c}" not in header]
            if missing or not cands:
                raise InputFileError(
                    f"{path}: not a results file in the canonical format "
                    f"(missing column {(missing or ['final_<candidate>'])[0]!r})"
                )
            has_sde = all(f"sde_{c}" in header for c in cands)
            return cands, [_row(path, n, r, cands, has_sde) for n, r in enumerate(reader, 2)]
        except UnicodeDecodeError:
            raise InputFileError(f"{path}: not a UTF-8 text file") from None
        except csv.Error as exc:
            raise InputFileError(f"{path}: malformed CSV ({exc})") from None


def _row(
    path: Path, line: int, raw: dict[str, str], cands: Sequence[str], has_sde: bool
) -> ResultRow:
    def num(key: str, kind: type[int] | type[float]) -> int | float:
        value = raw.get(key)
        try:
            return kind(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputFileError(
                f"{path}: line {line}, column {key}: {value!r} is not a number"
            ) from None

    def ints(part: str) -> tuple[int, ...]:
        return tuple(int(num(f"{part}_{c}", int)) for c in cands)

    flag = (raw.get("satellite") or "").strip().lower()
    if flag not in ("0", "1", "true", "false"):
        raise InputFileError(f"{path}: line {line}, column satellite: {flag!r} is not 0 or 1")
    return ResultRow(
        line=line,
        unit_id=raw.get("unit_id") or f"line {line}",
        county=raw["county"],
        precinct=raw["precinct"],
        satellite=flag in ("1", "true"),
        delegates_total=int(num("delegates_total", int)),
        sde_ratio=float(num("sde_ratio", float)),
        first=ints("first"),
        final=ints("final"),
        delegates=ints("delegates"),
        sde=tuple(float(num(f"sde_{c}", float)) for c in cands) if has_sde else None,
    )


def audit_rows(candidates: Sequence[str], rows: Sequence[ResultRow], seed: int = 0) -> AuditReport:
    """Check every row; recompute statewide SDE from the final alignments (coin tosses
    drawn from ``seed``; a unit whose reported delegates are valid keeps them)."""
    units: list[UnitAudit] = []
    recomputed = dict.fromkeys(candidates, 0.0)
    reported: dict[str, float] | None = dict.fromkeys(candidates, 0.0)
    for index, row in enumerate(rows):
        t, d = row.attendance, row.delegates_total
        problems = tuple(rules.check(t, d, row.first, row.final, row.delegates))
        exact = not any(p.code in ("delegate_mismatch", "length_mismatch", "negative_count")
                        for p in problems)
        if any(p.code == "negative_count" for p in problems):
            units.append(UnitAudit(row, problems, exact))
            continue
        won = (
            row.delegates
            if exact
            else rules.allocate(
                row.final,
                rules.effective_attendance(t, row.final),
                d,
                stream(seed, "audit", index),
            ).delegates
        )
        mine = rules.sde(won, row.sde_ratio)
        units.append(UnitAudit(row, problems, exact, mine))
        for c, s in zip(candidates, mine, strict=True):
            recomputed[c] += s
        if reported is not None and row.sde is not None:
            for c, s in zip(candidates, row.sde, strict=True):
                reported[c] += s
        else:
            reported = None
    return AuditReport(
        tuple(candidates),
        tuple(units),
        {c: round(v, 4) for c, v in recomputed.items()},
        {c: round(v, 4) for c, v in reported.items()} if reported is not None else None,
    )


GAP_KINDS: tuple[str, ...] = (
    "exact",
    "one_delegate_not_plurality",
    "delegate_sum",
    "final_exceeds_attendance",
    "nonviable_awarded",
    "viable_not_awarded",
    "rounding",
    "satellite_exact",
    "satellite_flagged",
)
"""Kinds of unit in :func:`sde_gap`, each unit in the first that applies: in-state exact
matches; D=1 precincts whose delegate went elsewhere than the rules say; then by the
first problem of a flagged in-state unit (``rounding``: only the rounding or adjustment
is wrong); satellites (whose SDE is an attendance share) exact or not."""


def gap_kind(unit: UnitAudit) -> str:
    """The :data:`GAP_KINDS` entry of one unit."""
    if unit.row.satellite:
        return "satellite_exact" if unit.exact else "satellite_flagged"
    if unit.exact:
        return "exact"
    if unit.row.delegates_total == 1:
        return "one_delegate_not_plurality"
    codes = {p.code for p in unit.problems}
    for kind in ("delegate_sum", "final_exceeds_attendance", "nonviable_awarded",
                 "viable_not_awarded"):
        if kind in codes:
            return kind
    return "rounding"


@dataclass(frozen=True, slots=True)
class SdeGap:
    """Recomputed minus reported SDE per candidate, by :data:`GAP_KINDS` (with the number
    of units of each kind) and per unit (largest first by the sum over ``focus``)."""

    by_kind: dict[str, tuple[int, dict[str, float]]]
    by_unit: list[tuple[UnitAudit, dict[str, float]]]


def sde_gap(report: AuditReport, focus: Sequence[str] = ()) -> SdeGap:
    """Where recomputed and reported SDE differ; ``ValueError`` without reported SDE.

    ``focus`` names the candidates whose absolute gaps order ``by_unit`` (all when empty);
    units with no gap at all are left out of ``by_unit``."""
    cands = report.candidates
    chosen = [cands.index(c) for c in focus] or list(range(len(cands)))
    by_kind = {k: (0, dict.fromkeys(cands, 0.0)) for k in GAP_KINDS}
    by_unit: list[tuple[UnitAudit, dict[str, float]]] = []
    for unit in report.units:
        if unit.row.sde is None:
            raise ValueError(f"{unit.row.unit_id}: no reported SDE to compare with")
        if not unit.recomputed_sde:
            continue
        diff = [a - b for a, b in zip(unit.recomputed_sde, unit.row.sde, strict=True)]
        kind = gap_kind(unit)
        n, sums = by_kind[kind]
        for c, x in zip(cands, diff, strict=True):
            sums[c] += x
        by_kind[kind] = (n + 1, sums)
        if any(abs(x) > 1e-9 for x in diff):
            by_unit.append((unit, dict(zip(cands, diff, strict=True))))
    by_unit.sort(key=lambda pair: -sum(abs(pair[1][cands[i]]) for i in chosen))
    return SdeGap(by_kind, by_unit)


def audit_file(path: Path, seed: int = 0) -> AuditReport:
    """Read and audit a canonical results file."""
    candidates, rows = read_results(path)
    if not rows:
        raise InputFileError(f"{path}: no result rows")
    return audit_rows(candidates, rows, seed)


def _named(counts: Sequence[int], candidates: Sequence[str]) -> str:
    return ", ".join(f"{c} {n}" for c, n in zip(candidates, counts, strict=True) if n) or "none"


def reason(unit: UnitAudit, candidates: Sequence[str], notes: bool = False) -> str:
    """The problems of a unit in plain words, with candidate names for group numbers."""
    row = unit.row
    parts = []
    for p in unit.problems:
        if p.code in rules.ADVISORY_CODES and not notes:
            continue
        detail = p.detail
        if p.code == "delegate_mismatch":
            t = rules.effective_attendance(row.attendance, row.final)
            due = rules.possible_allocations(row.final, t, row.delegates_total)
            detail = (
                f"reported {_named(row.delegates, candidates)}; the rules give "
                + " or ".join(_named(a.delegates, candidates) for a in due)
                + f" (T={t}, D={row.delegates_total})"
            )
        for i in sorted(range(len(candidates)), reverse=True):  # group 13 before group 1
            detail = detail.replace(f"group {i} ", f"{candidates[i]} ")
        parts.append(f"{p.code}: {detail}")
    return "; ".join(parts)
