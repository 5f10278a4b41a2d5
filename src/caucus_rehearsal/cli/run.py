"""``rehearse run SCENARIO``: the live mock election against a real target.

Without ``--target`` the bundled reference server is started on a free loopback port
(its database in the run directory). Exit codes: 0 every gate passed, 1 a gate failed,
2 bad input, 3 the target is unreachable or broke the contract (the report says how), or
the run was interrupted (Ctrl-C, SIGTERM, SIGHUP) or stopped by a full disk: every child
process is stopped, what was recorded is kept, ``run.json`` says why, and ``rehearse
report RUN_DIR`` finishes it; 4 inconclusive.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

from caucus_rehearsal.cli.common import add_scenario_args, scenario_from_args
from caucus_rehearsal.errors import (
    DiskFull,
    RehearsalError,
    RunAborted,
    TargetError,
    TargetUnreachable,
    UsageError,
    is_disk_full,
)
from caucus_rehearsal.interrupts import INTERRUPTS
from caucus_rehearsal.simulator.scenario import Scenario, check_speed

WEB_PORT = 8089
"""Locust's own default web UI port, used by ``--ui`` unless ``--web-port`` says otherwise."""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="the live mock election: Locust replays the night against a target")
    add_scenario_args(p)
    p.add_argument("--target", metavar="URL",
                   help="the system under test (default: start the reference server)")
    p.add_argument("--speed", type=_speed, metavar="X",
                   help="simulated seconds per wall second, 1 (real time) to 3600, or "
                        "'auto': probe the target's latency and this machine's headroom and "
                        "pick the fastest faithful speed (default: the scenario's "
                        "live.speed; docs/time.md)")
    p.add_argument("--ui", action="store_true",
                   help="open Locust's web UI on 127.0.0.1 (port: --web-port)")
    p.add_argument("--web-port", type=int, default=None, metavar="PORT",
                   help=f"the web UI's port with --ui (default {WEB_PORT})")
    p.add_argument("--adapter", metavar="MODULE:CLASS",
                   help="a target adapter class (default: contract v1)")
    p.add_argument("--server-fault", action="append", default=[], metavar="SPEC",
                   help="a reference-server fault for the whole run (repeatable), "
                        "e.g. incomplete-output")
    p.add_argument("--skip-zero-check", action="store_true",
                   help="do not read the target's published results before the night (for "
                        "a target that cannot show a zero state; the report says so)")
    p.add_argument("--admin-token", default="",
                   help="the target's admin token (provisioning, faults, audit trail)")
    p.add_argument("--out", type=Path, default=Path("runs"), metavar="DIR",
                   help="where the run directory is created (default: runs/)")
    p.add_argument("--band-runs", type=int, default=20, metavar="N",
                   help="Monte Carlo nights for the expected band (0: none; default 20)")
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="processes for the band's Monte Carlo (default 1)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="local load-generator processes (one per core is the point; "
                        "default 1): the Locust master records, the workers play")
    p.add_argument("--remote-workers", type=int, default=0, metavar="M",
                   help="more workers the master waits for from other machines "
                        "('rehearse worker --master HOST:PORT' there; needs --listen)")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="where the Locust master listens for its workers "
                        "(default: loopback, a free port)")
    p.set_defaults(func=run)


def _speed(text: str) -> float | str:
    """``auto`` or a number of simulated seconds per wall second."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'auto'") from None


def run(args: argparse.Namespace) -> int:
    try:
        checked = _check(args)
    except KeyboardInterrupt:
        raise RunAborted(f"interrupted by {INTERRUPTS.signal_name}; nothing was written"
                         ) from None
    return _run(args, *checked)


def _check(args: argparse.Namespace) -> tuple[Scenario, str, str, Path]:
    """Every input checked before anything is written: the scenario, its ``--set``, the
    options, the adapter and the faults; returns the scenario, the scenario argument
    for Locust, the adapter and the scenario file."""
    from caucus_rehearsal.rehearsal.adapters import DEFAULT_ADAPTER, load_adapter
    from caucus_rehearsal.server.faults import parse_fault
    from caucus_rehearsal.simulator.loader import resolve

    scenario = scenario_from_args(args)
    args.auto_speed = args.speed == "auto"
    if args.auto_speed:
        args.speed = None
    if args.speed is not None:
        check_speed(args.speed)
    if args.ui:
        _check_web_port(_web_port(args))
    elif args.web_port is not None:
        raise UsageError("--web-port applies with --ui only")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file, expected a folder "
                         "(it is created if missing)")
    if args.band_runs < 0 or args.jobs < 1:
        raise UsageError(f"--band-runs {args.band_runs} / --jobs {args.jobs}: "
                         "expected band-runs >= 0 and jobs >= 1")
    args.gen = _generators(args)
    adapter = args.adapter or DEFAULT_ADAPTER
    load_adapter(adapter)
    for spec in args.server_fault:
        try:
            parse_fault(spec)
        except ValueError as exc:
            raise UsageError(f"--server-fault: {exc}") from exc
    if args.server_fault and args.target:
        raise UsageError("--server-fault applies to the reference server only (no --target)")
    for f in scenario.live.faults:
        try:
            parse_fault(f.fault)
        except ValueError as exc:
            raise UsageError(f"{scenario.source}: live.faults: {exc}") from exc
    scenario_arg = args.scenario
    path = resolve(args.scenario)
    if Path(args.scenario).exists():
        scenario_arg = str(Path(args.scenario).resolve())
    return scenario, scenario_arg, adapter, path


def _web_port(args: argparse.Namespace) -> int:
    return WEB_PORT if args.web_port is None else int(args.web_port)


def _check_web_port(port: int) -> None:
    """UsageError unless Locust's web UI can listen on 127.0.0.1:``port``."""
    if not 1 <= port <= 65535:
        raise UsageError(f"--web-port {port}: expected a TCP port from 1 to 65535")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Locust's server does
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError as exc:
            raise UsageError(f"--web-port {port}: cannot listen on 127.0.0.1:{port} "
                             f"({exc.strerror}; another Locust web UI?): choose another "
                             "port with --web-port") from None


