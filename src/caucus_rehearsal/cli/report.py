"""``rehearse report RUN_DIR``: rebuild the report of a run (complete or partial).

Exit codes: 0 every gate passed, 1 a gate failed, 2 the directory is missing or not a
readable run directory (one line on stderr).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "report", help="rebuild the report of a run from its run directory")
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                   help="a run directory written by 'rehearse run' (runs/<stamp>-<scenario>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from caucus_rehearsal.reports import build_report  # matplotlib loads only when needed

    outcome = build_report(args.run_dir)
    html = args.run_dir / "report.html"
    state = " (partial run)" if outcome.partial else ""
    print(f"verdict: {outcome.verdict.upper()}{state}")
    for text in outcome.findings[:3]:
        print(f"  - {text}")
    print(f"report: {html}")
    return outcome.exit_code
