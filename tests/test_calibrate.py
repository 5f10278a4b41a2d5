"""``rehearse calibrate`` and facts files: a synthetic night recovered, outputs, bad input."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.simulator import experiments
from caucus_rehearsal.simulator.calibration import parse_fit
from caucus_rehearsal.simulator.experiments import Experiment
from caucus_rehearsal.simulator.facts import FACT_METRICS, Fact, fit_facts, load_facts
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.montecarlo import run_one
from caucus_rehearsal.simulator.roster import build_roster

TRUE = {"people.app_installed": 0.55, "hotline.operators": 3}
"""The known values behind the synthetic observed night."""
BASE = ["election.units=60"]


def synthetic_facts(path: Path) -> Path:
    """Facts read off the model itself at :data:`TRUE`, on nights the search never runs
    (replications 500-519), written as a facts file."""
    draft = [Fact("app share", "app_share", 0, 0, 0.03, "synthetic"),
             Fact("median wait", "hotline_wait_median_min", 0, 0, 3.0, "synthetic"),
             Fact("longest hold", "hotline_hold_max_min", 0, 0, 5.0, "synthetic")]
    with Experiment("smoke", BASE) as exp:
        fits = fit_facts(draft, exp.nights(TRUE, range(500, 520)))
    lines = ['[facts]\nname = "synthetic"\n']
    for f in fits:
        value = f.p50 if f.fact.metric == "app_share" else f'"{f.p50:.3f}min"'
        tol = f.fact.tolerance if f.fact.metric == "app_share" else f'"{f.fact.tolerance}min"'
        lines.append(f'[[fact]]\nname = "{f.fact.name}"\nmetric = "{f.fact.metric}"\n'
                     f'observed = {value}\ntolerance = {tol}\nsource = "the model at {TRUE}"\n')
    path.write_text("\n".join(lines))
    return path


def test_calibrate_recovers_known_values_of_a_synthetic_night(tmp_path: Path) -> None:
    facts = synthetic_facts(tmp_path / "facts.toml")
    out = tmp_path / "out"
    code = main(["calibrate", "smoke", *[a for s in BASE for a in ("--set", s)],
                 "--facts", str(facts), "--fit", "people.app_installed=0.2..0.95",
                 "--fit", "hotline.operators=1..8", "--runs", "20", "--trials", "30",
                 "--jobs", "2", "--out", str(out)])
    assert code == 0  # every fact within tolerance
    fit = json.loads((out / "fit.json").read_text())
    assert fit["fitted"]["people.app_installed"] == pytest.approx(0.55, abs=0.1)
    assert fit["fitted"]["hotline.operators"] == 3
    assert fit["nights"] == 20 * 30 and fit["candidates"] == 30
    assert all(row["within"] for row in fit["table"])
    fitted = out / "fitted.toml"
    text = fitted.read_text()
    assert text.startswith("# Fitted by `rehearse calibrate`") and "hotline.operators = 3" in text
    scn = load_scenario(str(fitted))  # loadable by simulate / run
    assert scn.hotline.operators == 3 and scn.election.units == 60
    assert (out / "facts.png").stat().st_size > 1000


def test_calibrate_is_deterministic_and_names_missed_facts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "f.toml"
    facts.write_text('[[fact]]\nname = "impossible share"\nmetric = "app_share"\n'
                     'observed = 0.01\ntolerance = 0.001\nsource = "nobody"\n')
    args = ["calibrate", "smoke", "--facts", str(facts), "--fit", "people.app_installed=0.5..0.9",
            "--runs", "3", "--trials", "4"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 1
    out = capsys.readouterr().out
    assert "outside tolerance: impossible share" in out and "MISSED" in out
    assert main([*args, "--out", str(tmp_path / "b"), "--jobs", "2"]) == 1
    a, b = (json.loads((tmp_path / d / "fit.json").read_text()) for d in "ab")
    assert a["trials"] == b["trials"] and a["fitted"] == b["fitted"]
    assert a["trials"][0]["values"] == {"people.app_installed": 0.8}  # the scenario's own first


def test_ctrl_c_keeps_the_best_so_far(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = experiments.Experiment.nights

    def nights(self, *args, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kw)

    monkeypatch.setattr(experiments.Experiment, "nights", nights)
    out = tmp_path / "out"
    code = main(["calibrate", "smoke", "--facts", "iowa-2020", "--fit",
                 "hotline.operators=2..6", "--runs", "2", "--trials", "10", "--out", str(out)])
    assert code == 3
    fit = json.loads((out / "fit.json").read_text())
    assert fit["interrupted"] and fit["candidates"] == 2
    assert "interrupted" in (out / "fitted.toml").read_text().split("\n\n")[0]


def test_bundled_facts_load_and_name_model_metrics() -> None:
    facts = load_facts("iowa-2020")
    assert len(facts.facts) >= 12 and all(f.source for f in facts.facts)
    metrics = {f.metric for f in facts.facts}
    assert {"app_share", "hotline_hold_max_min", "published_fraction"} <= metrics
    scn = load_scenario("smoke")
    night = run_one(scn, build_roster(scn).units, 0)
    assert set(FACT_METRICS) <= set(night.metrics)  # every fact metric is a night metric


def test_scenarios_does_not_list_facts_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    keys = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert "iowa-2020" in keys and "facts" not in keys and len(keys) == len(set(keys))


@pytest.mark.parametrize(("body", "needle"), [
    ('[[fact]]\nname="x"\nmetric="app_sharez"\nobserved=0.2\ntolerance=0.1\nsource="s"\n',
     "fact[0].metric"),
    ('[[fact]]\nname="x"\nmetric="app_share"\nobserved=0.2\ntolerance=0.1\nsource="s"\n'
     'colour="red"\n', "fact[0].colour"),
    ('[[fact]]\nname="x"\nmetric="app_share"\nat="22:00"\nobserved=0.2\ntolerance=0.1\n'
     'source="s"\n', "fact[0].at"),
    ('[[fact]]\nname="x"\nmetric="hotline_hold_max_min"\nobserved=60\ntolerance="5min"\n'
     'source="s"\n', "a duration with a unit"),
    ('[[fact]]\nname="x"\nmetric="app_share"\nobserved=[0.5,0.2]\ntolerance=0.1\nsource="s"\n',
     "low <= high"),
    ('[[fact]]\nname="x"\nmetric="app_share"\nobserved=0.2\nsource="s"\n', "fact[0].tolerance"),
    ("[facts]\nname='empty'\n", "at least one [[fact]]"),
    ("not toml [", "valid TOML"),
])
def test_bad_facts_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           body: str, needle: str) -> None:
    facts = tmp_path / "bad.toml"
    facts.write_text(body)
    assert main(["calibrate", "smoke", "--facts", str(facts), "--fit",
                 "hotline.operators=1..3"]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(("fit", "needle"), [
    ("hotline.operators=80", "KEY=LO..HI"),
    ("hotline.operatorz=1..3", "--fit: hotline.operatorz"),
    ("hotline.operators=5..2", "LO below HI"),
    ("hotline.operators=1..many", "two numbers, durations"),
])
def test_bad_fit_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], fit: str,
                                    needle: str) -> None:
    assert main(["calibrate", "smoke", "--facts", "iowa-2020", "--fit", fit]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_fit_keys_write_back_in_their_units() -> None:
    k = parse_fit("hotline.service_time.median=6min..15min")
    assert (k.low, k.high, k.kind, k.value(7.25)) == (6.0, 15.0, "duration", "7.25min")
    c = parse_fit("adversaries.nuisance_start=21:30..23:00")
    assert c.kind == "clock" and c.value(c.low + 45) == "22:15"
    assert parse_fit("hotline.operators=30..80").value(41.6) == 42
    assert tomllib.loads(f"x = {parse_fit('central.verifiers=1.5..3').value(2.123456)}")["x"] \
        == 2.123
