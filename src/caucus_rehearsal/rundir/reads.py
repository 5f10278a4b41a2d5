"""The public's reads, aggregated: ``reads.jsonl`` (docs/run-directory.md).

A rehearsal does not log one line per read: the run directory must not grow with the
number of reads. Every load-generator process counts its reads per **bin** (``READ_BIN_MIN``
simulated minutes, by the read's due moment) and **endpoint** (``results``: the public's
page views; ``feed``: the media's polls) into a :class:`ReadBin`: counters and three
mergeable high-resolution histograms (HdrHistogram: the latency measured from the due
moment, the staleness of stale answers, the load generator's own lateness). Workers ship
their bins to the master as encoded deltas (:meth:`ReadStats.take`); the master merges
them (:meth:`ReadStats.merge_rows`) and writes one line per bin and endpoint.

A read is *due* at its arrival instant. It is either **dropped** (not sent: the
generator had ``demand.max_in_flight`` reads in flight, ``dropped_busy``, or woke up more
than :data:`DROP_LATE_S` after the due moment, ``dropped_late``) or **sent**; a sent read
is answered (``ok``: 2xx or 304, of which ``not_modified``; ``rejected``: another 4xx;
``errors``: 5xx) or not (``timeouts``, ``conn_errors``). Its latency runs from the due
moment to the answer (so a late send never hides the wait: coordinated omission
corrected). An answered read that carries the target's feed version (``versioned``) is
**stale** when a newer version had already been seen by a read of the same process
before this one was sent; its staleness is the time since that newer version was first
seen, and ``versions_behind`` how many newer versions were known then.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

READ_BIN_MIN = 5.0
"""Simulated minutes per bin of reads (by due moment)."""
ENDPOINTS = ("results", "feed")
"""``results``: the public's page views (the results summary); ``feed``: the media's
polls of the precinct-level feed."""
DROP_LATE_S = 1.0
"""A read the generator could only send this many wall seconds after its due moment is
dropped: the generator could not keep up, and the target never saw the load."""
COUNTERS = ("due", "sent", "ok", "not_modified", "rejected", "errors", "timeouts",
            "conn_errors", "dropped_busy", "dropped_late", "versioned", "stale",
            "versions_behind")
"""The counters of a bin (``versions_behind`` summed over the stale reads)."""
MAX_US = 600_000_000
"""Latencies and lateness are kept up to 10 minutes (microseconds); longer ones count
as 10 minutes."""
MAX_STALE_MS = 86_400_000
"""Staleness is kept up to a day (milliseconds)."""
LATE_US = 1000
"""A read sent at least this many microseconds after its due moment was sent late: how
late goes into ``late_us``; the others count as on time (0), as fresh reads do for the
staleness (one histogram value less per read: the reader's cost, bench_public_reads)."""


def _hist(highest: int) -> HdrHistogram:
    return HdrHistogram(1, highest, 2)


@dataclass(slots=True)
class ReadBin:
    """One bin of one endpoint: counters, ``latency_us`` (answered reads, from the due
    moment), ``staleness_ms`` (stale reads only), ``late_us`` (reads sent
    :data:`LATE_US` or more late: how late the generator sent them) and
    ``versions_behind_max``."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    latency_us: HdrHistogram = field(default_factory=lambda: _hist(MAX_US))
    staleness_ms: HdrHistogram = field(default_factory=lambda: _hist(MAX_STALE_MS))
    late_us: HdrHistogram = field(default_factory=lambda: _hist(MAX_US))
    versions_behind_max: int = 0

    def drop(self, why: str) -> None:
        """A due read that was not sent: ``busy`` or ``late``."""
        c = self.counts
        c["due"] += 1
        c["dropped_" + why] += 1

    def record(self, outcome: str, latency_s: float | None, late_s: float,
               stale_s: float | None = None, behind: int = 0, versioned: bool = False,
               not_modified: bool = False) -> None:
        """A sent read: ``outcome`` is ``ok``, ``rejected``, ``errors``, ``timeouts`` or
        ``conn_errors``; ``latency_s`` from the due moment (None: no answer)."""
        c = self.counts
        c["due"] += 1
        c["sent"] += 1
        c[outcome] += 1
        late_us = int(late_s * 1e6)
        if late_us >= LATE_US:
            self.late_us.record_value(min(MAX_US, late_us))
        if latency_s is not None:
            self.latency_us.record_value(min(MAX_US, max(1, int(latency_s * 1e6))))
        if not_modified:
            c["not_modified"] += 1
        if versioned:
            c["versioned"] += 1
        if stale_s is not None:
            c["stale"] += 1
            c["versions_behind"] += behind
            self.versions_behind_max = max(self.versions_behind_max, behind)
            self.staleness_ms.record_value(min(MAX_STALE_MS, max(1, int(stale_s * 1e3))))

    def add(self, other: ReadBin) -> None:
        """Merge ``other`` into this bin."""
        for k, v in other.counts.items():
            self.counts[k] = self.counts.get(k, 0) + v
        self.latency_us.add(other.latency_us)
        self.staleness_ms.add(other.staleness_ms)
        self.late_us.add(other.late_us)
        self.versions_behind_max = max(self.versions_behind_max, other.versions_behind_max)

    def to_json(self, index: int, endpoint: str) -> dict[str, Any]:
        """One ``reads.jsonl`` line (histograms encoded, HdrHistogram's base64 format)."""
        return {"bin": index, "sim_min": index * READ_BIN_MIN, "endpoint": endpoint,
                **self.counts, "versions_behind_max": self.versions_behind_max,
                "latency_us": _encode(self.latency_us),
                "staleness_ms": _encode(self.staleness_ms),
                "late_us": _encode(self.late_us)}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> ReadBin:
        """The bin of a ``reads.jsonl`` line (ValueError/KeyError/TypeError when bad)."""
        b = cls()
        for k in COUNTERS:
            b.counts[k] = int(row.get(k, 0))
        b.versions_behind_max = int(row.get("versions_behind_max", 0))
        _decode_into(b.latency_us, row.get("latency_us"))
        _decode_into(b.staleness_ms, row.get("staleness_ms"))
        _decode_into(b.late_us, row.get("late_us"))
        return b


def _encode(h: HdrHistogram) -> str:
    return h.encode().decode("ascii") if h.get_total_count() else ""


def _decode_into(h: HdrHistogram, text: Any) -> None:
    if text:
        try:
            h.add(HdrHistogram.decode(str(text).encode("ascii")))
        except Exception as exc:  # zlib, base64 and struct errors alike
            raise ValueError(f"not an encoded histogram ({exc})") from None


def bin_index(sim_min: float) -> int:
    """The bin of simulation minute ``sim_min``."""
    return math.floor(sim_min / READ_BIN_MIN)


class ReadStats:
    """The bins of one process (or, merged, of the run), keyed by (bin, endpoint)."""

    def __init__(self) -> None:
        self.bins: dict[tuple[int, str], ReadBin] = {}

    def at(self, sim_min: float, endpoint: str) -> ReadBin:
        """The bin a read due at ``sim_min`` counts in (made on first use)."""
        key = (bin_index(sim_min), endpoint)
        b = self.bins.get(key)
        if b is None:
            b = self.bins[key] = ReadBin()
        return b

    def take(self) -> list[dict[str, Any]]:
        """Every bin as ``reads.jsonl`` lines, and start afresh (what a worker ships)."""
        rows = self.rows()
        self.bins = {}
        return rows

    def merge_rows(self, rows: list[dict[str, Any]]) -> None:
        """Add shipped lines (another process's :meth:`take`) into these bins."""
        for row in rows:
            key = (int(row["bin"]), str(row["endpoint"]))
            incoming = ReadBin.from_json(row)
            if key in self.bins:
                self.bins[key].add(incoming)
            else:
                self.bins[key] = incoming

    def rows(self) -> list[dict[str, Any]]:
        """Every bin as a ``reads.jsonl`` line, by bin then endpoint."""
        return [b.to_json(i, ep) for (i, ep), b in sorted(self.bins.items())]

    def total(self, endpoint: str | None = None) -> ReadBin:
        """All bins (of one endpoint, or of all) merged into one."""
        out = ReadBin()
        for (_, ep), b in self.bins.items():
            if endpoint is None or ep == endpoint:
                out.add(b)
        return out


def failed(b: ReadBin) -> int:
    """Sent reads the public did not get an answer from: everything but ``ok``."""
    return b.counts["sent"] - b.counts["ok"]


def latency_p_ms(b: ReadBin, q: float) -> float | None:
    """The ``q``-th percentile (0-100) of the sent reads' latency in ms, a read without an
    answer counting as infinitely slow; None when nothing was sent."""
    sent = b.counts["sent"]
    if not sent:
        return None
    answered = b.latency_us.get_total_count()
    rank = math.ceil(q / 100.0 * sent)
    if rank > answered:
        return math.inf
    return float(b.latency_us.get_value_at_percentile(100.0 * rank / answered)) / 1000.0


def late_p_ms(b: ReadBin, q: float) -> float | None:
    """The ``q``-th percentile (0-100) of how late the sent reads were sent, ms (those
    on time count 0); None when nothing was sent."""
    n = b.counts["sent"]
    if not n:
        return None
    late = b.late_us.get_total_count()
    rank = math.ceil(q / 100.0 * n)
    if rank <= n - late or not late:
        return 0.0
    return float(b.late_us.get_value_at_percentile(100.0 * (rank - (n - late)) / late)) / 1000.0


def staleness_p_s(b: ReadBin, q: float) -> float | None:
    """The ``q``-th percentile (0-100) of the staleness of the answered reads that carried
    a version, seconds (fresh ones count 0); None when no read carried one."""
    n = b.counts["versioned"]
    if not n:
        return None
    stale = b.counts["stale"]
    rank = math.ceil(q / 100.0 * n)
    if rank <= n - stale or not stale:
        return 0.0
    return float(b.staleness_ms.get_value_at_percentile(
        100.0 * (rank - (n - stale)) / stale)) / 1000.0


class VersionBook:
    """The target's feed versions this process's reads have seen, each with the wall time
    it was first seen: what the target had published by then, as far as this process can
    tell."""

    def __init__(self) -> None:
        self.versions: list[int] = []
        self.first_seen: dict[int, float] = {}

    def saw(self, version: int, at: float) -> None:
        """A read answered at wall time ``at`` carried ``version``."""
        if version not in self.first_seen:
            self.first_seen[version] = at
            bisect.insort(self.versions, version)

    def behind(self, version: int, sent: float) -> tuple[float, int] | None:
        """How stale an answer carrying ``version`` is for a read sent at ``sent``: (seconds
        since the first newer version was seen, newer versions seen before ``sent``), or
        None when no newer version had been seen before it was sent."""
        i = bisect.bisect_right(self.versions, version)
        oldest, n = math.inf, 0
        for v in self.versions[i:]:
            at = self.first_seen[v]
            if at < sent:
                n += 1
                oldest = min(oldest, at)
        return (sent - oldest, n) if n else None
