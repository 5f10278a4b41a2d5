"""``--speed auto``: the probe of the target and the machine, and the speed it picks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter
from caucus_rehearsal.rehearsal.night import build_night, roster_body
from caucus_rehearsal.rehearsal.speed import (
    MAX_SPEED,
    _round_down,
    choose_speed,
    cpu_share,
    peak_requests_per_min,
)
from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.simulator.loader import load_scenario


def test_rounding_keeps_two_significant_figures_and_never_goes_below_one() -> None:
    assert [_round_down(x) for x in (0.2, 7.36, 487.0, 1149.0, 60.9)] == \
        [1.0, 7.3, 480.0, 1100.0, 60.0]


def test_the_busiest_minutes_of_a_night() -> None:
    sc = load_scenario("smoke")
    night = build_night(sc)
    peak = peak_requests_per_min(night.plans, sc)
    steps = 4 + int(sc.app.photo)
    assert 0 < peak <= steps * len(night.plans) / 5.0  # never more than every request at once
    assert 0.0 < cpu_share(0.05) <= 1.0


@pytest.mark.slow
def test_auto_speed_against_the_reference_server(tmp_path: Path) -> None:
    sc = load_scenario("smoke")
    night = build_night(sc)
    with start_server(tmp_path / "db.sqlite", admin_token="adm") as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        adapter = ContractV1Adapter(server.url, night.candidates, "adm")
        adapter.provision(client, roster_body(night))
        choice = choose_speed(adapter, client, night.plans, sc)
    assert 1.0 <= choice.speed <= MAX_SPEED
    assert choice.speed <= min(choice.by_latency, choice.by_cpu, MAX_SPEED)
    assert choice.latency_p95_ms > 0 and 0 < choice.cpu_share <= 1
    assert choice.text().startswith(f"speed auto: {choice.speed:g} (target p95 latency ")
