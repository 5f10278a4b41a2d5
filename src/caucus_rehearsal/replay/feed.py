"""The response bodies of a replayed feed, serialised once so that a read is a lookup.

Per position: the ``GET /v1/results`` body and its ETag, built when the replay starts
(its ``published_at`` is when the replay reaches that position). Per precinct: one body
per change of its published entry, found for a position by bisection; a roster precinct
that is not reporting is a zero row, as in contract v1 (``"reporting": false``, no
counts; ``revision`` 0, or the version at which it stopped being published). The
``GET /v1/results/precincts`` body of a position (megabytes for a whole state) is joined
from those on its first read and kept for the few most recent positions.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from caucus_rehearsal.replay.timeline import Timeline, Unit
from caucus_rehearsal.rundir.records import Json

Body = tuple[bytes, str]
"""A response body and its ETag (quoted, as sent)."""

LIST_CACHE = 4
"""How many positions' ``/v1/results/precincts`` bodies are kept."""


def dumps(obj: Any) -> bytes:
    """Compact JSON, as the reference server writes it."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def etag_of(raw: bytes) -> str:
    """A strong ETag for ``raw`` (a hash of the bytes)."""
    return '"' + hashlib.blake2b(raw, digest_size=10).hexdigest() + '"'


def body(obj: Any) -> Body:
    """``obj`` serialised, with its ETag."""
    raw = dumps(obj)
    return raw, etag_of(raw)


def zero_row(unit: Unit, candidates: tuple[str, ...], revision: int) -> Json:
    """A precinct that is not reporting, in the shape of contract v1."""
    zeros = dict.fromkeys(candidates, 0)
    return {"county": unit.county, "name": unit.name, "satellite": unit.satellite,
            "reporting": False, "channel": None, "version": 0, "revision": revision,
            "attendance": 0, "first": zeros, "final": zeros, "delegates": zeros,
            "sde": zeros}


def with_published_at(summary: Json, at: float) -> Json:
    """``summary`` with ``published_at`` after its ``version``, as contract v1 orders them."""
    out: Json = {}
    for k, v in summary.items():
        out[k] = v
        if k == "version":
            out["published_at"] = at
    return out


class Feed:
    """Every body the replay of ``timeline`` can answer; :meth:`start` builds the
    ``/v1/results`` bodies once the replay's clock is known."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.summaries: list[Body] = []
        self.order: list[str] = list(timeline.units)
        cands = timeline.candidates
        self._history: dict[str, tuple[list[int], list[Body | None]]] = {
            uid: ([1], [body(zero_row(unit, cands, 0))]) for uid, unit in timeline.units.items()}
        for s in timeline.steps:
            for uid, rec in s.changed.items():
                if uid not in self._history:  # published but not in the roster: as published
                    self.order.append(uid)
                    self._history[uid] = ([], [])
                positions, bodies = self._history[uid]
                unit = timeline.units.get(uid)
                positions.append(s.position)
                bodies.append(body(rec) if rec is not None else
                              None if unit is None else body(zero_row(unit, cands, s.version)))
        self._lists: OrderedDict[int, Body] = OrderedDict()

    def start(self, wall: Callable[[float], float]) -> None:
        """Build the ``/v1/results`` bodies; ``wall`` maps a simulation minute to the Unix
        time the replay reaches it (their ``published_at``)."""
        self.summaries = [body(with_published_at(s.summary, round(wall(s.sim_min), 3)))
                          for s in self.timeline.steps]

    def summary(self, position: int) -> Body:
        """``GET /v1/results`` at ``position`` (1-based), once started."""
        return self.summaries[position - 1]

    def precinct(self, position: int, uid: str) -> Body | None:
        """``GET /v1/results/precincts/{uid}`` at ``position``; None for a precinct the
        roster does not know, when it is not published."""
        got = self._history.get(uid)
        if got is None:
            return None
        positions, bodies = got
        i = bisect.bisect_right(positions, position)
        return bodies[i - 1] if i else None

    def precincts(self, position: int) -> Body:
        """``GET /v1/results/precincts`` at ``position``: every roster precinct (zero rows
        included) in roster order, then any other published precinct."""
        got = self._lists.get(position)
        if got is not None:
            self._lists.move_to_end(position)
            return got
        parts = []
        for uid in self.order:
            one = self.precinct(position, uid)
            if one is not None:
                parts.append(dumps(uid) + b":" + one[0])
        version = dumps(self.timeline.step(position).version)
        raw = b'{"version":' + version + b',"precincts":{' + b",".join(parts) + b"}}"
        got = self._lists[position] = (raw, etag_of(raw))
        while len(self._lists) > LIST_CACHE:
            self._lists.popitem(last=False)
        return got
