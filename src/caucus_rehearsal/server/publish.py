"""Public results: computed from the complete records, serialised once per change.

Reads are the hot path (media and the public poll continuously), so every public body is
kept as pre-serialised bytes with its ETag and rebuilt lazily, on the first read after a
change, and then only the changed precincts are re-serialised. A satellite's SDE depends
on every reporting satellite of its group, so a change marks its whole group.

Every provisioned precinct is in the feed from the start: one that has not reported is a
*zero row* (``"reporting": false``, zero counts, no channel), so the feed before the
first report (the zero state) has the format of the live feed.

Versions: the feed's ``version`` is the audit ``seq`` of the latest row that changed what
is published (a complete record, or the provisioning/reset that began this roster), so
it only grows, survives a restart and names the change; ``published_at`` is when that
version became visible. A precinct's ``revision`` is the ``seq`` of the row that last
changed its published entry (for a satellite, of any report of its group, which shares
out the group's SDE): a published result never changes without its revision changing.
ETags are derived from them (and the database's ``db_id``).

The ``incomplete-output`` fault acts here and only here: a record received while it was
active (``Complete.withheld``) is shown as not reporting, or truncated, in what is
published. A record withheld with ``drop`` counts nowhere in what is published: not in
the totals, not in its satellite group's SDE shares, not in any version or revision (so
a withheld record that replaces nothing published changes nothing a reader can see).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from caucus_rehearsal import rules
from caucus_rehearsal.server.state import Complete, Roster

Body = tuple[bytes, str]
"""A response body and its ETag (quoted, as sent)."""


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def visible(rec: Complete | None) -> bool:
    """True when ``rec`` is published (possibly truncated); False for no record or one
    withheld with ``incomplete-output:drop``."""
    return rec is not None and rec.withheld != "drop"


def republishes(old: Complete | None, new: Complete) -> bool:
    """True when ``new`` replacing ``old`` changes the precinct's published entry: unless
    both are invisible (a visible record always differs from the one before: its
    ``version`` grew)."""
    return visible(old) or visible(new)


class Publisher:
    """Builds the public (and the admin's stored) view of ``records`` for ``roster``.

    ``floor`` is the ``seq`` of the provisioning or reset that began this roster's feed
    and ``published_at`` when the feed last changed; ``db_id`` tags the ETags.
    ``shown`` maps a precinct to the ``seq`` of the record that last changed its published
    entry (see :func:`republishes`; the caller replays the trail to rebuild it)."""

    def __init__(self, roster: Roster, records: dict[str, Complete], db_id: str = "",
                 floor: int = 0, published_at: float = 0.0,
                 shown: dict[str, int] | None = None) -> None:
        self.roster = roster
        self.records = records
        self.db_id = db_id
        self.floor = floor
        self.shown: dict[str, int] = dict(shown or {})
        self.version = max([floor, *self.shown.values()])
        """The feed's version (see the module docstring)."""
        self.published_at = published_at
        """Epoch seconds at which :attr:`version` became visible."""
        n = len(roster.candidates)
        self._keep = (n + 1) // 2
        self._zeros = {c: 0 for c in roster.candidates}
        self._dirty: set[str] = set(roster.precincts)
        self._dirty_groups: set[str] = set()
        self._frag: dict[str, bytes] = {}
        self._rev: dict[str, int] = {}
        self._rows: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[float, ...]]] = {}
        self._single: dict[str, Body] = {}
        self._summary: Body | None = None
        self._precincts: Body | None = None

    def changed(self, pid: str, old: Complete | None, at: float) -> None:
        """The complete record of ``pid``, ``old`` before, was added or replaced (committed
        at ``at``); nothing published changes unless :func:`republishes` says so."""
        rec = self.records[pid]
        if not republishes(old, rec):
            return
        p = self.roster.precincts[pid]
        if p.satellite:
            self._dirty_groups.add(p.county)
        self._dirty.add(pid)
        self.shown[pid] = rec.seq
        self.version = max(self.version, rec.seq)
        self.published_at = at
        self._summary = self._precincts = None

    def sde(self, pid: str, rec: Complete, stored: bool = False) -> tuple[float, ...]:
        """The SDE per candidate of a complete record (4 decimals): a satellite's share
        among the published satellites of its group (among all stored ones if
        ``stored``)."""
        p = self.roster.precincts[pid]
        county = self.roster.counties[p.county]
        if not p.satellite:
            return rules.sde(rec.delegates, county.ratio)
        group = [q for q, r in self.records.items()
                 if self.roster.precincts[q].satellite and self.roster.precincts[q].county
                 == p.county and (stored or visible(r))]
        shares = rules.satellite_sde(county.state_delegates,
                                     [self.records[q].attendance for q in group])
        share = shares[group.index(pid)]
        d = rec.d_total
        return tuple(round(share * x / d, 4) if d else 0.0 for x in rec.delegates)

    def entry(self, pid: str, rec: Complete, sde: tuple[float, ...], revision: int,
              truncate: bool = False) -> dict[str, Any]:
        """The published shape of one reporting precinct (docs/contract.md)."""
        p = self.roster.precincts[pid]
        cands = self.roster.candidates
        keep = self._keep if truncate else len(cands)

        def tally(vals: tuple[Any, ...]) -> dict[str, Any]:
            return {c: (vals[i] if i < keep else 0) for i, c in enumerate(cands)}

        return {"county": p.county, "name": p.name, "satellite": p.satellite,
                "reporting": True, "channel": rec.channel, "version": rec.version,
                "revision": revision, "attendance": rec.attendance,
                "first": tally(rec.first), "final": tally(rec.final),
                "delegates": tally(rec.delegates), "sde": tally(sde)}

    def zero_entry(self, pid: str, revision: int) -> dict[str, Any]:
        """The published shape of a precinct that is not reporting: no counts."""
        p = self.roster.precincts[pid]
        z = self._zeros
        return {"county": p.county, "name": p.name, "satellite": p.satellite,
                "reporting": False, "channel": None, "version": 0, "revision": revision,
                "attendance": 0, "first": z, "final": z, "delegates": z, "sde": z}

    def _group_revisions(self, counties: set[str], seqs: dict[str, int]) -> dict[str, int]:
        """Per satellite group, the largest of its members' ``seqs``."""
        out = dict.fromkeys(counties, 0)
        for q, seq in seqs.items():
            p = self.roster.precincts[q]
            if p.satellite and p.county in out:
                out[p.county] = max(out[p.county], seq)
        return out

    def _refresh(self) -> None:
        groups: dict[str, int] = {}
        if self._dirty_groups:
            for q in self.records:
                p = self.roster.precincts[q]
                if p.satellite and p.county in self._dirty_groups:
                    self._dirty.add(q)
            self._dirty_groups.clear()
        if self._dirty:
            groups = self._group_revisions({self.roster.precincts[q].county for q in self._dirty
                                            if self.roster.precincts[q].satellite}, self.shown)
        cands = self.roster.candidates
        for pid in self._dirty:
            self._single.pop(pid, None)
            rec = self.records.get(pid)
            p = self.roster.precincts[pid]
            shown = visible(rec)
            rev = groups[p.county] if p.satellite and shown else self.shown.get(pid, 0)
            self._rev[pid] = rev
            if rec is None or not shown:
                self._frag[pid] = _dumps(self.zero_entry(pid, rev))
                self._rows.pop(pid, None)
                continue
            e = self.entry(pid, rec, self.sde(pid, rec), rev, rec.withheld == "truncate")
            self._frag[pid] = _dumps(e)
            self._rows[pid] = (tuple(e["first"][c] for c in cands),
                               tuple(e["final"][c] for c in cands),
                               tuple(e["sde"][c] for c in cands))
        self._dirty.clear()

    @property
    def etag(self) -> str:
        """The ETag of the feed's current version."""
        return f'"{self.db_id}-{self.version}"'

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
                "version": self.version, "published_at": self.published_at,
                "precincts_total": total, "precincts_reporting": len(rows),
                "percent_reporting": round(100.0 * len(rows) / total, 2) if total else 0.0,
                "statewide": {"first": {c: int(first[i]) for i, c in enumerate(cands)},
                              "final": {c: int(final[i]) for i, c in enumerate(cands)},
                              "sde": {c: round(float(sde[i]), 4) for i, c in enumerate(cands)}},
            })
            self._summary = (body, self.etag)
        return self._summary

    def precincts(self) -> Body:
        """``GET /v1/results/precincts``: every provisioned precinct, in roster order."""
        if self._precincts is None:
            self._refresh()
            parts = [_dumps(pid) + b":" + self._frag[pid] for pid in self.roster.precincts]
            body = (b'{"version":' + str(self.version).encode() + b',"precincts":{'
                    + b",".join(parts) + b"}}")
            self._precincts = (body, self.etag)
        return self._precincts

    def precinct(self, pid: str) -> Body:
        """``GET /v1/results/precincts/{id}`` of a provisioned ``pid`` (a zero row when
        it is not reporting)."""
        self._refresh()
        got = self._single.get(pid)
        if got is None:
            rev = max(self.floor, self._rev[pid])
            got = self._single[pid] = (self._frag[pid], f'"{self.db_id}-{rev}"')
        return got

    def stored(self) -> bytes:
        """``GET /v1/admin/precincts``: every complete record as stored, no fault applied."""
        seqs = {q: r.seq for q, r in self.records.items()}
        groups = self._group_revisions({p.county for p in self.roster.precincts.values()
                                        if p.satellite}, seqs)
        out = {pid: self.entry(pid, rec, self.sde(pid, rec, stored=True),
                               groups[p.county] if p.satellite else rec.seq)
               for pid, p in self.roster.precincts.items()
               if (rec := self.records.get(pid)) is not None}
        return _dumps({"precincts": out})
