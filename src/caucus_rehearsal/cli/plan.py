"""``rehearse plan SCENARIO --goal GATE --vary KEY=LO..HI[:STEP] ...``: the cheapest
combination of the varied keys whose simulated nights meet every goal with the stated
confidence, and what limits it.

Each ``--goal`` is a gate (``"published_fraction >= 0.95 by 22:30"``, optionally ``with
P%``; otherwise ``--confidence``) that at least that share of nights must pass. Each
``--vary`` is a numeric scenario key and its range; ``--cost KEY=WEIGHT`` weighs a key
(default 1: the cost is the sum of value times weight). Candidates are sampled
sequentially on the same replications (:mod:`~caucus_rehearsal.simulator.sequential`)
and searched on the hypothesis that more of a key never hurts, checked as it goes
(:mod:`~caucus_rehearsal.simulator.planner`).

Writes ``plan.json`` (the answer, its probability and interval, every candidate),
``recommended.toml`` (the scenario with the answer applied and the goals as gates,
loadable by ``rehearse run``/``simulate``) and ``plan.png`` to ``--out``. Exit codes: 0
an answer in the ranges, 1 none (the goals failing at the top of every range are named),
2 bad input (one line), 3 interrupted (``plan.json`` keeps what was evaluated).
"""

from __future__ import annotations

import argparse
import math
import re
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from caucus_rehearsal.cli.common import add_scenario_args, positive_int
from caucus_rehearsal.cli.plan_report import label, write_outputs
from caucus_rehearsal.errors import EXIT_GATE_FAILED, EXIT_OK, ScenarioError, UsageError
from caucus_rehearsal.simulator.experiments import Experiment
from caucus_rehearsal.simulator.gates import parse_gate
from caucus_rehearsal.simulator.passrate import SIMULATED_GATE_METRICS
from caucus_rehearsal.simulator.planner import Axis, Planner, PlanResult, Point
from caucus_rehearsal.simulator.sequential import Evaluation, Goal, Sampler

MAX_CANDIDATES = 100_000
"""Largest grid of candidates accepted."""

_VARY = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*=\s*([-+0-9.eE]+)\s*\.\.\s*([-+0-9.eE]+)"
                   r"\s*(?::\s*([-+0-9.eE]+))?\s*$")
_INT = re.compile(r"^[-+]?\d+$")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "plan", help="the cheapest staffing that meets the goals with a confidence, "
                     "and what limits it")
    add_scenario_args(p)
    p.add_argument("--goal", action="append", default=[], metavar="GATE", required=True,
                   help="a gate the nights must pass, e.g. 'published_fraction >= 0.95 by "
                        "22:30' (repeatable; 'with P%%' sets its own confidence)")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LO..HI[:STEP]",
                   required=True,
                   help="a numeric scenario key and its range, e.g. hotline.operators=5..120 "
                        "(repeatable; STEP defaults to 1 for whole numbers, else a tenth)")
    p.add_argument("--cost", action="append", default=[], metavar="KEY=WEIGHT",
                   help="cost per unit of a varied key (default 1)")
    p.add_argument("--confidence", default="0.95", metavar="P",
                   help="share of nights that must pass each goal (default 0.95; '95%%' too)")
    p.add_argument("--runs-max", type=positive_int, default=400, metavar="N",
                   help="most nights run for one candidate (default 400)")
    p.add_argument("--jobs", type=positive_int, default=1, metavar="J",
                   help="worker processes (default 1); results do not depend on it")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default runs/plan-<stamp>-<scenario>)")
    p.set_defaults(func=run)


