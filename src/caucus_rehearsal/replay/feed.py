"""The response bodies of a replayed feed, serialised once so that a read is a lookup.

Per position: the ``GET /v1/results`` body and its ETag, built up front. Per precinct:
one body per change of its record, found for a position by bisection. The
``GET /v1/results/precincts`` body of a position (megabytes for a whole state) is joined
from those on its first read and kept for the few most recent positions.
"""

from __future__ import annotations

import bisect
import json
from collections import OrderedDict
from typing import Any

from caucus_rehearsal.replay.timeline import Timeline
from caucus_rehearsal.server.publish import etag_of

Body = tuple[bytes, str]
"""A response body and its ETag (quoted, as sent)."""

LIST_CACHE = 4
"""How many positions' ``/v1/results/precincts`` bodies are kept."""


def dumps(obj: Any) -> bytes:
    """Compact JSON, as the reference server writes it."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def body(obj: Any) -> Body:
    """``obj`` serialised, with its ETag."""
    raw = dumps(obj)
    return raw, etag_of(raw)


class Feed:
    """Every body the replay of ``timeline`` can answer."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.summaries: list[Body] = [body(s.summary) for s in timeline.steps]
        self.order: list[str] = list(timeline.units)
        seen = set(self.order)
        self._history: dict[str, tuple[list[int], list[Body | None]]] = {}
        for s in timeline.steps:
            for uid, rec in s.changed.items():
                if uid not in seen:  # published but not in the roster: served as published
                    seen.add(uid)
                    self.order.append(uid)
                positions, bodies = self._history.setdefault(uid, ([], []))
                positions.append(s.position)
                bodies.append(None if rec is None else body(rec))
        self._lists: OrderedDict[int, Body] = OrderedDict()

    def summary(self, position: int) -> Body:
        """``GET /v1/results`` at ``position`` (1-based)."""
        return self.summaries[position - 1]

    def precinct(self, position: int, uid: str) -> Body | None:
        """``GET /v1/results/precincts/{uid}`` at ``position``; None when not published."""
        got = self._history.get(uid)
        if got is None:
            return None
        positions, bodies = got
        i = bisect.bisect_right(positions, position)
        return bodies[i - 1] if i else None

    def precincts(self, position: int) -> Body:
        """``GET /v1/results/precincts`` at ``position``: every published precinct, in
        roster order."""
        got = self._lists.get(position)
        if got is not None:
            self._lists.move_to_end(position)
            return got
        parts = []
        for uid in self.order:
            one = self.precinct(position, uid)
            if one is not None:
                parts.append(dumps(uid) + b":" + one[0])
        raw = b'{"precincts":{' + b",".join(parts) + b"}}"
        got = self._lists[position] = (raw, etag_of(raw))
        while len(self._lists) > LIST_CACHE:
            self._lists.popitem(last=False)
        return got
