"""The verdict: pass, fail or inconclusive, from judged gates, evidence and fidelity."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.reports import build_report
from caucus_rehearsal.simulator.gates import GATE_METRICS, METRIC_KINDS
from support.rundirs import RunBuilder, tally

UNITS = {f"U{i}": tally(20 + i, (10 + i, 10), (10 + i, 10), (2, 2)) for i in range(1, 9)}
GATES = ("published_fraction >= 0.75 by 21:00", "data_loss == 0", "p95_latency_ms <= 2000",
         "hotline_wait_max_min <= 30")


def night(path: Path, late_ms: float = 2.0, lose: tuple[str, ...] = (), acked: bool = True,
          gates: tuple[str, ...] = GATES, shown_at: float = 100.0) -> RunBuilder:
    """Eight units acknowledged at 20:00-20:35 (run speed 60: 1 wall s = 1 simulated min),
    each request ``late_ms`` late; all but ``lose`` published from minute ``shown_at``."""
    b = RunBuilder(path)
    for i, (uid, t) in enumerate(UNITS.items()):
        b.unit(uid, t)
        if acked:
            b.ack(uid, t, sim_min=60.0 + 5 * i, channel="app" if i % 2 else "hotline")
    for e in b.events:
        e["late_ms"] = late_ms
        e["sent_wall"] = e["intended_wall"] + late_ms / 1000.0
    b.snapshot(shown_at, {u: copy.deepcopy(t) for u, t in UNITS.items()
                          if u not in lose and acked})
    b.write(gates=gates)
    return b


def summary(b: RunBuilder) -> dict[str, object]:
    doc: dict[str, object] = json.loads((b.path / "summary.json").read_text())
    return doc


def test_every_metric_has_a_kind() -> None:
    """A new gate metric must say how a run's lateness can touch it (reports/fidelity.py)."""
    assert set(METRIC_KINDS) == set(GATE_METRICS)


def test_a_faithful_clean_run_passes(tmp_path: Path) -> None:
    out = build_report(night(tmp_path / "run").path)
    assert (out.verdict, out.exit_code, out.reasons) == ("pass", 0, ())


def test_a_run_that_acknowledged_nothing_is_inconclusive(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = night(tmp_path / "run", acked=False, gates=("data_loss == 0",))
    assert main(["report", str(b.path)]) == 4
    assert "verdict: INCONCLUSIVE" in capsys.readouterr().out
    s = summary(b)
    assert s["verdict"] == "inconclusive" and s["exit_code"] == 4
    assert s["inconclusive_reasons"] == [
        "no report was acknowledged by the target, so there is nothing to judge it by "
        "(no request was sent)"]


def test_a_late_run_cannot_pass_but_lost_data_still_fails(tmp_path: Path) -> None:
    # 8 s late at speed 60 is 8 simulated minutes: beyond the 5-minute bound.
    clean = build_report(night(tmp_path / "clean", late_ms=8000.0).path)
    assert (clean.verdict, clean.exit_code) == ("inconclusive", 4)
    assert clean.findings[0].startswith("The rehearsal is inconclusive: 4 gates (")
    assert "did not get the modelled load: requests were sent up to 8.0 simulated minutes " \
           "late" in clean.findings[0]
    assert "a speed of about 38 or less" in clean.findings[0]
    lossy = build_report(night(tmp_path / "lossy", late_ms=8000.0, lose=("U3",)).path)
    gates = {g.gate.metric: g.status for g in lossy.gates}
    assert lossy.verdict == "fail" and gates["data_loss"] == "fail"
    assert gates["published_fraction"] == "inconclusive"


@pytest.mark.parametrize("late_ms", [3000.0, 8000.0])  # faithful, and not
def test_a_published_gate_is_judged_only_if_the_lateness_cannot_flip_it(
        tmp_path: Path, late_ms: float) -> None:
    gate = ("published_fraction >= 0.75 by 21:00",)
    # Published at 21:02, 2 minutes after the gate's moment: 3 or 8 minutes of lateness
    # could explain that, so the failure is not judged...
    near = build_report(night(tmp_path / "near", late_ms=late_ms, gates=gate,
                              shown_at=122.0).path)
    assert near.gates[0].status == "inconclusive"
    assert near.gates[0].why == (f"read {late_ms / 1000:.1f} simulated minutes earlier or "
                                 "later (the run's lateness) it would pass")
    # ...but published only at 22:00 fails whatever the lateness.
    far = build_report(night(tmp_path / "far", late_ms=late_ms, gates=gate,
                             shown_at=180.0).path)
    assert (far.gates[0].status, far.verdict) == ("fail", "fail")


def test_a_gate_on_the_load_generator_never_fails_the_target(tmp_path: Path) -> None:
    b = night(tmp_path / "run", late_ms=50.0, gates=("send_lag_p99_ms <= 10",))
    out = build_report(b.path)
    assert out.gates[0].status == "inconclusive" and out.verdict == "inconclusive"


def test_a_target_that_stops_answering_is_named_first(tmp_path: Path) -> None:
    b = night(tmp_path / "run")
    for i in range(20):  # from 20:45 on, every request is refused
        b.event(f"U{1 + i % 8}", "app", "login", "conn_error", 105.0 + i, status=0,
                latency_ms=0.4, detail="connection refused")
    b.write(gates=GATES)
    out = build_report(b.path)
    assert out.findings[0].startswith("The target stopped answering at 20:45: 20 of the 20 "
                                      "requests sent from then on got no answer (20 conn error)")
    assert out.verdict == "fail"
    s = summary(b)
    latency = next(g for g in s["gates"] if g["metric"] == "p95_latency_ms")  # type: ignore[union-attr]
    assert latency["never"] is True and latency["result"] == "fail"  # refused is not fast
    assert s["target_stopped"] == {"since": "20:45", "since_min": 105.0, "requests": 20,
                                   "unanswered": 20, "by_outcome": {"conn_error": 20}}
