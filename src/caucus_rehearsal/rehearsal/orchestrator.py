"""``rehearse run`` around the Locust subprocess: prepare, play, record.

:func:`prepare` writes everything known before the night into the run directory;
:func:`play` provisions the target, records its zero read (:mod:`.zero_check`), runs
Locust as a subprocess (this process never imports locust, which would gevent-patch it)
and, while it runs, snapshots the published results, switches the scenario's scheduled
faults at their simulated moments and prints a live status line; it stops when every
chair is done or the scenario's end passes. A stop signal (Ctrl-C, SIGTERM, SIGHUP:
:mod:`caucus_rehearsal.interrupts`) or a full disk stops Locust, keeps everything
recorded, says why in ``run.json`` and is raised to the caller.

Every call through the adapter goes through the :class:`~.boundary.Boundary`: a target
that breaks the contract (an answer the adapter cannot read, a read that never ends) is
kept in ``run.json`` as ``target_error`` and raised as a TargetError (exit 3, after the
report); a snapshot the target refuses or does not answer is recorded and the night goes
on.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from caucus_rehearsal import __version__
from caucus_rehearsal.errors import RunAborted, TargetError, TargetProtocolError, is_disk_full
from caucus_rehearsal.interrupts import INTERRUPTS
from caucus_rehearsal.published import shape_problem
from caucus_rehearsal.rehearsal.adapters import load_adapter
from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter
from caucus_rehearsal.rehearsal.boundary import MAX_REQUESTS_PER_CALL, Boundary, Problem
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.context import LIVE_DIR
from caucus_rehearsal.rehearsal.failures import LOCUST_EXIT_DISK_FULL
from caucus_rehearsal.rehearsal.final_read import FeedHigh, read_final
from caucus_rehearsal.rehearsal.night import Night, build_night, roster_body
from caucus_rehearsal.rehearsal.rundir import write_json, write_run_json, write_start
from caucus_rehearsal.rehearsal.speed import SpeedChoice, choose_speed
from caucus_rehearsal.rehearsal.zero_check import read_zero_state
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.units import format_clock
from caucus_rehearsal.zero_read import FILE as ZERO_FILE

STOP_GRACE_S = 20.0
"""Wall seconds after the scenario's end before Locust is stopped by force."""
MIN_SNAPSHOT_S = 0.25
ALL_DONE_GRACE_S = 3.0
"""Wall seconds Locust gets to quit by itself once every chair is done."""
LOCUST_STOP_S = 15.0
"""Wall seconds Locust gets to stop after SIGTERM (it writes its CSV) before it is killed."""
LOCUSTFILE = Path(__file__).with_name("locust_entry.py")
"""The locustfile handed to Locust (a path: importing it here would gevent-patch us)."""


@dataclass
class Prepared:
    """A run directory ready for the night."""

    run_dir: Path
    scenario: Scenario
    scenario_arg: str
    overrides: list[str]
    night: Night
    speed: float
    adapter_spec: str
    run: dict[str, Any] = field(default_factory=dict)
    skip_zero_check: bool = False
    """Do not read the target's published results before the night (``--skip-zero-check``)."""


@dataclass(frozen=True, slots=True)
class Target:
    """The system under test: ``url``, its ``admin_token`` (may be empty) and whether it
    is the bundled reference server (then scheduled faults can be switched)."""

    url: str
    admin_token: str
    reference: bool
    base_faults: tuple[str, ...] = ()


def prepare(run_dir: Path, scenario: Scenario, scenario_arg: str, scenario_file: Path,
            overrides: Sequence[str], speed: float | None, adapter_spec: str,
            band: Callable[[Scenario], dict[str, Any]] | None) -> Prepared:
    """Build truth and plan and write the run directory's starting files (and band.json);
    ``run.json`` first, so a run stopped while preparing says so."""
    spd = float(speed or scenario.live.speed)
    run = {"scenario": scenario.name, "scenario_file": "scenario.toml",
           "overrides": list(overrides), "seed": scenario.seed, "speed": spd,
           "sim_start_min": scenario.live.start, "sim_end_min": scenario.live.end,
           "t0_wall": None, "target": None, "adapter": adapter_spec,
           "published_fields": sorted(load_adapter(adapter_spec).publishes),
           "reference_server": None, "server_faults": [], "status": "preparing",
           "ended_wall": None, "version": __version__}
    write_json(run_dir / "run.json", run)
    night = build_night(scenario)
    write_start(run_dir, night, scenario_file, run)
    if band is not None:
        write_json(run_dir / "band.json", band(scenario))
    return Prepared(run_dir, scenario, scenario_arg, list(overrides), night, spd,
                    adapter_spec, run)


