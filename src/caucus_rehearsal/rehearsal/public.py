"""The public and the media reading the results: an open workload (arrival rate).

Each load-generator process (the local one, or each worker) plays its share of the
scenario's ``[demand]`` (``simulator/demand.py``) at the instants :mod:`.arrivals`
draws (per **real** second: docs/time.md); a media poller polls with the ETag of its
previous answer. A read is issued at its arrival instant whatever the target is
doing (as k6's arrival-rate executors and wrk2 ``-R`` do): it never waits for another
read's answer. When the generator cannot keep up (it already has
``demand.max_in_flight`` reads unanswered, or woke up more than ``DROP_LATE_S`` after the
instant) the read is counted as dropped, never silently absorbed.

As in k6's arrival-rate executors, the reads are made by **readers** that outlive a
read: a read due is handed to an idle reader; when none is idle, a new reader is started
(up to ``max_in_flight``) while fewer than :data:`SPARE_READERS` have been; beyond those,
only when the reads handed on have waited more than :data:`GROW_WAIT_S` for a reader,
the target keeps so many reads waiting that the readers are too few (Little's law: twice
the recent read rate times the recent response time), and this process is not itself busy: its
event loop running more than :data:`BUSY_LAG_S` late, or its CPU use above
:data:`BUSY_CPU_SHARE` of a core (then the reads wait for its CPU, not for the target,
and more readers, and connections, would only slow it down more). Otherwise the read
waits for the next reader to come free. A process so keeps about as many readers, and
connections to the target, as the target keeps reads waiting, and a read costs no
greenlet of its own (measured: benchmarks/bench_public_reads.py; a reader started
whenever none was idle let a generator near its capacity start all ``max_in_flight``,
whose connections then cost it a quarter of its capacity; started whenever a read had
waited 5 ms, still a hundred and more against a fast target, which cost a tenth). A
read that waited more than ``DROP_LATE_S`` for its reader is dropped late like one the
process woke up too late for.

Nothing is logged per read: each read counts into this process's
:class:`~caucus_rehearsal.rundir.reads.ReadStats` (latency from the due moment, errors,
staleness against the newest feed version this process has seen:
:class:`~caucus_rehearsal.rundir.reads.VersionBook`),
which the master merges into ``reads.jsonl``. Reads are also Locust requests (named by
endpoint), so Locust's statistics and web UI show them.

This is not a Locust user class: an arrival-rate workload has no users, and each process
must play exactly its own share, which Locust's user dispatch cannot promise.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from typing import Any

import gevent
from gevent.pool import Group
from gevent.queue import Empty, Queue
from locust.contrib.fasthttp import FastHttpSession

from caucus_rehearsal.rehearsal.adapters.base import HttpCall
from caucus_rehearsal.rehearsal.arrivals import Arrival, media_arrivals, page_view_arrivals
from caucus_rehearsal.rehearsal.boundary import adapter_failed, interpret
from caucus_rehearsal.rehearsal.context import RunContext
from caucus_rehearsal.rundir.reads import DROP_LATE_S, ReadStats, VersionBook
from caucus_rehearsal.simulator.demand import scenario_surges
from caucus_rehearsal.simulator.streams import stream

STOP_WAIT_S = 5.0
"""Wall seconds the reads in flight get to finish when the process stops."""

SPARE_READERS = 32
"""Readers a process starts whenever no reader is idle, busy or not."""
LAG_PROBE_S = 0.01
"""Wall seconds between two probes of the event loop's lateness."""
BUSY_LAG_S = 0.005
"""A process whose event loop runs this late (recently) is busy: its CPU is what the
reads wait for."""
BUSY_CPU_SHARE = 0.85
"""A process using this share of a core (recently) is busy."""
GROW_WAIT_S = 0.005
"""A read handed on that has waited this long (wall seconds) for a reader shows the
readers all waiting for the target: another is started."""
Due = tuple[float, float, str, int]
"""A read handed to a reader: (due wall time, simulation minute, endpoint, poller)."""


