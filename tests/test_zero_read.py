"""Reading the feed for the zero state and the integrity checks: the contract-v1 adapter's
zero rows against the real reference server (in process), a pair of reads torn by a
write between them, and the zero read ``rehearse run`` records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from caucus_rehearsal.errors import TargetProtocolError
from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter
from caucus_rehearsal.rehearsal.adapters.v1 import TORN_READS, ContractV1Adapter
from caucus_rehearsal.rehearsal.boundary import Boundary
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.zero_check import read_zero_state
from caucus_rehearsal.rundir.zero import ZeroRead
from support.server import ADMIN_H, CANDIDATES, GOOD, client, report_app, roster

ZEROS = {c: 0 for c in CANDIDATES}


def adapter() -> ContractV1Adapter:
    return ContractV1Adapter("http://testserver", CANDIDATES, "admin-secret")


def test_the_reference_servers_zero_rows_are_read_as_unreported(tmp_path: Path) -> None:
    c = client(tmp_path)
    res = adapter().zero_state(c)
    ids = [p["id"] for p in roster()["precincts"]]
    assert res["precincts"] == {} and list(res["unreported"]) == ids
    assert res["precincts_reporting"] == 0 and res["statewide"]["final"] == ZEROS
    assert res["unreported"]["P0001"]["final"] == ZEROS and res["unreported"]["P0001"][
        "attendance"] == 0
    assert "unreported" not in adapter().published(c)  # the live snapshots carry none


def test_provisioning_the_same_roster_again_keeps_what_was_reported(tmp_path: Path) -> None:
    """A server started on a previous night's database shows its results as leftovers."""
    c = client(tmp_path)
    report_app(c, "P0002")
    c.close()
    again = client(tmp_path)  # the same database, provisioned with the same roster
    res = adapter().zero_state(again)
    assert list(res["precincts"]) == ["P0002"] and "P0002" not in res["unreported"]
    assert res["precincts"]["P0002"]["attendance"] == GOOD["attendance"]
    assert res["precincts_reporting"] == 1


def mock(summaries: list[int], lists: list[int]) -> tuple[httpx.Client, list[str]]:
    """A target whose successive summaries and precinct lists show these versions."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/v1/results":
            v = summaries.pop(0) if len(summaries) > 1 else summaries[0]
            return httpx.Response(200, headers={"ETag": f'"d-{v}"'}, json={
                "version": v, "precincts_total": 1, "precincts_reporting": 0,
                "statewide": {"first": ZEROS, "final": ZEROS, "sde": ZEROS}})
        v = lists.pop(0) if len(lists) > 1 else lists[0]
        return httpx.Response(200, json={"version": v, "precincts": {}})

    return httpx.Client(transport=httpx.MockTransport(answer), base_url="http://t"), seen


def test_a_torn_pair_is_read_again_until_one_version_shows() -> None:
    c, seen = mock([1, 2], [2])  # a write between the summary and the list
    tag, res = adapter().published_since(c, None)
    assert res is not None and res["version"] == 2 and "precincts_version" not in res
    assert tag == '"d-2"'
    assert seen == ["/v1/results", "/v1/results/precincts", "/v1/results"]


def test_a_pair_still_torn_says_so() -> None:
    c, seen = mock(list(range(1, 20, 2)), list(range(2, 20, 2)))  # always one write behind
    _, res = adapter().published_since(c, None)
    assert res is not None and res["precincts_version"] == 2 * TORN_READS
    assert seen.count("/v1/results/precincts") == TORN_READS


def unversioned(reporting: list[int]) -> tuple[httpx.Client, list[str]]:
    """A target without versions whose successive summaries show these precincts
    reporting (its precinct list is always the same)."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/v1/results":
            n = reporting.pop(0) if len(reporting) > 1 else reporting[0]
            return httpx.Response(200, json={
                "precincts_total": 1, "precincts_reporting": n,
                "statewide": {"first": ZEROS, "final": ZEROS, "sde": ZEROS}})
        return httpx.Response(200, json={"precincts": {}})

    return httpx.Client(transport=httpx.MockTransport(answer), base_url="http://t"), seen


def test_without_versions_a_pair_is_whole_when_the_summary_is_the_same_after_the_list(
        ) -> None:
    c, seen = unversioned([0, 1, 1])  # a write between the first summary and the list
    _, res = adapter().published_since(c, None)
    assert res is not None and res["precincts_reporting"] == 1
    assert "precincts_version" not in res
    assert seen == ["/v1/results", "/v1/results/precincts", "/v1/results",
                    "/v1/results/precincts", "/v1/results"]


def test_without_versions_a_pair_still_torn_says_so() -> None:
    c, seen = unversioned(list(range(20)))  # a write between every two reads
    _, res = adapter().published_since(c, None)
    assert res is not None and res["precincts_version"] is None
    assert seen.count("/v1/results/precincts") == TORN_READS


class _Broken(TargetAdapter):
    def published(self, client: httpx.Client) -> dict[str, Any]:
        raise TargetProtocolError("GET /results: HTTP 404 not yet")


def test_the_zero_read_is_recorded_failed_or_skipped() -> None:
    clock = SimClock(1_790_000_000.0, 600.0, -30.0)
    with httpx.Client(base_url="http://t") as c:
        failed = read_zero_state(_Broken("http://t", CANDIDATES), Boundary(c), clock, False)
        skipped = read_zero_state(_Broken("http://t", CANDIDATES), Boundary(c), clock, True)
    assert (failed.status, failed.results) == (0, None)
    assert failed.detail == "zero_state: TargetProtocolError: GET /results: HTTP 404 not yet"
    assert skipped.as_json() == {"skipped": True, "detail": "--skip-zero-check"}
    doc = json.loads(json.dumps(failed.as_json()))
    assert ZeroRead.from_json(doc) == failed


def test_admin_reset_returns_the_feed_to_zero(tmp_path: Path) -> None:
    c = client(tmp_path)
    report_app(c, "P0001")
    assert list(adapter().zero_state(c)["precincts"]) == ["P0001"]
    assert c.post("/v1/admin/reset", headers=ADMIN_H).status_code == 200
    res = adapter().zero_state(c)
    assert res["precincts"] == {} and len(res["unreported"]) == len(roster()["precincts"])
