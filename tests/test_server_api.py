"""Every endpoint and every error of contract v1, in process (FastAPI's TestClient)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.server import (
    ADMIN_H,
    GOOD,
    chair,
    client,
    operator,
    pin,
    report_app,
    reporting,
    roster,
)

P = "/v1/precincts/P0001"


def test_health_and_not_provisioned() -> None:
    c = client(provision=False)
    assert c.get("/healthz").json() == {"status": "ok", "provisioned": False, "precincts": 0}
    r = c.post("/v1/auth/chair", json={"precinct_id": "P0001", "pin": "100001"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_provisioned")
    assert c.get("/v1/results").status_code == 409
    c.post("/v1/admin/provision", json=roster(), headers=ADMIN_H)
    assert c.get("/healthz").json()["precincts"] == 6


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_admin_routes_need_the_admin_token(headers: dict[str, str]) -> None:
    c = client()
    for method, path in [("POST", "/v1/admin/provision"), ("GET", "/v1/admin/audit"),
                         ("GET", "/v1/admin/precincts"), ("GET", "/v1/admin/faults"),
                         ("PUT", "/v1/admin/faults"), ("POST", "/v1/admin/reset")]:
        body = roster() if path.endswith("provision") else {"faults": []}
        r = c.request(method, path, json=body, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized"), path


def test_provision_rejects_inconsistent_rosters() -> None:
    c = client(provision=False)
    dup = roster()
    dup["precincts"].append(dict(dup["precincts"][0]))
    nocounty = roster()
    nocounty["precincts"][0]["county"] = "Nowhere"
    for body in (dup, nocounty):
        r = c.post("/v1/admin/provision", json=body, headers=ADMIN_H)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "bad_roster")
    r = c.post("/v1/admin/provision", json={"candidates": "x"}, headers=ADMIN_H)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_body")


def test_chair_login_and_lockout() -> None:
    now = [1000.0]
    c = client(clock=lambda: now[0])
    ok = {"precinct_id": "P0001", "pin": pin("P0001")}
    bad = {"precinct_id": "P0001", "pin": "000000"}
    assert c.post("/v1/auth/chair", json=ok).status_code == 200
    r = c.post("/v1/auth/chair", json={"precinct_id": "NOPE", "pin": "1"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "bad_credentials")
    codes = [c.post("/v1/auth/chair", json=bad).status_code for _ in range(5)]
    assert codes == [401] * 5
    r = c.post("/v1/auth/chair", json=ok)  # locked: even the right PIN is refused
    assert (r.status_code, r.json()["error"]["code"]) == (429, "locked_out")
    assert r.headers["Retry-After"] == "60"
    other = {"precinct_id": "P0002", "pin": pin("P0002")}
    assert c.post("/v1/auth/chair", json=other).status_code == 200  # lockout is per precinct
    now[0] += 45
    assert c.post("/v1/auth/chair", json=ok).headers["Retry-After"] == "15"
    now[0] += 16
    assert c.post("/v1/auth/chair", json=ok).status_code == 200


def test_operator_login() -> None:
    c = client()
    r = c.post("/v1/auth/operator", json={"operator_id": "op-1", "password": "pw-1"})
    assert r.status_code == 200 and r.json()["operator_id"] == "op-1"
    r = c.post("/v1/auth/operator", json={"operator_id": "op-1", "password": "nope"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "bad_credentials")


def test_chair_flow_publishes_after_the_final() -> None:
    c = client()
    h = chair(c, "P0001")
    r = c.post(P + "/attendance", json={"attendance": 100}, headers=h)
    assert r.status_code == 201 and r.json()["published"] is False
    assert c.get("/v1/results").json()["precincts_reporting"] == 0
    assert c.post(P + "/first-alignment", json={"first": GOOD["first"]},
                  headers=h).status_code == 201
    r = c.post(P + "/final-alignment",
               json={"final": GOOD["final"], "delegates": GOOD["delegates"]}, headers=h)
    assert r.status_code == 201
    assert r.json()["published"] is True and r.json()["version"] == 3
    res = c.get("/v1/results").json()
    assert res["precincts_total"] == 6 and res["precincts_reporting"] == 1
    assert res["percent_reporting"] == pytest.approx(16.67)
    assert res["statewide"]["final"] == {"Biden": 45, "Sanders": 40, "Warren": 15, "Yang": 0}
    # SDE = delegates x ratio (Adair: 4 / 50)
    assert res["statewide"]["sde"] == {"Biden": 0.16, "Sanders": 0.08, "Warren": 0.08,
                                       "Yang": 0.0}
    one = c.get("/v1/results/precincts/P0001").json()
    assert one["channel"] == "app" and one["attendance"] == 100
    assert one["delegates"]["Biden"] == 2


@pytest.mark.parametrize(("token", "status", "code"), [
    (None, 401, "unauthorized"), ("Bearer forged", 401, "unauthorized"),
    ("other", 403, "forbidden"), ("operator", 403, "forbidden")])
def test_a_token_writes_only_its_own_precinct(token: str | None, status: int,
                                              code: str) -> None:
    c = client()
    headers = {} if token is None else (
        chair(c, "P0002") if token == "other" else operator(c) if token == "operator"
        else {"Authorization": token})
    for path, body in [("/attendance", {"attendance": 5}), ("/first-alignment", {"first": {}}),
                       ("/final-alignment", {"final": {}, "delegates": {}})]:
        r = c.post(P + path, json=body, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), path


def test_out_of_order_and_impossible_numbers() -> None:
    c = client()
    h = chair(c, "P0001")
    r = c.post(P + "/first-alignment", json={"first": GOOD["first"]}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "out_of_order")
    r = c.post(P + "/final-alignment", json={"final": {}, "delegates": {}}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "out_of_order")
    c.post(P + "/attendance", json={"attendance": 100}, headers=h)
    r = c.post(P + "/first-alignment", json={"first": {"Biden": 99}}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "first_sum_mismatch")
    r = c.post(P + "/first-alignment", json={"first": {"Nobody": 100}}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_candidate")
    c.post(P + "/first-alignment", json={"first": GOOD["first"]}, headers=h)
    r = c.post(P + "/final-alignment", headers=h, json={
        "final": GOOD["final"], "delegates": {"Biden": 3, "Sanders": 1}})
    err = r.json()["error"]
    assert r.status_code == 422 and err["code"] == "viable_not_awarded"
    assert {p["code"] for p in err["problems"]} >= {"viable_not_awarded", "delegate_mismatch"}
    assert c.get("/v1/results").json()["precincts_reporting"] == 0  # rejected: not published


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"attendance": "100"}, 422, "invalid_body"), ({"attendance": 1.0}, 422, "invalid_body"),
    ({"attendance": -1}, 422, "invalid_body"), ({"attendance": 10, "x": 1}, 422, "invalid_body"),
    ({}, 422, "invalid_body"), ([1, 2], 422, "invalid_body")])
def test_malformed_bodies_are_4xx(body: object, status: int, code: str) -> None:
    c = client()
    r = c.post(P + "/attendance", json=body, headers=chair(c, "P0001"))
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)


def test_bad_json_and_size_limits() -> None:
    c = client()
    h = {**chair(c, "P0001"), "Content-Type": "application/json"}
    r = c.post(P + "/attendance", content=b'{"attendance": ', headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "malformed_json")
    r = c.post(P + "/attendance", content=b" " * (64 * 1024 + 1), headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "body_too_large")


def test_idempotency_key_replays_and_never_double_counts() -> None:
    c = client()
    h = report_app(c, "P0001")
    body = {"final": GOOD["final"], "delegates": GOOD["delegates"]}
    k = {**h, "Idempotency-Key": "final-1"}
    first = c.post(P + "/final-alignment", json=body, headers=k)
    again = c.post(P + "/final-alignment", json=body, headers=k)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert c.get("/v1/results/precincts/P0001").json()["version"] == first.json()["version"]
    changed = {"final": {"Biden": 46, "Sanders": 39, "Warren": 15},
               "delegates": GOOD["delegates"]}
    r = c.post(P + "/final-alignment", json=changed, headers=k)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "idempotency_key_reused")
    # the key is scoped to the writer: another precinct may use the same one
    h2 = report_app(c, "P0002")
    r = c.post("/v1/precincts/P0002/final-alignment", json=body,
               headers={**h2, "Idempotency-Key": "final-1"})
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    outcomes = [i["outcome"] for i in c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"]
                if i["idempotency_key"] == "final-1"]
    assert outcomes == ["accepted", "replayed", "conflict", "accepted"]


def test_resubmission_is_a_new_version_and_the_latest_valid_is_published() -> None:
    c = client()
    h = report_app(c, "P0001")
    new = {"final": {"Biden": 46, "Sanders": 39, "Warren": 15},
           "delegates": {"Biden": 2, "Sanders": 1, "Warren": 1}}
    assert c.post(P + "/final-alignment", json=new, headers=h).status_code == 201
    bad = {"final": {"Biden": 55, "Sanders": 45}, "delegates": {"Biden": 4}}
    assert c.post(P + "/final-alignment", json=bad, headers=h).status_code == 422
    pub = c.get("/v1/results/precincts/P0001").json()
    assert pub["final"]["Biden"] == 46 and pub["final"]["Sanders"] == 39
    assert pub["version"] == 4
    kinds = [(i["kind"], i["outcome"]) for i in
             c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"] if i["kind"] == "final"]
    assert kinds == [("final", "accepted"), ("final", "accepted"), ("final", "rejected")]


def test_worksheet_photo() -> None:
    c = client()
    h = chair(c, "P0001")
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 1000
    r = c.post(P + "/worksheet", content=jpeg, headers={**h, "Content-Type": "image/jpeg"})
    assert r.status_code == 201
    r = c.post(P + "/worksheet", content=jpeg, headers={**h, "Content-Type": "image/png"})
    assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_media_type")
    r = c.post(P + "/worksheet", content=b"GIF89a", headers={**h, "Content-Type": "image/jpeg"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "not_jpeg")
    big = b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024)
    r = c.post(P + "/worksheet", content=big, headers={**h, "Content-Type": "image/jpeg"})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "body_too_large")
    items = c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"]
    photo = next(i for i in items if i["kind"] == "worksheet" and i["outcome"] == "accepted")
    assert photo["payload"]["bytes"] == len(jpeg)
    svc = c.app.state.service  # type: ignore[attr-defined]
    assert svc.store.worksheet(photo["seq"]) == jpeg


def test_hotline_report_and_satellite_sde() -> None:
    c = client()
    h = operator(c)
    ok = {"attendance": 30, "first": {"Biden": 30}, "final": {"Biden": 30},
          "delegates": {"Biden": 5}}  # satellite D by tier: 21-40 attendees elect 5
    r = c.post("/v1/hotline/precincts/S1/report", json=ok, headers=h)
    assert r.status_code == 201 and r.json()["published"] is True
    assert c.get("/v1/results/precincts/S1").json()["sde"]["Biden"] == 3.0
    two = {"attendance": 10, "first": {"Sanders": 10}, "final": {"Sanders": 10},
           "delegates": {"Sanders": 4}}
    assert c.post("/v1/hotline/precincts/S2/report", json=two, headers=h).status_code == 201
    # the group's 3 SDE shared by attendance, 30 : 10
    assert c.get("/v1/results/precincts/S1").json()["sde"]["Biden"] == 2.25
    assert c.get("/v1/results").json()["statewide"]["sde"]["Sanders"] == 0.75
    r = c.post("/v1/hotline/precincts/NOPE/report", json=ok, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_precinct")
    r = c.post("/v1/hotline/precincts/S1/report", json=ok, headers=chair(c, "S1"))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    r = c.post("/v1/hotline/precincts/P0001/report", headers=h,
               json={**GOOD, "delegates": {"Biden": 4}})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "viable_not_awarded")


def test_results_are_cached_with_etags() -> None:
    c = client()
    for path in ("/v1/results", "/v1/results/precincts"):
        r = c.get(path)
        assert r.headers["Cache-Control"] == "no-cache"
        tag = r.headers["ETag"]
        assert c.get(path, headers={"If-None-Match": tag}).status_code == 304
    before = c.get("/v1/results").headers["ETag"]
    report_app(c, "P0003")
    r = c.get("/v1/results", headers={"If-None-Match": before})
    assert r.status_code == 200 and r.headers["ETag"] != before
    assert list(reporting(c)) == ["P0003"]
    r = c.get("/v1/results/precincts/P0003")
    assert c.get("/v1/results/precincts/P0003",
                 headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    r = c.get("/v1/results/precincts/P0004")  # not reporting: its zero row
    assert r.status_code == 200 and r.json()["reporting"] is False
    r = c.get("/v1/results/precincts/NOPE")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_precinct")


def test_audit_records_arrival_and_request_ids_and_pages() -> None:
    c = client()
    h = chair(c, "P0001")
    for i in range(5):
        c.post(P + "/attendance", json={"attendance": 100 + i},
               headers={**h, "X-Request-Id": f"req-{i}"})
    page = c.get("/v1/admin/audit?after=0&limit=4", headers=ADMIN_H).json()
    assert [i["seq"] for i in page["items"]] == [1, 2, 3, 4] and page["next_after"] == 4
    assert [(i["actor"], i["kind"]) for i in page["items"][:2]] == [
        ("admin", "provision"), ("chair:P0001", "chair_login")]
    rest = c.get("/v1/admin/audit?after=4&limit=4", headers=ADMIN_H).json()
    assert [i["request_id"] for i in rest["items"]] == ["req-2", "req-3", "req-4"]
    assert rest["next_after"] is None
    item = rest["items"][0]
    assert item["received_at"] <= item["stored_at"] and item["actor"] == "chair:P0001"
    assert "pin" not in str(page["items"][1]["payload"])
    r = c.get("/v1/admin/audit?limit=0", headers=ADMIN_H)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_body")


def test_admin_faults_stored_view_and_reset() -> None:
    c = client()
    assert c.get("/v1/admin/faults", headers=ADMIN_H).json() == {"faults": [], "seed": 0}
    r = c.put("/v1/admin/faults", json={"faults": ["latency:1ms", "errors:0"]}, headers=ADMIN_H)
    assert r.json()["faults"] == ["latency:1ms", "errors:0"]
    r = c.put("/v1/admin/faults", json={"faults": ["latency:fast"]}, headers=ADMIN_H)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "bad_fault")
    assert c.get("/v1/admin/faults", headers=ADMIN_H).json()["faults"] == ["latency:1ms",
                                                                          "errors:0"]
    report_app(c, "P0001")
    stored = c.get("/v1/admin/precincts", headers=ADMIN_H).json()["precincts"]
    assert stored == reporting(c)
    version = c.get("/v1/results").json()["version"]
    assert c.post("/v1/admin/reset", headers=ADMIN_H).json() == {"reset": True}
    assert c.get("/v1/results").json()["precincts_reporting"] == 0
    assert c.get("/v1/results").json()["version"] > version  # a reset is a new version
    items = c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"]
    assert [(i["seq"] > version, i["kind"]) for i in items] == [(True, "reset")]
    r = c.post(P + "/attendance", json={"attendance": 1}, headers=chair(c, "P0002"))
    assert r.status_code == 403  # tokens were cleared... and a new one is bound to P0002


def test_unknown_routes_and_methods_use_the_error_shape() -> None:
    c = client()
    r = c.get("/v1/nothing")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = c.delete("/v1/results")
    assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")


def test_restart_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    c = client(tmp_path)
    h = report_app(c, "P0001")
    body = {"final": GOOD["final"], "delegates": GOOD["delegates"]}
    first = c.post(P + "/final-alignment", json=body, headers={**h, "Idempotency-Key": "k"})
    published = c.get("/v1/results/precincts").content
    c.app.state.service.store.close()  # type: ignore[attr-defined]
    again = client(tmp_path, provision=False)
    assert again.get("/v1/results/precincts").content == published
    # the token and the idempotency key survive the restart too
    r = again.post(P + "/final-alignment", json=body, headers={**h, "Idempotency-Key": "k"})
    assert r.json() == first.json() and r.headers["Idempotent-Replayed"] == "true"
