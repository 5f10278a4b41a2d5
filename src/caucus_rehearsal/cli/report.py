"""``rehearse report RUN_DIR [--at TIME] [--csv PATH]``: rebuild the report of a run
(complete or partial), and export the published results as a canonical results file.

Without ``--at``: the report, and the last published state in
``RUN_DIR/published-end.csv``. With ``--at 23:00`` (or ``16:00+1d``, minutes after
19:00, or ``end``): only the export of the state published at that moment, in
``RUN_DIR/published-2300.csv`` or ``--csv PATH``; ``rehearse audit`` reads it.

Exit codes (docs/exit-codes.md): 0 every gate passed (with ``--at``: the file was
written), 1 a gate failed, 4 inconclusive, 2 the directory is missing or not a readable
run directory, a bad ``--at``, or a file that cannot be written (one line on stderr),
3 interrupted (run it again).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from caucus_rehearsal.errors import EXIT_OK, InputFileError, RunAborted, UsageError
from caucus_rehearsal.interrupts import INTERRUPTS
from caucus_rehearsal.replay.export import Export, export_at
from caucus_rehearsal.replay.timeline import parse_moment
from caucus_rehearsal.rundir.reader import read_run_head
from caucus_rehearsal.simulator.units import format_clock


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "report", help="rebuild the report of a run from its run directory; export what "
                       "was published at a moment (--at)")
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                   help="a run directory written by 'rehearse run' (runs/<stamp>-<scenario>)")
    p.add_argument("--at", metavar="TIME", default=None,
                   help="only export the results published at TIME (23:00, 16:00+1d, "
                        "minutes after 19:00, or end) as a canonical results CSV")
    p.add_argument("--csv", metavar="PATH", type=Path, default=None,
                   help="where the export goes (default RUN_DIR/published-<time>.csv)")
    p.set_defaults(func=run)


def _said(done: Export, when: str) -> str:
    if not done.rows:
        return (f"nothing was published at {when} (state {done.position} of {done.total}): "
                f"{done.path} holds only the header")
    return (f"published at {when}: {done.rows} of {done.precincts_total} precincts (state "
            f"{done.position} of {done.total}, current since {format_clock(done.since_min)}) "
            f"-> {done.path}\n  audit it: rehearse audit {done.path}")


def run(args: argparse.Namespace) -> int:
    if args.at is not None:
        try:
            minute = parse_moment(args.at)
        except ValueError as exc:
            raise UsageError(f"--at: {exc}") from None
        done = export_at(read_run_head(args.run_dir), minute, args.csv)
        print(_said(done, "the end" if minute is None else format_clock(minute)))
        return EXIT_OK

    from caucus_rehearsal.reports import build_report  # matplotlib loads only when needed

    try:
        outcome = build_report(args.run_dir)
    except KeyboardInterrupt:
        raise RunAborted(f"interrupted by {INTERRUPTS.signal_name} before the report of "
                         f"{args.run_dir} was complete: run 'rehearse report {args.run_dir}' "
                         "again") from None
    html = args.run_dir / "report.html"
    state = " (partial run)" if outcome.partial else ""
    print(f"verdict: {outcome.verdict.upper()}{state}")
    for text in outcome.findings[:3]:
        print(f"  - {text}")
    print(f"report: {html}")
    try:
        print(_said(export_at(read_run_head(args.run_dir), None, args.csv), "the end"))
    except InputFileError as exc:
        print(f"published results not exported: {exc}")
    return outcome.exit_code
