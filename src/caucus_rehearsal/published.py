"""The published results as every adapter returns them (the run directory's snapshots).

One normalised shape for any target (``docs/run-directory.md``, "snapshots.jsonl")::

    {"precincts_total": 40, "precincts_reporting": 12,
     "statewide": {"first": {cand: n}, "final": {...}, "sde": {cand: x}},
     "counties": {"Adair": {"first": {...}, "final": {...}, "sde": {...}}},
     "precincts": {"IA-0001": {"attendance": n, "first": {...}, "final": {...},
                               "delegates": {...}, "sde": {...}}},
     "duplicates": {"IA-0003": 2}}

Optional version markers, when the target publishes them (contract v1 does; ``rehearse
replay`` serves them as recorded; the integrity checks judge changes by them): ``version``
and ``published_at`` beside the totals, and ``channel``, ``version`` and ``revision`` in
a precinct; ``precincts_version`` when the precinct list came from another state of the
feed than the totals (a write between the two reads): the list's version, None when the
target publishes none. ``winner`` when the target names one.
The zero read alone (``rundir/zero.py``) adds ``unreported``: the precincts the target
lists as not reporting (its zero rows), id -> data fields as published.
``counties`` only when the target publishes county totals; ``duplicates`` (precinct id ->
times the target listed it, 2 or more) only when it listed a precinct more than once,
which a JSON object or a dict would otherwise hide. An adapter declares what its target
publishes (``TargetAdapter.publishes``, words of :data:`PUBLISHABLE`); the report checks
those and lists the rest as not checked.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

DATA_FIELDS = ("attendance", "first", "final", "delegates", "sde")
"""The fields of a tally (a precinct's results), in the order a report lists them."""

TOTAL_FIELDS = ("first", "final", "sde")
"""The fields a statewide or county total carries."""

PUBLISHABLE: dict[str, str] = {
    "attendance": "attendance",
    "first": "first alignment",
    "final": "final alignment",
    "delegates": "county delegates",
    "sde": "SDE",
    "statewide": "statewide totals",
    "counties": "county totals",
}
"""Everything a target may publish, with the words a report uses for it: the per-precinct
fields (:data:`DATA_FIELDS`) and the totals (statewide, per county)."""

CONTRACT_V1_PUBLISHES = frozenset(("attendance", "first", "final", "delegates", "sde",
                                   "statewide"))
"""What contract v1 publishes (no county totals); the default of an adapter, and of a
run directory that does not say."""


def check_publishes(declared: object) -> frozenset[str]:
    """``declared`` as a set of :data:`PUBLISHABLE` words; ``ValueError`` names the bad one."""
    if isinstance(declared, str) or not hasattr(declared, "__iter__"):
        raise ValueError(f"publishes(={declared!r}) must be a set of "
                         + ", ".join(PUBLISHABLE))
    words = frozenset(declared)
    bad = sorted(str(w) for w in words if w not in PUBLISHABLE)
    if bad:
        raise ValueError(f"publishes: unknown field(s) {', '.join(bad)}; known: "
                         + ", ".join(PUBLISHABLE))
    return words


def loads_counting_duplicates(data: bytes | str) -> tuple[Any, Counter[str]]:
    """The JSON value of ``data`` and, per key listed more than once in one object, the
    times it was listed (``json.loads`` silently keeps the last)."""
    repeated: Counter[str] = Counter()

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen = Counter(k for k, _ in items)
        for key, n in seen.items():
            if n > 1:
                repeated[key] = max(repeated[key], n)
        return dict(items)

    return json.loads(data, object_pairs_hook=pairs), repeated


def shape_problem(results: object) -> str | None:
    """Why ``results`` is not the normalised shape above (None: it is). Values inside a
    precinct are not checked here: the report compares them."""
    if not isinstance(results, dict):
        return f"the published results are {type(results).__name__}, not an object"
    precincts = results.get("precincts")
    if not isinstance(precincts, dict):
        return f"'precincts' is {type(precincts).__name__}, not an object of precincts"
    for pid, entry in precincts.items():
        if not isinstance(entry, dict):
            return f"precinct {pid!r} is {type(entry).__name__}, not an object"
    for key in ("statewide", "counties", "duplicates"):
        if results.get(key) is not None and not isinstance(results[key], dict):
            return f"'{key}' is {type(results[key]).__name__}, not an object"
    return None
