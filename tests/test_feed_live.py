"""The published feed judged live against the reference server on loopback: a server on a
previous night's database fails the zero state naming its leftovers, and the transient
faults (a stale read, a spike) are caught with the moments they were seen.

(A clean run passing the zero-state and integrity gates is ``test_run_smoke``'s first
test: the smoke scenario gates them.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.simulator.loader import resolve
from caucus_rehearsal.simulator.units import parse_clock
from conftest import ADMIN, SHORT_SMOKE, Rehearsal

pytestmark = pytest.mark.slow


def published_at_the_end(run_dir: Path) -> set[str]:
    """The units the night's final read of the feed showed reporting: what its database
    holds (more than the finals acknowledged: a night cut short at ``live.end``, or late
    on a busy machine, leaves units with an attendance or a first alignment only)."""
    last = json.loads((run_dir / "snapshots.jsonl").read_text().splitlines()[-1])
    return set(last["results"]["precincts"])


def gates(r: Rehearsal) -> dict[str, tuple[float | None, str]]:
    return {g["metric"]: (g["value"], g["result"]) for g in r.summary["gates"]}


def test_a_server_on_a_previous_nights_database_fails_the_zero_state(
        rehearse: Callable[..., Rehearsal]) -> None:
    first = rehearse("smoke", *SHORT_SMOKE)
    assert first.summary["zero_state"]["errors"] == 0, first.stdout + first.stderr
    left = published_at_the_end(first.run_dir)
    assert left
    server = start_server(first.run_dir / "reporting.db", admin_token=ADMIN)
    try:
        second = rehearse("smoke", *SHORT_SMOKE, "--target", server.url,
                          "--admin-token", ADMIN)
    finally:
        server.stop()
    assert (second.code, second.summary["verdict"]) == (1, "fail"), second.stdout
    assert gates(second)["zero_state_errors"][1] == "fail"
    z = second.summary["zero_state"]
    assert set(z["leftovers"]) == left  # each unit the first night published, by name
    assert all(w.startswith("reporting, attendance ") for w in z["leftovers"].values())
    assert f"precincts reporting {len(left)}" in z["totals"]
    assert "The target did not start from zero" in second.first_finding()
    assert second.rebuilt_identically()


def test_transient_faults_are_caught_with_their_moments(
        rehearse: Callable[..., Rehearsal], tmp_path: Path) -> None:
    """Wayne County (a stale feed: precincts reporting falls, precincts vanish) switched
    on at 19:30, then Sussex County (a spiked total under an unchanged version) at 20:40.
    A transient's first window opens one cycle after it is switched on: at speed 1000 a
    cycle of 3 s is 50 simulated minutes (the stale feed from 20:20), of 2 s 33 (the spike
    from 21:13)."""
    scenario = tmp_path / "transient.toml"
    scenario.write_text(resolve("smoke").read_text() + (
        'faults = [{ at = "19:30", until = "20:40", fault = "transient:stale:2s:3s" },\n'
        '          { at = "20:40", fault = "transient:spike:1s:2s" }]\n'))
    r = rehearse(str(scenario), "--speed", "1000", "--band-runs", "0",
                 "--set", "live.end=22:00")
    assert (r.code, r.summary["verdict"]) == (1, "fail"), r.stdout + r.stderr
    got = gates(r)
    for metric in ("reporting_decreases", "disappeared_precincts", "snapshot_total_errors"):
        assert got[metric][1] == "fail", (metric, got[metric])
    assert got["zero_state_errors"][0] == 0.0  # read before any fault was switched on
    seen = r.summary["integrity"]["violations"]

    def first(kind: str) -> float:
        return float(next(v["sim_min"] for v in seen if v["kind"] == kind))

    # a snapshot's moment is when its fetch began (3 minutes are 180 ms at speed 1000)
    assert parse_clock("20:17") <= first("disappeared_precincts") <= parse_clock("20:40")
    assert first("reporting_decreases") == first("disappeared_precincts")
    assert parse_clock("21:10") <= first("snapshot_total_errors") <= parse_clock("21:30")
    html = (r.run_dir / "report.html").read_text()
    assert "<h2>The feed over time</h2>" in html and "chart-published_feed" in html