def _run(args: argparse.Namespace, scenario: Scenario, scenario_arg: str, adapter: str,
         path: Path) -> int:
    """Prepare the run directory, rehearse the night, build the report."""
    from caucus_rehearsal.rehearsal.orchestrator import prepare
    from caucus_rehearsal.rundir.writer import end_run, new_run_dir

    def band(sc: Any) -> dict[str, Any]:
        from caucus_rehearsal.simulator.montecarlo import reporting_band

        return reporting_band(sc, args.band_runs, args.jobs)

    try:
        run_dir = new_run_dir(args.out, scenario.name)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull(f"the disk is full ({exc.strerror}: {args.out}); nothing was "
                           "written") from None
        raise UsageError(f"--out {args.out}: cannot make the run directory there "
                         f"({exc.strerror})") from None
    print(f"run directory: {run_dir}")
    try:
        prepared = prepare(run_dir, scenario, scenario_arg, path, args.overrides, args.speed,
                           adapter, band if args.band_runs else None)
        prepared.skip_zero_check = args.skip_zero_check
        failure = _rehearse(prepared, args)
        from caucus_rehearsal.reports import build_report  # matplotlib loads only when needed

        outcome = build_report(run_dir)
    except KeyboardInterrupt:
        if not end_run(run_dir, "interrupted", INTERRUPTS.signal_name) and \
                not (run_dir / "run.json").exists():  # stopped the instant it was made
            shutil.rmtree(run_dir, ignore_errors=True)
            raise RunAborted(f"interrupted by {INTERRUPTS.signal_name}; nothing was written"
                             ) from None
        raise RunAborted(f"interrupted by {INTERRUPTS.signal_name}; the partial run is kept in "
                         f"{run_dir} (finish its report with 'rehearse report {run_dir}')"
                         ) from None
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        noted = end_run(run_dir, "aborted", f"disk full: {exc.filename}")
        raise DiskFull(f"the disk is full ({exc.strerror}: {exc.filename}); the run stopped "
                       f"and what was written is kept in {run_dir}"
                       + ("" if noted else " (run.json could not be updated)")) from None
    except RehearsalError as exc:
        end_run(run_dir, "aborted", str(exc))
        raise
    print(f"verdict: {outcome.verdict.upper()}")
    for text in outcome.findings[:3]:
        print(f"  - {text}")
    print(f"report: {run_dir / 'report.html'}")
    if failure is not None:
        print(f"rehearse: error: {failure}", file=sys.stderr)
    return outcome.exit_code


def _rehearse(prepared: Any, args: argparse.Namespace) -> TargetError | None:
    """Start the reference server unless ``--target`` names one, play the night, stop it;
    the target's failure, if it broke the contract or could not be reached (kept in
    ``run.json``: its report says how, exit 3)."""
    from caucus_rehearsal.rehearsal.orchestrator import (
        Target,
        auto_speed,
        play,
        record_target_error,
    )

    handle = None
    try:
        if args.target:
            target = Target(args.target, args.admin_token, reference=False)
        else:
            from caucus_rehearsal.rehearsal.addresses import TRUST_LOOPBACK
            from caucus_rehearsal.server.process import ServerStartError, start_server

            run_dir = prepared.run_dir
            try:
                with INTERRUPTS.shielded():  # a signal now still finds the handle, and stops it
                    handle = start_server(run_dir / "reporting.db", faults=args.server_fault,
                                          seed=prepared.scenario.seed,
                                          log_path=run_dir / "server.log",
                                          options=TRUST_LOOPBACK)
            except ServerStartError as exc:
                raise TargetUnreachable(str(exc).splitlines()[0]) from exc
            target = Target(handle.url, handle.admin_token, reference=True,
                            base_faults=tuple(args.server_fault))
            print(f"reference server: {handle.url}")
        try:
            if args.auto_speed:
                choice = auto_speed(prepared, target)
                print(choice.text())
                prepared.speed = choice.speed
                prepared.run["speed"] = choice.speed
                prepared.run["speed_auto"] = choice.text()
            play(prepared, target, web_port=_web_port(args) if args.ui else None,
                 gen=args.gen)
        except TargetError as exc:
            record_target_error(prepared.run_dir, exc)
            return exc
        return None
    finally:
        if handle is not None:
            handle.stop(1.0 if INTERRUPTS.hurry else 10.0)


def _generators(args: argparse.Namespace) -> Any:
    """The load generators ``--workers``, ``--remote-workers`` and ``--listen`` ask for."""
    from caucus_rehearsal.rehearsal.orchestrator import Generators, parse_bind

    if args.workers < 0 or args.remote_workers < 0 or args.workers + args.remote_workers < 1:
        raise UsageError(f"--workers {args.workers} / --remote-workers {args.remote_workers}: "
                         "expected numbers >= 0, at least one worker in all")
    if args.listen:
        try:
            parse_bind(args.listen)
        except ValueError as exc:
            raise UsageError(f"--listen {exc}") from None
    elif args.remote_workers:
        raise UsageError("--remote-workers needs --listen HOST:PORT (where the workers on "
                         "other machines reach the master)")
    return Generators(args.workers, args.remote_workers, args.listen or "")
