"""``rehearse audit RESULTS.csv``: check a per-precinct results file against the rules.

Prints each flagged unit as ``county / precinct: reason`` and ends with the exact-match
rate; exit 0 when nothing is flagged, 1 when anything is, 2 for a missing or malformed file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from caucus_rehearsal.audit import audit_file, reason
from caucus_rehearsal.errors import EXIT_GATE_FAILED, EXIT_OK


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "audit", help="check a per-precinct results file against the caucus rules"
    )
    p.add_argument("results", metavar="RESULTS.csv", type=Path,
                   help="results in the canonical format (docs/data-format.md)")
    p.add_argument("--notes", action="store_true",
                   help="also list procedural notes (viable groups that shrank)")
    p.add_argument("--sde", action="store_true",
                   help="also print statewide SDE recomputed from the final alignments")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = audit_file(args.results)
    cands = report.candidates
    flagged = 0
    for unit in report.units:
        if unit.flagged:
            flagged += 1
            print(f"{unit.row.county} / {unit.row.precinct}: {reason(unit, cands)}")
        elif args.notes and unit.problems:
            print(f"{unit.row.county} / {unit.row.precinct}: note: {reason(unit, cands, True)}")
    if args.sde:
        for c in sorted(cands, key=lambda c: -report.recomputed_sde[c]):
            was = report.reported_sde[c] if report.reported_sde else None
            shown = f" (reported {was:.3f})" if was is not None else ""
            print(f"SDE {c}: {report.recomputed_sde[c]:.3f}{shown}")
    inn, inn_n = report.exact_rate(satellite=False)
    sat, sat_n = report.exact_rate(satellite=True)
    total, n = report.exact_rate()
    print(f"{flagged} of {n} units flagged; exact match: in-state {inn}/{inn_n} "
          f"({_pct(inn, inn_n)}), satellites {sat}/{sat_n} ({_pct(sat, sat_n)}), "
          f"all {total}/{n} ({_pct(total, n)})")
    return EXIT_GATE_FAILED if flagged else EXIT_OK


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%" if n else "n/a"