def _adapter(p: Prepared, target: Target) -> TargetAdapter:
    return load_adapter(p.adapter_spec)(target.url, p.night.candidates, target.admin_token)


def connect(p: Prepared, target: Target, boundary: Boundary) -> TargetAdapter:
    """Check the target answers and provision it; a TargetError (exit 3) names the call
    that failed and what the target answered."""
    adapter = boundary.call("adapter", _adapter, p, target)
    boundary.call("health", adapter.health, boundary.client)
    boundary.call("provision", adapter.provision, boundary.client, roster_body(p.night))
    return adapter


def auto_speed(p: Prepared, target: Target) -> SpeedChoice:
    """``--speed auto``: probe the target (after provisioning it) and this machine."""
    timeout = max(5.0, p.scenario.live.request_timeout * 60)
    with httpx.Client(base_url=target.url, timeout=timeout) as client:
        boundary = Boundary(client)
        adapter = connect(p, target, boundary)
        return boundary.call("speed probe", choose_speed, adapter, client, p.night.plans,
                             p.scenario)


def record_target_error(run_dir: Path, exc: TargetError) -> None:
    """Keep ``exc`` in ``run.json`` as ``target_error`` (unless one is kept already); a
    run that had not finished is ``aborted``."""
    path = run_dir / "run.json"
    run = json.loads(path.read_text(encoding="utf-8"))
    if run.get("target_error") is None:
        run["target_error"] = exc.record or {"call": "", "kind": "protocol", "endpoint": "",
                                             "status": 0, "excerpt": "", "error": str(exc)}
    if run.get("status") in ("preparing", "running"):
        run["status"], run["ended_wall"] = "aborted", time.time()
    write_json(path, run)


def locust_command(p: Prepared, target: Target, t0: float, run_s: float,
                   web_port: int | None) -> list[str]:
    """The Locust subprocess's command line (headless unless a ``web_port`` is given)."""
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", target.url,
           "--csv", str(p.run_dir / "locust"), "--run-time", f"{max(1, int(run_s))}s",
           "--stop-timeout", "5", "--loglevel", "WARNING",
           "--scenario", p.scenario_arg, "--speed", repr(p.speed),
           "--run-dir", str(p.run_dir), "--t0", repr(t0), "--adapter", p.adapter_spec,
           f"--admin-token={target.admin_token}"]  # "=": a token may start with "-"
    for o in p.overrides:
        cmd.append(f"--set={o}")
    cmd += ["--headless"] if web_port is None else [
        "--autostart", "--autoquit", "3", "--web-host", "127.0.0.1", "--web-port", str(web_port)]
    return cmd


class _Faults:
    """The scenario's ``[[live.faults]]`` switched on (and off) at their moments."""

    def __init__(self, p: Prepared, target: Target, clock: SimClock) -> None:
        self.base = list(target.base_faults)
        self.plan = [(clock.wall(f.at), clock.wall(f.until) if f.until is not None else None,
                      f.fault) for f in p.scenario.live.faults]
        self.enabled = bool(self.plan) and target.reference
        self.active: list[str] = []

    def tick(self, adapter: TargetAdapter, boundary: Boundary, now: float) -> list[str]:
        want = [f for at, until, f in self.plan if at <= now and (until is None or now < until)]
        if not self.enabled or want == self.active:
            return []
        boundary.call("faults", adapter.set_faults, boundary.client, self.base + want)
        changed = [f"+{f}" for f in want if f not in self.active] + \
                  [f"-{f}" for f in self.active if f not in want]
        self.active = want
        return changed


def _live_counters(run_dir: Path) -> dict[str, float]:
    total: dict[str, float] = {}
    for path in (run_dir / LIVE_DIR).glob("w*.json"):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for k, v in doc.items():
            if k != "wall":
                total[k] = total.get(k, 0) + float(v)
    return total


