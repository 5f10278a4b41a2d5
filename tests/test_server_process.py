"""The server as a process: a real socket on port 0, kill -9 under load, the command."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from caucus_rehearsal.rehearsal.addresses import TRUST_LOOPBACK
from caucus_rehearsal.server.process import start_server
from support.server import GOOD, pin, roster

pytestmark = pytest.mark.slow

N_PRECINCTS = 3000
"""Submissions in flight in the kill -9 test (one hotline report per precinct)."""


def test_real_socket_on_port_0(tmp_path: Path) -> None:
    with start_server(tmp_path / "r.db") as srv:
        assert srv.url.startswith("http://127.0.0.1:") and not srv.url.endswith(":0")
        admin = {"Authorization": f"Bearer {srv.admin_token}"}
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.post("/v1/admin/provision", json=roster(), headers=admin).status_code == 200
            tok = c.post("/v1/auth/operator",
                         json={"operator_id": "op-1", "password": "pw-1"}).json()["token"]
            r = c.post("/v1/hotline/precincts/P0001/report", json=GOOD,
                       headers={"Authorization": f"Bearer {tok}", "X-Request-Id": "r-1"})
            assert r.status_code == 201
            assert c.get("/v1/results").json()["precincts_reporting"] == 1
            spec = c.get("/openapi.json").json()
            assert "/v1/precincts/{precinct_id}/final-alignment" in spec["paths"]
    assert srv.process.returncode == 0  # Ctrl-C (SIGINT) is a clean stop


@pytest.mark.parametrize("trusted", [True, False])
def test_lockout_is_per_forwarded_source_only_behind_a_trusted_proxy(
        tmp_path: Path, trusted: bool) -> None:
    # As rehearse run starts it (trusted), and as rehearse serve by default.
    options = TRUST_LOOPBACK if trusted else ()
    guesser, chair = {"X-Forwarded-For": "198.18.0.9"}, {"X-Forwarded-For": "10.0.0.1"}
    with start_server(tmp_path / "r.db", options=options) as srv:
        admin = {"Authorization": f"Bearer {srv.admin_token}"}
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.post("/v1/admin/provision", json=roster(), headers=admin).status_code == 200

            def sign_in(who: dict[str, str], secret: str) -> int:
                return c.post("/v1/auth/chair", json={"precinct_id": "P0001", "pin": secret},
                              headers=who).status_code

            assert [sign_in(guesser, "000000") for _ in range(6)] == [401] * 5 + [429]
            # behind a trusted proxy the chair is another source; else the header is
            # ignored and both are the peer 127.0.0.1, locked out together
            assert sign_in(chair, pin("P0001")) == (200 if trusted else 429)
            audit = c.get("/v1/admin/audit", headers=admin).json()["items"]
    sources = {a["payload"]["source"] for a in audit if a["kind"] == "chair_login"}
    assert sources == ({"198.18.0.9", "10.0.0.1"} if trusted else {"127.0.0.1"})


async def _flood(url: str, token: str, ids: list[str], acked: dict[str, int],
                 kill_after: int, kill: Any) -> int:
    """Post one hotline report per id, 64 at a time; kill the server after ``kill_after``
    acknowledgements. Returns how many requests got no answer."""
    lost = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as c:
        sem = asyncio.Semaphore(64)

        async def one(pid: str) -> None:
            nonlocal lost
            async with sem:
                try:
                    r = await c.post(f"/v1/hotline/precincts/{pid}/report", json=GOOD,
                                     headers={"Authorization": f"Bearer {token}",
                                              "Idempotency-Key": f"k-{pid}"})
                except httpx.HTTPError:
                    lost += 1
                    return
                if r.status_code == 201:
                    acked[pid] = r.json()["seq"]
                    if len(acked) == kill_after:
                        kill()

        await asyncio.gather(*(one(pid) for pid in ids))
    return lost


def test_kill_9_under_load_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    body = roster(N_PRECINCTS)
    ids = [p["id"] for p in body["precincts"] if not p["satellite"]]
    srv = start_server(db)
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        admin = {"Authorization": f"Bearer {srv.admin_token}"}
        assert c.post("/v1/admin/provision", json=body, headers=admin).status_code == 200
        token = c.post("/v1/auth/operator",
                       json={"operator_id": "op-1", "password": "pw-1"}).json()["token"]
    acked: dict[str, int] = {}
    lost = asyncio.run(_flood(srv.url, token, ids, acked, N_PRECINCTS // 2, srv.kill))
    assert srv.process.returncode == -9
    assert len(acked) >= N_PRECINCTS // 2 and lost > 0  # it really died mid-flood
    again = start_server(db, admin_token=srv.admin_token)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as c:
            published = c.get("/v1/results/precincts").json()["precincts"]
            admin = {"Authorization": f"Bearer {again.admin_token}"}
            items: list[dict[str, Any]] = []
            after = 0
            while after is not None:
                page = c.get(f"/v1/admin/audit?after={after}&limit=5000", headers=admin).json()
                items += page["items"]
                after = page["next_after"]
        accepted = {i["precinct_id"]: i["seq"] for i in items if i["outcome"] == "accepted"
                    and i["kind"] == "hotline_report"}
        missing = [pid for pid in acked if not published[pid]["reporting"]]
        assert missing == []
        assert all(accepted[pid] == seq for pid, seq in acked.items())
        for pid in acked:
            assert published[pid]["final"]["Biden"] == 45
            assert published[pid]["channel"] == "hotline"
    finally:
        again.stop()


def test_command_rejects_bad_faults_and_busy_ports(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; from caucus_rehearsal.cli import main; "
           "sys.exit(main())", "serve", "--db", str(tmp_path / "x.db")]
    r = subprocess.run([*cmd, "--fault", "latency:fast"], capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "latency:fast" in r.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([*cmd, "--port", str(port)], capture_output=True, text=True,
                           timeout=60, check=False)
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in r.stderr
    assert r.stderr.count("\n") == 1
