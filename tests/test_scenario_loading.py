"""Scenario files: every bundled one loads; every bad input is one clear line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.errors import ScenarioError
from caucus_rehearsal.simulator.dists import Dist
from caucus_rehearsal.simulator.gates import Gate
from caucus_rehearsal.simulator.loader import bundled_scenarios, load_scenario

BUNDLED = [key for key, _ in bundled_scenarios()]


def test_the_three_bundled_scenarios_exist() -> None:
    assert {"smoke", "iowa-2020", "well-prepared"} <= set(BUNDLED)


@pytest.mark.parametrize("key", BUNDLED)
def test_every_bundled_scenario_loads(key: str) -> None:
    scn = load_scenario(key)
    assert scn.name == key
    assert len(scn.election.support) == len(scn.election.candidates)
    assert scn.gates, "every bundled scenario states its gates"


def test_values_are_converted_to_minutes_and_distributions() -> None:
    scn = load_scenario("iowa-2020")
    assert scn.adversaries.nuisance_start == 180.0  # 22:00 is 3 h after 19:00
    assert scn.central.release_times[0] == 21 * 60.0  # 16:00 next day
    assert scn.hotline.service_time.name == "lognormal"
    assert 1.0 < scn.hotline.service_time.params[0] < 60.0  # median, minutes
    assert scn.meeting.realignment == 15.0
    assert Gate("data_loss", "==", 0.0) in scn.gates


def test_override_sets_a_value_with_the_same_validation() -> None:
    scn = load_scenario("smoke", ["hotline.operators=80", "people.app_installed=0.5"])
    assert scn.hotline.operators == 80
    assert scn.people.app_installed == 0.5
    scn = load_scenario("smoke", ['hotline.service_time={dist="exponential", mean="5min"}'])
    assert scn.hotline.service_time == Dist("exponential", (5.0,))
    scn = load_scenario("smoke", ["meeting.realignment=20min"])
    assert scn.meeting.realignment == 20.0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("hotline.operatorz=3", "--set: hotline.operatorz = 3: expected one of the known keys"),
        ("hotline.operators=-3", "--set: hotline.operators = -3: expected a whole number >= 0"),
        ("hotline.operators=2.5", "expected a whole number >= 0"),
        ("meeting.realignment=15", "meeting.realignment = 15: expected a duration with a unit"),
        ("meeting.realignment=15 parsecs", "expected a duration with a unit"),
        ("people.app_installed=1.5", "people.app_installed = 1.5: expected a probability"),
        ("live.end=25:00", "live.end = '25:00': expected a clock time"),
        ('hotline.service_time={dist="gamma", mean="5min"}', "hotline.service_time.dist = 'gamma'"),
        ('hotline.service_time={dist="lognormal", median="9min", p90="5min"}', "0 < median < p90"),
        ("election.support=[0.5, 0.5]", "one share per candidate (6)"),
        ("central.release_policy=weekly", "expected one of 'continuous', 'batches', 'percent'"),
        ('gates=["data_loss = 0"]', "gates"),
        ('gates=["speediness >= 1"]', "unknown metric 'speediness'"),
        ("hotline=3", "--set: hotline = 3: expected a table"),
    ],
)
def test_bad_overrides_name_key_value_and_expectation(override: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("smoke", [override])
    assert message in str(info.value)


def test_unknown_key_in_a_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[scenario]\nname = "x"\n[hotline]\noperators = 3\nlinez = 4\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(f))
    assert str(info.value).startswith(f"{f}: hotline.linez = 4: expected one of the known keys")


def test_missing_required_key(tmp_path: Path) -> None:
    f = tmp_path / "noname.toml"
    f.write_text("[scenario]\nseed = 1\n")
    with pytest.raises(ScenarioError, match=r"scenario.name: expected a value"):
        load_scenario(str(f))


def test_unknown_bundled_key_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("iowa-2016")
    assert "smoke" in str(info.value) and "iowa-2016" in str(info.value)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from caucus_rehearsal.cli import main; "
         "sys.exit(main(sys.argv[1:]))", *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('[scenario]\nname = "x"\n[hotline]\noperatorz = 3\n', "hotline.operatorz = 3"),
        ('[scenario]\nname = "x"\n[hotline]\noperators = -3\n', "hotline.operators = -3"),
        ('[scenario]\nname = "x"\n[meeting]\nrealignment = "15 fortnights"\n',
         "meeting.realignment = '15 fortnights'"),
        ("this is = = not toml\n", "expected valid TOML"),
    ],
)
def test_cli_bad_scenario_file_is_one_line_and_exit_2(
        tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "s.toml"
    f.write_text(content)
    # `rehearse scenarios` does not take a file, so go through the loader via the CLI's
    # error handling by simulating with a bad file when available, else via a direct call.
    code = _check_via_main(str(f))
    assert code == 2
    proc = _cli(tmp_path, "simulate", str(f), "--runs", "1")
    if "invalid choice" in proc.stderr:  # `simulate` not installed yet in this checkout
        pytest.skip("rehearse simulate is not built")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr


def _check_via_main(path: str) -> int:
    try:
        load_scenario(path)
    except ScenarioError as exc:
        return exc.exit_code
    return 0


def test_cli_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "simulate", "nowhere/missing.toml", "--runs", "1")
    if "invalid choice" in proc.stderr:
        pytest.skip("rehearse simulate is not built")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "missing.toml" in proc.stderr


def test_cli_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2


def test_rehearse_scenarios_lists_each_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in out] == BUNDLED
    assert all(len(line.split(maxsplit=1)) == 2 for line in out)
