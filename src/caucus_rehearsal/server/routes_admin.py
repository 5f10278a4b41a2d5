"""Admin routes (bearer admin token): provision, audit, stored data, faults, reset."""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from caucus_rehearsal.server.routes_public import errors
from caucus_rehearsal.server.schemas import FaultsBody, RosterIn
from caucus_rehearsal.server.service import Service
from caucus_rehearsal.server.state import Rejection
from caucus_rehearsal.server.web import JSON, meta_of

_bearer = HTTPBearer(auto_error=False, scheme_name="admin_token")


def _admin(cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """Placeholder dependency; :func:`register` overrides it with the token check."""
    raise Rejection(401, "unauthorized", "the admin token is required")


Admin = Annotated[None, Depends(_admin)]


def register(app: FastAPI, svc: Service, admin_token: str) -> None:
    """Add the admin routes to ``app``; with an empty ``admin_token`` they all refuse."""

    def admin(request: Request,
              cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
        if (cred is None or not admin_token
                or not hmac.compare_digest(cred.credentials.encode(), admin_token.encode())):
            raise Rejection(401, "unauthorized", "the admin token is required")

    app.dependency_overrides[_admin] = admin

    def faults_body() -> dict[str, Any]:
        return {"faults": svc.faults.specs, "seed": svc.faults.seed}

    @app.post("/v1/admin/provision", tags=["admin"], responses=errors(401, 409, 413, 422))
    async def provision(body: RosterIn, _: Admin, request: Request,
                        reset: bool = False) -> dict[str, Any]:
        """Provision the roster: the same one again changes nothing; another one is
        refused (409 results_exist) once anything was recorded, unless ``reset=true``,
        which replaces it and clears all data."""
        return svc.provision(body, reset, meta_of(request, None))

    @app.get("/v1/admin/audit", tags=["admin"], responses=errors(401, 422))
    async def audit(_: Admin, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> dict[str, Any]:
        """The append-only audit trail, ``seq > after``, oldest first."""
        items = [r.as_json() for r in svc.store.audit(after, limit)]
        nxt = items[-1]["seq"] if len(items) == limit else None
        return {"items": items, "next_after": nxt}

    @app.get("/v1/admin/precincts", tags=["admin"], responses=errors(401, 409))
    async def stored(_: Admin) -> Response:
        """What is stored: each precinct's latest accepted complete record, no fault."""
        return Response(svc.need_publisher().stored(), 200, media_type=JSON)

    @app.get("/v1/admin/faults", tags=["admin"], responses=errors(401))
    async def get_faults(_: Admin) -> dict[str, Any]:
        """The active faults."""
        return faults_body()

    @app.put("/v1/admin/faults", tags=["admin"], responses=errors(401, 422))
    async def put_faults(body: FaultsBody, _: Admin) -> dict[str, Any]:
        """Replace the active faults (an empty list switches all off)."""
        try:
            svc.faults.replace(body.faults)
        except ValueError as exc:
            raise Rejection(422, "bad_fault", str(exc)) from None
        return faults_body()

    @app.post("/v1/admin/reset", tags=["admin"], responses=errors(401))
    async def reset(_: Admin, request: Request) -> Response:
        """Clear submissions, tokens, lockouts and the audit trail; keep the roster."""
        svc.reset(meta_of(request, None))
        return Response(json.dumps({"reset": True}), 200, media_type=JSON)
