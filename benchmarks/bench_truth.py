"""Time to build the truth and worksheets of the 1,765 iowa-2020 units, roster built.

    python benchmarks/bench_truth.py [--repeat 15]

Prints the median wall time of ``build_truth`` (after one warm-up call that also loads the
certified results) against the budget of 50 ms, and as a ratio to a baseline measured in
the same run: one bare ``rules.allocate`` call per unit on the certified final alignment.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

from caucus_rehearsal import rules
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.roster import build_roster
from caucus_rehearsal.simulator.truth import build_truth

BUDGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    scenario = load_scenario("iowa-2020")
    roster = build_roster(scenario)
    t0 = time.perf_counter()
    truth = build_truth(scenario, roster)
    cold = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        build_truth(scenario, roster)
        times.append((time.perf_counter() - t0) * 1000)
    cases = [(u.tally.final, u.tally.attendance, u.delegates_total) for u in truth.units]
    base = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for final, t, d in cases:
            with contextlib.suppress(ValueError):  # a tie: the truth draws lots
                rules.allocate(final, t, d)
        base.append((time.perf_counter() - t0) * 1000)
    med, b = statistics.median(times), statistics.median(base)
    print(f"build_truth, {len(roster.units)} units: median {med:.1f} ms over {args.repeat} runs "
          f"(min {min(times):.1f}, first call incl. loading {cold:.1f}); "
          f"budget {BUDGET_MS:.0f} ms: {'OK' if med <= BUDGET_MS else 'OVER'}")
    print(f"baseline, bare allocate per unit: median {b:.1f} ms; truth/baseline = {med / b:.2f}x")


if __name__ == "__main__":
    main()
