"""Write routes: sign-in, the chair's three data sets and photo, the hotline report."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel

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
from caucus_rehearsal.server.web import body_doc, json_body, meta_of, reply

_JPEG_MAGIC = b"\xff\xd8\xff"
BODY_MODELS: tuple[type[BaseModel], ...] = (
    ChairLogin, OperatorLogin, AttendanceBody, FirstBody, FinalBody, HotlineReport)
"""The JSON bodies these routes read with :func:`json_body` (documented via the app)."""

_HEADERS: list[dict[str, Any]] = [
    {"name": n, "in": "header", "required": False,
     "schema": {"type": "string", "maxLength": 200}, "description": d}
    for n, d in (("Idempotency-Key", "a retry with the same key never counts twice"),
                 ("X-Request-Id", "recorded with the arrival time in the audit trail"))]


_PATH_ID: list[dict[str, Any]] = [{"name": "precinct_id", "in": "path", "required": True,
                                    "schema": {"type": "string", "title": "Precinct Id"}}]
"""The path parameter, read from ``request.path_params`` (declaring it costs too)."""


def _doc(model: type[BaseModel] | None, auth: bool = True) -> dict[str, Any]:
    """OpenAPI of a write: the optional headers (documented but read raw: FastAPI
    header parameters are slow), the JSON body ``model`` (read by :func:`json_body`)
    and, with ``auth``, the precinct id in the path and the bearer token (read raw
    too: a security dependency costs a third of a write's time in this FastAPI
    version)."""
    doc: dict[str, Any] = {"parameters": (_PATH_ID if auth else []) + _HEADERS}
    if model is not None:
        doc["requestBody"] = body_doc(model)
    if auth:
        doc["security"] = [{"token": []}]
    return doc



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
    def bearer(request: Request) -> tuple[str, str] | None:
        """(role, subject) of the request's bearer token, None without a valid one."""
        auth = request.headers.get("authorization", "")
        return svc.principal(auth[7:].strip()) if auth[:7].lower() == "bearer " else None

    def who(request: Request, role: str, pid: str) -> str:
        """The writer's id (precinct or operator) or a 401/403 Rejection."""
        got = bearer(request)
        if got is None:
            raise Rejection(401, "unauthorized", "a valid bearer token is required")
        if got[0] != role:
            raise Rejection(403, "forbidden", f"a {got[0]} token cannot use this route")
        if role == "chair" and got[1] != pid:
            raise Rejection(403, "forbidden",
                            f"this token is for precinct {got[1]!r}, not {pid!r}")
        return f"{role}:{got[1]}"

    async def json_write(request: Request, step: str, model: type[BaseModel],
                         role: str = "chair") -> Response:
        """One JSON data write of ``step``: body, then token, then the service."""
        precinct_id: str = request.path_params["precinct_id"]
        body = await json_body(request, model)
        actor = who(request, role, precinct_id)
        return reply(await svc.write(step, actor, precinct_id, body,
                                     meta_of(request, idem_key(request))))

    @app.post("/v1/auth/chair", tags=["chair"], responses=errors(401, 409, 422, 429),
              openapi_extra=_doc(ChairLogin, auth=False))
    async def chair_login(request: Request) -> Response:
        """Sign in with precinct id and PIN; the token writes only that precinct."""
        body = await json_body(request, ChairLogin)
        return reply(await svc.login("chair", body["precinct_id"], body["pin"],
                                     meta_of(request, None), bearer(request)))

    @app.post("/v1/auth/operator", tags=["hotline"], responses=errors(401, 409, 422, 429),
              openapi_extra=_doc(OperatorLogin, auth=False))
    async def operator_login(request: Request) -> Response:
        """Hotline operator sign-in."""
        body = await json_body(request, OperatorLogin)
        return reply(await svc.login("operator", body["operator_id"], body["password"],
                                     meta_of(request, None), bearer(request)))

    @app.post("/v1/precincts/{precinct_id}/attendance", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_doc(AttendanceBody))
    async def attendance(request: Request) -> Response:
        """The attendee count T, counted at the opening."""
        return await json_write(request, "attendance", AttendanceBody)

    @app.post("/v1/precincts/{precinct_id}/first-alignment", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_doc(FirstBody))
    async def first(request: Request) -> Response:
        """The first alignment; must sum to the attendance."""
        return await json_write(request, "first", FirstBody)

    @app.post("/v1/precincts/{precinct_id}/final-alignment", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_doc(FinalBody))
    async def final(request: Request) -> Response:
        """The final alignment with the delegates; publishes the precinct."""
        return await json_write(request, "final", FinalBody)

    @app.post("/v1/precincts/{precinct_id}/worksheet", tags=["chair"], status_code=201,
              responses={**_ACCEPTED, **errors(401, 403, 404, 409, 413, 415, 422)},
              openapi_extra={**_doc(None), "requestBody": {"required": True, "content": {
                  "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}})
    async def worksheet(request: Request) -> Response:
        """The photo of the signed worksheet (JPEG bytes, at most 2 MiB)."""
        precinct_id: str = request.path_params["precinct_id"]
        actor = who(request, "chair", precinct_id)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "image/jpeg":
            raise Rejection(415, "unsupported_media_type",
                            f"Content-Type {ctype!r}: expected image/jpeg")
        data = await request.body()
        if not data.startswith(_JPEG_MAGIC):
            raise Rejection(422, "not_jpeg", "the body is not a JPEG image")
        digest = hashlib.sha256(data).hexdigest()
        return reply(await svc.write("worksheet", actor, precinct_id,
                                {"sha256": digest, "bytes": len(data)},
                                meta_of(request, idem_key(request)), blob=data))

    @app.post("/v1/hotline/precincts/{precinct_id}/report", tags=["hotline"], status_code=201,
              responses={**_ACCEPTED, **_WRITE_ERRORS}, openapi_extra=_doc(HotlineReport))
    async def hotline(request: Request) -> Response:
        """A whole precinct as read over the phone; publishes the precinct."""
        return await json_write(request, "hotline_report", HotlineReport, "operator")
