"""Small HTTP helpers shared by the routes: the error body, request facts, replies."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from caucus_rehearsal.server.service import Meta, Reply

JSON = "application/json"


def error_response(status: int, code: str, detail: str,
                   headers: dict[str, str] | None = None) -> Response:
    """The contract's error body, ``{"error": {"code", "detail"}}``, with ``status``."""
    body = json.dumps({"error": {"code": code, "detail": detail}})
    return Response(body, status, headers=headers, media_type=JSON)


def meta_of(request: Request, idem_key: str | None) -> Meta:
    """Arrival time (taken by the Gate), request id and idempotency key of a request."""
    state: dict[str, Any] = request.scope.get("state") or {}
    rid = request.headers.get("x-request-id")
    return Meta(float(state.get("received_at") or time.time()),
                rid[:200] if rid else None, idem_key)


def reply(r: Reply) -> Response:
    """A service reply as a JSON response."""
    return Response(r.body, r.status, headers=r.headers or None, media_type=JSON)
