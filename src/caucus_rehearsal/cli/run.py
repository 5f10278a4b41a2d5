"""``rehearse run SCENARIO``: the live mock election against a real target.

Without ``--target`` the bundled reference server is started on a free loopback port
(its database in the run directory). Exit codes: 0 every gate passed, 1 a gate failed,
2 bad input, 3 the target is unreachable or broke the contract (the report says how) or
the run was interrupted (what was recorded is kept; ``rehearse report RUN_DIR`` finishes
it), 4 inconclusive.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from caucus_rehearsal.cli.common import add_scenario_args, scenario_from_args
from caucus_rehearsal.errors import TargetError, TargetUnreachable, UsageError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="the live mock election: Locust replays the night against a target")
    add_scenario_args(p)
    p.add_argument("--target", metavar="URL",
                   help="the system under test (default: start the reference server)")
    p.add_argument("--speed", type=_speed, metavar="X",
                   help="simulated seconds per wall second, or 'auto': probe the target's "
                        "latency and this machine's headroom and pick the fastest faithful "
                        "speed (default: the scenario's live.speed; docs/time.md)")
    p.add_argument("--ui", action="store_true", help="open Locust's web UI (127.0.0.1:8089)")
    p.add_argument("--adapter", metavar="MODULE:CLASS",
                   help="a target adapter class (default: contract v1)")
    p.add_argument("--server-fault", action="append", default=[], metavar="SPEC",
                   help="a reference-server fault for the whole run (repeatable), "
                        "e.g. incomplete-output")
    p.add_argument("--admin-token", default="",
                   help="the target's admin token (provisioning, faults, audit trail)")
    p.add_argument("--out", type=Path, default=Path("runs"), metavar="DIR",
                   help="where the run directory is created (default: runs/)")
    p.add_argument("--band-runs", type=int, default=20, metavar="N",
                   help="Monte Carlo nights for the expected band (0: none; default 20)")
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="processes for the band's Monte Carlo (default 1)")
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
    from caucus_rehearsal.rehearsal.adapters import DEFAULT_ADAPTER, load_adapter
    from caucus_rehearsal.rehearsal.orchestrator import (
        Target,
        auto_speed,
        play,
        prepare,
        record_target_error,
    )
    from caucus_rehearsal.rehearsal.rundir import new_run_dir
    from caucus_rehearsal.server.faults import parse_fault
    from caucus_rehearsal.simulator.loader import resolve

    scenario = scenario_from_args(args)
    auto = args.speed == "auto"
    if auto:
        args.speed = None
    if args.speed is not None and not args.speed > 0:
        raise UsageError(f"--speed {args.speed}: expected a number > 0")
    if args.band_runs < 0 or args.jobs < 1:
        raise UsageError(f"--band-runs {args.band_runs} / --jobs {args.jobs}: "
                         "expected band-runs >= 0 and jobs >= 1")
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

    def band(sc: Any) -> dict[str, Any]:
        from caucus_rehearsal.simulator.montecarlo import reporting_band

        return reporting_band(sc, args.band_runs, args.jobs)

    run_dir = new_run_dir(args.out, scenario.name)
    print(f"run directory: {run_dir}")
    prepared = prepare(run_dir, scenario, scenario_arg, path, args.overrides, args.speed,
                       adapter, band if args.band_runs else None)
    handle = None
    if args.target:
        target = Target(args.target, args.admin_token, reference=False)
    else:
        from caucus_rehearsal.rehearsal.addresses import TRUST_LOOPBACK
        from caucus_rehearsal.server.process import ServerStartError, start_server

        try:
            handle = start_server(run_dir / "reporting.db", faults=args.server_fault,
                                  seed=scenario.seed, log_path=run_dir / "server.log",
                                  options=TRUST_LOOPBACK)
        except ServerStartError as exc:
            raise TargetUnreachable(str(exc).splitlines()[0]) from exc
        target = Target(handle.url, handle.admin_token, reference=True,
                        base_faults=tuple(args.server_fault))
        print(f"reference server: {handle.url}")
    failure: TargetError | None = None
    try:
        if auto:
            choice = auto_speed(prepared, target)
            print(choice.text())
            prepared.speed = choice.speed
            prepared.run["speed"] = choice.speed
            prepared.run["speed_auto"] = choice.text()
        play(prepared, target, ui=args.ui)
    except TargetError as exc:
        # The target broke (or could not be reached): its report says how (exit 3).
        failure = exc
        record_target_error(run_dir, exc)
    finally:
        if handle is not None:
            handle.stop()
    from caucus_rehearsal.reports import build_report  # matplotlib loads only when needed

    outcome = build_report(run_dir)
    print(f"verdict: {outcome.verdict.upper()}")
    for text in outcome.findings[:3]:
        print(f"  - {text}")
    print(f"report: {run_dir / 'report.html'}")
    if failure is not None:
        print(f"rehearse: error: {failure}", file=sys.stderr)
    return outcome.exit_code