def _published(adapter: TargetAdapter, client: httpx.Client,
               tag: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """``adapter.published_since``, its results in the normalised shape or refused."""
    new_tag, results = adapter.published_since(client, tag)
    if results is not None and (why := shape_problem(results)) is not None:
        raise TargetProtocolError(f"the adapter's published results: {why}")
    return new_tag, results


def _snapshot(adapter: TargetAdapter, boundary: Boundary, clock: SimClock, tag: str | None,
              force: bool) -> tuple[str | None, str, dict[str, Any] | None, TargetError | None]:
    """(new tag, the snapshots.jsonl line, its fresh results if any, the protocol error
    that must end the run)."""
    now = time.time()
    line: dict[str, Any] = {"fetched_wall": round(now, 3), "sim_min": round(clock.sim(now), 3)}
    failure: TargetError | None = None
    try:
        new_tag, results = boundary.call("snapshot", _published, adapter, boundary.client,
                                         None if force else tag)
        line.update(status=304 if results is None else 200, results=results)
        return (new_tag, json.dumps(line, separators=(",", ":"), allow_nan=False), results,
                None)
    except TargetError as exc:
        line.update(status=0, results=None, detail=str(exc)[:200])
        if exc.record is not None and exc.record.get("kind") == "protocol":
            line["protocol_error"], failure = exc.record, exc
    except (TypeError, ValueError) as exc:  # NaN, infinity, a set...: not JSON
        problem = Problem("snapshot", "protocol", "", 0, "", f"{type(exc).__name__}: {exc}")
        failure = TargetProtocolError(f"snapshot: the published results are not JSON ({exc})",
                                      record=problem.as_json())
        line.update(status=0, results=None, detail=str(failure)[:200],
                    protocol_error=failure.record)
    return tag, json.dumps(line, separators=(",", ":")), None, failure


def play(p: Prepared, target: Target, *, web_port: int | None = None,
         lead_s: float | None = None, out: Callable[[str], None] = print) -> str:
    """Run the night (with Locust's web UI on ``web_port``, if given); returns the final
    ``run.json`` status (``complete``).

    Stopped early it stops Locust, keeps what was recorded, writes ``run.json``'s status
    and raises: ``KeyboardInterrupt`` (a stop signal: ``interrupted``), the ``OSError``
    of a full disk (``aborted``), the target's ``TargetError`` (``aborted``, kept as
    ``target_error``), ``RunAborted`` (Locust itself failed: ``aborted``).
    """
    sc = p.scenario
    timeout = max(5.0, sc.live.request_timeout * 60)
    client = httpx.Client(base_url=target.url, timeout=timeout)
    boundary = Boundary(client)
    adapter = connect(p, target, boundary)
    lead = lead_s if lead_s is not None else 4.0 + len(p.night.plans) / 400
    t0 = time.time() + lead
    clock = SimClock(t0, p.speed, sc.live.start)
    end_wall = clock.wall(sc.live.end)
    run = {**p.run, "t0_wall": t0, "target": target.url, "reference_server": target.reference,
           "server_faults": list(target.base_faults), "status": "running"}
    write_json(p.run_dir / "run.json", run)
    zero = read_zero_state(adapter, boundary, clock, p.skip_zero_check)
    write_json(p.run_dir / ZERO_FILE, zero.as_json(), compact=True)  # 1,765 zero rows
    snap_every = max(MIN_SNAPSHOT_S, min(sc.live.snapshot_interval * 60, (end_wall - t0) / 150))
    faults = _Faults(p, target, clock)
    snaps = _Lines(p.run_dir / "snapshots.jsonl")
    tty = sys.stdout.isatty()
    status = "complete"
    stopped: BaseException | None = None  # a stop signal or a full disk
    failure: TargetError | None = None  # the target broke the contract
    tag: str | None = None
    high = FeedHigh()  # what the feed showed: the final read must not catch it going back
    next_snap = next_status = time.time()
    all_done_since: float | None = None
    proc: subprocess.Popen[bytes] | None = None
    log = (p.run_dir / "locust.log").open("ab")
    try:
        with INTERRUPTS.shielded():  # a signal now still finds proc set, and stops it
            proc = subprocess.Popen(
                locust_command(p, target, t0, end_wall - time.time() + 2, web_port),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=_locust_env(target.url))
        _yield_cpu()
        if web_port is not None:
            out(f"Locust web UI: http://127.0.0.1:{web_port} (the night starts by itself)")
        while proc.poll() is None and failure is None:
            now = time.time()
            if now > end_wall + STOP_GRACE_S:
                out("rehearse: the scenario's end has passed; stopping Locust")
                break
            if all_done_since is None and _chairs_all_done(p):
                all_done_since = now
            if all_done_since is not None and now > all_done_since + ALL_DONE_GRACE_S:
                break  # Locust quits by itself when the chairs are done; the web UI does not
            try:
                for change in faults.tick(adapter, boundary, now):
                    out(f"\n[{format_clock(clock.sim(now))}] fault {change}")
            except TargetError as exc:
                failure = exc
            if now >= next_snap:
                tag, line, results, bad = _snapshot(adapter, boundary, clock, tag, force=False)
                failure = failure or bad
                snaps.write(line)
                high.see(results)
                next_snap = now + snap_every
            if now >= next_status:
                _emit(_status_line(p, clock, now), tty, out)
                next_status = now + (1.0 if tty else 10.0)
            time.sleep(0.05)
    except KeyboardInterrupt as exc:
        status, stopped = "interrupted", exc
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        status, stopped = "aborted", exc
    finally:
        if proc is not None:
            _stop(proc)
        log.close()
    stopped_early = failure is not None
    try:
        if not INTERRUPTS.hurry and (stopped is None or not is_disk_full(stopped)):
            failure = _final_records(p, adapter, boundary, clock, high, snaps, out) or failure
    except KeyboardInterrupt as exc:  # the first signal came after the night had ended
        status, stopped = "interrupted", stopped or exc
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        status, stopped = "aborted", stopped or exc
    finally:
        snaps.close()
        client.close()
    if tty:
        out("")
    rc = proc.returncode if proc is not None else None
    if status == "complete" and rc == LOCUST_EXIT_DISK_FULL:
        status, stopped = "aborted", OSError(
            errno.ENOSPC, "No space left on device (Locust could not write its records)",
            str(p.run_dir))
    elif status == "complete" and rc not in (0, 1, -signal.SIGTERM):
        status = "aborted"  # Locust itself failed (0: fine, 1: some requests failed)
    if status == "complete" and stopped_early:
        status = "aborted"  # the target broke the contract during the night
    ended: dict[str, Any] = {**run, "status": status, "ended_wall": time.time()}
    if failure is not None:
        ended["target_error"] = failure.record
    if status != "complete":
        ended["stop_reason"] = _stop_reason(stopped, failure, rc)
    write_run_json(p.run_dir, ended)
    if stopped is not None:
        raise stopped
    if failure is not None:
        raise failure
    if status == "aborted":
        log_path = p.run_dir / "locust.log"
        raise RunAborted(f"Locust exited with code {rc}: {locust_error(log_path)} "
                         f"(see {log_path})")
    return status


def _final_records(p: Prepared, adapter: TargetAdapter, boundary: Boundary, clock: SimClock,
                   high: FeedHigh, snaps: _Lines,
                   out: Callable[[str], None]) -> TargetError | None:
    """The final state of the published results (full reads, :mod:`.final_read`) and the
    audit trail; the protocol error that must end the run, if the target broke the
    contract."""
    failure: TargetError | None = None

    def read() -> tuple[dict[str, Any] | None, bool]:
        nonlocal failure
        _, line, results, bad = _snapshot(adapter, boundary, clock, None, force=True)
        snaps.write(line)
        failure = failure or bad
        return results, bad is not None

    try:
        read_final(read, high)
        # The trail has at most one item per request the night sent: more pages than
        # that is a read that does not end.
        c = _live_counters(p.run_dir)
        bound = max(MAX_REQUESTS_PER_CALL, 2 * int(c.get("requests", 0) + len(p.night.plans)))
        trail = boundary.call("audit", adapter.audit, boundary.client, limit=bound)
        if trail is not None:
            audit = _Lines(p.run_dir / "audit.jsonl", "wb")
            try:
                for item in trail:
                    audit.write(json.dumps(item, separators=(",", ":")))
            finally:
                audit.close()
    except TargetError as exc:
        if exc.record is not None and exc.record.get("kind") == "protocol":
            return failure or exc
        out(f"rehearse: could not read the final results or audit trail: {exc}")
    return failure


def _stop_reason(stopped: BaseException | None, failure: TargetError | None,
                 rc: int | None) -> str:
    """``run.json``'s ``stop_reason``: the signal, the full disk, the target's failure or
    Locust's."""
    if isinstance(stopped, KeyboardInterrupt):
        return INTERRUPTS.signal_name
    if isinstance(stopped, OSError):
        return f"disk full: {stopped.filename}"
    if failure is not None:
        return str(failure).splitlines()[0] if str(failure) else "the target failed"
    return f"Locust exited with code {rc}"


class _Lines:
    """A JSONL file the orchestrator appends to, unbuffered (a line reaches the file or
    fails at once, never later at close) and whose write errors name it."""

    def __init__(self, path: Path, mode: str = "ab") -> None:
        self.path = path
        self._fh = path.open(mode, buffering=0)

    def write(self, line: str) -> None:
        """Append one line (``line`` is one JSON document, without its newline)."""
        try:
            self._fh.write((line + "\n").encode("utf-8"))
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc

    def close(self) -> None:
        self._fh.close()


def locust_error(log_path: Path) -> str:
    """The line of Locust's log that says why it failed: its last ``locust: error:`` or
    exception line (not the statistics table it prints on the way out)."""
    lines = log_path.read_text(errors="replace").strip().splitlines()
    for line in reversed(lines):
        if line.startswith("locust: error: "):
            return line.removeprefix("locust: error: ")
        if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line):
            return line
    return lines[-1] if lines else "no output"


