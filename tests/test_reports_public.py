"""The report on hand-built run directories: what the public saw (``reads.jsonl``), the
read gates, and a load generator lost mid-run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from caucus_rehearsal.reports import build_report
from caucus_rehearsal.rundir.reads import ReadStats
from caucus_rehearsal.rundir.writer import write_reads
from support.rundirs import RunBuilder, tally

UNITS = {f"U{i}": tally(20 + i, (10 + i, 10), (10 + i, 10), (2, 2)) for i in range(1, 9)}
DEMAND = '[demand]\npublic_views_per_s = 10.0\ndoors_close_peak = 9.0\nsurge_decay = "10min"\n'


def night(path: Path, gates: tuple[str, ...], acked: tuple[str, ...] = tuple(UNITS),
          lost: tuple[dict[str, Any], ...] = (), toml: str = DEMAND,
          writes_ms: tuple[float, float] = (10.0, 10.0)) -> RunBuilder:
    """Eight units; those in ``acked`` acknowledged (hotline) at 19:20-19:55 and published
    at 20:00; the chairs' writes take ``writes_ms`` (inside, outside the doors-close
    surge, which runs 19:00-19:30)."""
    b = RunBuilder(path)
    for i, (uid, t) in enumerate(UNITS.items()):
        b.unit(uid, t)
        if uid in acked:
            minute = 20.0 + 5 * i
            b.ack(uid, t, sim_min=minute)
            b.events[-1]["latency_ms"] = writes_ms[0] if minute < 30 else writes_ms[1]
    b.snapshot(60.0, {u: copy.deepcopy(t) for u, t in UNITS.items() if u in acked})
    b.write(gates=gates, toml=toml, lost_workers=lost)
    return b


def reads(path: Path, failing_in_surge: int = 0, dropped: int = 0, stale: int = 0) -> None:
    """300 reads in the doors-close surge (19:00-19:30: ``failing_in_surge`` of them 503s)
    and 300 after it, 20 ms each; ``dropped`` more dropped late; ``stale`` answers 3 s
    stale."""
    s = ReadStats()
    for i in range(300):
        minute = i * 0.1
        s.at(minute, "results").record("errors" if i < failing_in_surge else "ok", 0.02, 0.001,
                                       versioned=True)
        s.at(40.0 + minute, "results").record(
            "ok", 0.02, 0.001, versioned=True, stale_s=3.0 if i < stale else None,
            behind=1 if i < stale else 0)
    for _ in range(dropped):
        s.at(45.0, "results").drop("late")
    write_reads(path, s)


def summary(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((path / "summary.json").read_text())
    return doc


def test_a_lost_worker_makes_its_unfinished_units_inconclusive_never_failed(
        tmp_path: Path) -> None:
    lost = {"worker": 1, "lost_wall": 0.0, "lost_sim_min": 40.0,
            "units_not_played": ["U5", "U6", "U7", "U8"]}
    b = night(tmp_path / "run", ("published_fraction >= 0.9 by 21:00", "data_loss == 0"),
              acked=("U1", "U2", "U3", "U4", "U5", "U6"), lost=(lost,))
    out = build_report(b.path)
    s = summary(b.path)
    # Six of the six units played were published: the gate passes on the units played...
    assert [g["result"] for g in s["gates"]] == ["pass", "pass"]
    assert s["gates"][0]["value"] == 1.0
    # ...but the rehearsal cannot vouch for the two units the lost worker did not finish.
    assert (out.verdict, out.exit_code) == ("inconclusive", 4)
    (reason,) = [r for r in s["inconclusive_reasons"] if "was lost" in r]
    assert "load generator 1" in reason and "U7, U8" in reason and "U5" not in reason
    assert s["reconciliation"]["not_played"] == 2


def test_a_lost_worker_does_not_hide_a_failure_on_the_units_played(tmp_path: Path) -> None:
    lost = {"worker": 1, "lost_wall": 0.0, "lost_sim_min": 40.0, "units_not_played": ["U8"]}
    b = RunBuilder(tmp_path / "run")
    for uid, t in UNITS.items():
        b.unit(uid, t)
        if uid != "U8":
            b.ack(uid, t, sim_min=30.0)
    b.snapshot(60.0, {u: t for u, t in UNITS.items() if u not in ("U1", "U8")})  # U1 lost
    b.write(gates=("data_loss == 0",), lost_workers=(lost,))
    assert build_report(b.path).verdict == "fail"


def test_read_gates_and_what_the_public_saw_per_surge(tmp_path: Path) -> None:
    gates = ("read_error_rate <= 0.01", "read_p99_ms <= 2000", "read_staleness_p99_s <= 10",
             "dropped_reads == 0")
    b = night(tmp_path / "run", gates, writes_ms=(900.0, 10.0))
    reads(b.path, failing_in_surge=60, stale=12)
    out = build_report(b.path)
    s = summary(b.path)
    values = {g["metric"]: (g["result"], g["value"]) for g in s["gates"]}
    assert values["read_error_rate"] == ("fail", 0.1)  # 60 of 600 reads
    assert values["read_p99_ms"][0] == "pass" and 19 <= values["read_p99_ms"][1] <= 21
    assert values["read_staleness_p99_s"][0] == "pass"
    assert 2.9 <= values["read_staleness_p99_s"][1] <= 3.1  # 12 of 600 stale: the p99 is one
    assert values["dropped_reads"] == ("pass", 0.0)
    assert out.verdict == "fail"
    surge, outside = s["public"]["windows"]
    assert (surge["window"], surge["from"], surge["to"]) == ("doors close", "19:00", "19:30")
    assert (surge["reads_due"], surge["reads_failed"]) == (300, 60)
    assert outside["reads_failed"] == 0 and outside["stale_reads"] == 12
    assert surge["chair_write_p95_ms"] == 900.0 and outside["chair_write_p95_ms"] == 10.0
    text = next(f for f in s["findings"] if f.startswith("In the surge after doors close"))
    assert "60 of 300 reads" in text and "Ottawa" in text
    html = (b.path / "report.html").read_text()
    assert "What the public saw" in html and "chart-public_demand" in html


def test_dropped_reads_are_the_generator_s_never_the_target_s(tmp_path: Path) -> None:
    b = night(tmp_path / "run", ("read_error_rate <= 0.01", "dropped_reads == 0"))
    reads(b.path, dropped=100)
    out = build_report(b.path)
    s = summary(b.path)
    dropped = next(g for g in s["gates"] if g["metric"] == "dropped_reads")
    assert (dropped["result"], dropped["value"]) == ("inconclusive", 100.0)
    assert out.verdict == "inconclusive"
    # 100 of the 400 reads due in the 19:45 bin were never sent: not faithful.
    assert s["schedule_fidelity"]["faithful"] is False
    assert s["schedule_fidelity"]["reads_delivered"] < 0.9
    assert any("dropped" in f or "could not send" in f for f in s["findings"])


def test_a_run_without_reads_has_no_read_gates_measured(tmp_path: Path) -> None:
    b = night(tmp_path / "run", ("data_loss == 0", "read_error_rate <= 0.01"), toml="")
    out = build_report(b.path)
    s = summary(b.path)
    assert s["gates"][1]["result"] == "not measured" and out.verdict == "pass"
    assert s["public"]["reads_due"] == 0 and s["public"]["windows"] == []
