"""``rehearse simulate SCENARIO --runs N [--jobs J] [--sweep KEY=V1,V2 ...] [--out DIR]``.

Monte Carlo planning of the night: writes ``summary.json``, ``runs.csv`` (one row per
replication; per combination, with the swept values, for a sweep) and charts
(``fan.png``, ``waits.png``, ``channels.png``, and ``sweep.png`` for a sweep) to ``DIR``,
and prints a table: milestones, the hotline, the gates with the share of nights passing
each, where the units' time goes after their meeting and what limits each timing or
hotline gate (a sweep prints one labelled row per combination; several ``--sweep`` keys
make a grid). Exit codes: 0 done (gates are shown, and fail the command only with
``--fail-on-gates``: exit 1), 2 bad scenario, ``--set``, ``--sweep`` or ``--out`` (one
line on stderr), 3 interrupted (Ctrl-C, SIGTERM, SIGHUP) or a full disk: the line says
which files were kept (each is written whole or not at all).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from caucus_rehearsal.cli.common import add_scenario_args
from caucus_rehearsal.cli.common import positive_int as _positive
from caucus_rehearsal.cli.sweep import (
    Combination,
    grid,
    label,
    sweep_row,
    sweep_scenario,
    sweep_table,
)
from caucus_rehearsal.errors import (
    EXIT_GATE_FAILED,
    EXIT_OK,
    DiskFull,
    RunAborted,
    UsageError,
    is_disk_full,
)
from caucus_rehearsal.interrupts import INTERRUPTS
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.montecarlo import RunOutcome, run_many
from caucus_rehearsal.simulator.roster import build_roster
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.series import MILESTONES
from caucus_rehearsal.simulator.stages import STAGE_LABELS, mark_of
from caucus_rehearsal.simulator.summary import all_waits, build_summary, dumps, run_rows
from caucus_rehearsal.simulator.units import format_clock

SWEEP_METRICS = {"minutes_to_95pct_received": "95% received",
                 "minutes_to_95pct_published": "95% published"}
"""What a sweep's chart plots against the swept values."""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "simulate", help="Monte Carlo planning of the night (SimPy): fan charts and a table")
    add_scenario_args(p)
    p.add_argument("--runs", type=_positive, default=100, metavar="N",
                   help="replications of the night (default 100)")
    p.add_argument("--jobs", type=_positive, default=1, metavar="J",
                   help="worker processes (default 1); results do not depend on it")
    p.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="run once per value of a scenario key, e.g. hotline.operators=40,50,80 "
                        "(repeatable: several keys make a grid of every combination)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (default runs/simulate-<stamp>-<scenario>)")
    p.add_argument("--fail-on-gates", action="store_true",
                   help="exit 1 when a measured gate fails: a gate 'with P%%' when fewer than "
                   "P%% of the nights pass it, another on the median run")
    p.set_defaults(func=run)


def progress_printer(label: str) -> Callable[[int, int], None]:
    """Progress on stderr: a rewritten line on a terminal, else every ~10%."""
    t0 = time.monotonic()
    tty = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        step = max(1, total // 10)
        if tty or done == total or done % step == 0:
            end = "\n" if (done == total or not tty) else ""
            print(f"\r{label}: {done}/{total} runs ({time.monotonic() - t0:.0f}s)",
                  end=end, file=sys.stderr, flush=True)
    return show


def simulate(scn: Scenario, runs: int, jobs: int, label: str) -> list[RunOutcome]:
    """``runs`` replications of ``scn`` with progress on stderr."""
    units = build_roster(scn).units
    return run_many(scn, units, runs, jobs, progress_printer(label))


def run(args: argparse.Namespace) -> int:
    kept: list[Path] = []
    out, made = args.out or Path("runs"), False
    try:
        scn = load_scenario(args.scenario, list(args.overrides))
        out = args.out or out / f"simulate-{time.strftime('%Y%m%d-%H%M%S')}-{scn.name}"
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: is a file, expected a folder "
                             "(it is created if missing)")
        summary, outcomes, scn, combos, per_combo = _nights(args, scn)
        made = not out.exists()
        write_outputs(out, summary, outcomes, scn, combos, per_combo, kept)
    except KeyboardInterrupt:
        raise RunAborted(f"interrupted by {INTERRUPTS.signal_name}; "
                         f"{_kept(out, kept, made)}") from None
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        raise DiskFull(f"the disk is full ({exc.strerror}: {exc.filename}); "
                       f"{_kept(out, kept, made)}") from None
    print(sweep_table(summary) if summary.get("sweep") else table(summary))
    print("\nwritten: " + ", ".join(str(f) for f in kept))
    rows = summary.get("sweep") or [summary]
    failed = any(g["passed"] is False for r in rows for g in r["gates"])
    return EXIT_GATE_FAILED if failed and args.fail_on_gates else EXIT_OK


