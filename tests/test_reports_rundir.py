"""Hand-built run directories (the builder other report tests import) and reading them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.reports.rundir import read_run_dir

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
              roster: dict[str, Any] | None = None) -> Path:
        """Write the files; ``toml`` is appended to ``scenario.toml``."""
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
            "server_faults": list(server_faults), "status": status, "version": "0.1.0"}))
        for name, rows in (("truth", self.truth), ("plan", self.plan),
                           ("events", self.events), ("snapshots", self.snapshots),
                           ("audit", self.audit)):
            (p / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return p


FINAL = {"app": "final", "hotline": "report", "paper": "delivered"}


def test_reads_a_complete_directory(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    b.ack("U1", b.truth[0]["tally"])
    run = read_run_dir(b.write())
    assert run.candidates == CANDS
    assert [t.unit_id for t in run.truth] == ["U1"]
    assert run.plan["U1"].error is None
    assert len(run.events) == 1 and run.partial is False and run.truncated == []


def test_a_cut_off_last_line_is_dropped_and_marks_the_run_partial(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    b.ack("U1", b.truth[0]["tally"])
    path = b.write(status="complete")
    with (path / "events.jsonl").open("a") as fh:
        fh.write('{"unit_id": "U1", "actor": "ch')
    run = read_run_dir(path)
    assert len(run.events) == 1
    assert run.truncated == ["events.jsonl"] and run.partial


def test_a_bad_line_before_the_last_is_an_input_error(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    path = b.write()
    (path / "events.jsonl").write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(InputFileError, match=r"events.jsonl: line 2 is not JSON"):
        read_run_dir(path)


@pytest.mark.parametrize("remove", ["run.json", "truth.jsonl"])
def test_missing_required_file_is_named(tmp_path: Path, remove: str) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    path = b.write()
    (path / remove).unlink()
    with pytest.raises(InputFileError, match=remove.replace(".", r"\.") + ": missing"):
        read_run_dir(path)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not a directory"):
        read_run_dir(tmp_path / "nope")


def test_snapshot_304_repeats_the_previous_and_failed_fetches_are_skipped(
        tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    t = tally(10, (6, 4), (6, 4), (2, 2))
    b.unit("U1", t)
    b.ack("U1", t)
    b.snapshot(70.0, {"U1": t})
    b.snapshots.append({"sim_min": 80.0, "status": 304, "results": None})
    b.snapshots.append({"sim_min": 90.0, "status": 0, "results": None})
    run = read_run_dir(b.write())
    assert run.published.curve == [(70.0, 1), (80.0, 1)]
    assert run.published.first_seen == {"U1": 70.0}
    assert list(run.published.final["precincts"]) == ["U1"]
