"""Each fault demonstrably changes the server's behaviour (docs/contract.md, Faults)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import numpy as np
import pytest

from caucus_rehearsal.server.app import create_app
from caucus_rehearsal.server.faults import FaultState, parse_fault
from support.server import ADMIN_H, chair, client, pin, report_app, reporting, roster

LOGIN = {"precinct_id": "P0001", "pin": pin("P0001")}


@pytest.mark.parametrize("spec", [
    "incomplete-output", "incomplete-output:truncate", "login-failures:0.3", "errors:1",
    "latency:200ms", "latency:1.5s", "latency:uniform:50ms:500ms", "latency:exp:100ms",
    "latency:lognormal:50ms:500ms", "outage", "capacity:20", "capacity:5:2s",
    "transient:stale", "transient:spike:2s", "transient:stale:500ms:30s",
    "shared-capacity:200", "shared-capacity:12.5:2s"])
def test_fault_specs_parse(spec: str) -> None:
    assert parse_fault(spec).spec == spec


@pytest.mark.parametrize("spec", [
    "", "bogus", "incomplete-output:all", "login-failures", "login-failures:1.5",
    "errors:x", "latency", "latency:fast", "latency:200", "latency:uniform:5ms",
    "latency:lognormal:500ms:50ms", "outage:1", "capacity:0", "capacity:x", "capacity:2:3",
    "transient", "transient:flicker", "transient:stale:5s:5s", "transient:spike:1s:2s:3s",
    "transient:stale:0s", "shared-capacity", "shared-capacity:0", "shared-capacity:x",
    "shared-capacity:inf", "shared-capacity:10:fast", "shared-capacity:10:1s:2"])
def test_bad_fault_specs_name_the_problem(spec: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        parse_fault(spec)


def test_latency_draws_follow_the_distribution_and_the_seed() -> None:
    a = FaultState(["latency:lognormal:50ms:500ms"], seed=7)
    draws = np.array([a.delay() for _ in range(4000)])
    assert np.median(draws) == pytest.approx(0.05, rel=0.1)
    assert np.quantile(draws, 0.95) == pytest.approx(0.5, rel=0.15)
    b = FaultState(["latency:lognormal:50ms:500ms"], seed=7)
    assert [b.delay() for _ in range(5)] == list(draws[:5])
    assert FaultState(["latency:200ms"]).delay() == 0.2


def test_incomplete_output_drop_stores_but_does_not_publish() -> None:
    c = client()
    report_app(c, "P0001")
    c.put("/v1/admin/faults", json={"faults": ["incomplete-output"]}, headers=ADMIN_H)
    report_app(c, "P0002")  # acknowledged (201) while the fault is on
    stored = c.get("/v1/admin/precincts", headers=ADMIN_H).json()["precincts"]
    published = reporting(c)
    assert sorted(stored) == ["P0001", "P0002"] and sorted(published) == ["P0001"]
    assert c.get("/v1/results").json()["precincts_reporting"] == 1
    assert c.get("/v1/results/precincts/P0002").json()["reporting"] is False
    c.put("/v1/admin/faults", json={"faults": []}, headers=ADMIN_H)
    assert sorted(reporting(c)) == ["P0001"]
    report_app(c, "P0002")  # a new version received with the fault off repairs it
    assert sorted(reporting(c)) == ["P0001", "P0002"]


def test_incomplete_output_truncate_publishes_part_of_the_tallies() -> None:
    c = client(faults=["incomplete-output:truncate"])
    report_app(c, "P0001")
    stored = c.get("/v1/admin/precincts", headers=ADMIN_H).json()["precincts"]["P0001"]
    pub = c.get("/v1/results/precincts/P0001").json()
    assert stored["final"] == {"Biden": 45, "Sanders": 40, "Warren": 15, "Yang": 0}
    assert pub["final"] == {"Biden": 45, "Sanders": 40, "Warren": 0, "Yang": 0}
    assert pub != stored
    assert c.get("/v1/results").json()["statewide"]["final"]["Warren"] == 0


def test_login_failures_refuse_correct_pins_reproducibly() -> None:
    c = client(faults=["login-failures:1"])
    r = c.post("/v1/auth/chair", json=LOGIN)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "login_failed")

    def pattern(seed: int) -> list[int]:
        k = client(faults=["login-failures:0.5"], seed=seed)
        return [k.post("/v1/auth/chair", json=LOGIN).status_code for _ in range(30)]

    first = pattern(3)
    assert set(first) == {200, 401} and pattern(3) == first
    # injected failures never lock the chair out
    assert 429 not in first


def test_errors_fail_before_anything_is_stored() -> None:
    c = client(faults=["errors:1"])
    r = c.post("/v1/auth/chair", json=LOGIN)
    assert (r.status_code, r.json()["error"]["code"]) == (500, "injected_error")
    assert c.get("/v1/results").status_code == 500
    assert c.get("/healthz").status_code == 200
    assert [i["kind"] for i in c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"]] == [
        "provision"]


def test_outage_is_503_except_health_and_admin() -> None:
    c = client()
    h = chair(c, "P0001")
    c.put("/v1/admin/faults", json={"faults": ["outage"]}, headers=ADMIN_H)
    r = c.post("/v1/precincts/P0001/attendance", json={"attendance": 100}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (503, "outage")
    assert c.get("/v1/results").status_code == 503
    assert c.get("/healthz").status_code == 200
    c.put("/v1/admin/faults", json={"faults": []}, headers=ADMIN_H)
    r = c.post("/v1/precincts/P0001/attendance", json={"attendance": 100}, headers=h)
    assert r.status_code == 201


def test_latency_delays_every_request() -> None:
    c = client(faults=["latency:150ms"])
    t0 = time.perf_counter()
    assert c.get("/v1/results").status_code == 200
    assert time.perf_counter() - t0 >= 0.15  # a lower bound: sleeps never end early
    # admin is never delayed by faults: it is how a scenario switches them off
    assert c.put("/v1/admin/faults", json={"faults": []}, headers=ADMIN_H).status_code == 200


def test_capacity_queues_and_times_out_the_excess() -> None:
    app = create_app(":memory:", ["capacity:1:100ms", "latency:400ms"], "t")

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as ac:
            return list(await asyncio.gather(*(ac.get("/healthz") for _ in range(3)),
                                             *(ac.get("/v1/results") for _ in range(3))))

    got = asyncio.run(burst())
    assert [r.status_code for r in got[:3]] == [200, 200, 200]  # health is exempt
    faulted = sorted((r.status_code, r.json()["error"]["code"]) for r in got[3:])
    # one takes the single slot (409: not provisioned); the others wait 100 ms and give up
    assert faulted == [(409, "not_provisioned"), (503, "capacity_timeout"),
                       (503, "capacity_timeout")]


def test_faults_from_the_command_line_are_active_at_start() -> None:
    c = client(faults=["outage"], provision=False)
    assert c.get("/v1/admin/faults", headers=ADMIN_H).json()["faults"] == ["outage"]
    r = c.post("/v1/admin/provision", json={"candidates": []}, headers=ADMIN_H)
    assert r.status_code == 422  # admin still answers during an outage
    assert c.post("/v1/auth/chair", json=LOGIN).status_code == 503


def test_shared_capacity_makes_reads_and_uploads_exhaust_one_budget() -> None:
    """The Ottawa failure: 20 units/s (a read 1, a write 3, 1 s banked), waits of at most
    225 ms. With the clock frozen, 40 simultaneous reads: 20 run on the banked second and
    5 more within the wait (at 0, 50, ... 200 ms), 15 fail; a chair's upload queued behind
    them fails too, and one that arrives when the readers are gone waits for its turn
    (slowed, not failed)."""
    now = [1000.0]
    app = create_app(":memory:", ["shared-capacity:20:225ms"], ADMIN_H["Authorization"][7:],
                     clock=lambda: now[0])

    async def surge() -> tuple[list[httpx.Response], httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as ac:
            await ac.post("/v1/admin/provision", json=roster(), headers=ADMIN_H)
            reads = await asyncio.gather(*(ac.get("/v1/results") for _ in range(40)))
            late = await ac.post("/v1/auth/chair", json=LOGIN)
            now[0] += 10.0  # the surge is over, the budget refilled
            await asyncio.gather(*(ac.get("/v1/results") for _ in range(23)))
            slowed = await ac.post("/v1/auth/chair", json=LOGIN)
            return list(reads), late, slowed

    reads, late, slowed = asyncio.run(surge())
    codes = sorted((r.status_code, r.json().get("error", {}).get("code")) for r in reads)
    assert codes == [(200, None)] * 25 + [(503, "overloaded")] * 15
    assert (late.status_code, late.json()["error"]["code"]) == (503, "overloaded")
    assert slowed.status_code == 200
    item = _audit(app)[-1]  # it waited its turn behind 3 reads (150 ms) before the handler
    assert item["kind"] == "chair_login" and item["stored_at"] - item["received_at"] >= 0.14


def _audit(app: Any) -> list[dict[str, Any]]:
    """The audit trail of an in-process app."""
    return [r.as_json() for r in app.state.service.store.audit()]
