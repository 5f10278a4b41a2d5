"""Group commit: concurrent writes share one transaction, are acknowledged only once it
has committed, and a failed commit acknowledges and publishes none of them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from caucus_rehearsal.server.app import create_app
from support.server import ADMIN, ADMIN_H, GOOD, roster

IDS = [f"P{i:04d}" for i in range(1, 21)]


async def _flood(app: Any, ids: list[str]) -> tuple[list[httpx.Response], dict[str, str]]:
    """Provision, sign in an operator, then post one hotline report per id at once."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.post("/v1/admin/provision", json=roster(len(IDS)), headers=ADMIN_H)
        assert r.status_code == 200, r.text
        r = await c.post("/v1/auth/operator", json={"operator_id": "op-1", "password": "pw-1"})
        h = {"Authorization": f"Bearer {r.json()['token']}"}
        got = await asyncio.gather(*(
            c.post(f"/v1/hotline/precincts/{pid}/report", json=GOOD,
                   headers={**h, "Idempotency-Key": f"k-{pid}"}) for pid in ids))
        return list(got), h


def _commits(app: Any) -> list[str]:
    """Every COMMIT the server's connection executes from now on."""
    seen: list[str] = []
    conn: sqlite3.Connection = app.state.service.store.conn
    conn.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)
    return seen


def test_concurrent_writes_share_commits_and_all_are_stored(tmp_path: Path) -> None:
    app = create_app(tmp_path / "r.db", admin_token=ADMIN)
    commits = _commits(app)
    got, _ = asyncio.run(_flood(app, IDS))
    assert [r.status_code for r in got] == [201] * len(IDS)
    assert 1 <= len(commits) < len(IDS) // 2  # provision, sign-in, then a few batches
    seqs = sorted(r.json()["seq"] for r in got)
    assert seqs == list(range(seqs[0], seqs[0] + len(IDS)))
    svc = app.state.service
    svc.store.close()
    again = create_app(tmp_path / "r.db", admin_token=ADMIN)  # as after a restart
    rows = {r.seq: r for r in again.state.service.store.audit()}
    for r in got:
        row = rows[r.json()["seq"]]
        assert (row.precinct_id, row.outcome, row.response) == (
            r.json()["precinct_id"], "accepted", r.text)
        assert row.received_at <= row.stored_at
    assert sorted(again.state.service.records) == IDS


def test_a_failed_commit_acknowledges_and_publishes_nothing(tmp_path: Path) -> None:
    app = create_app(tmp_path / "r.db", admin_token=ADMIN)
    conn: sqlite3.Connection = app.state.service.store.conn
    # a real storage failure inside the transaction: one row of the batch is refused
    conn.execute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON audit "
                 "WHEN NEW.precinct_id = 'P0007' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    got, h = asyncio.run(_flood(app, IDS))
    codes = {r.json().get("error", {}).get("code") for r in got if r.status_code == 503}
    failed = [pid for pid, r in zip(IDS, got, strict=True) if r.status_code == 503]
    assert "P0007" in failed and codes == {"storage_error"}
    assert all(r.status_code in (201, 503) for r in got)
    svc = app.state.service
    stored = {row.precinct_id for row in svc.store.audit() if row.kind == "hotline_report"}
    acked = {pid for pid, r in zip(IDS, got, strict=True) if r.status_code == 201}
    assert stored == acked and not (stored & set(failed))
    assert set(svc.records) == acked  # published = acknowledged, nothing of the failure
    conn.execute("DROP TRIGGER refuse")

    async def retry() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.post("/v1/hotline/precincts/P0007/report", json=GOOD,
                                headers={**h, "Idempotency-Key": "k-P0007"})

    r = asyncio.run(retry())  # the key was not kept: the retry is a fresh write
    assert r.status_code == 201 and r.json()["version"] == 1, r.text
    assert "P0007" in svc.records
