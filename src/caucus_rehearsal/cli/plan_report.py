"""What ``rehearse plan`` prints and writes: the table of candidates, the answer in one
sentence, ``plan.json``, ``recommended.toml`` and the chart ``plan.png``.

``plan.json`` holds no wall time, so the same question gives the same file whatever
``--jobs`` is. Its shape::

    {"scenario", "seed", "status": "answer" | "none" | "interrupted", "sentence",
     "goals": [{"goal", "required"}], "vary": [{"key", "values", "weight"}],
     "runs_max", "interval_level", "look_level", "nights_total",
     "recommendation": CANDIDATE | null, "next_cheaper": [CANDIDATE],
     "top": CANDIDATE, "candidates": [CANDIDATE, ...],   # in the order evaluated
     "limits": [LIMIT],     # per goal, at the answer (or the top): bottleneck.Limit
     "search": {"exhaustive", "violations": [...], "moved": [...],
                "pathwise_reversals", "pathwise_compared"}}

    CANDIDATE = {"values": {key: value}, "cost", "nights", "stopped", "meets", "sure",
                 "goals": [{"goal", "required", "passed", "nights", "probability",
                            "low", "high", "level", "meets", "sure"}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caucus_rehearsal.simulator.bottleneck import Limit, limit
from caucus_rehearsal.simulator.experiments import Experiment
from caucus_rehearsal.simulator.passrate import LEVEL
from caucus_rehearsal.simulator.planner import Planner, PlanResult, Point
from caucus_rehearsal.simulator.sequential import Evaluation, Goal, Sampler


@dataclass
class Files:
    """The text for the terminal and the files written, in order."""

    text: str = ""
    paths: list[Path] = field(default_factory=list)


def label(values: dict[str, Any]) -> str:
    """``hotline.operators=57, hotline.lines=80``."""
    return ", ".join(f"{k}={v}" for k, v in values.items())


def candidate_json(ev: Evaluation, goals: tuple[Goal, ...]) -> dict[str, Any]:
    """One candidate as in ``plan.json``."""
    rows = []
    if ev.nights:
        for g, s, v in zip(goals, ev.shares(), ev.verdicts(goals), strict=True):
            rows.append({"goal": str(g), "required": g.required, **s.to_json(),
                         "meets": v.meets, "sure": v.sure})
    return {"values": ev.values, "cost": ev.cost, "nights": ev.nights, "stopped": ev.stopped,
            "meets": ev.meets(goals), "sure": bool(ev.nights) and ev.sure(goals),
            "goals": rows}


def shares_text(ev: Evaluation, goals: tuple[Goal, ...]) -> str:
    """``'G' on 96.3% [94.1%, 97.8%] of nights (needs 95%)`` for each goal."""
    return "; ".join(f"'{g}' on {s} of nights (needs {g.required:.0%})"
                     for g, s in zip(goals, ev.shares(), strict=True))


def sentence(planner: Planner, result: PlanResult | None) -> str:
    """The answer in one sentence (or why there is none)."""
    goals = planner.goals
    if result is None:
        return (f"Interrupted after {len(planner.evaluated)} candidates; no answer yet "
                "(plan.json keeps what was evaluated).")
    if result.answer is None:
        top = planner.evaluated[result.top]
        failing = [i for i, v in enumerate(top.verdicts(goals)) if not v.meets]
        parts = "; ".join(f"'{goals[i]}' passes on {top.shares()[i]} of nights "
                          f"(needs {goals[i].required:.0%})" for i in failing)
        return (f"No combination in the ranges meets every goal: at the top of every range "
                f"({label(top.values)}) {parts}.")
    ev = planner.evaluated[result.answer]
    text = (f"Answer: {label(ev.values)} (cost {ev.cost:g}) meets every goal: "
            f"{shares_text(ev, goals)}")
    if not ev.sure(goals):
        text += (f" (on the estimate: an interval still reaches below the threshold after "
                 f"{ev.nights} nights, --runs-max)")
    cheaper = [planner.evaluated[q] for q in result.neighbours if q in planner.evaluated]
    if cheaper:
        text += "; one step cheaper, " + "; ".join(
            f"{label(c.values)}: " + ", ".join(str(s) for s in c.shares()) for c in cheaper)
    return text + "."


def limits(exp: Experiment, planner: Planner, result: PlanResult | None) -> list[Limit]:
    """What limits each goal at the answer, or at the top of the ranges without one."""
    if result is None:
        return []
    at = result.answer if result.answer is not None else result.top
    ev = planner.evaluated.get(at)
    if ev is None:
        return []
    nights = [k for k in ev.kept if k is not None]
    scn = exp.scenario(ev.values)
    found = (limit(scn, g.gate, i, nights) for i, g in enumerate(planner.goals))
    return [lim for lim in found if lim is not None]


def limit_lines(planner: Planner, result: PlanResult | None, found: list[Limit]) -> list[str]:
    """One line per goal: at the answer, what limits it; without an answer, what keeps
    the failing goals out of reach and the keys that would move it."""
    if result is None:
        return []
    varied = {a.key for a in planner.axes}
    names = ", ".join(a.key for a in planner.axes)
    if result.answer is not None:
        return [f"At the answer, {lim.sentence()}." for lim in found]
    top = planner.evaluated[result.top]
    failing = {str(g) for g, v in zip(planner.goals, top.verdicts(planner.goals), strict=True)
               if not v.meets}
    out = []
    for lim in found:
        if lim.gate not in failing:
            continue
        text = f"Varying {names} cannot meet '{lim.gate}': {lim.body()}"
        if lim.keys and not varied & set(lim.keys):
            text += f"; the keys that would move it: {', '.join(lim.keys)}"
        out.append(text + ".")
    return out


def table(planner: Planner, result: PlanResult | None) -> str:
    """The candidates by cost: values, nights, share of nights passing each goal, cost."""
    goals = planner.goals
    keys = [a.key for a in planner.axes]
    head = [*keys, "nights", *(f"goal {i + 1}" for i in range(len(goals))), "cost", "verdict"]
    rows = []
    answer = None if result is None else result.answer
    for p, ev in sorted(planner.evaluated.items(), key=lambda kv: (kv[1].cost, kv[0])):
        if not ev.nights:
            continue
        verdict = "meets" if ev.meets(goals) else "fails"
        if not ev.sure(goals):
            verdict += f" (near; {ev.stopped})"
        rows.append([*(str(ev.values[k]) for k in keys), str(ev.nights),
                     *(str(s) for s in ev.shares()), f"{ev.cost:g}",
                     verdict + ("  <- answer" if p == answer else "")])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i < len(head) - 1 else c
                       for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in [head, *rows]]
    level = planner.evaluated and next(iter(planner.evaluated.values())).level
    legend = [f"goal {i + 1}: {g} on at least {g.required:.0%} of nights"
              for i, g in enumerate(goals)]
    return "\n".join([*legend, f"share of nights passing [interval at {level:.2%} per look, "
                      f"{LEVEL:.0%} over all looks of a candidate]", "", *lines])


def plan_json(exp: Experiment, planner: Planner, sampler: Sampler,
              result: PlanResult | None, partial: Evaluation | None) -> dict[str, Any]:
    """``plan.json`` (see the module docstring)."""
    goals = planner.goals
    evaluated = list(planner.evaluated.values())
    if partial is not None and partial.nights:
        evaluated.append(partial)
    status = "interrupted" if result is None else "answer" if result.answer is not None \
        else "none"

    def cand(p: Point | None) -> dict[str, Any] | None:
        return None if p is None or p not in planner.evaluated else candidate_json(
            planner.evaluated[p], goals)

    doc: dict[str, Any] = {
        "scenario": exp.base.name, "seed": exp.base.seed, "status": status,
        "sentence": sentence(planner, result),
        "goals": [{"goal": str(g), "required": g.required} for g in goals],
        "vary": [{"key": a.key, "values": list(a.values), "weight": a.weight}
                 for a in planner.axes],
        "runs_max": sampler.runs_max, "interval_level": sampler.level,
        "look_level": sampler.look_level,
        "nights_total": sum(e.nights for e in evaluated),
        "recommendation": cand(None if result is None else result.answer),
        "next_cheaper": [] if result is None else [
            c for c in (cand(q) for q in result.neighbours) if c is not None],
        "top": cand(planner.top),
        "candidates": [candidate_json(e, goals) for e in evaluated],
    }
    if result is not None:
        reversals, compared = planner.pathwise()
        doc["search"] = {
            "exhaustive": result.exhaustive,
            "violations": [{"less": planner.values(v.less), "more": planner.values(v.more),
                            "goal": None if v.goal is None else str(goals[v.goal]),
                            "what": v.what} for v in result.violations],
            "moved": [planner.values(q) for q in result.moved],
            "pathwise_reversals": reversals, "pathwise_compared": compared}
    return doc


def recommended_toml(exp: Experiment, planner: Planner, answer: Point) -> str:
    """The scenario with the answer applied and the goals added to its gates."""
    import tomli_w

    values = planner.values(answer)
    raw = exp.raw(values)
    gates = list(raw.get("gates", []))
    for g in planner.goals:
        text = str(g.gate) if g.gate.confidence is not None else f"{g.gate} with " \
            f"{g.required * 100:g}%"
        if text not in gates:
            gates.append(text)
    raw["gates"] = gates
    meta = raw.setdefault("scenario", {})
    meta["description"] = (str(meta.get("description", "")) + f" (planned: {label(values)})"
                           ).strip()
    header = (f"# {exp.base.name} with the answer of `rehearse plan`: {label(values)}.\n"
              f"# Generated from {exp.path}; the plan's goals are added to the gates.\n\n")
    return header + tomli_w.dumps(raw)


def write_outputs(out: Path, exp: Experiment, planner: Planner, sampler: Sampler,
                  result: PlanResult | None, partial: Evaluation | None) -> Files:
    """Write plan.json, recommended.toml (with an answer) and plan.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = Files()
    found = limits(exp, planner, result)
    doc = plan_json(exp, planner, sampler, result, partial)
    doc["limits"] = [lim.to_json() for lim in found]
    (out / "plan.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    files.paths.append(out / "plan.json")
    if result is not None and result.answer is not None:
        (out / "recommended.toml").write_text(recommended_toml(exp, planner, result.answer))
        files.paths.append(out / "recommended.toml")
    if planner.evaluated:
        files.paths.append(write_chart(out / "plan.png", exp.base.name, planner, result))
    files.text = "\n".join([table(planner, result), "", doc["sentence"],
                            *limit_lines(planner, result, found)])
    return files


def write_chart(path: Path, scenario: str, planner: Planner, result: PlanResult | None) -> Path:
    """``plan.png``: for each varied key, the share of nights passing each goal against
    the key, the other keys at the answer (or the top of their ranges)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from caucus_rehearsal.reports.planning_charts import pass_chart

    goals, axes = planner.goals, planner.axes
    centre = result.answer if result is not None and result.answer is not None else planner.top
    fig = Figure(figsize=(8, 4.5 * len(axes)), layout="constrained")
    for k, axis in enumerate(axes):
        ax = fig.add_subplot(len(axes), 1, k + 1)
        line = {p: e for p, e in planner.evaluated.items() if e.nights and all(
            p[j] == centre[j] for j in range(len(axes)) if j != k)}
        rest = [(float(e.values[axis.key]), e.shares()[0].estimate)
                for p, e in planner.evaluated.items() if e.nights and p not in line]
        series = []
        for i, g in enumerate(goals):
            sh = [e.shares()[i] for e in line.values()]
            series.append({"label": str(g), "x": [e.values[axis.key] for e in line.values()],
                           "p": [s.estimate for s in sh], "low": [s.low for s in sh],
                           "high": [s.high for s in sh]})
        fixed = ", ".join(f"{a.key}={a.values[centre[j]]}" for j, a in enumerate(axes) if j != k)
        answer = None if result is None or result.answer is None else float(
            axis.values[result.answer[k]])
        pass_chart(ax, axis.key, series, min(g.required for g in goals), answer, rest,
                   f"{scenario}: simulated nights passing each goal against {axis.key}"
                   + (f" ({fixed})" if fixed else ""))
    fig.savefig(path, dpi=100, metadata={"Software": None})
    return path
