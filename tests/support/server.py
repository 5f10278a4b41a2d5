"""Shared helpers of the reference server's tests (no tests here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from caucus_rehearsal.server.app import create_app

ADMIN = "admin-secret"
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
CANDIDATES = ["Biden", "Sanders", "Warren", "Yang"]


def roster(n_precincts: int = 4) -> dict[str, Any]:
    """A small roster: ``n_precincts`` in county Adair (D = 4) and two satellites."""
    precincts = [{"id": f"P{i:04d}", "county": "Adair", "name": f"Precinct {i}",
                  "satellite": False, "delegates": 4, "pin": f"{100000 + i}"}
                 for i in range(1, n_precincts + 1)]
    precincts += [{"id": f"S{i}", "county": "CD1 Satellite", "name": f"Satellite {i}",
                   "satellite": True, "delegates": 0, "pin": f"{200000 + i}"}
                  for i in (1, 2)]
    return {"election": "test", "candidates": CANDIDATES,
            "counties": [{"name": "Adair", "state_delegates": 4, "county_delegates": 50},
                         {"name": "CD1 Satellite", "state_delegates": 3,
                          "county_delegates": 0, "satellite_group": True}],
            "precincts": precincts,
            "operators": [{"id": "op-1", "password": "pw-1"}, {"id": "op-2", "password": "pw-2"}]}


def pin(pid: str) -> str:
    """The PIN :func:`roster` gives precinct ``pid``."""
    return str(200000 + int(pid[1:])) if pid.startswith("S") else str(100000 + int(pid[1:]))


# A consistent precinct (T=100, D=4, viability 15): first, final, delegates.
GOOD = {"attendance": 100,
        "first": {"Biden": 40, "Sanders": 35, "Warren": 15, "Yang": 10},
        "final": {"Biden": 45, "Sanders": 40, "Warren": 15},
        "delegates": {"Biden": 2, "Sanders": 1, "Warren": 1}}


def client(tmp_path: Path | None = None, faults: list[str] | None = None,
           clock: Any = None, provision: bool = True, seed: int = 0) -> TestClient:
    """An in-process client of a fresh server (database in ``tmp_path`` or memory)."""
    kwargs: dict[str, Any] = {} if clock is None else {"clock": clock}
    db = str(tmp_path / "r.db") if tmp_path is not None else ":memory:"
    app = create_app(db, faults or [], ADMIN, seed=seed, **kwargs)
    c = TestClient(app)
    if provision:
        r = c.post("/v1/admin/provision", json=roster(), headers=ADMIN_H)
        assert r.status_code == 200, r.text
    return c


def chair(c: TestClient, pid: str) -> dict[str, str]:
    """Sign in as the chair of ``pid``; the auth header."""
    r = c.post("/v1/auth/chair", json={"precinct_id": pid, "pin": pin(pid)})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def operator(c: TestClient, op: str = "op-1") -> dict[str, str]:
    """Sign in as a hotline operator; the auth header."""
    r = c.post("/v1/auth/operator", json={"operator_id": op, "password": "pw-" + op[-1]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def report_app(c: TestClient, pid: str, data: dict[str, Any] = GOOD) -> dict[str, str]:
    """The chair's whole flow for ``pid``; returns the auth header. (After an accepted
    final, an agreeing attendance or first alignment is ``200 unchanged``.)"""
    h = chair(c, pid)
    base = f"/v1/precincts/{pid}"
    for path, body in ((base + "/attendance", {"attendance": data["attendance"]}),
                       (base + "/first-alignment", {"first": data["first"]}),
                       (base + "/final-alignment", {"final": data["final"],
                                                    "delegates": data["delegates"]})):
        r = c.post(path, json=body, headers=h)
        assert r.status_code in (200, 201), r.text
    return h


def reporting(c: TestClient) -> dict[str, Any]:
    """The reporting precincts of the public feed (not its zero rows), by id."""
    feed = c.get("/v1/results/precincts").json()["precincts"]
    return {pid: p for pid, p in feed.items() if p["reporting"]}
