"""Where statewide SDE recomputed from the final alignments differs from the reported SDE.

    python scripts/sde_gap.py [RESULTS.csv] [--top 25] [--focus Buttigieg,Sanders]

RESULTS.csv defaults to ``scenarios/data/iowa-2020-results.csv``. Prints, for the focus
candidates, the statewide recomputed and reported SDE, the gap by kind of unit
(``caucus_rehearsal.audit.GAP_KINDS``) and the units with the largest gaps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from caucus_rehearsal.audit import audit_file, gap_kind, sde_gap

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("results", nargs="?", type=Path,
                        default=ROOT / "scenarios" / "data" / "iowa-2020-results.csv")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--focus", default="Buttigieg,Sanders")
    args = parser.parse_args()
    report = audit_file(args.results)
    focus = [c.strip() for c in args.focus.split(",") if c.strip()]
    gap = sde_gap(report, focus)
    assert report.reported_sde is not None
    for c in focus:
        rec, rep = report.recomputed_sde[c], report.reported_sde[c]
        print(f"{c}: recomputed {rec:.4f}, reported {rep:.4f}, gap {rec - rep:+.4f}")
    print(f"{'kind':28s} {'units':>5s} " + " ".join(f"{c[:10]:>10s}" for c in focus))
    for kind, (n, sums) in gap.by_kind.items():
        print(f"{kind:28s} {n:5d} " + " ".join(f"{sums[c]:+10.4f}" for c in focus))
    print(f"largest {args.top} units:")
    for unit, diff in gap.by_unit[: args.top]:
        row = unit.row
        print(f"  {row.county} / {row.precinct} (D={row.delegates_total}, T={row.attendance}) "
              f"[{gap_kind(unit)}] " + " ".join(f"{c} {diff[c]:+.4f}" for c in focus))


if __name__ == "__main__":
    main()
