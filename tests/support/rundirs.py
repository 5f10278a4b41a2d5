"""Hand-built run directories by the contract of docs/run-directory.md."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

CANDS = ("Alpha", "Beta")
T0 = 1_790_000_000.0


def tally(att: int, first: tuple[int, int], final: tuple[int, int], dels: tuple[int, int],
          sde: tuple[float, float] | None = None) -> dict[str, Any]:
    """A tally over the two test candidates; SDE defaults to delegates * 0.25."""
    sde = sde if sde is not None else (dels[0] * 0.25, dels[1] * 0.25)
    return {"attendance": att, "first": dict(zip(CANDS, first, strict=True)),
            "final": dict(zip(CANDS, final, strict=True)),
            "delegates": dict(zip(CANDS, dels, strict=True)),
            "sde": dict(zip(CANDS, sde, strict=True))}


def reported(t: dict[str, Any]) -> dict[str, Any]:
    """What a chair sends: the tally without SDE (derived centrally)."""
    return {k: v for k, v in t.items() if k != "sde"}


class RunBuilder:
    """Writes a small run directory by the contract of docs/run-directory.md."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.truth: list[dict[str, Any]] = []
        self.plan: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []

    def unit(self, uid: str, truth: dict[str, Any], worksheet: dict[str, Any] | None = None,
             error: str | None = None, county: str = "Adair", satellite: bool = False) -> None:
        self.truth.append({"unit_id": uid, "county": county, "precinct": f"P {uid}",
                           "satellite": satellite, "delegates_total": 4, "coin_toss": False,
                           "tally": truth})
        ws = worksheet if worksheet is not None else truth
        self.plan.append({"unit_id": uid, "worksheet": {"tally": ws, "error": error,
                                                        "error_detail": error or ""}})

    def event(self, uid: str, channel: str, step: str, outcome: str, sim_min: float,
              payload: dict[str, Any] | None = None, actor: str = "chair",
              **extra: Any) -> None:
        wall = T0 + sim_min
        ev: dict[str, Any] = {
            "unit_id": uid, "actor": actor, "channel": channel, "step": step, "attempt": 1,
            "intended_wall": wall, "sent_wall": wall + 0.002, "latency_ms": 10.0,
            "status": {"ok": 201, "rejected": 422, "error": 500}.get(outcome),
            "outcome": outcome, "sim_min": sim_min,
            "request_id": f"{uid}-{step}-{len(self.events)}", "worker": 0, "detail": ""}
        if payload is not None:
            ev["payload"] = payload
        ev.update(extra)
        self.events.append(ev)

    def ack(self, uid: str, data: dict[str, Any], sim_min: float = 60.0,
            channel: str = "hotline") -> None:
        """An acknowledged report of ``data`` (hotline: one step; app: three)."""
        if channel == "app":
            self.event(uid, "app", "attendance", "ok", sim_min - 2,
                       {"attendance": data["attendance"]})
            self.event(uid, "app", "first", "ok", sim_min - 1, {"first": data["first"]})
            self.event(uid, "app", "final", "ok", sim_min,
                       {"final": data["final"], "delegates": data["delegates"]})
        else:
            self.event(uid, channel, FINAL[channel], "ok", sim_min, reported(data),
                       actor="operator" if channel == "hotline" else "chair")

    def snapshot(self, sim_min: float, precincts: dict[str, dict[str, Any]],
                 statewide: dict[str, Any] | None = None) -> None:
        if statewide is None:
            statewide = {k: {c: sum(p[k][c] for p in precincts.values()) for c in CANDS}
                         for k in ("first", "final", "sde")}
        self.snapshots.append({
            "fetched_wall": T0 + sim_min, "sim_min": sim_min, "status": 200,
            "results": {"precincts_total": len(self.truth),
                        "precincts_reporting": len(precincts),
                        "statewide": statewide, "precincts": precincts}})

    def write(self, status: str = "complete", gates: tuple[str, ...] = ("data_loss == 0",),
              overrides: tuple[str, ...] = (), toml: str = "",
              server_faults: tuple[str, ...] = (),
              roster: dict[str, Any] | None = None, **run: Any) -> Path:
        """Write the files; ``toml`` is appended to ``scenario.toml``; ``run`` adds to
        (or replaces in) ``run.json``."""
        p = self.path
        p.mkdir(parents=True, exist_ok=True)
        gate_list = ", ".join(json.dumps(g) for g in gates)
        (p / "scenario.toml").write_text(
            f'gates = [{gate_list}]\n[scenario]\nname = "hand"\n' + toml)
        if roster is not None:
            (p / "roster.json").write_text(json.dumps(roster))
        (p / "run.json").write_text(json.dumps({
            "scenario": "hand", "scenario_file": "scenario.toml", "overrides": list(overrides),
            "seed": 1, "speed": 60.0, "sim_start_min": -30.0, "sim_end_min": 360.0,
            "t0_wall": T0, "target": "http://127.0.0.1:1", "reference_server": True,
            "server_faults": list(server_faults), "status": status, "version": "0.1.0",
            **run}))
        for name, rows in (("truth", self.truth), ("plan", self.plan),
                           ("events", self.events), ("snapshots", self.snapshots),
                           ("audit", self.audit)):
            (p / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return p


FINAL = {"app": "final", "hotline": "report", "paper": "delivered"}

UNITS = {f"U{i}": tally(20 + i, (10 + i, 10), (10 + i, 10), (2, 2) if i % 2 else (3, 1))
         for i in range(1, 9)}
GATES = ("published_fraction >= 0.75 by 21:00", "data_loss == 0", "mismatches == 0",
         "p95_latency_ms <= 2000", "hotline_wait_max_min <= 30")


def sample_night(path: Path, lose: tuple[str, ...] = (), alter: tuple[str, ...] = (),
          status: str = "complete", snapshots: bool = True) -> RunBuilder:
    """Eight units; all acknowledged between 20:00 and 20:35; ``lose``/``alter`` faults."""
    b = RunBuilder(path)
    for i, (uid, t) in enumerate(UNITS.items()):
        b.unit(uid, t)
        channel = "app" if i % 2 else "hotline"
        if channel == "hotline":
            b.event(uid, "hotline", "call", "answered", 55.0 + 5 * i, actor="caller",
                    wait_min=2.0 * i, queue_len=i % 3)
        b.ack(uid, t, sim_min=60.0 + 5 * i, channel=channel)
    if snapshots:
        for minute in (70.0, 100.0, 130.0):
            shown = {}
            for uid, t in UNITS.items():
                if uid in lose or (b.events and _acked_by(b, uid) > minute):
                    continue
                pub = copy.deepcopy(t)
                if uid in alter:
                    pub["final"]["Alpha"] -= 1
                shown[uid] = pub
            b.snapshot(minute, shown)
    b.write(status=status, gates=GATES)
    return b


def _acked_by(b: RunBuilder, uid: str) -> float:
    return max(e["sim_min"] for e in b.events if e["unit_id"] == uid)