def parse_confidence(text: str, what: str = "--confidence") -> float:
    """``0.95`` or ``95%`` -> 0.95; strictly between 0 and 1."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise UsageError(f"{what} {text!r}: expected a probability like 0.95 or 95%") from None
    if not 0 < value < 1:
        raise UsageError(f"{what} {text!r}: expected a probability above 0 and below 1")
    return value


def parse_goals(texts: list[str], default: float) -> tuple[Goal, ...]:
    """The goals, each with its required probability (its own ``with P%`` or ``default``)."""
    goals = []
    for text in texts:
        try:
            gate = parse_gate(text)
        except ValueError as exc:
            raise UsageError(f"--goal: {exc}") from None
        if gate.metric not in SIMULATED_GATE_METRICS:
            raise UsageError(f"--goal {text!r}: the night model does not measure "
                             f"{gate.metric} (it can: {', '.join(SIMULATED_GATE_METRICS)})")
        goals.append(Goal(gate, default if gate.confidence is None else gate.confidence))
    return tuple(goals)


def parse_vary(text: str) -> tuple[str, tuple[Any, ...]]:
    """``"hotline.operators=5..120:5"`` -> the key and its values, ascending."""
    m = _VARY.match(text)
    if not m:
        raise UsageError(f"--vary {text!r}: expected KEY=LO..HI[:STEP], "
                         "like hotline.operators=5..120")
    key, lo_t, hi_t, step_t = m.groups()
    whole = all(_INT.match(t) for t in (lo_t, hi_t, step_t or "1"))
    try:
        lo, hi = (int(lo_t), int(hi_t)) if whole else (float(lo_t), float(hi_t))
        step = (int(step_t or 1) if whole else
                float(step_t) if step_t else (float(hi) - float(lo)) / 10)
    except ValueError:
        raise UsageError(f"--vary {text!r}: LO, HI and STEP must be numbers") from None
    if not hi > lo or not step > 0:
        raise UsageError(f"--vary {text!r}: expected LO < HI and STEP > 0")
    count = math.floor((hi - lo) / step + 1e-9) + 1
    if count > MAX_CANDIDATES:
        raise UsageError(f"--vary {text!r}: {count} values; at most {MAX_CANDIDATES}")
    values = tuple(lo + i * step if whole else round(lo + i * step, 12) for i in range(count))
    return key, values


def parse_costs(texts: list[str], keys: list[str]) -> dict[str, float]:
    """``KEY=WEIGHT`` for varied keys only; weights > 0."""
    out: dict[str, float] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        key = key.strip()
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not sep or key not in keys or not weight > 0 or not math.isfinite(weight):
            raise UsageError(f"--cost {text!r}: expected KEY=WEIGHT with a varied key "
                             f"({', '.join(keys)}) and a weight > 0")
        out[key] = weight
    return out


def build_axes(args: argparse.Namespace, exp: Experiment) -> tuple[Axis, ...]:
    """The varied keys, validated at both ends of their ranges."""
    varied = [parse_vary(v) for v in args.vary]
    keys = [k for k, _ in varied]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise UsageError(f"--vary {sorted(dupes)[0]} given twice; one range per key")
    costs = parse_costs(args.cost, keys)
    total = math.prod(len(v) for _, v in varied)
    if total > MAX_CANDIDATES:
        raise UsageError(f"--vary: {total} combinations; at most {MAX_CANDIDATES}")
    for key, values in varied:
        for v in (values[0], values[-1]):
            exp.scenario({key: v})  # ScenarioError names --vary, the key and the value
        if not isinstance(exp.base_value(key), int | float) or isinstance(
                exp.base_value(key), bool):
            raise ScenarioError("--vary", key, exp.base_value(key), "a numeric key")
    return tuple(Axis(k, v, costs.get(k, 1.0)) for k, v in varied)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the plan like Ctrl-C (what was evaluated is kept)."""
    def raise_interrupt(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class Progress:
    """Progress on stderr: one line per candidate, rewritten per batch on a terminal."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.nights = 0

    def look(self, ev: Evaluation) -> None:
        if not self.tty:
            return
        shares = " ".join(str(s) for s in ev.shares())
        print(f"\rplan: {label(ev.values)}: {ev.nights} nights, passing {shares}"
              f" ({time.monotonic() - self.t0:.0f}s)\033[K", end="", file=sys.stderr,
              flush=True)

    def done(self, ev: Evaluation, meets: bool) -> None:
        self.nights += ev.nights
        shares = " ".join(str(s) for s in ev.shares())
        line = (f"plan: {label(ev.values)}: {ev.nights} nights, passing {shares}: "
                f"{'meets' if meets else 'fails'} ({ev.stopped}; {self.nights} nights in all, "
                f"{time.monotonic() - self.t0:.0f}s)")
        print(f"\r{line}\033[K" if self.tty else line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    goals = parse_goals(args.goal, parse_confidence(args.confidence))
    with Experiment(args.scenario, args.overrides, args.jobs, label="--vary") as exp:
        axes = build_axes(args, exp)
        out = args.out or Path("runs") / f"plan-{time.strftime('%Y%m%d-%H%M%S')}-{exp.base.name}"
        sampler = Sampler(goals, args.runs_max, keep=lambda o: o.stages)
        gates = [g.gate for g in goals]
        progress = Progress()

        def evaluate(_p: Point, values: dict[str, Any], cost: float) -> Evaluation:
            ev = sampler.evaluate(values, cost, lambda reps: exp.nights(values, reps, gates),
                                  progress.look)
            progress.done(ev, ev.meets(goals))
            return ev

        planner = Planner(axes, goals, evaluate)
        result: PlanResult | None = None
        try:
            with sigterm_as_interrupt():
                result = planner.search()
        except KeyboardInterrupt as exc:
            partial = getattr(exc, "evaluation", None)
            write_outputs(out, exp, planner, sampler, None, partial)
            print(f"\nplan interrupted: {len(planner.evaluated)} candidates evaluated, kept in "
                  f"{out}/plan.json", file=sys.stderr)
            raise
        files = write_outputs(out, exp, planner, sampler, result, None)
    print(files.text)
    print("\nwritten: " + ", ".join(str(f) for f in files.paths))
    return EXIT_OK if result.answer is not None else EXIT_GATE_FAILED
