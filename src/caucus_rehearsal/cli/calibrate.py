"""``rehearse calibrate SCENARIO --facts FACTS.toml --fit KEY=LO..HI [--fit ...]``.

Fits the named scenario keys to observed facts by a simulation-based search
(:mod:`caucus_rehearsal.simulator.calibration`), prints the fit table (fact, observed,
model p5 / p50 / p95, within tolerance or not) and writes to ``--out``:
``fitted.toml`` (the scenario with the fitted values, loadable by ``rehearse simulate``
and ``run``, with a header saying what was fitted to what), ``fit.json`` (the table and
the search) and ``facts.png`` (each fact against its model band).

Exit codes: 0 every fact within tolerance, 1 not (the facts that miss are named),
2 bad scenario, facts file or ``--fit`` (one line), 3 interrupted (Ctrl-C: the best
candidate so far is written).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import tomli_w

from caucus_rehearsal.cli.common import add_scenario_args
from caucus_rehearsal.cli.common import positive_int as _positive
from caucus_rehearsal.errors import EXIT_GATE_FAILED, EXIT_OK, EXIT_TARGET
from caucus_rehearsal.simulator.calibration import (
    Calibration,
    Trial,
    calibrate,
    check_keys,
    parse_fit,
)
from caucus_rehearsal.simulator.experiments import Experiment
from caucus_rehearsal.simulator.facts import FactFit, Facts, load_facts


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "calibrate", help="fit scenario keys to observed facts (simulation-based search)")
    add_scenario_args(p)
    p.add_argument("--facts", required=True, metavar="FACTS",
                   help="the observed facts: a .toml path (docs/calibration.md) or a bundled "
                        "key (iowa-2020: scenarios/facts/iowa-2020.toml)")
    p.add_argument("--fit", action="append", required=True, metavar="KEY=LO..HI",
                   help="a key to fit and its range, e.g. hotline.operators=30..80 or "
                        "hotline.service_time.median=6min..15min (repeatable)")
    p.add_argument("--runs", type=_positive, default=40, metavar="N",
                   help="simulated nights per candidate, the same for every candidate "
                        "(default 40)")
    p.add_argument("--trials", type=_positive, default=40, metavar="T",
                   help="candidates to try, the scenario's own values first (default 40)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="the search's seed (default: the scenario's)")
    p.add_argument("--jobs", type=_positive, default=1, metavar="J",
                   help="worker processes (default 1); results do not depend on it")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default runs/calibrate-<stamp>-<scenario>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    facts = load_facts(args.facts)
    keys = [parse_fit(text) for text in args.fit]
    t0 = time.monotonic()
    with Experiment(args.scenario, args.overrides, jobs=args.jobs, label="--fit") as exp:
        check_keys(exp, keys)
        seed = exp.base.seed if args.seed is None else args.seed
        out = args.out or Path("runs") / (f"calibrate-{time.strftime('%Y%m%d-%H%M%S')}-"
                                          f"{exp.base.name}")
        print(f"calibrate {exp.base.name} to {facts.name} ({len(facts.facts)} facts): "
              f"{args.trials} candidates x {args.runs} nights, fitting "
              + ", ".join(str(k) for k in keys), file=sys.stderr)
        result = calibrate(exp, facts.facts, keys, args.runs, args.trials, seed,
                           _progress(args.trials, t0))
        best = result.best
        if best is None:
            print("rehearse: interrupted before the first candidate finished; nothing written",
                  file=sys.stderr)
            return EXIT_TARGET
        raw = exp.raw(best.values)
        source = str(exp.path)
    wall = time.monotonic() - t0
    write_outputs(out, facts, result, best, raw, source, seed)
    print(table(result.best_fits))
    print("\nfitted: " + ", ".join(f"{k}={v}" for k, v in best.values.items())
          + f"; misfit {best.misfit:.3g} (start {result.trials[0].misfit:.3g}); "
          f"{result.nights} nights in {wall:.0f} s")
    print(f"written: {out}/fitted.toml, fit.json, facts.png")
    missed = [f.fact.name for f in result.best_fits if not f.within]
    if result.interrupted:
        print("rehearse: interrupted; the best candidate so far is written", file=sys.stderr)
        return EXIT_TARGET
    if missed:
        print("outside tolerance: " + "; ".join(missed))
        return EXIT_GATE_FAILED
    return EXIT_OK


def _progress(total: int, t0: float) -> Any:
    def show(result: Calibration, trial: Trial) -> None:
        best = result.best
        assert best is not None
        values = ", ".join(f"{k}={v}" for k, v in trial.values.items())
        print(f"candidate {trial.number + 1}/{total} ({time.monotonic() - t0:.0f}s): "
              f"misfit {trial.misfit:.3g}, {trial.within} facts within; best "
              f"{best.misfit:.3g} (#{best.number + 1})  [{values}]", file=sys.stderr, flush=True)
    return show


def table(fits: list[FactFit]) -> str:
    """The fit table: fact, observed (with tolerance), model p5 / p50 / p95, verdict."""
    rows = [(f.fact.name, f.fact.observed_text(),
             " / ".join(f.fact.show(v) for v in (f.p5, f.p50, f.p95)),
             "within" if f.within else "MISSED") for f in fits]
    head = ("fact", "observed", "model p5 / p50 / p95", "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [head, *rows]]
    return "\n".join(lines)


def header(facts: Facts, result: Calibration, best: Trial, source: str, seed: int) -> str:
    """The comment block on top of ``fitted.toml``: what was fitted to what, and how well."""
    within = sum(f.within for f in result.best_fits)
    lines = [
        f"Fitted by `rehearse calibrate` from {source} to the facts of {facts.source}",
        f"({facts.name}: {len(facts.facts)} facts), each candidate over the same "
        f"{result.runs} simulated nights (replications 0-{result.runs - 1}),",
        f"{len(result.trials)} candidates of Optuna's TPE sampler (seed {seed})"
        + ("; interrupted" if result.interrupted else "") + ":",
    ]
    for k in result.keys:
        lines.append(f"  {k.key} = {best.values[k.key]}  (searched {k.value(k.low)}.."
                     f"{k.value(k.high)}; was {result.start[k.key]})")
    lines.append(f"misfit {best.misfit:.3g} (was {result.trials[0].misfit:.3g}); "
                 f"{within} of {len(result.best_fits)} facts within tolerance")
    missed = [f.fact.name for f in result.best_fits if not f.within]
    if missed:
        lines.append("outside tolerance: " + "; ".join(missed))
    return "".join(f"# {line}\n" for line in lines) + "\n"


def write_outputs(out: Path, facts: Facts, result: Calibration, best: Trial,
                  raw: dict[str, Any], source: str, seed: int) -> None:
    """fitted.toml, fit.json and facts.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "fitted.toml").write_text(header(facts, result, best, source, seed)
                                     + tomli_w.dumps(raw))
    rows = [f.to_json() for f in result.best_fits]
    doc = {
        "scenario": source, "facts": facts.source, "seed": seed,
        "fitted": best.values, "start": result.start,
        "keys": [{"key": k.key, "low": k.value(k.low), "high": k.value(k.high)}
                 for k in result.keys],
        "runs_per_candidate": result.runs, "candidates": len(result.trials),
        "nights": result.nights, "interrupted": result.interrupted,
        "misfit": {"start": result.trials[0].misfit, "best": best.misfit},
        "table": rows,
        "trials": [{"values": t.values, "misfit": t.misfit, "within": t.within}
                   for t in result.trials],
    }
    (out / "fit.json").write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from caucus_rehearsal.reports.fact_charts import fact_grid

    fig = Figure(figsize=(11, 1.6 * ((len(rows) + 2) // 3) + 0.6), layout="constrained")
    fact_grid(fig, rows, f"{facts.name}: observed (grey, tolerance lighter) against the "
                         f"model's p5-p95 and median over {result.runs} nights")
    fig.savefig(out / "facts.png", dpi=100, metadata={"Software": None})
