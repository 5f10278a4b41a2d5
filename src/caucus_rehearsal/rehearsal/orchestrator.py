"""``rehearse run`` around the Locust processes: prepare, play, and mark the end.

:func:`prepare` builds the night (for provisioning and ``--speed auto``) and writes the
night's starting files, with what only ``rehearse run`` knows (``band.json``, and in
``run.json`` the reference server's facts), so that a run stopped before the night still
has them; :func:`play` provisions the target, records its zero read
(:mod:`.zero_check`) and runs Locust as subprocesses (this process never imports locust,
which would gevent-patch it): a master and ``workers``
local worker processes (more may join from other machines). The master is the run
directory's writer (``rehearsal/recorder.py``): the events, the snapshots of the
published results, the reads, the audit trail and ``run.json``'s end. While the night
plays this process switches the scenario's scheduled faults at their simulated moments
and prints a live status line from the master's ``.live/status.json``; it stops Locust
when every chair is done or the scenario's end has passed. A stop signal (Ctrl-C,
SIGTERM, SIGHUP: :mod:`caucus_rehearsal.interrupts`) stops Locust (the master writes
what it holds), keeps everything recorded, says why in ``run.json`` and is raised to the
caller; so is a full disk (the master stops itself: :mod:`.failures`).

Every call it makes through the adapter goes through the :class:`~.boundary.Boundary`
(the master's snapshots and audit trail too: ``observe.py``): a target that breaks the
contract is kept in ``run.json`` as ``target_error`` and raised as a TargetError (exit
3, after the report).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from caucus_rehearsal.errors import RunAborted, TargetError, TargetProtocolError, is_disk_full
from caucus_rehearsal.interrupts import INTERRUPTS
from caucus_rehearsal.rehearsal.adapters import load_adapter
from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter
from caucus_rehearsal.rehearsal.boundary import Boundary, Problem
from caucus_rehearsal.rehearsal.clock import SimClock, start_lead_s
from caucus_rehearsal.rehearsal.failures import LOCUST_EXIT_DISK_FULL
from caucus_rehearsal.rehearsal.night import Night, build_night, roster_body, write_night
from caucus_rehearsal.rehearsal.speed import SpeedChoice, choose_speed
from caucus_rehearsal.rehearsal.zero_check import read_zero_state
from caucus_rehearsal.rundir.records import RunInfo
from caucus_rehearsal.rundir.vocab import LIVE_DIR, STATUS_FILE
from caucus_rehearsal.rundir.writer import (
    read_run_info,
    update_run_info,
    write_band,
    write_run_info,
    write_zero_state,
)
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.units import format_clock

STOP_GRACE_S = 20.0
"""Wall seconds after the scenario's end before Locust is stopped by force."""
ALL_DONE_GRACE_S = 5.0
"""Wall seconds Locust gets to quit by itself once every chair is done."""
MASTER_STOP_S = 40.0
"""Wall seconds the master gets to stop after SIGTERM before it is killed: it waits up
to 15 s for the workers' last records, then takes the last snapshot, reads the audit
trail and writes its CSV."""
LOCUST_STOP_S = 15.0
"""Wall seconds a worker gets to stop after SIGTERM before it is killed."""
"""Wall seconds Locust gets to quit by itself once every chair is done."""
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
    run: RunInfo = field(default_factory=RunInfo)
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
    """Build the night and write the run directory's starting files (the master keeps
    them), with what ``rehearse run`` alone knows: the first ``run.json`` (status
    ``preparing``, written first, so a run stopped while preparing says so) and
    ``band.json``."""
    spd = float(speed or scenario.live.speed)
    run = RunInfo(scenario=scenario.name, scenario_file="scenario.toml",
                  overrides=list(overrides), seed=scenario.seed, speed=spd,
                  sim_start_min=scenario.live.start, sim_end_min=scenario.live.end,
                  t0_wall=None, target=None, adapter=adapter_spec,
                  published_fields=sorted(load_adapter(adapter_spec).publishes),
                  reference_server=None, server_faults=[], status="preparing",
                  ended_wall=None)
    write_run_info(run_dir, run)
    night = build_night(scenario)
    write_night(run_dir, night, scenario_file, run)
    if band is not None:
        write_band(run_dir, band(scenario))
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
    run = read_run_info(run_dir)
    changes: dict[str, Any] = {}
    if run.get("target_error") is None:
        changes["target_error"] = exc.record or {
            "call": "", "kind": "protocol", "endpoint": "", "status": 0, "excerpt": "",
            "error": str(exc)}
    if run.get("status") in ("preparing", "running"):
        changes.update(status="aborted", ended_wall=time.time())
    update_run_info(run_dir, **changes)


