"""``rehearse replay`` as a media consumer meets it: a real server on loopback, polled
every 5 simulated seconds with ETags, must show the recorded night version by version.

The recorded night is the hand-built smoke run of ``conftest.recorded_night``; set
``REPLAY_RUN_DIR`` to a finished run directory (for example of ``rehearse run iowa-2020
--speed 600``) to check that one too, at ``REPLAY_SPEED`` (default 600).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from caucus_rehearsal.cli import main
from conftest import NIGHT_SPEED, RecordedNight

POLL_SIM_S = 5.0
"""The consumer's polling interval, simulated seconds."""


def expected_states(run_dir: Path) -> list[dict[str, Any]]:
    """The distinct published states of ``snapshots.jsonl``, read here independently of
    the replay: consecutive readable results that differ, the zero state first."""
    states: list[dict[str, Any]] = []
    for text in (run_dir / "snapshots.jsonl").read_text().splitlines():
        line = json.loads(text)
        results = line.get("results")
        if line.get("status") != 200 or not isinstance(results, dict):
            continue
        state = {"reporting": results["precincts_reporting"], "version": results.get("version"),
                 "statewide": results["statewide"], "precincts": results["precincts"]}
        if not states or state != states[-1]:
            states.append(state)
    if states[0]["reporting"] or states[0]["precincts"]:
        zero = {k: dict.fromkeys(v, 0) for k, v in states[0]["statewide"].items()}
        states.insert(0, {"reporting": 0, "version": 1, "statewide": zero, "precincts": {}})
    return states


def _start(run_dir: Path, speed: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from caucus_rehearsal.cli import main; raise SystemExit(main())",
         "replay", str(run_dir), "--port", "0", "--speed", str(speed)],
        stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert "replaying" in first, first
    url = first.split(" on ", 1)[1].split(":", 2)
    return proc, f"{url[0]}:{url[1]}:{url[2].split(':')[0]}"


def poll_night(run_dir: Path, speed: float) -> tuple[list[dict[str, Any]], int, str]:
    """Poll a replay of ``run_dir`` like a media consumer until the night ends; the states
    seen (each change of ``/v1/results`` with the precincts fetched then), the number of
    304 answers, and the replay's stderr after SIGTERM (exit code checked)."""
    proc, url = _start(run_dir, speed)
    seen: list[dict[str, Any]] = []
    not_modified = 0
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(200):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.02)
            tag: str | None = None
            interval = POLL_SIM_S / speed
            due = time.monotonic()
            next_status = due + 1.0
            while True:
                got = client.get("/v1/results", headers={"If-None-Match": tag} if tag else {})
                if got.status_code == 304:
                    not_modified += 1
                else:
                    assert got.status_code == 200, got.text
                    tag = got.headers["etag"]
                    body = got.json()
                    pos = got.headers["x-replay-position"]  # the same state, however late
                    detail = client.get(f"/v1/results/precincts?position={pos}").json()
                    detail = {u: x for u, x in detail["precincts"].items() if x["reporting"]}
                    seen.append({"version": body["version"],
                                 "reporting": body["precincts_reporting"],
                                 "statewide": body["statewide"], "precincts": detail})
                if time.monotonic() >= next_status:
                    if client.get("/status").json()["ended"]:
                        break
                    next_status += 1.0
                due += interval
                time.sleep(max(0.0, due - time.monotonic()))
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return seen, not_modified, err


def _comparable(state: dict[str, Any]) -> dict[str, Any]:
    keep = ("attendance", "first", "final", "delegates", "sde")
    return {"reporting": state["reporting"], "statewide": state["statewide"],
            "precincts": {u: {k: p[k] for k in keep} for u, p in state["precincts"].items()}}


def _check_night(run_dir: Path, speed: float) -> list[dict[str, Any]]:
    expected = expected_states(run_dir)
    seen, not_modified, err = poll_night(run_dir, speed)
    versions = [s["version"] for s in seen]
    assert len(versions) == len(expected) and versions == sorted(set(versions))
    recorded = [s["version"] for s in expected]
    if recorded[-1] is not None:  # the target published versions: the same ones
        assert versions[1:] == recorded[1:] and versions[0] in (1, recorded[0])
    assert [_comparable(s) for s in seen] == [_comparable(s) for s in expected]
    assert not_modified > len(seen)  # most polls: nothing changed
    assert err.rstrip().endswith("replay stopped")
    return seen


@pytest.mark.slow
def test_a_media_consumer_sees_every_version_of_the_night(
        recorded_night: RecordedNight) -> None:
    seen = _check_night(recorded_night.path, 2 * NIGHT_SPEED)  # versions >= 0.5 s apart
    assert [s["version"] for s in seen] == [1, 2, 3, 4, 5, 6]  # none recorded: positions


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("REPLAY_RUN_DIR"), reason="REPLAY_RUN_DIR not set")
def test_a_recorded_run_replays_version_by_version() -> None:
    _check_night(Path(os.environ["REPLAY_RUN_DIR"]), float(os.environ.get("REPLAY_SPEED", 600)))


def test_a_run_without_snapshots_is_one_line_and_exit_2(
        recorded_night: RecordedNight, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("run.json", "truth.jsonl", "roster.json"):
        (bare / name).write_bytes((recorded_night.path / name).read_bytes())
    assert main(["replay", str(bare)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "snapshots.jsonl: missing" in err
    assert main(["replay", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["replay", str(bare), "--speed", "0"])
    assert exc.value.code == 2


@pytest.mark.slow
def test_ctrl_c_stops_the_replay_cleanly(recorded_night: RecordedNight) -> None:
    proc, url = _start(recorded_night.path, NIGHT_SPEED)
    try:
        for _ in range(200):
            try:
                assert httpx.get(url + "/status").json()["position"] >= 1
                break
            except httpx.TransportError:
                time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and err.rstrip().endswith("replay stopped"), err