def _nights(args: argparse.Namespace, scn: Scenario) -> tuple[
        dict[str, Any], list[RunOutcome], Scenario, list[Combination], list[list[RunOutcome]]]:
    """The Monte Carlo nights (of every combination, for a sweep) and their summary."""
    overrides = list(args.overrides)
    sweep_rows: list[dict[str, Any]] | None = None
    combos: list[Combination] = []
    per_combo: list[list[RunOutcome]] = []
    if args.sweep:
        combos = grid(args.sweep)
        swept = [sweep_scenario(args.scenario, overrides, c) for c in combos]
        sweep_rows = []
        for combo, s in zip(combos, swept, strict=True):
            outs = simulate(s, args.runs, args.jobs, f"simulate {s.name} {label(combo)}")
            per_combo.append(outs)
            sweep_rows.append(sweep_row(combo, s, outs))
        outcomes, scn = per_combo[0], swept[0]  # the top-level fields: the first combination
    else:
        outcomes = simulate(scn, args.runs, args.jobs, f"simulate {scn.name}")
    summary = build_summary(scn, outcomes, sweep_rows, combos[0] if combos else None)
    return summary, outcomes, scn, combos, per_combo


def _kept(out: Path, kept: list[Path], made: bool) -> str:
    """What an interrupted ``simulate`` leaves: the files it finished, or nothing (then
    the folder ``out`` goes too if this run ``made`` it)."""
    if kept:
        return f"kept {', '.join(p.name for p in kept)} in {out}"
    if made and out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    return "nothing was written"


def write_outputs(out: Path, summary: dict[str, Any], outcomes: list[RunOutcome],
                  scn: Scenario, combos: Sequence[Combination] = (),
                  per_combo: Sequence[Sequence[RunOutcome]] = (),
                  kept: list[Path] | None = None) -> list[Path]:
    """summary.json, runs.csv (every combination's nights for a sweep) and the charts
    into ``out``; returns the files written. Each file is written whole or not at all
    and appended to ``kept`` once it is (what an interruption leaves)."""
    written = kept if kept is not None else []
    out.mkdir(parents=True, exist_ok=True)
    with _whole(out / "summary.json", written) as tmp:
        tmp.write_text(dumps(summary))
    with _whole(out / "runs.csv", written) as tmp, tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        if combos:
            keys = list(combos[0])
            for i, (combo, outs) in enumerate(zip(combos, per_combo, strict=True)):
                header, rows = run_rows(outs)
                if i == 0:
                    w.writerow([*keys, *header])
                w.writerows([*(combo[k] for k in keys), *row] for row in rows)
        else:
            header, rows = run_rows(outcomes)
            w.writerow(header)
            w.writerows(rows)
    write_charts(out, summary, outcomes, scn, written)
    return written


@contextmanager
def _whole(path: Path, kept: list[Path]) -> Iterator[Path]:
    """Write ``path`` through a temporary file: renamed into place when the block ends,
    removed when it fails (an interrupted or full-disk write leaves no torn file)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
    except OSError as exc:  # named after the file it was for (matplotlib names none)
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    kept.append(path)


def goal_marks(scn: Scenario) -> list[tuple[float, float, str]]:
    """(clock minute, fraction, text) of the gates about when units are received or
    published, to draw on the charts."""
    out = []
    for g in scn.gates:
        mark = mark_of(g)
        if mark is not None:
            out.append((mark.minute, mark.fraction, str(g)))
    return out


def write_charts(out: Path, summary: dict[str, Any], outcomes: list[RunOutcome],
                 scn: Scenario, kept: list[Path] | None = None) -> list[Path]:
    """The fan chart, wait distribution, channel mix (and sweep) as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from caucus_rehearsal.reports import planning_charts as pc

    written = kept if kept is not None else []

    def save(name: str, draw: Callable[[Any], object]) -> None:
        fig = Figure(figsize=(9, 5), layout="constrained")
        draw(fig.add_subplot())
        with _whole(out / name, written) as tmp:
            fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})

    m = summary["metrics"]
    which = f" ({label(summary['swept'])})" if summary.get("swept") else ""
    title = f"{summary['scenario']}{which}: units received and published, {summary['runs']} " \
            "simulated nights"
    goals = goal_marks(scn)
    save("fan.png", lambda ax: pc.fan_chart(ax, summary["band"], title, goals))
    save("waits.png", lambda ax: pc.wait_histogram(ax, all_waits(outcomes), len(outcomes)))
    save("channels.png", lambda ax: pc.channel_mix(
        ax, {ch: m[f"{ch}_share"] for ch in ("app", "hotline", "paper")}))
    if summary.get("sweep"):
        rows = summary["sweep"]
        keys = list(rows[0]["values"])
        ticks = [", ".join(str(v) for v in r["values"].values()) for r in rows]
        lines = [(minute, text) for minute, fraction, text in goals if fraction == 0.95]
        save("sweep.png", lambda ax: pc.sweep_chart(
            ax, ", ".join(keys), ticks,
            {SWEEP_METRICS[k]: [r["metrics"][k] for r in rows] for k in SWEEP_METRICS},
            f"{summary['scenario']}: when 95% of units are received and published, "
            f"by {', '.join(keys)} ({summary['runs']} nights each)", lines))
    return written


