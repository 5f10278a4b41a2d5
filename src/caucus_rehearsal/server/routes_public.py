"""Public routes: health and the published results (cached bytes, ETag, 304)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel

from caucus_rehearsal.server.feed import GZIP_MIN_BYTES, GzipCache, accepts_gzip
from caucus_rehearsal.server.service import Service
from caucus_rehearsal.server.state import Rejection

_JSON = "application/json"
_INM_DOC: dict[str, Any] = {"parameters": [{
    "name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
    "description": "an ETag from an earlier response: 304 when unchanged"}]}
"""Documented but read from the raw headers: declaring it as a FastAPI parameter would
halve the throughput of the hottest route."""


class ErrorDetail(BaseModel):
    """``code`` is machine-readable; ``problems`` lists every rule broken (422)."""

    code: str
    detail: str
    problems: list[dict[str, str]] | None = None


class ErrorOut(BaseModel):
    """Every refusal of contract v1."""

    error: ErrorDetail


class Statewide(BaseModel):
    """Statewide totals per candidate."""

    first: dict[str, int]
    final: dict[str, int]
    sde: dict[str, float]


class ResultsOut(BaseModel):
    """``GET /v1/results``: ``version`` grows with every change of what is published;
    ``published_at`` (epoch seconds) is when this version became visible."""

    election: str
    candidates: list[str]
    version: int
    published_at: float
    precincts_total: int
    precincts_reporting: int
    percent_reporting: float
    statewide: Statewide


class PrecinctOut(BaseModel):
    """One precinct of the feed: ``reporting`` false is a zero row (no counts, no
    channel); ``revision`` changes whenever its published entry changes."""

    county: str
    name: str
    satellite: bool
    reporting: bool
    channel: str | None
    version: int
    revision: int
    attendance: int
    first: dict[str, int]
    final: dict[str, int]
    delegates: dict[str, int]
    sde: dict[str, float]


class PrecinctsOut(BaseModel):
    """``GET /v1/results/precincts``: every provisioned precinct, in roster order."""

    version: int
    precincts: dict[str, PrecinctOut]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses."""
    return {c: {"model": ErrorOut} for c in codes}


def _cached(request: Request, gz: GzipCache, body: bytes, etag: str,
            glitch: bool = False) -> Response:
    """``body`` with its ETag, or 304 when ``If-None-Match`` has it (never for a glitch);
    gzip-encoded (ETag suffixed ``-gzip``, as Apache does) when the client accepts it and
    the body is large enough to gain."""
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    packed = len(body) >= GZIP_MIN_BYTES and accepts_gzip(
        request.headers.get("accept-encoding"))
    if packed:
        etag = etag[:-1] + '-gzip"'
        headers["Content-Encoding"] = "gzip"
    headers["ETag"] = etag
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag in if_none_match and not glitch:
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers=headers)
    return Response(gz.get(body) if packed else body, 200, headers=headers, media_type=_JSON)


def register(app: FastAPI, svc: Service) -> None:
    """Add the public routes to ``app``."""
    @app.get("/healthz", tags=["public"])
    async def healthz() -> dict[str, Any]:
        """Liveness; never faulted."""
        roster = svc.roster
        return {"status": "ok", "provisioned": roster is not None,
                "precincts": len(roster.precincts) if roster else 0}

    @app.get("/v1/results", tags=["public"], response_model=ResultsOut,
             responses={304: {"description": "unchanged"}, **errors(409)},
             openapi_extra=_INM_DOC)
    async def results(request: Request) -> Response:
        """Statewide first, final and SDE per candidate and the share reporting."""
        return _cached(request, svc.feed.gzip, *svc.feed.summary(svc.need_publisher()))

    @app.get("/v1/results/precincts", tags=["public"], response_model=PrecinctsOut,
             responses={304: {"description": "unchanged"}, **errors(409)},
             openapi_extra=_INM_DOC)
    async def precincts(request: Request) -> Response:
        """Every provisioned precinct (zero rows for those not reporting)."""
        return _cached(request, svc.feed.gzip, *svc.feed.precincts(svc.need_publisher()))

    @app.get("/v1/results/precincts/{precinct_id}", tags=["public"],
             response_model=PrecinctOut,
             responses={304: {"description": "unchanged"}, **errors(404, 409)},
             openapi_extra=_INM_DOC)
    async def precinct(precinct_id: str, request: Request) -> Response:
        """One precinct (a zero row before it reports); 404 when it is not provisioned."""
        roster = svc.need_roster()
        if precinct_id not in roster.precincts:
            raise Rejection(404, "unknown_precinct", f"precinct {precinct_id!r} is unknown")
        return _cached(request, svc.feed.gzip, *svc.need_publisher().precinct(precinct_id))
