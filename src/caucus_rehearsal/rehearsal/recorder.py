"""The run directory's only writer during a live run: the Locust master, or the single
local process (``rundir/``, docs/run-directory.md).

At each start (:meth:`RunRecorder.begin`) it writes what is known before the night
(``run.json``, the scenario as used, roster, truth, plan) and then, while the night
plays:

- appends every process's event records to ``events.jsonl`` as their batches arrive
  (``events`` messages from :mod:`.shipper`), counting them per worker;
- merges every process's reads (``report_to_master``, and the final flush) and rewrites
  ``reads.jsonl`` every :data:`READS_S`;
- snapshots the published results (``snapshots.jsonl``) at the scenario's interval;
- keeps ``.live/status.json`` (the summed live counters) for ``rehearse run``'s status
  line;
- watches the workers: one whose heartbeat stops (Locust marks it missing) is **lost**:
  the units it owned whose chair had not finished are recorded in ``run.json``
  (``lost_workers``) and the hotline pool stops waiting for them.

When the night stops (:meth:`drain` at ``test_stopping``, :meth:`finish` at
``test_stop``) it asks every process to stop its reads and send what it holds, waits for
their answers (at most :data:`DRAIN_S`), reads the final state of the published results
(again while it shows the feed gone back: :mod:`.final_read`), reads the target's
audit trail and writes ``run.json``'s end: ``complete`` when every chair finished or the
night's end was reached, ``interrupted`` otherwise. Locust quitting while it stops (a
SIGTERM after ``--run-time`` began the stop: Locust then never fires ``test_stop``) waits
for that end to be written (:meth:`close`).

A write that fails (a full disk) stops the process with one line (:mod:`.failures`,
exit 3); nothing more is written but ``run.json``'s end (``aborted``, ``disk full:
PATH``), in place if need be. Each start of plain Locust's web UI is a night of its own
(:mod:`.nights`): records of the night before that arrive late are ignored.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust.runners import MasterRunner

from caucus_rehearsal.errors import TargetError, is_disk_full
from caucus_rehearsal.rehearsal import failures
from caucus_rehearsal.rehearsal.adapters import load_adapter
from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter
from caucus_rehearsal.rehearsal.boundary import Boundary
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.final_read import FeedHigh, read_final
from caucus_rehearsal.rehearsal.hotline_link import PoolKeeper
from caucus_rehearsal.rehearsal.night import Night, owners, write_night
from caucus_rehearsal.rehearsal.observe import audit_trail, snapshot
from caucus_rehearsal.rehearsal.shipper import (
    EVENTS_MESSAGE,
    FLUSH_MESSAGE,
    FLUSHED_MESSAGE,
)
from caucus_rehearsal.rundir.reads import ReadStats
from caucus_rehearsal.rundir.records import LostWorker, RunInfo
from caucus_rehearsal.rundir.vocab import EVENTS_FILE, LIVE_DIR, SNAPSHOTS_FILE, STATUS_FILE
from caucus_rehearsal.rundir.writer import (
    AppendLog,
    read_run_info,
    write_audit,
    write_json,
    write_reads,
    write_run_info,
)
from caucus_rehearsal.simulator.loader import resolve

SNAPSHOTS_PER_RUN = 150
"""At most this many snapshots of the published results in a run."""
MIN_SNAPSHOT_S = 0.25
"""Wall seconds between two snapshots at least."""
STATUS_S = 0.5
"""Wall seconds between two writes of ``.live/status.json``."""
READS_S = 5.0
"""Wall seconds between two rewrites of ``reads.jsonl`` while the night plays."""
CHECK_S = 1.0
"""Wall seconds between two looks for lost workers."""
DRAIN_S = 15.0
"""Wall seconds the master waits for every process's last records at the end."""
CLOSE_S = 30.0
"""Wall seconds Locust quitting waits at most for the last snapshot and audit trail."""


@dataclass(slots=True)
class WorkerTally:
    """What the master has received from one load-generator process."""

    events: int = 0
    sent: int | None = None
    """How many records the process says it sent, as of its last word."""
    done: set[str] = field(default_factory=set)
    counters: dict[str, float] = field(default_factory=dict)
    flushed: bool = False


def _httpx() -> Any:
    # Inside Locust the process is gevent-patched (select.epoll is gone) and httpcore's
    # probe for trio then fails with AttributeError; nothing here needs trio.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    import httpx

    return httpx


