"""Public routes: health and the published results (cached bytes, ETag, 304)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel

from caucus_rehearsal.server.service import Service
from caucus_rehearsal.server.state import Rejection

_JSON = "application/json"
INM = Annotated[str | None, Header(alias="If-None-Match", max_length=500)]


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
    """``GET /v1/results``."""

    election: str
    candidates: list[str]
    precincts_total: int
    precincts_reporting: int
    percent_reporting: float
    statewide: Statewide


class PrecinctOut(BaseModel):
    """One published precinct."""

    county: str
    name: str
    satellite: bool
    channel: str
    version: int
    attendance: int
    first: dict[str, int]
    final: dict[str, int]
    delegates: dict[str, int]
    sde: dict[str, float]


class PrecinctsOut(BaseModel):
    """``GET /v1/results/precincts``."""

    precincts: dict[str, PrecinctOut]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses."""
    return {c: {"model": ErrorOut} for c in codes}


def _cached(body: bytes, etag: str, if_none_match: str | None) -> Response:
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(body, 200, headers=headers, media_type=_JSON)


def register(app: FastAPI, svc: Service) -> None:
    """Add the public routes to ``app``."""
    @app.get("/healthz", tags=["public"])
    async def healthz() -> dict[str, Any]:
        """Liveness; never faulted."""
        roster = svc.roster
        return {"status": "ok", "provisioned": roster is not None,
                "precincts": len(roster.precincts) if roster else 0}

    @app.get("/v1/results", tags=["public"], response_model=ResultsOut,
             responses={304: {"description": "unchanged"}, **errors(409)})
    async def results(request: Request, if_none_match: INM = None) -> Response:
        """Statewide first, final and SDE per candidate and the share reporting."""
        return _cached(*svc.need_publisher().summary(), if_none_match)

    @app.get("/v1/results/precincts", tags=["public"], response_model=PrecinctsOut,
             responses={304: {"description": "unchanged"}, **errors(409)})
    async def precincts(request: Request, if_none_match: INM = None) -> Response:
        """Every published precinct."""
        return _cached(*svc.need_publisher().precincts(), if_none_match)

    @app.get("/v1/results/precincts/{precinct_id}", tags=["public"],
             response_model=PrecinctOut,
             responses={304: {"description": "unchanged"}, **errors(404, 409)})
    async def precinct(precinct_id: str, if_none_match: INM = None) -> Response:
        """One published precinct; 404 not_published before it reports."""
        roster = svc.need_roster()
        if precinct_id not in roster.precincts:
            raise Rejection(404, "unknown_precinct", f"precinct {precinct_id!r} is unknown")
        got = svc.need_publisher().precinct(precinct_id)
        if got is None:
            raise Rejection(404, "not_published", f"precinct {precinct_id!r} has not reported")
        return _cached(*got, if_none_match)
