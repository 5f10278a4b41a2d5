"""The contract points a hostile test found broken (issue 10, part 6): re-posts after a
final are checked against it, and sign-in lockout slows a guesser without locking the
real chair out (docs/contract.md, "Sign-in lockout")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from caucus_rehearsal.server.lockout import SUBJECT_FAILURES_PER_HOUR
from support.server import ADMIN_H, GOOD, chair, client, operator, pin, report_app

P = "/v1/precincts/P0001"
FINAL = {"final": GOOD["final"], "delegates": GOOD["delegates"]}
ATTACKER = ("203.0.113.9", 40000)
CHAIR = ("198.51.100.7", 40001)


def _published(c: TestClient) -> tuple[Any, Any, str]:
    one = c.get("/v1/results/precincts/P0001").json()
    stored = c.get("/v1/admin/precincts", headers=ADMIN_H).json()["precincts"]["P0001"]
    return one, stored, c.get("/v1/results").headers["ETag"]


def test_a_disagreeing_repost_after_the_final_is_409_and_changes_nothing() -> None:
    c = client()
    h = report_app(c, "P0001")
    before = _published(c)
    r = c.post(P + "/attendance", json={"attendance": 999}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflicts_with_final")
    assert "999" in r.json()["error"]["detail"] and "100" in r.json()["error"]["detail"]
    r = c.post(P + "/first-alignment", json={"first": {"Biden": 100}}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflicts_with_final")
    r = c.post(P + "/first-alignment", json={"first": {"Nobody": 100}}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_candidate")
    assert _published(c) == before  # public, stored and ETag untouched
    # the chair's correct final (a corrected count) is validated against the accepted
    # record, never against the refused numbers
    fixed = {"final": {"Biden": 46, "Sanders": 39, "Warren": 15}, "delegates": GOOD["delegates"]}
    r = c.post(P + "/final-alignment", json=fixed, headers=h)
    assert r.status_code == 201 and r.json()["published"] is True, r.text
    assert c.get("/v1/results/precincts/P0001").json()["final"]["Biden"] == 46
    outcomes = [(i["kind"], i["outcome"], i["code"]) for i in
                c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"]
                if i["kind"] in ("attendance", "first")][2:]
    assert outcomes == [("attendance", "rejected", "conflicts_with_final"),
                        ("first", "rejected", "conflicts_with_final"),
                        ("first", "rejected", "unknown_candidate")]


def test_an_agreeing_repost_after_the_final_succeeds_and_counts_nothing(tmp_path: Path) -> None:
    c = client(tmp_path)
    h = report_app(c, "P0001")
    before = _published(c)
    for path, body in ((P + "/attendance", {"attendance": 100}),
                       (P + "/first-alignment", {"first": GOOD["first"]})):
        r = c.post(path, json=body, headers={**h, "Idempotency-Key": path})
        assert r.status_code == 200, r.text
        assert r.json()["unchanged"] is True and r.json()["published"] is True
        assert r.json()["version"] == 3  # the precinct's versions did not move
    assert _published(c) == before
    # after a hotline correction, the chair's re-post is checked against the new record
    op = operator(c)
    corrected = {**GOOD, "attendance": 99,
                 "first": {"Biden": 40, "Sanders": 34, "Warren": 15, "Yang": 10},
                 "final": {"Biden": 45, "Sanders": 39, "Warren": 15}}
    assert c.post("/v1/hotline/precincts/P0001/report", json=corrected,
                  headers=op).status_code == 201
    r = c.post(P + "/attendance", json={"attendance": 100}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflicts_with_final")
    assert c.post(P + "/attendance", json={"attendance": 99}, headers=h).status_code == 200
    published = c.get("/v1/results/precincts").content
    c.app.state.service.store.close()  # type: ignore[attr-defined]
    again = client(tmp_path, provision=False)  # a restart replays nothing of the re-posts
    assert again.get("/v1/results/precincts").content == published


def _login(c: TestClient, good: bool, pid: str = "P0001", **kw: Any) -> Any:
    body = {"precinct_id": pid, "pin": pin(pid) if good else "000000"}
    return c.post("/v1/auth/chair", json=body, **kw)


def _at(app: Any, addr: tuple[str, int]) -> TestClient:
    return TestClient(app, client=addr)


def _items(c: TestClient) -> list[dict[str, Any]]:
    return list(c.get("/v1/admin/audit", headers=ADMIN_H).json()["items"])


def test_a_guesser_locks_out_only_itself_with_backoff() -> None:
    now = [1000.0]
    app = client(clock=lambda: now[0]).app
    attacker, real = _at(app, ATTACKER), _at(app, CHAIR)
    assert [_login(attacker, False).status_code for _ in range(5)] == [401] * 5
    r = _login(attacker, True)  # locked: even the right PIN is refused to this source
    assert (r.status_code, r.json()["error"]["code"], r.headers["Retry-After"]) == (
        429, "locked_out", "60")
    assert _login(real, True).status_code == 200  # the chair, elsewhere, signs in
    now[0] += 61
    # backoff: the next five failures of the same source lock it out twice as long
    assert [_login(attacker, False).status_code for _ in range(5)] == [401] * 5
    assert _login(attacker, False).headers["Retry-After"] == "120"
    assert _login(real, True).status_code == 200
    items = _items(real)
    sources = {i["payload"]["source"] for i in items if i["outcome"] == "failed_login"}
    assert sources == {ATTACKER[0]}  # the audit trail names where guesses came from


def test_a_guesser_with_many_addresses_is_held_to_the_hourly_budget() -> None:
    now = [1000.0]
    app = client(clock=lambda: now[0]).app
    known = _at(app, CHAIR)
    assert _login(known, True).status_code == 200  # the chair signed in once, earlier
    token = chair(known, "P0001")
    for i in range(SUBJECT_FAILURES_PER_HOUR):
        bot = _at(app, (f"10.0.{i // 250}.{i % 250 + 1}", 5000))
        assert _login(bot, False).status_code == 401
        now[0] += 1
    fresh = _at(app, ("10.9.9.9", 5000))
    r = _login(fresh, True)  # guarded: a source never seen is refused, right PIN or not
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 3600
    assert _login(known, True).status_code == 200  # a source that signed in before
    assert _login(fresh, True, headers=token).status_code == 200  # the chair's session
    assert _login(fresh, True, pid="P0002").status_code == 200  # other precincts untouched
    now[0] += 3600
    assert _login(fresh, True).status_code == 200  # the hour's failures have expired


def test_operators_are_locked_out_per_source_too() -> None:
    app = client().app
    attacker, real = _at(app, ATTACKER), _at(app, CHAIR)
    bad = {"operator_id": "op-1", "password": "nope"}
    assert [attacker.post("/v1/auth/operator", json=bad).status_code
            for _ in range(6)] == [401] * 5 + [429]
    assert real.post("/v1/auth/operator",
                     json={"operator_id": "op-1", "password": "pw-1"}).status_code == 200