class RunRecorder:
    """The master's (or the local process's) side of the run directory."""

    def __init__(self, environment: Any) -> None:
        self.env = environment
        runner = environment.runner
        runner.register_message(EVENTS_MESSAGE, self._on_events)
        runner.register_message(FLUSHED_MESSAGE, self._on_flushed)
        environment.events.worker_report.add_listener(self._on_worker_report)
        self.run_dir: Path | None = None
        self.reads = ReadStats()
        self.local_reads: Any = None
        """In a single process: a callable giving the reads recorded since its last call."""
        self.keeper: PoolKeeper | None = None
        """The hotline pool's keeper (told to stop waiting for a lost worker's units)."""
        self.tallies: dict[int, WorkerTally] = {}
        self.lost: list[LostWorker] = []
        self._lost_ids: set[str] = set()
        self._events: AppendLog | None = None
        self._snaps: AppendLog | None = None
        self._greenlets: list[gevent.Greenlet] = []
        self._drained = Event()
        self._draining = False
        self._ended = Event()
        """Set when no night is open or its end is written."""
        self._ended.set()
        self._ticket = 0
        self._reads_changed = False
        self._finished = True
        self.night_no = 0
        """The night being recorded (``--night``: :mod:`.nights`)."""
        self.write_error: OSError | None = None

    # ---- the start -----------------------------------------------------------------------
    def begin(self, night: Night, clock: SimClock, workers: int) -> None:
        """A night starts: write its starting files and start observing."""
        opts = self.env.parsed_options
        self.end()
        self.night, self.clock, self.workers = night, clock, workers
        self.night_no = int(getattr(opts, "night", 0) or 0)
        self.write_error = None
        run_dir = Path(opts.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        sc = night.scenario
        given = read_run_info(run_dir)  # what `rehearse run` wrote before Locust started
        run = RunInfo(
            scenario=sc.name, scenario_file="scenario.toml",
            overrides=list(opts.scenario_set or []), seed=sc.seed, speed=clock.speed,
            sim_start_min=sc.live.start, sim_end_min=sc.live.end, t0_wall=clock.t0_wall,
            target=self.env.host or None, adapter=opts.adapter,
            published_fields=sorted(load_adapter(opts.adapter).publishes),
            reference_server=given.get("reference_server"),
            server_faults=list(given.get("server_faults") or []), status="running",
            ended_wall=None, workers=workers)
        if "speed_auto" in given:
            run["speed_auto"] = given["speed_auto"]
        write_night(run_dir, night, resolve(opts.scenario), run)
        self.run = run
        self.reads = ReadStats()
        self.high = FeedHigh()
        """The most the feed showed during the night (the final read must not catch it
        gone back: :mod:`.final_read`)."""
        self.tallies = {}
        self.lost, self._lost_ids = [], set()
        self._events = AppendLog(run_dir / EVENTS_FILE)
        self._snaps = AppendLog(run_dir / SNAPSHOTS_FILE)
        self._finished = False
        self._ended.clear()
        httpx = _httpx()
        timeout = max(5.0, sc.live.request_timeout * 60)
        self.client = httpx.Client(base_url=self.env.host or "", timeout=timeout)
        self.boundary = Boundary(self.client)
        self.target_error: dict[str, Any] | None = None
        self.adapter: TargetAdapter = self.boundary.call(
            "adapter", load_adapter(opts.adapter), self.env.host or "", night.candidates,
            opts.admin_token or "")
        end_wall = clock.wall(sc.live.end)
        self.end_wall = end_wall
        every = max(MIN_SNAPSHOT_S, min(sc.live.snapshot_interval * 60,
                                        (end_wall - clock.t0_wall) / SNAPSHOTS_PER_RUN))
        self._greenlets = [gevent.spawn(self._snapshots, every), gevent.spawn(self._status),
                           gevent.spawn(self._reads_loop)]
        if isinstance(self.env.runner, MasterRunner):
            self._greenlets.append(gevent.spawn(self._watch_workers))

    # ---- incoming --------------------------------------------------------------------------
    def _tally(self, worker: int) -> WorkerTally:
        t = self.tallies.get(worker)
        if t is None:
            t = self.tallies[worker] = WorkerTally()
        return t

    def _on_events(self, environment: Any, msg: Any) -> None:
        data = msg.data
        if data.get("night", self.night_no) != self.night_no:
            return  # a late batch of the night before a restart
        t = self._tally(int(data["worker"]))
        lines = data.get("lines") or ""
        if lines and self._events is not None and self.write_error is None:
            try:
                self._events.write_lines(lines.encode("utf-8"))
            except OSError as exc:
                self._failed(exc)
            else:
                t.events += int(data.get("n", 0))
        t.sent = int(data.get("sent", 0))
        t.done.update(str(u) for u in data.get("done") or ())
        t.counters = dict(data.get("counters") or {})

    def _on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        rows = data.get("reads")
        if rows and data.get("night", self.night_no) == self.night_no:
            self.reads.merge_rows(rows)
            self._reads_changed = True

    def _on_flushed(self, environment: Any, msg: Any) -> None:
        data = msg.data
        if data.get("ticket") != self._ticket:
            return  # an answer to an earlier night's drain
        t = self._tally(int(data["worker"]))
        t.sent = int(data.get("sent", 0))
        t.flushed = True
        if data.get("reads"):
            self.reads.merge_rows(data["reads"])
        if all(self._tally(w).flushed for w in self._live_workers()):
            self._drained.set()

    def _live_workers(self) -> list[int]:
        runner = self.env.runner
        if not isinstance(runner, MasterRunner):
            return [0]
        return [runner.worker_indexes[c.id] for c in runner.clients.values()
                if c.state != "missing" and c.id in runner.worker_indexes]

    # ---- while the night plays -------------------------------------------------------------
    def _snapshot(self, tag: str | None,
                  force: bool) -> tuple[str | None, dict[str, Any] | None, bool]:
        """One snapshot through the boundary: (new tag, its fresh results, whether it was
        the target's protocol error, which ends the night)."""
        new_tag, line, results, failure = snapshot(self.adapter, self.boundary, self.clock,
                                                   tag, force)
        self.high.see(results)
        if self._snaps is not None and self.write_error is None:
            try:
                self._snaps.write_lines((line + "\n").encode("utf-8"))
            except OSError as exc:
                self._failed(exc)
        if failure is not None:
            self._broken(failure)
        return new_tag, results, failure is not None

    def _broken(self, failure: TargetError) -> None:
        """The target broke the contract: keep where, and end the night (aborted)."""
        if self.target_error is None:
            self.target_error = failure.record or {"call": "", "kind": "protocol",
                                                   "endpoint": "", "status": 0, "excerpt": "",
                                                   "error": str(failure)}
            print(f"locust: error: the target broke the contract: {failure}", file=sys.stderr)
            gevent.spawn(self.env.runner.quit)

    def _failed(self, exc: OSError) -> None:
        """A write of the run directory failed (a full disk): say so once and stop the
        process (:func:`.failures.fail`); nothing more is written but ``run.json``'s end."""
        if self.write_error is None:
            self.write_error = exc
            failures.fail(self.env, exc)

    def _snapshots(self, every: float) -> None:
        tag: str | None = None
        while self.target_error is None and self.write_error is None:
            tag = self._snapshot(tag, force=False)[0]
            gevent.sleep(every)

    def status(self) -> dict[str, Any]:
        """The run's live counters summed over its processes (``.live/status.json``)."""
        total: dict[str, Any] = {"wall": time.time(), "chairs": len(self.night.plans),
                                 "chairs_done": 0, "units_acked": 0, "requests": 0,
                                 "errors": 0, "in_flight": 0}
        for t in self.tallies.values():
            for k, v in t.counters.items():
                total[k] = total.get(k, 0) + v
        total["chairs_done"] = max(total["chairs_done"],
                                   sum(len(t.done) for t in self.tallies.values()))
        total["lost_workers"] = [w["worker"] for w in self.lost]
        total["reads"] = self.reads.total().counts["sent"]
        return total

    def _status(self) -> None:
        assert self.run_dir is not None
        path = self.run_dir / LIVE_DIR / STATUS_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            while self.write_error is None:
                write_json(path, self.status())
                gevent.sleep(STATUS_S)
        except OSError as exc:
            self._failed(exc)

    def _pull_local_reads(self) -> None:
        if self.local_reads is not None:
            rows = self.local_reads()
            if rows:
                self.reads.merge_rows(rows)
                self._reads_changed = True

    def _reads_loop(self) -> None:
        while self.write_error is None:
            gevent.sleep(READS_S)
            self._pull_local_reads()
            if self._reads_changed and self.run_dir is not None:
                self._reads_changed = False
                try:
                    write_reads(self.run_dir, self.reads)
                except OSError as exc:
                    self._failed(exc)

    def _watch_workers(self) -> None:
        runner = self.env.runner
        while True:
            gevent.sleep(CHECK_S)
            for client in list(runner.clients.values()):
                if client.state == "missing" and client.id not in self._lost_ids:
                    self._lose(client.id, runner.worker_indexes.get(client.id))

    def _lose(self, client_id: str, index: int | None) -> None:
        """A worker went missing: record the units it owned that it did not finish, and
        let the hotline pool stop waiting for them."""
        self._lost_ids.add(client_id)
        if index is None or index >= self.workers:
            return
        now = time.time()
        owner = owners(self.night.scenario.seed, len(self.night.plans), self.workers)
        done = self._tally(index).done
        units = [p.unit_id for p in self.night.plans
                 if owner[p.unit_index] == index and p.unit_id not in done]
        self.lost.append(LostWorker(worker=index, lost_wall=round(now, 3),
                                    lost_sim_min=round(self.clock.sim(now), 3),
                                    units_not_played=units))
        if self.keeper is not None:
            self.keeper.abandon(units)
        if self.run_dir is not None and self.write_error is None:
            try:
                write_run_info(self.run_dir, RunInfo(**self.run, lost_workers=self.lost))
            except OSError as exc:
                self._failed(exc)

    # ---- the end -----------------------------------------------------------------------------
    def drain(self) -> None:
        """Ask every process to stop its reads and send what it holds; wait for them (a
        second call while a drain is under way waits for the same answers)."""
        if self._finished:
            return
        if self._draining:
            self._drained.wait(timeout=DRAIN_S)
            return
        self._draining = True
        try:
            self._ticket += 1
            self._drained.clear()
            for w in self._live_workers():
                self._tally(w).flushed = False
            self.env.runner.send_message(FLUSH_MESSAGE, {"ticket": self._ticket})
            self._drained.wait(timeout=DRAIN_S)
        finally:
            self._draining = False

    def close(self) -> None:
        """Locust is quitting: end the night now, or wait for the end under way to be
        written (at most :data:`DRAIN_S` plus :data:`CLOSE_S`)."""
        if self._finished:
            self._ended.wait(timeout=DRAIN_S + CLOSE_S)
            return
        self.drain()
        self.finish()

    def finish(self) -> None:
        """The night is over: last snapshot, audit trail, reads and ``run.json``'s end."""
        if self._finished or self.run_dir is None:
            return
        self._finished = True
        try:
            self._close_night()
        finally:
            self._ended.set()

    def _close_night(self) -> None:
        for g in self._greenlets:
            g.kill(block=False)
        try:
            self._last_records()
        except OSError as exc:
            self._failed(exc)
        self._write_end()
        for log in (self._events, self._snaps):
            if log is not None:
                log.close()
        self._events = self._snaps = None
        self.client.close()

    def _last_records(self) -> None:
        """The last snapshot, the audit trail and the reads."""
        assert self.run_dir is not None
        self._pull_local_reads()
        # The final state: read again while it shows the feed gone back (.final_read).
        read_final(lambda: self._snapshot(None, force=True)[1:], self.high, gevent.sleep)
        if self.write_error is not None:
            return
        requests = int(sum(t.counters.get("requests", 0) for t in self.tallies.values()))
        try:
            trail = audit_trail(self.adapter, self.boundary, requests, len(self.night.plans))
            if trail is not None:
                write_audit(self.run_dir, trail)
        except TargetError as exc:
            if exc.record is not None and exc.record.get("kind") == "protocol":
                self._broken(exc)
            else:
                print(f"locust: could not read the audit trail: {exc}", file=sys.stderr)
        write_reads(self.run_dir, self.reads)

    def _write_end(self) -> None:
        """``run.json``'s end (in place on a full disk) and the last live counters."""
        assert self.run_dir is not None
        done = sum(len(t.done) for t in self.tallies.values())
        ended = time.time()
        status = "complete" if done >= len(self.night.plans) or ended >= self.end_wall \
            else "interrupted"
        if self.target_error is not None:
            status = "aborted"
        run = RunInfo(**self.run)
        run["status"], run["ended_wall"], run["lost_workers"] = status, ended, self.lost
        run["events_received"] = {str(k): t.events for k, t in sorted(self.tallies.items())}
        if status == "interrupted":
            run["stop_reason"] = "the night was stopped before its end"
        if self.target_error is not None:
            run["target_error"] = self.target_error
            run["stop_reason"] = "the target broke the contract"
        if self.write_error is not None:
            run["status"] = "aborted"
            run["stop_reason"] = f"disk full: {self.write_error.filename}" \
                if is_disk_full(self.write_error) else str(self.write_error)
        try:
            write_run_info(self.run_dir, run)
            write_json(self.run_dir / LIVE_DIR / STATUS_FILE,
                       {**self.status(), "ended": run["status"]})
        except OSError as exc:
            self._failed(exc)

    def end(self) -> None:
        """Finish a night still open (a restart from the web UI begins a new one)."""
        if not self._finished:
            self.finish()

