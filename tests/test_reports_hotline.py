"""Hotline waits (first dial to answer, per chair) against single holds, in the report.

Chair X: busy at 10, busy at 20, on hold at 40, answered at 50 -> waited 40, held 10.
Chair Y: on hold at 30, hung up at 45, busy at 60 -> never answered, held 15.
Chair Z: on hold at 5, answered at 8 -> waited 3, held 3.
"""

from __future__ import annotations

import json
from pathlib import Path

from caucus_rehearsal.reports import build_report
from caucus_rehearsal.reports.metrics import hotline
from caucus_rehearsal.rundir.reader import read_run_dir
from caucus_rehearsal.simulator.gates import GATE_METRICS
from support.rundirs import RunBuilder, tally

T = tally(20, (10, 10), (10, 10), (2, 2))
GATES = ("hotline_wait_max_min <= 30", "hotline_wait_median_min <= 30",
         "hotline_hold_max_min <= 30")


def calls(b: RunBuilder) -> None:
    def ev(uid: str, step: str, outcome: str, minute: float, **extra: float) -> None:
        b.event(uid, "hotline", step, outcome, minute, actor="caller", **extra)

    ev("X", "call", "busy", 10.0, queue_len=5)
    ev("X", "call", "busy", 20.0, queue_len=5)
    ev("X", "call", "queued", 40.0)
    ev("X", "hold", "answered", 50.0, wait_min=10.0, queue_len=2)
    ev("Y", "call", "queued", 30.0)
    ev("Y", "hold", "abandoned", 45.0, wait_min=15.0, queue_len=3)
    ev("Y", "call", "busy", 60.0, queue_len=5)
    ev("Z", "call", "queued", 5.0)
    ev("Z", "hold", "answered", 8.0, wait_min=3.0, queue_len=0)


def run_dir(tmp_path: Path) -> RunBuilder:
    b = RunBuilder(tmp_path / "run")
    for uid in ("X", "Y", "Z"):
        b.unit(uid, T)
    calls(b)
    b.ack("X", T, sim_min=60.0)
    b.ack("Z", T, sim_min=20.0)
    b.snapshot(70.0, {"X": T, "Z": T})
    b.write(gates=GATES)
    return b


def test_waits_run_from_the_first_dial_and_holds_are_single_calls(tmp_path: Path) -> None:
    h = hotline(read_run_dir(run_dir(tmp_path).path).events)
    assert h.waits == ((8.0, 3.0), (50.0, 40.0))
    assert (h.never_answered, h.holds, h.abandoned, h.busy) == (1, (10.0, 15.0, 3.0), 1, 3)
    assert h.figures() == {"chairs_answered": 2, "chairs_never_answered": 1,
                           "wait_median_min": 21.5, "wait_max_min": 40.0, "holds": 3,
                           "hold_median_min": 10.0, "hold_max_min": 15.0,
                           "abandoned_holds": 1, "busy_signals": 3}


def test_a_hold_without_a_recorded_dial_starts_the_wait_at_the_hold(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("X", T)
    b.event("X", "hotline", "hold", "answered", 50.0, actor="caller", wait_min=10.0)
    h = hotline(read_run_dir(b.write()).events)
    assert h.waits == ((50.0, 10.0),) and h.never_answered == 0


def test_gates_summary_and_page_use_waits_and_holds(tmp_path: Path) -> None:
    b = run_dir(tmp_path)
    out = build_report(b.path)
    s = json.loads((b.path / "summary.json").read_text())
    gates = {g["metric"]: g for g in s["gates"]}
    assert (gates["hotline_wait_max_min"]["value"], gates["hotline_wait_max_min"]["result"]) \
        == (40.0, "fail")
    assert gates["hotline_wait_max_min"]["note"] == ("2 chairs answered (first dial to "
                                                     "answer); 1 never answered")
    assert (gates["hotline_wait_median_min"]["value"],
            gates["hotline_wait_median_min"]["result"]) == (21.5, "pass")
    assert (gates["hotline_hold_max_min"]["value"], gates["hotline_hold_max_min"]["result"]) \
        == (15.0, "pass")
    assert s["hotline"]["wait_max_min"] == 40.0 and s["hotline"]["hold_max_min"] == 15.0
    assert out.verdict == "fail"
    assert ("Chairs waited up to 40 minutes (median 22) from their first dial to an operator "
            "answering; 1 chair who dialled never got through (gate "
            "'hotline_wait_max_min <= 30').") in out.findings
    html = (b.path / "report.html").read_text()
    assert "<h2>Hotline</h2>" in html and "hold, longest, min" in html


def test_gate_descriptions_say_wait_or_hold() -> None:
    assert "first dial" in GATE_METRICS["hotline_wait_max_min"]
    assert "first dial" in GATE_METRICS["hotline_wait_median_min"]
    assert "single" in GATE_METRICS["hotline_hold_max_min"]
