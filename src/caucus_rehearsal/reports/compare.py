"""Field-by-field comparison of two tallies (truth, worksheet, acknowledged, published).

A tally is ``{"attendance": int, "first": {cand: int}, "final": {...}, "delegates":
{...}, "sde": {cand: float}}``; any field may be absent. SDE are published to 4 decimals,
so they compare equal within half a unit of the 4th decimal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from caucus_rehearsal.published import DATA_FIELDS

SDE_TOLERANCE = 0.5e-4 + 1e-9
"""Largest SDE difference that still counts as equal (SDE are published to 4 decimals)."""

KEY_FIELDS = ("attendance", "first", "final", "delegates")
"""The fields a chair reports (SDE is derived centrally)."""


@dataclass(frozen=True, slots=True)
class Diff:
    """One differing value: ``field`` (and ``candidate``, "" for attendance or a whole
    missing field), the expected value ``want`` and the one found ``got`` (None: absent)."""

    field: str
    candidate: str
    want: Any
    got: Any

    def text(self, want_name: str = "truth", got_name: str = "published") -> str:
        """Plain words: ``final/Biden: truth 30, published 3``."""
        where = self.field + (f"/{self.candidate}" if self.candidate else "")
        if self.got is None and isinstance(self.want, Mapping):
            return f"{where}: {got_name} missing"  # a whole field: its values say nothing
        got = "missing" if self.got is None else _fmt(self.got)
        want = "missing" if self.want is None else _fmt(self.want)
        return f"{where}: {want_name} {want}, {got_name} {got}"

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "candidate": self.candidate,
                "want": self.want, "got": self.got}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _num_equal(field: str, a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return bool(a == b)
    if field == "sde":
        return abs(float(a) - float(b)) <= SDE_TOLERANCE
    return float(a) == float(b)


def diff(want: Mapping[str, Any], got: Mapping[str, Any] | None,
         fields: Iterable[str] = DATA_FIELDS) -> list[Diff]:
    """Every value of ``want`` (restricted to ``fields`` it has) that ``got`` lacks or differs on.

    A field ``got`` lacks entirely is one :class:`Diff` with candidate ``""``. Candidates
    present only in ``got`` with a non-zero value also count (an invented entry).
    """
    got = got or {}
    out: list[Diff] = []
    for name in fields:
        if name not in want:
            continue
        a = want[name]
        if name not in got or got[name] is None:
            out.append(Diff(name, "", a, None))
            continue
        b = got[name]
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for cand, va in a.items():
                vb = b.get(cand)
                if vb is None:
                    if not _num_equal(name, va, 0):
                        out.append(Diff(name, str(cand), va, None))
                elif not _num_equal(name, va, vb):
                    out.append(Diff(name, str(cand), va, vb))
            for cand, vb in b.items():
                if cand not in a and not _num_equal(name, 0, vb):
                    out.append(Diff(name, str(cand), None, vb))
        elif not _num_equal(name, a, b):
            out.append(Diff(name, "", a, b))
    return out


def same(want: Mapping[str, Any], got: Mapping[str, Any] | None,
         fields: Iterable[str] = DATA_FIELDS) -> bool:
    """Whether ``got`` has every value of ``want`` (over ``fields``)."""
    return not diff(want, got, fields)


def reported_key(tally: Mapping[str, Any], fields: Iterable[str] = KEY_FIELDS) -> str:
    """A canonical text of the chair-reported ``fields``, to find one unit's data under
    another."""
    return json.dumps({f: tally[f] for f in fields if f in tally}, sort_keys=True)
