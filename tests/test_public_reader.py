"""The public's reads as an open workload (``rehearsal/public.py``), against the reference
server on loopback: a read is issued at its due moment whatever the target does; what the
load generator cannot send is counted as dropped, never absorbed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter
from caucus_rehearsal.rehearsal.night import build_night, roster_body
from caucus_rehearsal.server.process import start_server
from caucus_rehearsal.simulator.loader import load_scenario

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).parent / "support" / "reader_driver.py"


def read_against(tmp_path: Path, faults: list[str], rate: int, in_flight: int) -> Any:
    with start_server(tmp_path / "r.db", faults=faults, admin_token="adm") as server:
        night = build_night(load_scenario("smoke"))
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ContractV1Adapter(server.url, night.candidates, "adm").provision(
                client, roster_body(night))
        out = subprocess.run([sys.executable, str(DRIVER), server.url, str(rate),
                              str(in_flight), "3"], capture_output=True, text=True,
                             timeout=120, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def test_a_slow_target_gets_its_reads_and_the_rest_are_counted_busy(tmp_path: Path) -> None:
    # 40 page views a second, each answered in 300 ms, at most 4 waiting: the target can
    # take about 13 a second; the other due reads are dropped (busy), counted, not sent.
    got = read_against(tmp_path, ["latency:300ms"], 40, 4)
    c = got["counts"]
    assert c["due"] == c["sent"] + c["dropped_busy"] + c["dropped_late"]
    assert c["dropped_busy"] > c["sent"] > 0
    assert got["readers_started"] == 4
    assert got["p50_ms"] >= 300  # latency from the due moment includes the target's
    assert c["ok"] == c["sent"]


def test_a_target_that_keeps_up_gets_every_read_due(tmp_path: Path) -> None:
    got = read_against(tmp_path, [], 40, 2000)
    c = got["counts"]
    assert c["due"] == c["sent"] == c["ok"] > 60
    assert c["dropped_busy"] == 0
    assert got["readers_started"] < 40  # readers outlive a read: nowhere near one a read
