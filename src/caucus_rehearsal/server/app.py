"""The FastAPI application of contract v1 (docs/contract.md).

:func:`create_app` wires a :class:`~.service.Service` (storage and behaviour) into the
routes, the :class:`~.middleware.Gate` (arrival time, body limits, faults) around them,
and one error shape, ``{"error": {"code", "detail"}}``, for every refusal: a malformed
body is a 400 or 422, never a 500.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from caucus_rehearsal.server import routes_admin, routes_data, routes_public
from caucus_rehearsal.server.faults import FaultState
from caucus_rehearsal.server.middleware import Gate
from caucus_rehearsal.server.service import Service
from caucus_rehearsal.server.state import Rejection
from caucus_rehearsal.server.store import Store
from caucus_rehearsal.server.web import JSON, error_response

_HOT_PREFIXES = ("/v1/results", "/v1/precincts/", "/v1/auth/", "/v1/hotline/")
"""Routes tried first, in this order (Starlette matches routes one by one, and every
miss costs; these paths do not overlap, so the order changes nothing else)."""


def _route_rank(route: BaseRoute) -> int:
    path = getattr(route, "path", "")
    return next((i for i, p in enumerate(_HOT_PREFIXES) if path.startswith(p)),
                len(_HOT_PREFIXES))


def create_app(db_path: str | Path = ":memory:", faults: list[str] | tuple[str, ...] = (),
               admin_token: str | None = None, seed: int = 0,
               clock: Callable[[], float] = time.time, durability: str = "normal") -> FastAPI:
    """The application over the database at ``db_path``.

    ``admin_token`` falls back to env ``CAUCUS_ADMIN_TOKEN``; without either, admin
    routes refuse every request. ``faults`` are fault specs; ``ValueError`` names a bad
    one. The Service is at ``app.state.service``.
    """
    token = admin_token or os.environ.get("CAUCUS_ADMIN_TOKEN") or ""
    fault_state = FaultState(list(faults), seed, clock)
    service = Service(Store(db_path, durability), fault_state, clock)
    app = FastAPI(
        title="Caucus results reporting (reference server)", version="1",
        description="Contract v1 of caucus-rehearsal: see docs/contract.md.")
    app.state.service = service
    app.state.admin_token = token

    @app.exception_handler(Rejection)
    async def _rejected(request: Request, exc: Rejection) -> Response:
        return Response(json.dumps(exc.body()), exc.status, media_type=JSON)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return error_response(400, "malformed_json", "the body is not valid JSON")
        where = ".".join(str(x) for x in first.get("loc", ()))
        detail = f"{where}: {first.get('msg', 'invalid')}"
        return error_response(422, "invalid_body", detail[:300])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                 403: "forbidden"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"),
                              str(exc.detail), dict(exc.headers or {}))

    routes_public.register(app, service)
    routes_data.register(app, service)
    routes_admin.register(app, service, token)
    app.add_middleware(Gate, faults=fault_state)
    documented = [getattr(r, "path", "") for r in app.router.routes]
    app.router.routes.sort(key=_route_rank)
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build_openapi()
        paths = spec.get("paths", {})
        spec["paths"] = {p: paths[p] for p in dict.fromkeys(documented) if p in paths}
        models = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in routes_data.BODY_MODELS:  # bodies read by web.json_body
            models.setdefault(model.__name__, model.model_json_schema(
                ref_template="#/components/schemas/{model}"))
        schemes = spec["components"].setdefault("securitySchemes", {})
        schemes["token"] = {"type": "http", "scheme": "bearer",
                            "description": "from POST /v1/auth/chair or /v1/auth/operator"}
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
    return app
