"""The published feed over the night (issue 14, server side): the zero state, versions and
revision markers, what provisioning does to existing results, and the transient fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from caucus_rehearsal.server.feed import accepts_gzip
from support.server import (
    ADMIN_H,
    CANDIDATES,
    GOOD,
    chair,
    client,
    operator,
    report_app,
    reporting,
    roster,
)

ZEROS = dict.fromkeys(CANDIDATES, 0)


SAT_ONE = {"attendance": 30, "first": {"Biden": 30}, "final": {"Biden": 30},
           "delegates": {"Biden": 5}}
SAT_TWO = {"attendance": 10, "first": {"Sanders": 10}, "final": {"Sanders": 10},
           "delegates": {"Sanders": 4}}


def _feed(c: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    return c.get("/v1/results").json(), c.get("/v1/results/precincts").json()


def test_the_zero_state_lists_every_unit_in_the_live_format() -> None:
    c = client()
    summary, detail = _feed(c)
    assert summary["precincts_reporting"] == 0 and summary["precincts_total"] == 6
    assert summary["statewide"] == {"first": ZEROS, "final": ZEROS, "sde": ZEROS}
    assert summary["version"] == 1 and summary["published_at"] > 0  # the provisioning
    assert list(detail["precincts"]) == [p["id"] for p in roster()["precincts"]]
    assert detail["precincts"]["P0001"] == {
        "county": "Adair", "name": "Precinct 1", "satellite": False, "reporting": False,
        "channel": None, "version": 0, "revision": 0, "attendance": 0, "first": ZEROS,
        "final": ZEROS, "delegates": ZEROS, "sde": ZEROS}
    report_app(c, "P0001")
    live = c.get("/v1/results/precincts").json()["precincts"]
    assert set(live["P0001"]) == set(detail["precincts"]["P0001"])  # the same fields
    assert live["P0001"]["reporting"] is True and live["P0002"]["reporting"] is False


def test_every_change_of_what_is_published_is_a_new_version_and_revision() -> None:
    c = client()
    v0 = c.get("/v1/results")
    h = report_app(c, "P0001")
    v1 = c.get("/v1/results")
    assert v1.json()["version"] > v0.json()["version"]
    assert v1.json()["published_at"] >= v0.json()["published_at"]
    assert v1.headers["ETag"] != v0.headers["ETag"]
    assert v1.headers["ETag"].endswith(f'-{v1.json()["version"]}"')
    p1 = c.get("/v1/results/precincts/P0001").json()
    assert p1["revision"] == v1.json()["version"]
    # what does not change the feed does not change its version
    assert c.post("/v1/precincts/P0001/attendance", json={"attendance": 100},
                  headers=h).status_code == 200
    assert c.post("/v1/precincts/P0001/attendance", json={"attendance": 7},
                  headers=h).status_code == 409
    assert c.post("/v1/precincts/P0002/attendance", json={"attendance": 100},
                  headers=chair(c, "P0002")).status_code == 201  # not reporting yet
    assert c.get("/v1/results", headers={"If-None-Match": v1.headers["ETag"]}).status_code == 304
    # a correction: a new version and a new revision of that precinct only
    fixed = {"final": {"Biden": 46, "Sanders": 39, "Warren": 15}, "delegates": GOOD["delegates"]}
    assert c.post("/v1/precincts/P0001/final-alignment", json=fixed, headers=h).status_code == 201
    v2 = c.get("/v1/results").json()["version"]
    after = c.get("/v1/results/precincts").json()
    assert after["version"] == v2 > v1.json()["version"]
    assert after["precincts"]["P0001"]["revision"] == v2
    assert after["precincts"]["P0002"]["revision"] == 0


def test_a_satellite_report_revises_its_group_whose_sde_it_changes() -> None:
    c = client()
    op = operator(c)
    s1 = c.post("/v1/hotline/precincts/S1/report", json=SAT_ONE, headers=op).json()["seq"]
    before = c.get("/v1/results/precincts/S1")
    assert before.json()["revision"] == s1
    s2 = c.post("/v1/hotline/precincts/S2/report", json=SAT_TWO, headers=op).json()["seq"]
    after = c.get("/v1/results/precincts/S1", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # its SDE share changed, and so did its revision
    assert after.json()["sde"] != before.json()["sde"] and after.json()["revision"] == s2


def _faults(c: TestClient, *specs: str) -> None:
    assert c.put("/v1/admin/faults", json={"faults": list(specs)},
                 headers=ADMIN_H).status_code == 200


def test_a_withheld_satellite_counts_nowhere_in_what_is_published() -> None:
    c = client()
    op = operator(c)
    assert c.post("/v1/hotline/precincts/S1/report", json=SAT_ONE, headers=op).status_code == 201
    alone = c.get("/v1/results/precincts/S1").json()
    assert alone["sde"]["Biden"] == 3.0  # the group's 3 state delegates, all S1's
    _faults(c, "incomplete-output")
    assert c.post("/v1/hotline/precincts/S2/report", json=SAT_TWO, headers=op).status_code == 201
    assert c.get("/v1/results/precincts/S1").json() == alone
    assert c.get("/v1/results").json()["statewide"]["sde"]["Biden"] == 3.0
    # what is stored (no fault applied) shares the group's SDE between both
    stored = c.get("/v1/admin/precincts", headers=ADMIN_H).json()["precincts"]
    assert stored["S1"]["sde"]["Biden"] == 2.25 and stored["S2"]["sde"]["Sanders"] == 0.75
    _faults(c)
    assert c.post("/v1/hotline/precincts/S2/report", json=SAT_TWO, headers=op).status_code == 201
    assert c.get("/v1/results/precincts/S1").json()["sde"]["Biden"] == 2.25


def test_a_write_withheld_from_publication_changes_no_version(tmp_path: Path) -> None:
    c = client(tmp_path)
    report_app(c, "P0001")
    summary = c.get("/v1/results")
    listing = c.get("/v1/results/precincts")
    zero = c.get("/v1/results/precincts/P0002")
    _faults(c, "incomplete-output")
    report_app(c, "P0002")  # acknowledged, withheld: nothing published changes
    for path, before in (("/v1/results", summary), ("/v1/results/precincts", listing),
                         ("/v1/results/precincts/P0002", zero)):
        r = c.get(path, headers={"If-None-Match": before.headers["ETag"]})
        assert r.status_code == 304, path
        assert c.get(path).json() == before.json(), path
    # a withheld version of a published precinct takes it out: that is a change
    h = chair(c, "P0001")
    fixed = {"final": {"Biden": 46, "Sanders": 39, "Warren": 15}, "delegates": GOOD["delegates"]}
    seq = c.post("/v1/precincts/P0001/final-alignment", json=fixed, headers=h).json()["seq"]
    gone = c.get("/v1/results").json()
    assert gone["version"] == seq > summary.json()["version"]
    assert gone["precincts_reporting"] == 0
    assert c.get("/v1/results/precincts/P0001").json()["revision"] == seq
    assert c.get("/v1/results/precincts/P0002").json() == zero.json()
    # a restart on the same database publishes the same versions and revisions
    feed = _feed(c)
    c.app.state.service.store.close()  # type: ignore[attr-defined]
    again = client(tmp_path, provision=False)
    assert _feed(again) == feed


def test_provisioning_keeps_results_of_the_same_roster_and_refuses_another(
        tmp_path: Path) -> None:
    c = client(tmp_path)
    report_app(c, "P0001")
    feed = _feed(c)
    r = c.post("/v1/admin/provision", json=roster(), headers=ADMIN_H)  # a second START
    assert r.status_code == 200
    assert r.json() == {"precincts": 6, "operators": 2, "candidates": 4, "unchanged": True,
                        "kept_results": 1}
    assert _feed(c) == feed
    other = roster(5)
    r = c.post("/v1/admin/provision", json=other, headers=ADMIN_H)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "results_exist")
    assert "reset=true" in r.json()["error"]["detail"] and _feed(c) == feed
    # a server started on a previous run's database keeps showing that run's leftovers
    c.app.state.service.store.close()  # type: ignore[attr-defined]
    again = client(tmp_path, provision=False)
    assert again.post("/v1/admin/provision", json=roster(), headers=ADMIN_H).status_code == 200
    assert list(reporting(again)) == ["P0001"] and _feed(again) == feed
    r = again.post("/v1/admin/provision?reset=true", json=other, headers=ADMIN_H)
    assert r.status_code == 200 and r.json()["unchanged"] is False
    summary, detail = _feed(again)
    assert summary["precincts_reporting"] == 0 and len(detail["precincts"]) == 7
    assert summary["version"] > feed[0]["version"]  # versions never go back


def test_another_roster_replaces_one_under_which_nothing_was_recorded() -> None:
    c = client()
    r = c.post("/v1/admin/provision", json=roster(2), headers=ADMIN_H)
    assert r.status_code == 200 and r.json()["precincts"] == 4
    kinds = [i["kind"] for i in c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"]]
    assert kinds == ["provision"]  # the trail starts again with the new roster


def test_transient_stale_serves_an_older_state_for_a_window_then_recovers() -> None:
    now = [1000.0]
    c = client(clock=lambda: now[0])
    report_app(c, "P0001")
    c.put("/v1/admin/faults", json={"faults": ["transient:stale:5s:60s"]}, headers=ADMIN_H)
    held = c.get("/v1/results")  # kept for the first window
    report_app(c, "P0002")
    live = c.get("/v1/results")
    assert live.json()["precincts_reporting"] == 2
    now[0] += 61  # inside the first window
    glitch = c.get("/v1/results", headers={"If-None-Match": held.headers["ETag"]})
    assert glitch.status_code == 200 and glitch.content == held.content
    assert glitch.headers["ETag"] == held.headers["ETag"]
    assert list(reporting(c)) == ["P0001"]  # P0002 disappears from the feed too
    now[0] += 5  # the window has closed: the feed recovers
    assert c.get("/v1/results").content == live.content
    assert sorted(reporting(c)) == ["P0001", "P0002"]
    c.put("/v1/admin/faults", json={"faults": []}, headers=ADMIN_H)
    now[0] += 55
    assert c.get("/v1/results").content == live.content  # switched off: no more windows


def test_transient_spike_raises_one_total_under_the_same_version() -> None:
    now = [1000.0]
    c = client(faults=["transient:spike:2s:30s"], clock=lambda: now[0])
    report_app(c, "P0001")
    report_app(c, "P0002")
    live = c.get("/v1/results")
    now[0] += 30.5
    glitch = c.get("/v1/results", headers={"If-None-Match": live.headers["ETag"]})
    assert glitch.status_code == 200 and glitch.headers["ETag"] == live.headers["ETag"]
    final, was = glitch.json()["statewide"]["final"], live.json()["statewide"]["final"]
    assert final["Biden"] == was["Biden"] + 100 and final["Sanders"] == was["Sanders"]
    assert glitch.json()["version"] == live.json()["version"]
    assert sum(p["final"]["Biden"] for p in reporting(c).values()) == was["Biden"]
    now[0] += 2
    assert c.get("/v1/results").content == live.content


@pytest.mark.parametrize(("header", "ok"), [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.5", True), ("*", True),
    ("gzip;q=0", False), ("gzip; q=0.0", False), ("deflate", False), ("", False), (None, False)])
def test_accept_encoding(header: str | None, ok: bool) -> None:
    assert accepts_gzip(header) is ok


def test_the_precinct_list_is_gzipped_for_clients_that_accept_it() -> None:
    c = client()
    report_app(c, "P0001")
    plain = c.get("/v1/results/precincts", headers={"Accept-Encoding": "identity"})
    packed = c.get("/v1/results/precincts", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # httpx decodes it
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    again = c.get("/v1/results/precincts", headers={"Accept-Encoding": "gzip",
                                                   "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and "content-encoding" not in again.headers
    small = c.get("/v1/results", headers={"Accept-Encoding": "gzip"})  # 300 bytes: as is
    assert "content-encoding" not in small.headers