@dataclass(frozen=True, slots=True)
class Generators:
    """The load generators: ``local`` worker processes this command starts, and
    ``remote`` ones the master waits for from other machines, which reach it at
    ``bind`` (``HOST:PORT``; loopback and a free port when only local ones run)."""

    local: int = 1
    remote: int = 0
    bind: str = ""

    @property
    def total(self) -> int:
        return self.local + self.remote


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def locust_command(p: Prepared, target: Target, t0: float | None, run_s: float,
                   web_port: int | None, gen: Generators, bind: tuple[str, int]) -> list[str]:
    """The Locust master's command line (headless unless a ``web_port`` is given; without
    ``t0`` the master sets the night's start when its workers have joined)."""
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", target.url,
           "--csv", str(p.run_dir / "locust"), "--run-time", f"{max(1, int(run_s))}s",
           "--stop-timeout", "5", "--loglevel", "WARNING",
           "--scenario", p.scenario_arg, "--speed", repr(p.speed),
           "--run-dir", str(p.run_dir), "--adapter", p.adapter_spec,
           f"--admin-token={target.admin_token}",  # "=": a token may start with "-"
           "--master", f"--expect-workers={gen.total}", f"--master-bind-host={bind[0]}",
           f"--master-bind-port={bind[1]}"]
    if t0 is not None:
        cmd.append(f"--t0={t0!r}")
    for o in p.overrides:
        cmd.append(f"--set={o}")
    cmd += ["--headless"] if web_port is None else [
        "--autostart", "--autoquit", "3", "--web-host", "127.0.0.1", "--web-port", str(web_port)]
    return cmd


def worker_command(master: tuple[str, int]) -> list[str]:
    """A local Locust worker's command line (it needs nothing but the master's address)."""
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
            "--master-host", master[0], f"--master-port={master[1]}", "--loglevel", "WARNING"]


