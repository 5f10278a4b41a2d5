"""``rehearse plan`` on the smoke scenario: the answer and its files, no answer, bad
input, and an interrupted plan keeping what it evaluated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.simulator.loader import load_scenario

BASE = ["plan", "smoke", "--set", "people.app_installed=0.3", "--runs-max", "120"]


def test_an_answer_its_cheaper_neighbour_and_a_loadable_recommended_toml(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan"
    code = main([*BASE, "--goal", "published_fraction >= 0.9 by 21:00",
                 "--vary", "hotline.operators=1..12", "--confidence", "90%",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    doc = json.loads((out / "plan.json").read_text())
    assert doc["status"] == "answer"
    rec = doc["recommendation"]
    operators = rec["values"]["hotline.operators"]
    assert rec["meets"] and rec["goals"][0]["probability"] >= 0.9
    below = doc["next_cheaper"][0]
    assert below["values"]["hotline.operators"] == operators - 1
    assert not below["meets"] and below["goals"][0]["probability"] < 0.9
    assert 0 <= below["goals"][0]["low"] <= below["goals"][0]["high"] <= 1
    assert doc["nights_total"] == sum(c["nights"] for c in doc["candidates"])
    assert f"Answer: hotline.operators={operators} (cost {operators})" in text
    assert "<- answer" in text and "goal 1: published_fraction >= 0.9 by 21:00" in text
    assert "written: " in text and "recommended.toml" in text and "plan.png" in text
    scn = load_scenario(str(out / "recommended.toml"))
    assert scn.hotline.operators == operators and scn.people.app_installed == 0.3
    assert "published_fraction >= 0.9 by 21:00 with 90%" in [str(g) for g in scn.gates]
    assert main(["simulate", str(out / "recommended.toml"), "--runs", "3",
                 "--out", str(tmp_path / "sim")]) == 0
    assert (out / "plan.png").stat().st_size > 5000


def test_none_in_range_names_the_goal_failing_at_the_top(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*BASE, "--goal", "published_fraction >= 0.99 by 19:30",
                 "--goal", "hotline_wait_max_min <= 60",
                 "--vary", "hotline.operators=1..6", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert code == 1
    assert ("No combination in the ranges meets every goal: at the top of every range "
            "(hotline.operators=6) 'published_fraction >= 0.99 by 19:30' passes on 0.0%") in text
    assert "hotline_wait_max_min" not in text.split("No combination")[1]
    doc = json.loads((tmp_path / "plan.json").read_text())
    assert doc["status"] == "none" and doc["recommendation"] is None
    assert not (tmp_path / "recommended.toml").exists()


@pytest.mark.parametrize("argv, needle", [
    (["--vary", "hotline.operators=10"], "--vary 'hotline.operators=10': expected KEY=LO..HI"),
    (["--vary", "hotline.operatorz=1..5"], "operatorz"),
    (["--vary", "hotline.operators=5..1"], "LO < HI"),
    (["--vary", "people.app_patience=1..5"], "--vary: people.app_patience"),
    (["--vary", "hotline.operators=1..5", "--vary", "hotline.operators=2..3"], "twice"),
    (["--vary", "hotline.operators=1..5", "--cost", "hotline.lines=2"], "--cost"),
    (["--vary", "hotline.operators=1..5", "--confidence", "1.5"], "--confidence"),
    (["--vary", "hotline.operators=1..5", "--goal", "data_loss == 0"], "does not measure"),
    (["--vary", "hotline.operators=1..5", "--goal", "publishd_fraction >= 1"], "unknown metric"),
    (["--vary", "hotline.operators=1..5", "--set", "hotline.lines=-1"], "--set: hotline.lines"),
    (["--vary", "hotline.operators=1..5", "--runs-max", "0"], "--runs-max"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], needle: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    goal = [] if "--goal" in argv else ["--goal", "published_fraction >= 0.9 by 21:00"]
    try:
        code = main(["plan", "smoke", *goal, *argv, "--out", str(tmp_path / "x")])
    except SystemExit as exc:  # argparse's usage errors exit from the parser
        code = int(str(exc.code))
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_plan_keeps_what_it_evaluated_and_exits_3(
        sig: signal.Signals, tmp_path: Path) -> None:
    # A goal near the threshold and a huge --runs-max: the plan runs until stopped.
    cli = "import sys; from caucus_rehearsal.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", cli, *BASE[:4], "--runs-max", "1000000",
           "--goal", "published_fraction >= 0.9 by 21:00 with 96.5%",
           "--vary", "hotline.operators=1..12", "--out", str(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first candidate is done
    assert first.startswith("plan: hotline.operators=12"), first
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    doc = json.loads((tmp_path / "plan.json").read_text())
    assert doc["status"] == "interrupted" and doc["candidates"]
    assert doc["candidates"][0]["values"] == {"hotline.operators": 12}
    assert "interrupted" in err and "Traceback" not in err


def test_plan_json_is_the_same_whatever_jobs(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    args = [*BASE, "--goal", "published_fraction >= 0.9 by 21:00", "--vary",
            "hotline.operators=1..8", "--confidence", "0.9"]
    assert main([*args, "--jobs", "1", "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--jobs", "2", "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    a, b = (tmp_path / d / "plan.json" for d in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
