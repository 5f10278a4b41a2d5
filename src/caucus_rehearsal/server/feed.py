"""The public feed as served: the publisher's bodies, through the ``transient`` fault.

``transient:MODE[:WINDOW[:EVERY]]`` (docs/contract.md, Faults) makes the feed glitch for
``WINDOW`` at the start of every ``EVERY`` after it is switched on, and then recover, the
way published feeds have failed on election nights:

- ``stale``: ``GET /v1/results`` and ``GET /v1/results/precincts`` serve the bodies (and
  ETags) they served when the previous cycle began (the first read after the previous
  window closed, or after switching on): precincts reporting falls and published
  precincts disappear or revert, then come back (Wayne County, 2018);
- ``spike``: ``GET /v1/results`` shows the first candidate's statewide final alignment
  raised by a tenth of the statewide final total (at least 100), under the unchanged
  version and ETag, while every precinct stays as it was, so the total no longer equals
  the sum of the precincts (Sussex County, 2016).

A glitched body is sent whatever ``If-None-Match`` says (a poller must be able to see it).
Single-precinct reads are not affected.

:class:`GzipCache` compresses the larger feed bodies once per body, for clients that send
``Accept-Encoding: gzip`` (the full precinct list of a state is hundreds of kilobytes).
"""

from __future__ import annotations

import gzip
import json

from caucus_rehearsal.server.faults import FaultState
from caucus_rehearsal.server.publish import Body, Publisher

Served = tuple[bytes, str, bool]
"""Body, ETag, and whether it is a glitch (sent even when the ETag matches)."""

SPIKE_SHARE = 0.1
"""The spike as a share of the statewide final total."""
SPIKE_MIN = 100
"""The smallest spike, head counts."""


class Feed:
    """Serves the publisher's feed bodies, glitched while a transient window is open."""

    def __init__(self, faults: FaultState) -> None:
        self.faults = faults
        self._held: tuple[Publisher, float, int, Body, Body] | None = None
        """(publisher, switch-on moment, cycle, summary, precincts) kept for ``stale``."""
        self._spiked: tuple[bytes, bytes] | None = None
        """(summary it was made from, spiked summary)."""
        self.gzip = GzipCache()

    def summary(self, pub: Publisher) -> Served:
        """``GET /v1/results``."""
        glitch = self._glitch(pub)
        if glitch is None:
            return (*pub.summary(), False)
        if glitch == "spike":
            return self._spike(pub.summary()), pub.summary()[1], True
        assert self._held is not None
        return (*self._held[3], True)

    def precincts(self, pub: Publisher) -> Served:
        """``GET /v1/results/precincts``."""
        if self._glitch(pub) != "stale":
            return (*pub.precincts(), False)
        assert self._held is not None
        return (*self._held[4], True)

    def _glitch(self, pub: Publisher) -> str | None:
        """The mode of the open transient window, if any (keeping what ``stale`` serves)."""
        got = self.faults.window("transient")
        if got is None:
            self._held = None
            return None
        f, cycle, open_window = got
        since = self.faults.since["transient"]
        if f.mode == "spike":
            return "spike" if open_window else None
        held = self._held
        fresh = held is None or held[0] is not pub or held[1] != since
        if not open_window:
            if fresh or held is None or held[2] != cycle:
                self._held = (pub, since, cycle, pub.summary(), pub.precincts())
            return None
        if fresh:  # nothing kept from before this window: nothing older to serve
            self._held = (pub, since, cycle, pub.summary(), pub.precincts())
        return "stale"

    def _spike(self, summary: Body) -> bytes:
        body = summary[0]
        if self._spiked is None or self._spiked[0] is not body:
            doc = json.loads(body)
            final = doc["statewide"]["final"]
            if final:
                first = doc["candidates"][0]
                final[first] += max(SPIKE_MIN, round(SPIKE_SHARE * sum(final.values())))
            self._spiked = (body, json.dumps(doc, separators=(",", ":")).encode())
        return self._spiked[1]


GZIP_MIN_BYTES = 1024
"""Bodies shorter than this are sent as they are (gzip would save nothing)."""
_REFUSED = ("q=0", "q=0.0", "q=0.00", "q=0.000")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when an ``Accept-Encoding`` value allows gzip (``gzip`` or ``*``, not q=0)."""
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.strip().replace(" ", "") not in _REFUSED
    return False


class GzipCache:
    """The gzip encoding of the last few feed bodies, each compressed once."""

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._recent: list[tuple[bytes, bytes]] = []

    def get(self, body: bytes) -> bytes:
        """``body`` gzip-compressed (level 5, no timestamp: the same body, the same bytes)."""
        for plain, packed in self._recent:
            if plain is body:
                return packed
        packed = gzip.compress(body, compresslevel=5, mtime=0)
        self._recent = [(body, packed), *self._recent[: self.keep - 1]]
        return packed