def _clock(v: float | None) -> str:
    return "never" if v is None or v == float("inf") else format_clock(v)


def table(summary: dict[str, Any]) -> str:
    """The readable outcome: milestones, hotline, channel mix, gates."""
    m = summary["metrics"]
    lines = [f"{summary['scenario']}: {summary['runs']} simulated nights of "
             f"{summary['units']:,} units (seed {summary['seed']}); clock times p5 / p50 / p95",
             "", f"{'':>6}  {'received':^30}  {'published':^30}"]
    for p in MILESTONES:
        cells = []
        for kind in ("received", "published"):
            q = m[f"minutes_to_{p}pct_{kind}"]
            cells.append(" / ".join(f"{_clock(q[k]):>8}" for k in ("p5", "p50", "p95")))
        lines.append(f"{p:>5}%  {cells[0]:>30}  {cells[1]:>30}")

    def q3(name: str, fmt: str = "{:.0f}") -> str:
        return " / ".join(fmt.format(m[name][k]) for k in ("p5", "p50", "p95"))

    lines += ["",
              f"hotline wait, first dial to answer (min): median {q3('hotline_wait_median_min')}"
              f", max {q3('hotline_wait_max_min')}",
              f"hotline hold per call (min): median {q3('hotline_hold_median_min')}, "
              f"max {q3('hotline_hold_max_min')}",
              f"abandoned calls {q3('abandoned_calls')}; busy signals {q3('busy_signals')}; "
              f"nuisance calls {q3('nuisance_calls')}",
              "channel mix: " + ", ".join(
                  f"{ch} {q3(f'{ch}_share', '{:.0%}')}" for ch in ("app", "hotline", "paper")),
              "first release at " + " / ".join(_clock(m["first_release_min"][k])
                                               for k in ("p5", "p50", "p95")),
              "", "gates (share of nights passing [95% interval]; judged on that share for a "
                  "gate 'with P%', else on the median run):"]
    lines += [gate_line(g) for g in summary["gates"]]
    return "\n".join(lines + stage_lines(summary))


def stage_lines(summary: dict[str, Any]) -> list[str]:
    """Where the units' time goes (stages any unit spends a minute in) and each limit."""
    rows = [(s, q) for s, q in summary.get("stages", {}).items() if q["p95"] >= 1 or q["mean"] >= 1]
    lines = []
    if rows:
        lines += ["", "where the time goes after each meeting (minutes per unit, median night: "
                  "p50 / p95 / mean):"]
        lines += [f"  {STAGE_LABELS[s]:<48} {q['p50']:>7.0f} / {q['p95']:>7.0f} / "
                  f"{q['mean']:>7.0f}" for s, q in rows]
    return lines + [f"{'' if i else chr(10)}{lim['sentence']}"
                    for i, lim in enumerate(summary.get("limits", []))]


def gate_line(g: dict[str, Any]) -> str:
    """One gate of ``summary.json`` as a table line: verdict, share of nights, median run."""
    if g["passed"] is None:
        return f"  {'not measured':<13} {g['gate']}"
    verdict = "PASS" if g["passed"] else "FAIL"
    if g["sure"] is False:
        verdict += ", unsure"
    sh = g["pass_share"]
    text = (f"  {verdict:<13} {g['gate']}: nights passing {sh['probability']:.1%} "
            f"[{sh['low']:.1%}, {sh['high']:.1%}]")
    if g["confidence"] is not None:
        text += f" (needs {g['confidence']:.0%}"
        text += "; the interval straddles it)" if g["sure"] is False else ")"
    return text + f"; median run {g['value']:.4g}"
