"""The night model's cost, measured in one run (issue 3's performance acceptance).

1. One full iowa-2020 night (draws, SimPy model, central side, metrics) against a bare
   SimPy model with the same number of processes and scheduled events (each process
   only waits on timeouts): the ratio must be at most 2.
2. ``rehearse simulate iowa-2020 --runs 1000 --jobs 2`` end to end (roster, 1,000
   nights on 2 processes, summary, CSV, charts): at most 60 s of wall time. This one
   needs both cores free: other load on the machine slows it in proportion.

The ratio uses CPU time of this process, timed alternately, so that other load on a
shared machine affects both sides alike.

Also printed: the cost of drawing one night's randomness with one keyed stream per unit
(``stream(seed, "night", r, unit)``) against the two block streams the model uses.

    python3 benchmarks/bench_night.py [--nights N] [--runs R]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
import simpy

from caucus_rehearsal.cli import main as rehearse
from caucus_rehearsal.simulator.draws import draw_behaviour, row_width
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.night import run_night
from caucus_rehearsal.simulator.records import NightResult
from caucus_rehearsal.simulator.roster import Unit, build_roster
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.series import call_tallies, night_metrics, sorted_times
from caucus_rehearsal.simulator.streams import stream


def bare_night(processes: int, events: int, seed: int) -> int:
    """``processes`` SimPy processes sharing ``events`` scheduled events; returns the count."""
    env = simpy.Environment()
    # Each process schedules its start, its timeouts and its own end.
    per = np.full(processes, (events - 2 * processes) // processes)
    per[: (events - 2 * processes) % processes] += 1
    delays = np.random.default_rng(seed).exponential(5.0, int(per.sum())).tolist()
    pos = 0

    def proc(n: int, start: int) -> simpy.events.ProcessGenerator:
        for d in delays[start:start + n]:
            yield env.timeout(d)

    for n in per.tolist():
        env.process(proc(n, pos))
        pos += n
    env.run()
    return int(next(env._eid))


def cpu(f: Callable[[], object]) -> float:
    """CPU seconds of one call of ``f`` (this process only: fair on a shared machine)."""
    t0 = time.process_time()
    f()
    return time.process_time() - t0


def paired(f: Callable[[], object], g: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median CPU seconds of ``f`` and of ``g``, timed alternately after one warm-up each."""
    f()
    g()
    fs, gs = [], []
    for _ in range(repeat):
        fs.append(cpu(f))
        gs.append(cpu(g))
    return statistics.median(fs), statistics.median(gs)


def full_night(scn: Scenario, units: tuple[Unit, ...], r: int) -> NightResult:
    """What ``run_one`` does for one replication (model, central side, metrics), keeping
    the records so that the bare model can match this night's processes and events."""
    res = run_night(scn, units, r)
    tallies = call_tallies(res)
    night_metrics(res, tallies)
    sorted_times([u.received for u in res.units])
    sorted_times([u.published for u in res.units])
    return res


def ratio(scn: Scenario, units: tuple[Unit, ...], nights: int) -> tuple[float, float, float]:
    """CPU seconds of ``nights`` full nights and of their bare twins (alternating), and
    the median of the per-night ratios (robust to bursts of other load)."""
    full_night(scn, units, 10**6)
    full = bare = 0.0
    ratios = []
    for r in range(nights):
        t0 = time.process_time()
        res = full_night(scn, units, r)
        t1 = time.process_time()
        bare_night(res.processes, res.events, r)
        t2 = time.process_time()
        full, bare = full + t1 - t0, bare + t2 - t1
        ratios.append((t1 - t0) / (t2 - t1))
    return full, bare, statistics.median(ratios)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nights", type=int, default=30, help="nights timed for the ratio")
    ap.add_argument("--runs", type=int, default=1000, help="nights of the end-to-end run")
    args = ap.parse_args()
    scn = load_scenario("iowa-2020")
    units = build_roster(scn).units
    res = run_night(scn, units, 0)
    print(f"iowa-2020 night: {len(units)} units, {res.processes} SimPy processes, "
          f"{res.events} scheduled events, {len(res.calls)} calls, "
          f"{len(res.app_attempts)} app requests")
    full, bare, med = ratio(scn, units, args.nights)
    print(f"{args.nights} full nights {full / args.nights * 1000:.1f} ms each vs bare SimPy "
          f"nights with the same processes and events {bare / args.nights * 1000:.1f} ms "
          f"(CPU, alternating): ratio {full / bare:.2f}, median per-night ratio {med:.2f} "
          f"(must be <= 2)")

    keyed, block = paired(lambda: [stream(scn.seed, "night", 0, i).random(row_width(scn))
                                   for i in range(len(units))],
                          lambda: draw_behaviour(scn, units, 0), 5)
    print(f"drawing a night: one keyed stream per unit {keyed * 1000:.1f} ms "
          f"(generators alone) vs the model's two block streams {block * 1000:.1f} ms "
          f"(all draws and transforms)")

    if args.runs < 1:
        return
    with tempfile.TemporaryDirectory() as out:
        t0, c0 = time.perf_counter(), _cpu_with_children()
        code = rehearse(["simulate", "iowa-2020", "--runs", str(args.runs), "--jobs", "2",
                         "--out", out])
        wall, used = time.perf_counter() - t0, _cpu_with_children() - c0
    print(f"rehearse simulate iowa-2020 --runs {args.runs} --jobs 2: {wall:.1f} s end to end "
          f"(exit {code}; must be <= 60 s for 1,000); CPU {used:.1f} s in all, "
          f"{used / 2:.1f} s per core; load average now {os.getloadavg()[0]:.1f} "
          f"(other work on the 2 cores stretches the wall time)")


def _cpu_with_children() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
