"""Write routes: sign-in, the chair's three data sets and photo, the hotline report."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from caucus_rehearsal.server.routes_public import errors
from caucus_rehearsal.server.schemas import (
    AttendanceBody,
    ChairLogin,
    FinalBody,
    FirstBody,
    HotlineReport,
    OperatorLogin,
)
from caucus_rehearsal.server.service import Service
from caucus_rehearsal.server.state import Rejection
from caucus_rehearsal.server.web import meta_of, reply

_JPEG_MAGIC = b"\xff\xd8\xff"

_HEADERS: list[dict[str, Any]] = [
    {"name": n, "in": "header", "required": False,
     "schema": {"type": "string", "maxLength": 200}, "description": d}
    for n, d in (("Idempotency-Key", "a retry with the same key never counts twice"),
                 ("X-Request-Id", "recorded with the arrival time in the audit trail"))]
_DOC: dict[str, Any] = {"parameters": _HEADERS}
_AUTH_DOC: dict[str, Any] = {"parameters": _HEADERS, "security": [{"token": []}]}
"""Bearer token (from sign-in), read raw too: a security dependency costs a third of a
write's time in this FastAPI version."""
"""The optional headers, documented but read raw (FastAPI header parameters are slow)."""


def idem_key(request: Request) -> str | None:
    """The Idempotency-Key header; 422 when longer than 200 characters."""
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > 200:
        raise Rejection(422, "invalid_body", "Idempotency-Key: at most 200 characters")
    return key

_WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 422)
_ACCEPTED: dict[int | str, dict[str, Any]] = {201: {"description": "accepted and committed"}}


def register(app: FastAPI, svc: Service) -> None:
    """Add the sign-in and data-write routes to ``app``."""
    def who(request: Request, role: str, pid: str) -> str:
        """The writer's id (precinct or operator) or a 401/403 Rejection."""
        auth = request.headers.get("authorization", "")
        got = svc.principal(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if got is None:
            raise Rejection(401, "unauthorized", "a valid bearer token is required")
        if got[0] != role:
            raise Rejection(403, "forbidden", f"a {got[0]} token cannot use this route")
        if role == "chair" and got[1] != pid:
            raise Rejection(403, "forbidden",
                            f"this token is for precinct {got[1]!r}, not {pid!r}")
        return f"{role}:{got[1]}"

    @app.post("/v1/auth/chair", tags=["chair"], responses=errors(401, 409, 422, 429),
              openapi_extra=_DOC)
    async def chair_login(body: ChairLogin, request: Request) -> Response:
        """Sign in with precinct id and PIN; the token writes only that precinct."""
        return reply(svc.login("chair", body.precinct_id, body.pin, meta_of(request, None)))

    @app.post("/v1/auth/operator", tags=["hotline"], responses=errors(401, 409, 422, 429),
              openapi_extra=_DOC)
    async def operator_login(body: OperatorLogin, request: Request) -> Response:
        """Hotline operator sign-in."""
        return reply(svc.login("operator", body.operator_id, body.password,
                                meta_of(request, None)))

    @app.post("/v1/precincts/{precinct_id}/attendance", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_AUTH_DOC)
    async def attendance(precinct_id: str, body: AttendanceBody, request: Request) -> Response:
        """The attendee count T, counted at the opening."""
        actor = who(request, "chair", precinct_id)
        return reply(svc.write("attendance", actor, precinct_id, body.model_dump(),
                                meta_of(request, idem_key(request))))

    @app.post("/v1/precincts/{precinct_id}/first-alignment", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_AUTH_DOC)
    async def first(precinct_id: str, body: FirstBody, request: Request) -> Response:
        """The first alignment; must sum to the attendance."""
        actor = who(request, "chair", precinct_id)
        return reply(svc.write("first", actor, precinct_id, body.model_dump(),
                                meta_of(request, idem_key(request))))

    @app.post("/v1/precincts/{precinct_id}/final-alignment", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_AUTH_DOC)
    async def final(precinct_id: str, body: FinalBody, request: Request) -> Response:
        """The final alignment with the delegates; publishes the precinct."""
        actor = who(request, "chair", precinct_id)
        return reply(svc.write("final", actor, precinct_id, body.model_dump(),
                                meta_of(request, idem_key(request))))

    @app.post("/v1/precincts/{precinct_id}/worksheet", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **errors(401, 403, 404, 409, 413, 415, 422)},
              openapi_extra={"parameters": _HEADERS, "security": [{"token": []}], "requestBody": {
                  "required": True, "content": {
                      "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}})
    async def worksheet(precinct_id: str, request: Request) -> Response:
        """The photo of the signed worksheet (JPEG bytes, at most 2 MiB)."""
        actor = who(request, "chair", precinct_id)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "image/jpeg":
            raise Rejection(415, "unsupported_media_type",
                            f"Content-Type {ctype!r}: expected image/jpeg")
        data = await request.body()
        if not data.startswith(_JPEG_MAGIC):
            raise Rejection(422, "not_jpeg", "the body is not a JPEG image")
        digest = hashlib.sha256(data).hexdigest()
        return reply(svc.write("worksheet", actor, precinct_id,
                                {"sha256": digest, "bytes": len(data)},
                                meta_of(request, idem_key(request)), blob=data))

    @app.post("/v1/hotline/precincts/{precinct_id}/report", tags=["hotline"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_AUTH_DOC)
    async def hotline(precinct_id: str, body: HotlineReport, request: Request) -> Response:
        """A whole precinct as read over the phone; publishes the precinct."""
        actor = who(request, "operator", precinct_id)
        return reply(svc.write("hotline_report", actor, precinct_id, body.model_dump(),
                                meta_of(request, idem_key(request))))
