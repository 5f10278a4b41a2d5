"""The replay's feed: versions read from the snapshots, and the server answering them
(in process, FastAPI's TestClient)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.replay.app import ReplayClock, create_app
from caucus_rehearsal.replay.feed import Feed
from caucus_rehearsal.replay.timeline import parse_moment, read_timeline
from caucus_rehearsal.rundir.reader import read_run_head
from conftest import RecordedNight


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (path / "snapshots.jsonl").read_text().splitlines()]


def test_versions_follow_content_changes_only(recorded_night: RecordedNight) -> None:
    timeline = read_timeline(read_run_head(recorded_night.path))
    assert [(s.position, s.sim_min, s.reporting) for s in timeline.steps] == [
        (1, -30.0, 0), (2, 20, 8), (3, 30, 12), (4, 70, 20), (5, 210, 35), (6, 250, 40)]
    assert [s.version for s in timeline.steps] == [1, 2, 3, 4, 5, 6]
    assert timeline.failed_min == [40]
    assert (timeline.start_min, timeline.end_min) == (-30.0, 260)
    assert timeline.position_at(-100) == 1 and timeline.position_at(69.9) == 3
    assert timeline.position_at(70) == 4 and timeline.position_at(10_000) == 6
    last = _lines(recorded_night.path)[-1]["results"]
    state = timeline.state(6)
    assert list(state) == sorted(last["precincts"])  # roster order (IA-0001, ...)
    for uid, rec in state.items():
        assert {k: rec[k] for k in ("attendance", "first", "final", "delegates", "sde")} \
            == last["precincts"][uid]
        assert rec["reporting"] is True and rec["revision"] in (2, 3, 4, 5, 6)


def test_a_correction_is_a_new_precinct_version(recorded_night: RecordedNight) -> None:
    timeline = read_timeline(read_run_head(recorded_night.path))
    uid = recorded_night.wrong[0]
    before, after = timeline.state(5)[uid], timeline.state(6)[uid]
    assert before["version"] == 1 and after["version"] == 2 and before != after
    assert (before["revision"], after["revision"]) == (2, 6)  # the feed versions it changed at
    assert uid in timeline.step(6).changed
    assert timeline.state(6)[recorded_night.wrong[0]]["county"]  # named from the roster


def _write(path: Path, lines: list[dict[str, Any]], run: dict[str, Any] | None = None) -> Path:
    path.mkdir()
    (path / "run.json").write_text(json.dumps(run or {"status": "complete"}))
    tally = {"attendance": 10, "first": {"A": 6, "B": 4}, "final": {"A": 6, "B": 4},
             "delegates": {"A": 2, "B": 2}, "sde": {"A": 0.5, "B": 0.5}}
    (path / "truth.jsonl").write_text("".join(
        json.dumps({"unit_id": u, "county": "C", "precinct": f"P {u}", "satellite": False,
                    "delegates_total": 4, "coin_toss": False, "tally": tally}) + "\n"
        for u in ("U1", "U2")))
    (path / "snapshots.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (path / "events.jsonl").write_text(json.dumps({
        "unit_id": "U1", "actor": "operator", "channel": "paper", "step": "delivered",
        "outcome": "ok", "sent_wall": 5.0}) + "\n")
    return path


def _results(precincts: dict[str, Any]) -> dict[str, Any]:
    return {"precincts_total": 2, "precincts_reporting": len(precincts),
            "statewide": {"first": {"A": 6 * len(precincts)}, "final": {}, "sde": {}},
            "precincts": precincts}


REC = {"attendance": 10, "first": {"A": 6, "B": 4}, "final": {"A": 6, "B": 4},
       "delegates": {"A": 2, "B": 2}, "sde": {"A": 0.5, "B": 0.5}}


def test_data_in_the_first_fetch_still_starts_from_the_zero_state(tmp_path: Path) -> None:
    path = _write(tmp_path / "run", [
        {"sim_min": 10.0, "fetched_wall": 10.0, "status": 200,
         "results": _results({"U1": REC})},
        {"sim_min": 20.0, "status": 200, "results": _results({})}])
    timeline = read_timeline(read_run_head(path))
    zero, first, gone = timeline.steps
    assert zero.sim_min == first.sim_min == 10.0  # no run start recorded: the first fetch
    assert zero.summary["precincts_total"] == 2 and zero.reporting == 0
    assert zero.summary["statewide"]["first"] == {"A": 0, "B": 0} and zero.changed == {}
    assert first.changed["U1"] is not None and first.changed["U1"]["channel"] == "hotline"
    assert first.changed["U1"]["revision"] == first.version == 2
    assert first.summary["statewide"]["final"] == {"A": 0, "B": 0}  # every candidate
    assert gone.changed == {"U1": None} and timeline.state(3) == {}


def test_recorded_versions_and_channels_are_served_as_published(tmp_path: Path) -> None:
    rec = {**REC, "version": 7, "revision": 40, "channel": "app"}
    zero_row = {**REC, "reporting": False, "attendance": 0}  # a target's zero row
    results = {**_results({"U2": rec}), "version": 41, "published_at": 5.0}
    listed = {**results, "precincts": {"U2": rec, "U1": zero_row}}  # the same state
    path = _write(tmp_path / "run", [{"sim_min": 0.0, "status": 200, "results": results},
                                     {"sim_min": 9.0, "status": 200, "results": listed}],
                  run={"status": "complete", "sim_start_min": -30})
    zero, first = read_timeline(read_run_head(path)).steps
    assert (zero.sim_min, zero.version, first.version) == (-30, 1, 41)
    got = first.changed["U2"]
    assert got is not None and (got["version"], got["revision"], got["channel"]) == (7, 40, "app")
    assert "published_at" not in first.summary  # the replay's own, when it serves it


@pytest.mark.parametrize("lines", [[], [{"sim_min": 1.0, "status": 0, "results": None}]])
def test_no_readable_snapshot_is_an_input_error(tmp_path: Path,
                                                lines: list[dict[str, Any]]) -> None:
    path = _write(tmp_path / "run", lines)
    with pytest.raises(InputFileError, match=r"snapshots\.jsonl: holds no readable snapshot"):
        read_timeline(read_run_head(path))
    (path / "snapshots.jsonl").unlink()
    with pytest.raises(InputFileError, match=r"snapshots\.jsonl: missing"):
        read_timeline(read_run_head(path))


@pytest.mark.parametrize(("text", "minute"), [
    ("23:00", 240.0), ("16:00+1d", 1260.0), ("18:30", -30.0), ("240", 240.0),
    ("-12.5", -12.5), ("end", None)])
def test_moments(text: str, minute: float | None) -> None:
    assert parse_moment(text) == minute


@pytest.mark.parametrize("text", ["tonight", "25:00", "nan", "inf", ""])
def test_bad_moments(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        parse_moment(text)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def served(recorded_night: RecordedNight) -> Iterator[tuple[TestClient, FakeTime]]:
    fake = FakeTime()
    timeline = read_timeline(read_run_head(recorded_night.path))
    app = create_app(Feed(timeline), ReplayClock(timeline.start_min, 600.0, fake), "night")
    with TestClient(app) as client:
        yield client, fake


def test_the_clock_moves_through_the_versions(served: tuple[TestClient, FakeTime]) -> None:
    client, fake = served
    got = client.get("/v1/results")
    assert got.status_code == 200 and got.json()["version"] == 1
    assert list(got.json())[:4] == ["election", "candidates", "version", "published_at"]
    assert abs(got.json()["published_at"] - time.time()) < 60
    assert got.json()["precincts_reporting"] == 0 and got.headers["cache-control"] == "no-cache"
    tag = got.headers["etag"]
    assert client.get("/v1/results", headers={"If-None-Match": tag}).status_code == 304
    fake.now += (20 - -30) * 60 / 600  # the replay reaches 19:20
    got = client.get("/v1/results", headers={"If-None-Match": tag})
    assert got.status_code == 200 and got.json()["version"] == 2 and got.headers["etag"] != tag
    status = client.get("/status").json()
    assert status["clock"] == "19:20" and (status["position"], status["total"]) == (2, 6)
    assert status["speed"] == 600.0 and status["ended"] is False
    assert status["next_change"]["clock"] == "19:30"
    fake.now += 1000
    assert client.get("/status").json()["ended"] is True
    assert client.get("/v1/results").json()["version"] == 6


def test_at_and_position_answer_any_moment(served: tuple[TestClient, FakeTime],
                                           recorded_night: RecordedNight) -> None:
    client, _ = served
    assert client.get("/v1/results?at=23:00").json()["precincts_reporting"] == 35
    assert client.get("/v1/results?at=210").json()["version"] == 5
    assert client.get("/v1/results?at=209.9").json()["version"] == 4
    assert client.get("/v1/results?at=end").json()["version"] == 6
    assert client.get("/v1/results?position=1").json()["precincts_reporting"] == 0
    body = client.get("/v1/results/precincts?at=19:35").json()
    assert body["version"] == 3 and len(body["precincts"]) == 40  # every unit of the roster
    assert sum(p["reporting"] for p in body["precincts"].values()) == 12
    assert list(body["precincts"]) == sorted(body["precincts"])  # roster order
    uid = recorded_night.wrong[0]
    one = client.get(f"/v1/results/precincts/{uid}?position=6")
    assert one.status_code == 200 and one.json()["version"] == 2
    assert one.headers["x-replay-position"] == "6"
    again = client.get(f"/v1/results/precincts/{uid}?position=6",
                       headers={"If-None-Match": one.headers["etag"]})
    assert again.status_code == 304
    early = client.get(f"/v1/results/precincts/{uid}?position=1").json()
    assert early["reporting"] is False and early["channel"] is None
    assert early["revision"] == 0 and early["first"] == dict.fromkeys(early["first"], 0)
    assert set(early) == set(one.json())  # a zero row has the live format
    nobody = client.get("/v1/results/precincts/XX-9999")
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "unknown_precinct"


@pytest.mark.parametrize("query", ["at=tonight", "position=0", "position=7", "position=x",
                                   "at=23:00&position=2"])
def test_a_bad_query_is_a_422(served: tuple[TestClient, FakeTime], query: str) -> None:
    client, _ = served
    got = client.get(f"/v1/results?{query}")
    assert got.status_code == 422 and got.json()["error"]["code"] == "bad_query"


def test_timeline_lists_every_position(served: tuple[TestClient, FakeTime]) -> None:
    client, _ = served
    positions = client.get("/timeline").json()["positions"]
    assert [(p["clock"], p["precincts_reporting"]) for p in positions] == [
        ("18:30", 0), ("19:20", 8), ("19:30", 12), ("20:10", 20), ("22:30", 35),
        ("23:10", 40)]
    assert client.get("/healthz").json() == {"status": "ok", "provisioned": True,
                                             "precincts": 40}