class PublicDemand:
    """This process's share of the public and media demand, played from the night's start
    (``live.start``) to its end or until :meth:`stop`."""

    def __init__(self, environment: Any, ctx: RunContext) -> None:
        sc = ctx.scenario
        self.ctx = ctx
        self.demand = sc.demand
        self.stats = ReadStats()
        self.book = VersionBook()
        self.etags: dict[int, str] = {}
        timeout = sc.live.request_timeout * 60
        self.client = FastHttpSession(
            base_url=environment.host or "", request_event=environment.events.request,
            user=None, network_timeout=timeout, connection_timeout=timeout,
            concurrency=self.demand.max_in_flight, max_retries=0)
        self.readers = Group()
        """The readers (greenlets that make one read after another)."""
        self.started = 0
        """Readers started in all (at most ``max_in_flight``)."""
        self.idle = 0
        """Readers waiting for a read (not yet handed one); negative: reads waiting for a
        reader."""
        self.lag_s = 0.0
        """How late the event loop ran recently (wall seconds; decays)."""
        self.cpu_share = 0.0
        """The share of a core this process used recently (all its greenlets)."""
        self.latency_s = 0.0
        """The target's recent response time to a read (a moving average)."""
        self.rate_per_s = 0.0
        """Reads due a second, recently (a moving average)."""
        self._dispatched = 0
        self._handed: Queue[Due] = Queue()
        self.greenlet: gevent.Greenlet | None = None
        self._arrivals: Iterator[Arrival] | None = None
        self.broken = False
        self._page_call: HttpCall | None = None  # the same for every page view
        try:
            self._page_call = ctx.adapter.results_call(None)
        except Exception as exc:  # the boundary: recorded once, and nobody reads
            self._adapter_failed(exc)

    def _adapter_failed(self, exc: BaseException) -> None:
        """The adapter raised building a read: the target's protocol error, recorded
        once; the reads stop."""
        if self.broken:
            return
        self.broken = True
        adapter_failed(self.ctx.log, "", "reader", "public", exc)
        if self.greenlet is not None and self.greenlet is not gevent.getcurrent():
            self.greenlet.kill(block=False)

    def schedule(self) -> Iterator[Arrival]:
        """Every read this process is due to make, in due order."""
        ctx, d = self.ctx, self.demand
        start, end = ctx.clock.t0_wall, ctx.end_wall
        views = page_view_arrivals(stream(ctx.scenario.seed, "page-views", ctx.worker,
                                          ctx.workers), ctx.clock, d,
                                   scenario_surges(ctx.scenario), start, end,
                                   1.0 / ctx.workers)
        media = media_arrivals(ctx.scenario.seed, d, start, end, ctx.worker, ctx.workers)
        return heapq.merge(views, media)

    def start(self) -> None:
        """Begin playing (in a greenlet of its own); nothing when nobody reads."""
        if self.demand.active and self.greenlet is None and not self.broken:
            self.greenlet = gevent.spawn(self.play)

    def play(self) -> None:
        """Hand every due read to a reader at its instant, or count it dropped."""
        clock = self.ctx.clock
        most = self.demand.max_in_flight
        probe = gevent.spawn(self._probe_lag)
        try:
            self._dispatch(clock, most)
        finally:
            probe.kill(block=False)

    def _dispatch(self, clock: Any, most: int) -> None:
        self._arrivals = self.schedule()
        for due, endpoint, poller in self._arrivals:
            delay = due - time.time()
            if delay > 0:
                gevent.sleep(delay)
            minute = clock.sim(due)
            n = len(self.readers)
            self._dispatched += 1
            if time.time() - due > DROP_LATE_S:
                self.stats.at(minute, endpoint).drop("late")
            elif self.idle > 0:
                self.idle -= 1
                self._handed.put((due, minute, endpoint, poller))
            elif n < most and (n < SPARE_READERS or (not self._busy() and self._short(n)
                                                    and self._waited(GROW_WAIT_S))):
                self.started += 1
                self.readers.spawn(self._reader, (due, minute, endpoint, poller))
            elif n < most:
                self.idle -= 1  # it waits for the next reader free (soon, or we are busy)
                self._handed.put((due, minute, endpoint, poller))
            else:  # max_in_flight reads are waiting for the target
                self.stats.at(minute, endpoint).drop("busy")

    def _busy(self) -> bool:
        """Whether this process is itself what the reads wait for (its CPU)."""
        return self.lag_s >= BUSY_LAG_S or self.cpu_share >= BUSY_CPU_SHARE

    def _short(self, readers: int) -> bool:
        """Whether ``readers`` are too few for the reads the target keeps waiting: fewer
        than twice the recent rate times the recent response time (Little's law)."""
        return readers < 2.0 * self.rate_per_s * self.latency_s

    def _waited(self, seconds: float) -> bool:
        """Whether the oldest read handed on but not yet taken up is ``seconds`` overdue."""
        try:
            due: float = self._handed.peek_nowait()[0]
        except Empty:
            return False
        return time.time() - due > seconds

    def _probe_lag(self) -> None:
        """Keep :attr:`lag_s`: how late the event loop wakes a sleeper (rises at once,
        decays by a tenth a probe), and :attr:`cpu_share` and :attr:`rate_per_s` (moving
        averages)."""
        cpu, seen = time.process_time(), self._dispatched
        while True:
            t = time.time()
            gevent.sleep(LAG_PROBE_S)
            now, used, count = time.time(), time.process_time(), self._dispatched
            dt = max(now - t, 1e-6)
            self.lag_s = max(now - t - LAG_PROBE_S, 0.9 * self.lag_s)
            self.cpu_share = 0.8 * self.cpu_share + 0.2 * (used - cpu) / dt
            self.rate_per_s = 0.8 * self.rate_per_s + 0.2 * (count - seen) / dt
            cpu, seen = used, count

    def _reader(self, first: Due) -> None:
        """One reader: its first read, then each read it is handed (one that waited too
        long for it is dropped late)."""
        self.read(*first)
        while True:
            self.idle += 1
            due, minute, endpoint, poller = self._handed.get()
            if time.time() - due > DROP_LATE_S:
                self.stats.at(minute, endpoint).drop("late")
            else:
                self.read(due, minute, endpoint, poller)

    def stop(self) -> None:
        """Stop issuing reads; give those in flight :data:`STOP_WAIT_S` to finish. Reads
        that fell due before now but were never taken up (a generator too busy to get to
        them) count as dropped late: a shortfall is never silently absorbed."""
        if self.greenlet is not None:
            self.greenlet.kill(block=True)
        now = time.time()
        if self._arrivals is not None:
            for due, endpoint, _ in self._arrivals:
                if due > now:
                    break
                self.stats.at(self.ctx.clock.sim(due), endpoint).drop("late")
            self._arrivals = None
        deadline = time.time() + STOP_WAIT_S
        while self.idle < len(self.readers) and time.time() < deadline:
            gevent.sleep(0.05)  # the reads in flight finish
        self.readers.kill(block=False)

    def read(self, due: float, minute: float, endpoint: str, poller: int) -> None:
        """One read, due at wall time ``due`` (simulation minute ``minute``)."""
        adapter = self.ctx.adapter
        try:
            call = self._page_call if endpoint == "results" else \
                adapter.feed_call(self.etags.get(poller))
        except Exception as exc:  # the boundary
            self._adapter_failed(exc)
            return
        if call is None or self.broken:
            return
        sent = time.time()
        version: int | None = None
        not_modified = False
        with self.client.request(call.method, call.path, name=call.name,
                                 headers=dict(call.headers), catch_response=True) as resp:
            done = time.time()
            status = int(resp.status_code or 0)
            if status == 0:
                err = repr(getattr(resp, "error", "")).lower()
                outcome = "timeouts" if "timeout" in err or "timed out" in err \
                    else "conn_errors"
                resp.failure(outcome)
            else:
                reply = interpret(adapter, call, status, resp.headers or {},
                                  resp.content or b"")
                if reply.outcome == "ok":
                    outcome = "ok"
                    resp.success()
                    version, not_modified = reply.version, status == 304
                    if reply.etag and poller >= 0:
                        self.etags[poller] = reply.etag
                else:
                    # an answer the adapter cannot read is the target's error too
                    outcome = "errors" if status >= 500 or reply.outcome == "protocol_error" \
                        else "rejected"
                    resp.failure(f"{status} {reply.detail}"[:200])
        self.latency_s += 0.05 * (done - sent - self.latency_s)
        stale = self.book.behind(version, sent) if version is not None else None
        if version is not None:
            self.book.saw(version, done)
        self.stats.at(minute, endpoint).record(
            outcome, None if status == 0 else done - due, sent - due,
            stale_s=None if stale is None else stale[0],
            behind=0 if stale is None else stale[1],
            versioned=version is not None, not_modified=not_modified)