def parse_bind(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``: port 5557, Locust's default) as (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "5557"
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: expected HOST:PORT")
    return host, int(port)


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


def live_status(run_dir: Path) -> dict[str, Any]:
    """The master's live counters (``.live/status.json``), empty before it writes them."""
    try:
        doc = json.loads((run_dir / LIVE_DIR / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def play(p: Prepared, target: Target, *, web_port: int | None = None,
         lead_s: float | None = None, gen: Generators | None = None,
         out: Callable[[str], None] = print) -> str:
    """Run the night (with Locust's web UI on ``web_port``, if given); returns the final
    ``run.json`` status (``complete``).

    Stopped early it stops Locust, keeps what was recorded, writes ``run.json``'s status
    and raises: ``KeyboardInterrupt`` (a stop signal: ``interrupted``), the ``OSError``
    of a full disk (``aborted``), the target's ``TargetError`` (``aborted``, kept as
    ``target_error``), ``RunAborted`` (Locust itself failed, or the night was stopped
    from the web UI before its end).
    """
    gen = gen or Generators()
    sc = p.scenario
    timeout = max(5.0, sc.live.request_timeout * 60)
    client = httpx.Client(base_url=target.url, timeout=timeout)
    boundary = Boundary(client)
    try:
        adapter = connect(p, target, boundary)
    except BaseException:
        client.close()
        raise
    # Locust's start-up, the workers joining and building their shards of the night. With
    # workers on other machines, joining takes as long as it takes: the master sets the
    # night's start (``--t0``) once they have all joined, and this process reads it.
    n = len(p.night.plans)
    lead = lead_s if lead_s is not None else 3.0 + start_lead_s(n)
    start = time.time() + lead
    clock = SimClock(start, p.speed, sc.live.start)
    night_s = clock.wall(sc.live.end) - start
    t0: float | None = None if gen.remote else start
    extra: dict[str, Any] = {"speed_auto": p.run["speed_auto"]} if "speed_auto" in p.run else {}
    update_run_info(p.run_dir, t0_wall=t0, target=target.url, speed=p.speed,
                    reference_server=target.reference,
                    server_faults=list(target.base_faults), status="running", **extra)
    # (Before the night; with remote workers its moment is on the clock as if the night
    # began now plus the lead: the night really begins later, so the read is earlier.)
    write_zero_state(p.run_dir, read_zero_state(adapter, boundary, clock, p.skip_zero_check))
    run_s = (t0 - time.time() if t0 is not None else start_lead_s(n)) + night_s + 2
    bind = parse_bind(gen.bind) if gen.bind else ("127.0.0.1", free_port())
    reach = ("127.0.0.1" if bind[0] in ("0.0.0.0", "::", "") else bind[0], bind[1])
    env = _locust_env(target.url)
    tty = sys.stdout.isatty()
    stopped: BaseException | None = None  # a stop signal or a full disk
    failure: TargetError | None = None  # a fault switch the target broke
    proc: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = []
    log = (p.run_dir / "locust.log").open("ab")
    try:
        # Their own sessions: a stop signal reaches this process only, which stops the
        # master first (it collects every worker's last records), then the workers.
        with INTERRUPTS.shielded():  # a signal now still finds them set, and stops them
            proc = subprocess.Popen(
                locust_command(p, target, t0, run_s, web_port, gen, bind),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True)
            workers = [subprocess.Popen(worker_command(reach), stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=log, env=env,
                                        start_new_session=True)
                       for _ in range(gen.local)]
        _yield_cpu()
        if web_port is not None:
            out(f"Locust web UI: http://127.0.0.1:{web_port} (the night starts by itself)")
        if gen.remote:
            out(f"waiting for {gen.remote} worker(s) at {bind[0]}:{bind[1]} "
                f"('rehearse worker --master HOST:{bind[1]}' on each machine)")
        if t0 is None:
            t0 = _await_start(p, proc)
        if t0 is not None:
            clock = SimClock(t0, p.speed, sc.live.start)
            failure = _watch(p, proc, clock, clock.wall(sc.live.end), adapter, boundary,
                             _Faults(p, target, clock), tty, out)
    except KeyboardInterrupt as exc:
        stopped = exc
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        stopped = exc
    finally:
        master = [(proc, MASTER_STOP_S)] if proc is not None else []
        late = _stop_all(master + [(w, LOCUST_STOP_S) for w in workers])
        stopped = stopped or late
        log.close()
        client.close()
    if tty:
        out("")
    return _conclude(p, proc.returncode if proc is not None else None, stopped, failure)


def _await_start(p: Prepared, proc: subprocess.Popen[bytes]) -> float | None:
    """The night's start as the master set it when its workers joined (``run.json``
    ``t0_wall``); None when the master ended first."""
    while proc.poll() is None:
        t0 = read_run_info(p.run_dir).get("t0_wall")
        if isinstance(t0, int | float):
            return float(t0)
        time.sleep(0.2)
    return None


def _watch(p: Prepared, proc: subprocess.Popen[bytes], clock: SimClock, end_wall: float,
           adapter: TargetAdapter, boundary: Boundary, faults: _Faults, tty: bool,
           out: Callable[[str], None]) -> TargetError | None:
    """While the night plays: switch the scheduled faults, print the status line; return
    when Locust has ended, every chair is done, the scenario's end has passed, or a fault
    switch found the target broken (returned)."""
    all_done_since: float | None = None
    next_status = time.time()
    while proc.poll() is None:
        now = time.time()
        if now > end_wall + STOP_GRACE_S:
            out("rehearse: the scenario's end has passed; stopping Locust")
            return None
        live = live_status(p.run_dir)
        if all_done_since is None and (
                live.get("ended") or live.get("chairs_done", 0) >= len(p.night.plans)):
            all_done_since = now
        if all_done_since is not None and now > all_done_since + ALL_DONE_GRACE_S:
            return None  # Locust quits by itself when the chairs are done; the web UI does not
        try:
            for change in faults.tick(adapter, boundary, now):
                out(f"\n[{format_clock(clock.sim(now))}] fault {change}")
        except TargetError as exc:
            return exc
        if now >= next_status:
            _emit(_status_line(p, clock, now, live), tty, out)
            next_status = now + (1.0 if tty else 10.0)
        time.sleep(0.05)
    return None


def _conclude(p: Prepared, rc: int | None, stopped: BaseException | None,
              failure: TargetError | None) -> str:
    """``run.json``'s final status once Locust has stopped (the master wrote its end
    unless it was killed), raised as :func:`play` says."""
    if stopped is None and rc == LOCUST_EXIT_DISK_FULL:
        stopped = OSError(errno.ENOSPC, "No space left on device (Locust could not write its "
                          "records)", str(p.run_dir))
    run = read_run_info(p.run_dir)
    status = str(run.get("status") or "aborted")
    if isinstance(stopped, KeyboardInterrupt):
        status = "interrupted"
    elif stopped is not None or failure is not None:
        status = "aborted"
    elif rc not in (0, 1, -signal.SIGTERM):
        status = "aborted"  # Locust itself failed (0: fine, 1: some requests failed)
    elif status in ("preparing", "running"):
        status = "aborted"  # the master never wrote its end: it was killed
    if status != run.get("status") or stopped is not None or failure is not None:
        changes: dict[str, Any] = {"status": status,
                                   "stop_reason": _stop_reason(stopped, failure, rc, run)}
        if run.get("status") in ("preparing", "running"):
            changes["ended_wall"] = time.time()
        if failure is not None:
            changes["target_error"] = failure.record
        update_run_info(p.run_dir, **changes)
    if stopped is not None:
        raise stopped
    if failure is not None:
        raise failure
    record = read_run_info(p.run_dir).get("target_error")
    if record is not None:  # the master found the target broken (a snapshot, the audit)
        raise TargetProtocolError(Problem(**record).text(), record=dict(record))
    if status == "aborted":
        log_path = p.run_dir / "locust.log"
        raise RunAborted(f"Locust exited with code {rc}: {locust_error(log_path)} "
                         f"(see {log_path})")
    if status == "interrupted":  # stopped from the web UI before the night's end
        raise RunAborted(f"interrupted; the partial run is kept in {p.run_dir} "
                         f"(finish its report with 'rehearse report {p.run_dir}')")
    return status


def _stop_reason(stopped: BaseException | None, failure: TargetError | None,
                 rc: int | None, run: RunInfo) -> str:
    """``run.json``'s ``stop_reason``: the signal, the full disk, the target's failure,
    the master's own word, or Locust's exit."""
    if isinstance(stopped, KeyboardInterrupt):
        return INTERRUPTS.signal_name
    if isinstance(stopped, OSError):
        return f"disk full: {stopped.filename}"
    if failure is not None:
        return str(failure).splitlines()[0] if str(failure) else "the target failed"
    if run.get("status") in ("preparing", "running") and rc in (0, 1, -signal.SIGTERM):
        return "the Locust master ended without finishing the run"
    return str(run.get("stop_reason") or f"Locust exited with code {rc}")


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


def _status_line(p: Prepared, clock: SimClock, now: float, c: dict[str, Any]) -> str:
    if now < clock.t0_wall:
        return (f"starting: Locust is spawning {len(p.night.plans)} chairs; the night begins "
                f"at {format_clock(clock.sim_start_min)} in {clock.t0_wall - now:.0f} s "
                f"(speed {clock.speed:g})")
    n = len(p.night.plans)
    acked = int(c.get("units_acked", 0))
    lost = c.get("lost_workers") or []
    return (f"{format_clock(clock.sim(now)):>8}  reported {100 * acked / n:5.1f}% ({acked}/{n})"
            f"  chairs done {int(c.get('chairs_done', 0))}"
            f"  in flight {int(c.get('in_flight', 0))}  requests {int(c.get('requests', 0))}"
            f"  errors {int(c.get('errors', 0))}  reads {int(c.get('reads', 0))}"
            + (f"  LOST worker {', '.join(str(w) for w in lost)}" if lost else ""))


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


def _stop_all(procs: list[tuple[subprocess.Popen[bytes], float]]) -> KeyboardInterrupt | None:
    """Stop Locust's processes gracefully, in order (the master first: on SIGTERM it
    collects the workers' last records and writes the run's end and its CSV), each by
    force after its wait or at once when a second stop signal comes. A first stop signal
    meanwhile does not cut this short: it is returned."""
    caught: KeyboardInterrupt | None = None
    for proc, wait_s in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        while proc.poll() is None:
            try:
                if INTERRUPTS.hurry or time.monotonic() > deadline:
                    proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(0.1)
            except KeyboardInterrupt as exc:
                caught = caught or exc
    return caught