OBSERVER_NICE = 5
"""Niceness this process takes once Locust runs: reading the published results is
observation, and must not take CPU from the load generator or the target on a busy
machine (a fetch keeps its real timestamp, so only its cadence can suffer)."""


def _yield_cpu() -> None:
    with contextlib.suppress(OSError):  # not permitted: observe at the same priority
        os.nice(OBSERVER_NICE)


def _chairs_all_done(p: Prepared) -> bool:
    return _live_counters(p.run_dir).get("chairs_done", 0) >= len(p.night.plans)


def _status_line(p: Prepared, clock: SimClock, now: float) -> str:
    if now < clock.t0_wall:
        return (f"starting: Locust is spawning {len(p.night.plans)} chairs; the night begins "
                f"at {format_clock(clock.sim_start_min)} in {clock.t0_wall - now:.0f} s "
                f"(speed {clock.speed:g})")
    c = _live_counters(p.run_dir)
    n = len(p.night.plans)
    acked = int(c.get("units_acked", 0))
    return (f"{format_clock(clock.sim(now)):>8}  reported {100 * acked / n:5.1f}% ({acked}/{n})"
            f"  chairs done {int(c.get('chairs_done', 0))}"
            f"  in flight {int(c.get('in_flight', 0))}  requests {int(c.get('requests', 0))}"
            f"  errors {int(c.get('errors', 0))}")


def _locust_env(url: str) -> dict[str, str]:
    """Our environment, with the current directory importable (for ``--adapter``); for a
    target at a numeric address, gevent's blocking resolver (nothing to look up, and its
    default hands every new connection's lookup to a thread pool: measured at about 8% of
    the load generator's CPU in the busiest minutes of a 1,765-unit night)."""
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), os.getcwd()) if p)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)
    host = (httpx.URL(url).host or "").strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return env
    return {**env, "GEVENT_RESOLVER": "block"}


def _emit(text: str, tty: bool, out: Callable[[str], None]) -> None:
    if tty:
        sys.stdout.write("\r" + text.ljust(110))
        sys.stdout.flush()
    else:
        out(text)
        sys.stdout.flush()  # redirected to a file, print() would hold the lines back


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop Locust gracefully (it writes its CSV on SIGTERM), by force after
    ``LOCUST_STOP_S`` or at once when a second stop signal comes."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + LOCUST_STOP_S
    while proc.poll() is None:
        if INTERRUPTS.hurry or time.monotonic() > deadline:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.1)
