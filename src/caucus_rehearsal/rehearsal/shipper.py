"""A load-generator process's records, on their way to the master (the run directory's
only writer, :mod:`.recorder`).

Every process with users (each worker, or the single local process) keeps one
:class:`EventShipper`: its users' event records are encoded into JSONL lines here and sent
to the master in batches over Locust's messages (``events``), at most
:data:`BATCH_S` apart or every :data:`BATCH_LINES` lines, with the process's live
counters and the units whose chair has finished. Its reads (:mod:`.public`) go to the
master in each ``report_to_master`` and when the master asks every process to ``flush``
at the end of the night (which also stops the reads). A worker therefore needs no path
to the master's files: only the package and the master's address. A LocalRunner delivers
messages to itself, so the same code serves a single process. Every message names the
night it belongs to (``--night``, :mod:`.nights`): after a restart from the web UI the
master ignores a late batch of the night before.
"""

from __future__ import annotations

import time
from typing import Any

import gevent

from caucus_rehearsal.rundir.reads import ReadStats
from caucus_rehearsal.rundir.writer import encode_line

BATCH_S = 0.2
"""Wall seconds a record waits at most before it is sent to the master."""
BATCH_LINES = 500
"""Records sent at once when they come faster."""
EVENTS_MESSAGE = "events"
FLUSH_MESSAGE = "flush"
FLUSHED_MESSAGE = "flushed"


class EventShipper:
    """This process's outgoing records; ``worker`` is its index.

    ``counters`` (requests, errors, chairs done...) are shipped with every batch, for
    ``rehearse run``'s status line.
    """

    def __init__(self, environment: Any, worker: int) -> None:
        self.env = environment
        self.worker = worker
        self.night = 0
        self.lines: list[str] = []
        self.done_units: list[str] = []
        self.sent = 0
        self.batches = 0
        self.counters: dict[str, float] = {}
        self.reads: ReadStats | None = None
        """The process's reads (:class:`~caucus_rehearsal.rehearsal.public.PublicDemand`),
        shipped at each ``report_to_master`` and at the flush."""
        self.on_flush: list[Any] = []
        """Called (no arguments) before the final flush: stop what still records."""
        self._changed = False
        environment.runner.register_message(FLUSH_MESSAGE, self._on_flush_request)
        self._loop = gevent.spawn(self._batches)

    def begin(self, night: int) -> None:
        """A night starts (a restart: a fresh one): what the last one left is dropped."""
        self.night = night
        self.lines, self.done_units, self.counters = [], [], {}
        self.sent = 0
        self.reads = None
        self.on_flush = []
        self._changed = False

    def write(self, record: dict[str, Any]) -> None:
        """Queue one event record for the master."""
        self.lines.append(encode_line(record))
        if len(self.lines) >= BATCH_LINES:
            self.flush()

    def unit_done(self, unit_id: str) -> None:
        """The chair of ``unit_id`` has finished (its records are queued)."""
        self.done_units.append(unit_id)
        self._changed = True

    def set_counters(self, counters: dict[str, float]) -> None:
        """This process's live counters (shipped with the next batch)."""
        if counters != self.counters:
            self.counters = dict(counters)
            self._changed = True

    def flush(self) -> None:
        """Send everything queued now (one message)."""
        lines, done = self.lines, self.done_units
        self.lines, self.done_units, self._changed = [], [], False
        self.sent += len(lines)
        self.batches += 1
        self.env.runner.send_message(EVENTS_MESSAGE, {
            "worker": self.worker, "night": self.night, "lines": "".join(lines),
            "n": len(lines),
            "sent": self.sent, "done": done, "counters": self.counters,
            "wall": time.time()})

    def take_reads(self) -> list[dict[str, Any]]:
        """The reads recorded since the last call, as ``reads.jsonl`` lines."""
        return self.reads.take() if self.reads is not None else []

    def close(self) -> None:
        """Stop the batch loop."""
        self._loop.kill(block=False)

    def _batches(self) -> None:
        while True:
            gevent.sleep(BATCH_S)
            if self.lines or self._changed:
                self.flush()

    def _on_flush_request(self, environment: Any, msg: Any) -> None:
        """The master ends the night: stop the reads, send every record, say so."""
        gevent.spawn(self._final_flush, msg.data)

    def _final_flush(self, data: Any) -> None:
        for stop in self.on_flush:
            stop()
        self.flush()
        self.env.runner.send_message(FLUSHED_MESSAGE, {
            "worker": self.worker, "night": self.night, "sent": self.sent,
            "reads": self.take_reads(),
            "ticket": (data or {}).get("ticket")})
