"""Public results: computed from the complete records, serialised once per change.

Reads are the hot path (media and the public poll continuously), so every public body is
kept as pre-serialised bytes with its ETag and rebuilt lazily, on the first read after a
change, and then only the changed precincts are re-serialised. A satellite's SDE depends
on every reporting satellite of its group, so a change marks its whole group.

The ``incomplete-output`` fault acts here and only here: a record received while it was
active (``Complete.withheld``) is dropped from, or truncated in, what is published.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from caucus_rehearsal import rules
from caucus_rehearsal.server.state import Complete, Roster

Body = tuple[bytes, str]
"""A response body and its ETag (quoted, as sent)."""


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def etag_of(body: bytes) -> str:
    """A strong ETag for ``body``."""
    return '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'


class Publisher:
    """Builds the public (and the admin's stored) view of ``records`` for ``roster``."""

    def __init__(self, roster: Roster, records: dict[str, Complete]) -> None:
        self.roster = roster
        self.records = records
        n = len(roster.candidates)
        self._keep = (n + 1) // 2
        self._dirty: set[str] = set(records)
        self._dirty_groups: set[str] = set()
        self._frag: dict[str, bytes] = {}
        self._rows: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[float, ...]]] = {}
        self._single: dict[str, Body] = {}
        self._summary: Body | None = None
        self._precincts: Body | None = None

    def changed(self, pid: str) -> None:
        """The complete record of ``pid`` was added or replaced."""
        p = self.roster.precincts[pid]
        if p.satellite:
            self._dirty_groups.add(p.county)
        self._dirty.add(pid)
        self._summary = self._precincts = None

    def sde(self, pid: str, rec: Complete) -> tuple[float, ...]:
        """The SDE per candidate of a complete record (4 decimals)."""
        p = self.roster.precincts[pid]
        county = self.roster.counties[p.county]
        if not p.satellite:
            return rules.sde(rec.delegates, county.ratio)
        group = [q for q, r in self.records.items()
                 if self.roster.precincts[q].satellite and self.roster.precincts[q].county
                 == p.county]
        shares = rules.satellite_sde(county.state_delegates,
                                     [self.records[q].attendance for q in group])
        share = shares[group.index(pid)]
        d = rec.d_total
        return tuple(round(share * x / d, 4) if d else 0.0 for x in rec.delegates)

    def entry(self, pid: str, rec: Complete, sde: tuple[float, ...],
              truncate: bool = False) -> dict[str, Any]:
        """The published shape of one precinct (docs/contract.md)."""
        p = self.roster.precincts[pid]
        cands = self.roster.candidates
        keep = self._keep if truncate else len(cands)

        def tally(vals: tuple[Any, ...]) -> dict[str, Any]:
            return {c: (vals[i] if i < keep else 0) for i, c in enumerate(cands)}

        return {"county": p.county, "name": p.name, "satellite": p.satellite,
                "channel": rec.channel, "version": rec.version,
                "attendance": rec.attendance, "first": tally(rec.first),
                "final": tally(rec.final), "delegates": tally(rec.delegates),
                "sde": tally(sde)}

    def _refresh(self) -> None:
        if self._dirty_groups:
            for q in self.records:
                p = self.roster.precincts[q]
                if p.satellite and p.county in self._dirty_groups:
                    self._dirty.add(q)
            self._dirty_groups.clear()
        for pid in self._dirty:
            self._single.pop(pid, None)
            rec = self.records.get(pid)
            if rec is None or rec.withheld == "drop":
                self._frag.pop(pid, None)
                self._rows.pop(pid, None)
                continue
            truncate = rec.withheld == "truncate"
            e = self.entry(pid, rec, self.sde(pid, rec), truncate)
            self._frag[pid] = _dumps(e)
            cands = self.roster.candidates
            self._rows[pid] = (tuple(e["first"][c] for c in cands),
                               tuple(e["final"][c] for c in cands),
                               tuple(e["sde"][c] for c in cands))
        self._dirty.clear()

    def summary(self) -> Body:
        """``GET /v1/results``: statewide totals and the share of precincts reporting."""
        if self._summary is None:
            self._refresh()
            cands = self.roster.candidates
            n = len(cands)
            rows = list(self._rows.values())
            first = np.array([r[0] for r in rows], dtype=np.int64).reshape(-1, n).sum(axis=0)
            final = np.array([r[1] for r in rows], dtype=np.int64).reshape(-1, n).sum(axis=0)
            sde = np.array([r[2] for r in rows], dtype=np.float64).reshape(-1, n).sum(axis=0)
            total = len(self.roster.precincts)
            body = _dumps({
                "election": self.roster.election, "candidates": list(cands),
                "precincts_total": total, "precincts_reporting": len(rows),
                "percent_reporting": round(100.0 * len(rows) / total, 2) if total else 0.0,
                "statewide": {"first": {c: int(first[i]) for i, c in enumerate(cands)},
                              "final": {c: int(final[i]) for i, c in enumerate(cands)},
                              "sde": {c: round(float(sde[i]), 4) for i, c in enumerate(cands)}},
            })
            self._summary = (body, etag_of(body))
        return self._summary

    def precincts(self) -> Body:
        """``GET /v1/results/precincts``: every published precinct, in roster order."""
        if self._precincts is None:
            self._refresh()
            parts = [_dumps(pid) + b":" + self._frag[pid]
                     for pid in self.roster.precincts if pid in self._frag]
            body = b'{"precincts":{' + b",".join(parts) + b"}}"
            self._precincts = (body, etag_of(body))
        return self._precincts

    def precinct(self, pid: str) -> Body | None:
        """``GET /v1/results/precincts/{id}``, or None when it is not published."""
        self._refresh()
        got = self._single.get(pid)
        if got is None:
            frag = self._frag.get(pid)
            if frag is None:
                return None
            got = self._single[pid] = (frag, etag_of(frag))
        return got

    def stored(self) -> bytes:
        """``GET /v1/admin/precincts``: every complete record as stored, no fault applied."""
        out = {pid: self.entry(pid, rec, self.sde(pid, rec))
               for pid in self.roster.precincts if (rec := self.records.get(pid)) is not None}
        return _dumps({"precincts": out})
