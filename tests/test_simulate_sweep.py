"""``rehearse simulate --sweep``: a grid of several keys, every value labelled, every file
named, titled charts with clock ticks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.reports.planning_charts import clock_ticks, window
from caucus_rehearsal.simulator.units import format_clock


def test_two_sweeps_make_a_grid_and_every_combination_is_labelled(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "smoke", "--runs", "3", "--sweep", "hotline.operators=1,6",
                 "--sweep", "hotline.lines=2,9", "--set", "people.app_installed=0.3",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text())
    combos = [r["values"] for r in summary["sweep"]]
    assert combos == [{"hotline.operators": o, "hotline.lines": ln}
                      for o in ("1", "6") for ln in ("2", "9")]
    assert summary["swept"] == combos[0]
    rows = [line.split() for line in out.splitlines()]
    table = [r[:2] for r in rows if len(r) > 2 and r[0] in ("1", "6") and r[1] in ("2", "9")]
    assert table == [["1", "2"], ["1", "9"], ["6", "2"], ["6", "9"]]
    assert "hotline.operators  hotline.lines" in out
    waits = {(r["values"]["hotline.operators"], r["values"]["hotline.lines"]):
             r["metrics"]["hotline_wait_max_min"]["p50"] for r in summary["sweep"]}
    assert waits[("6", "9")] < waits[("1", "9")]
    written = next(line for line in out.splitlines() if line.startswith("written: "))
    for name in ("summary.json", "runs.csv", "fan.png", "waits.png", "channels.png",
                 "sweep.png"):
        assert str(tmp_path / name) in written
        assert (tmp_path / name).stat().st_size > 0
    with (tmp_path / "runs.csv").open() as fh:
        runs = list(csv.DictReader(fh))
    assert len(runs) == 12
    assert {(r["hotline.operators"], r["hotline.lines"]) for r in runs} == set(waits)


def test_a_key_swept_twice_is_refused(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "smoke", "--runs", "2", "--sweep", "hotline.operators=1,2",
                 "--sweep", "hotline.operators=3", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "hotline.operators given twice" in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_clock_ticks_fall_on_round_clock_times() -> None:
    ticks = clock_ticks(-20.0, 400.0)
    assert [format_clock(t) for t in ticks] == ["19:00", "20:00", "21:00", "22:00", "23:00",
                                                "00:00+1d", "01:00+1d"]
    days = clock_ticks(0.0, 3 * 1440.0)
    assert all(format_clock(t).startswith(("00:00", "12:00")) for t in days)
    assert 3 <= len(days) <= 9


def test_the_fan_window_spans_the_reporting_and_the_goals() -> None:
    minutes = np.arange(-60.0, 3000.0, 10.0)
    rising = np.clip((minutes - 60.0) / 120.0, 0.0, 1.0)
    band = {"minutes": minutes.tolist(),
            "received": {"p5": rising.tolist(), "p50": rising.tolist(), "p95": rising.tolist()},
            "published": {"p5": rising.tolist(), "p50": rising.tolist(), "p95": rising.tolist()}}
    lo, hi = window(band)
    assert -10 <= lo < 0 and 180 <= hi <= 200  # from 19:00 to the last publication
    lo, hi = window(band, [600.0])
    assert hi > 600
