"""Small HTTP helpers shared by the routes: the error body, request facts, replies."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from caucus_rehearsal.server.service import Meta, Reply

JSON = "application/json"


def _is_json(ctype: str) -> bool:
    main = ctype.split(";", 1)[0].strip().lower()
    return main == JSON or (main.startswith("application/") and main.endswith("+json"))


async def json_body(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    """The request body validated against ``model`` (strictly, as FastAPI would), as a
    plain dict; a ``RequestValidationError`` (400 malformed_json / 422 invalid_body).

    Parsed once by pydantic-core straight from the bytes: a route that declares the
    model as a parameter pays for ``json.loads`` plus FastAPI's dependency solving,
    half of a chair write's time. The route documents ``model`` in ``openapi_extra``.
    """
    raw = await request.body()
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                       "msg": "Field required"}])
    if not _is_json(request.headers.get("content-type", "")):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                       "msg": "Content-Type must be application/json"}])
    try:
        return model.model_validate_json(raw).model_dump()
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """The ``requestBody`` of a route whose JSON body is read by :func:`json_body`
    (the schema is added to the components by ``app.create_app``)."""
    return {"required": True, "content": {JSON: {"schema": {
        "$ref": f"#/components/schemas/{model.__name__}"}}}}


def error_response(status: int, code: str, detail: str,
                   headers: dict[str, str] | None = None) -> Response:
    """The contract's error body, ``{"error": {"code", "detail"}}``, with ``status``."""
    body = json.dumps({"error": {"code": code, "detail": detail}})
    return Response(body, status, headers=headers, media_type=JSON)


def meta_of(request: Request, idem_key: str | None) -> Meta:
    """Arrival time (taken by the Gate), request id, idempotency key and source address
    (the peer, or X-Forwarded-For from a trusted proxy: ``--forwarded-allow-ips``)."""
    state: dict[str, Any] = request.scope.get("state") or {}
    rid = request.headers.get("x-request-id")
    client = request.client
    return Meta(float(state.get("received_at") or time.time()),
                rid[:200] if rid else None, idem_key, client.host if client else "")


def reply(r: Reply) -> Response:
    """A service reply as a JSON response."""
    return Response(r.body, r.status, headers=r.headers or None, media_type=JSON)
