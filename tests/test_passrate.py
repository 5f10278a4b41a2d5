"""Gates with a confidence: parsing, the Wilson interval, the verdict on a share of
nights, and ``rehearse simulate`` judging a gate 'with P%' on it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from caucus_rehearsal.cli import main
from caucus_rehearsal.simulator.gates import parse_gate
from caucus_rehearsal.simulator.montecarlo import RunOutcome
from caucus_rehearsal.simulator.passrate import (
    Share,
    judge,
    look_level,
    looks,
    share,
    wilson,
)
from caucus_rehearsal.simulator.summary import evaluate_gates


def wilson_by_hand(k: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval from its textbook formula."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("k, n", [(0, 10), (10, 10), (7, 20), (95, 100), (1, 400)])
def test_wilson_interval_matches_the_formula(k: int, n: int) -> None:
    low, high = wilson(k, n, 0.95)
    want = wilson_by_hand(k, n, 1.959963984540054)
    assert low == pytest.approx(max(0.0, want[0]), abs=1e-9)
    assert high == pytest.approx(min(1.0, want[1]), abs=1e-9)


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="n"):
        wilson(0, 0)
    with pytest.raises(ValueError, match="k"):
        wilson(11, 10)


def test_judge_is_sure_only_when_the_interval_clears_the_threshold() -> None:
    assert judge(share([True] * 200), 0.95) == judge(Share(200, 200, 0.98, 1.0, 0.95), 0.95)
    assert judge(share([True] * 200), 0.95).sure and judge(share([True] * 200), 0.95).meets
    low = judge(share([True] * 5 + [False] * 95), 0.95)
    assert low.sure and not low.meets
    near = judge(share([True] * 96 + [False] * 4), 0.95)
    assert not near.sure and near.meets  # 96% but the interval reaches below 95%
    near = judge(share([True] * 94 + [False] * 6), 0.95)
    assert not near.sure and not near.meets


def test_looks_double_up_to_runs_max_and_split_the_level() -> None:
    assert looks(400) == [10, 20, 40, 80, 160, 320, 400]
    assert looks(10) == [10]
    assert looks(3) == [3]
    assert look_level(400, 0.95) == pytest.approx(1 - 0.05 / 7)
    with pytest.raises(ValueError):
        looks(0)


def test_gate_text_carries_confidence_and_within() -> None:
    g = parse_gate("published_fraction >= 0.95 by 22:30 with 95%")
    assert (g.by, g.confidence) == (210.0, 0.95)
    assert str(g) == "published_fraction >= 0.95 by 22:30 with 95%"
    g = parse_gate("hotline_service_level >= 0.8 within 90s")
    assert g.within == 1.5 and g.confidence is None
    assert parse_gate(str(g)) == g
    for bad, needle in [("data_loss == 0 with 100%", "below 100%"),
                        ("hotline_service_level >= 0.8", "within"),
                        ("data_loss == 0 within 2min", "within"),
                        ("data_loss == 0 with 1.2.3%", "not a number")]:
        with pytest.raises(ValueError, match=needle):
            parse_gate(bad)


def outcome(r: int, wait: float) -> RunOutcome:
    empty = np.zeros(0)
    return RunOutcome(r, {"hotline_wait_max_min": wait}, empty, empty, empty, (wait, None))


def test_a_gate_with_a_confidence_is_judged_on_the_share_not_the_median() -> None:
    # 60% of nights wait at most 10 min: the median night passes, 60% < 90% fails.
    outs = [outcome(r, 5.0 if r < 6 else 50.0) for r in range(10)]
    median, strict = (parse_gate("hotline_wait_max_min <= 10"),
                      parse_gate("hotline_wait_max_min <= 10 with 90%"))
    rows = evaluate_gates([median, parse_gate("data_loss == 0")], outs)
    assert rows[0]["passed"] is True and rows[0]["judged_on"] == "median run"
    assert rows[0]["pass_share"]["passed"] == 6 and rows[0]["pass_share"]["nights"] == 10
    assert rows[1]["passed"] is None and rows[1]["pass_share"] is None
    outs = [RunOutcome(o.replication, o.metrics, o.received, o.published, o.waits,
                       (o.gates[0],)) for o in outs]
    row = evaluate_gates([strict], outs)[0]
    assert row["median_run_passed"] is True
    assert row["passed"] is False and row["judged_on"] == "share of nights"


def test_simulate_fails_on_a_gate_whose_share_is_too_low(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gates = ('gates=["hotline_wait_max_min <= 30 with 90%", '
             '"published_fraction >= 0.5 by 23:30", "data_loss == 0"]')
    code = main(["simulate", "smoke", "--runs", "8", "--set", "hotline.operators=1",
                 "--set", "people.app_installed=0.1", "--set", gates,
                 "--out", str(tmp_path), "--fail-on-gates"])
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text())
    first = summary["gates"][0]
    assert first["judged_on"] == "share of nights" and first["passed"] is False
    assert first["pass_share"]["probability"] < 0.9
    assert code == 1
    line = next(x for x in out.splitlines() if "hotline_wait_max_min <= 30" in x)
    assert line.split()[0] == "FAIL" and "nights passing" in line and "(needs 90%)" in line
    assert "median run" in line
