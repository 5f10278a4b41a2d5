"""``rehearse simulate``: outputs, determinism across --jobs, sweeps, input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.montecarlo import reporting_band

METRICS = ("app_share", "hotline_share", "paper_share", "hotline_wait_median_min",
           "hotline_wait_max_min", "abandoned_calls", "minutes_to_95pct_received",
           "minutes_to_95pct_published")


def test_summary_is_byte_identical_whatever_jobs(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "smoke", "--runs", "6", "--set", "hotline.operators=2"]
    assert main([*args, "--jobs", "1", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert main([*args, "--jobs", "2", "--out", str(tmp_path / "b")]) == 0
    a, b = (tmp_path / "a" / "summary.json").read_bytes(), (tmp_path / "b" / "summary.json")
    assert a == b.read_bytes()
    assert (tmp_path / "a" / "runs.csv").read_bytes() == (tmp_path / "b" / "runs.csv").read_bytes()
    summary = json.loads(a)
    assert summary["runs"] == 6
    for m in METRICS:
        q = summary["metrics"][m]
        assert q["p5"] <= q["p50"] <= q["p95"], m
    for name in ("fan.png", "waits.png", "channels.png"):
        assert (tmp_path / "a" / name).stat().st_size > 5000
    assert "received" in out and "channel mix: app" in out and "hotline wait" in out
    assert "PASS" in out or "FAIL" in out
    assert "not measured data_loss == 0" in " ".join(out.split())


def test_a_sweep_runs_each_value_and_charts_the_outcome(tmp_path: Path) -> None:
    assert main(["simulate", "smoke", "--runs", "3", "--sweep", "hotline.operators=1,8",
                 "--set", "people.app_installed=0.2", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    rows = summary["sweep"]
    assert [r["value"] for r in rows] == ["1", "8"]
    waits = [r["metrics"]["hotline_wait_median_min"]["p50"] for r in rows]
    assert waits[0] > waits[1]
    assert (tmp_path / "sweep.png").stat().st_size > 5000


@pytest.mark.parametrize("argv, needle", [
    (["--sweep", "hotline.operatorz=1,2"], "operatorz"),
    (["--sweep", "hotline.operators=ten,2"], "--sweep: hotline.operators = 'ten'"),
    (["--sweep", "hotline.operators"], "--sweep"),
    (["--set", "hotline.operators=-1"], "--set: hotline.operators = -1"),
    (["--runs", "0"], "--runs"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], needle: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["simulate", "smoke", *argv, "--out", str(tmp_path / "x")])
    except SystemExit as exc:  # argparse's usage errors exit from the parser
        code = int(str(exc.code))
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


def test_reporting_band_for_the_live_report() -> None:
    band = reporting_band(load_scenario("smoke"), runs=20)
    n = len(band["minutes"])
    assert n > 10 and band["minutes"] == sorted(band["minutes"])
    for key in ("received", "published"):
        for q in ("p5", "p50", "p95"):
            assert len(band[key][q]) == n
        assert band[key]["p50"][-1] == 1.0
        assert all(a <= b <= c for a, b, c in zip(band[key]["p5"], band[key]["p50"],
                                                   band[key]["p95"], strict=True))
    assert all(r >= p for r, p in zip(band["received"]["p50"], band["published"]["p50"],
                                      strict=True))
