"""The replay server's FastAPI application: a run's published feed, played again.

The public routes of contract v1 (docs/contract.md) answer from the position the
replay clock has reached, or from the one a query names:

- ``GET /v1/results``, ``GET /v1/results/precincts``, ``GET /v1/results/precincts/{id}``
  (every roster precinct, a zero row until it reports; ``404 unknown_precinct`` for any
  other): bodies pre-serialised per position (:class:`~.feed.Feed`), ``ETag`` and
  ``Cache-Control: no-cache``; ``If-None-Match`` with the current ETag answers 304;
  ``X-Replay-Position`` names the position answered.
  ``?at=23:00`` (or ``16:00+1d``, or simulation minutes such as ``240``) answers the
  state at that moment of the recorded night; ``?position=N`` the N-th state (1: the
  zero state). A bad value is ``422 bad_query``.
- ``GET /status``: where the replay is (clock, position, total, speed, ended).
- ``GET /timeline``: every position with its clock time, version and precincts reporting.
- ``GET /healthz``: as the reference server's, so a contract-v1 client's check works.

Errors have the contract's shape ``{"error": {"code", "detail"}}``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from caucus_rehearsal.replay.feed import Body, Feed
from caucus_rehearsal.replay.timeline import parse_moment
from caucus_rehearsal.simulator.units import format_clock

_JSON = "application/json"


class ReplayClock:
    """Maps real time to the recorded night: simulation minute ``start_min`` at the
    moment :meth:`start` is called, advancing ``speed`` simulated seconds per second
    (it stands at ``start_min`` until then)."""

    __slots__ = ("monotonic", "speed", "start_min", "t0", "t0_wall")

    def __init__(self, start_min: float, speed: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0 or speed == float("inf"):
            raise ValueError(f"speed(={speed}) must be a positive finite number")
        self.start_min = start_min
        self.speed = speed
        self.monotonic = monotonic
        self.t0: float | None = None
        self.t0_wall = time.time()

    def start(self) -> None:
        """Start the night now."""
        self.t0, self.t0_wall = self.monotonic(), time.time()

    def minute(self) -> float:
        """The simulation minute the replay has reached."""
        if self.t0 is None:
            return self.start_min
        return self.start_min + (self.monotonic() - self.t0) * self.speed / 60.0

    def wall(self, minute: float) -> float:
        """Unix time at which the replay reaches simulation minute ``minute``."""
        return self.t0_wall + (minute - self.start_min) * 60.0 / self.speed


class BadQuery(Exception):
    """A query parameter that names no moment or position; the message says why."""


def _error(status: int, code: str, detail: str) -> Response:
    body = json.dumps({"error": {"code": code, "detail": detail}}).encode()
    return Response(body, status, media_type=_JSON)


def _cached(got: Body, request: Request, position: int) -> Response:
    raw, etag = got
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Replay-Position": str(position)}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(raw, 200, headers=headers, media_type=_JSON)


async def _narrate(feed: Feed, clock: ReplayClock, out: Callable[[str], None]) -> None:
    """One line per position as the replay reaches it, and one at the end."""
    timeline = feed.timeline
    shown = 0
    while True:
        minute = clock.minute()
        pos = timeline.position_at(minute)
        if pos != shown:
            step = timeline.step(pos)
            out(f"[{format_clock(max(minute, step.sim_min))}] position {pos}/{timeline.total}: "
                f"{step.reporting} of {step.summary['precincts_total']} precincts reporting")
            shown = pos
        if minute >= timeline.end_min:
            out(f"[{format_clock(timeline.end_min)}] end of the recorded night; serving its "
                f"last state until stopped")
            return
        upcoming = min(timeline.starts[pos] if pos < timeline.total else timeline.end_min,
                       timeline.end_min)
        await asyncio.sleep(min(1.0, max(0.0, clock.wall(upcoming) - time.time())) + 0.001)


def create_app(feed: Feed, clock: ReplayClock, run_name: str = "",
               narrate: Callable[[str], None] | None = None) -> FastAPI:
    """The replay of ``feed`` on ``clock``, which starts when the server does;
    ``narrate`` receives a line per position reached."""
    timeline = feed.timeline
    total = timeline.total
    starts = timeline.starts

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clock.start()
        feed.start(clock.wall)
        task = asyncio.create_task(_narrate(feed, clock, narrate)) if narrate else None
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(title="Caucus results replay", version="1", lifespan=lifespan,
                  description="A rehearsed night's published feed, replayed "
                              "(contract v1 public routes; see docs/contract.md).")

    def position(request: Request) -> int:
        """The position a request asks for: the clock's, or its ``at``/``position``."""
        query = request.scope.get("query_string", b"")
        if not query:
            return timeline.position_at(clock.minute())
        args = parse_qs(query.decode("latin-1"))
        if "at" in args and "position" in args:
            raise BadQuery("give either at or position, not both")
        if "at" in args:
            try:
                minute = parse_moment(args["at"][-1])
            except ValueError as exc:
                raise BadQuery(f"at: {exc}") from None
            return total if minute is None else timeline.position_at(minute)
        if "position" in args:
            text = args["position"][-1]
            if not text.isdigit() or not 1 <= int(text) <= total:
                raise BadQuery(f"position {text!r} must be a whole number from 1 to {total}")
            return int(text)
        return timeline.position_at(clock.minute())

    @app.exception_handler(BadQuery)
    async def _bad_query(request: Request, exc: BadQuery) -> Response:
        return _error(422, "bad_query", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"),
                      str(exc.detail))

    @app.get("/v1/results", tags=["public"])
    async def results(request: Request) -> Response:
        """Statewide totals and the share reporting, as published at that moment."""
        pos = position(request)
        return _cached(feed.summaries[pos - 1], request, pos)

    @app.get("/v1/results/precincts", tags=["public"])
    async def precincts(request: Request) -> Response:
        """Every precinct of the roster (zero rows included) at that moment."""
        pos = position(request)
        return _cached(feed.precincts(pos), request, pos)

    @app.get("/v1/results/precincts/{precinct_id}", tags=["public"])
    async def precinct(precinct_id: str, request: Request) -> Response:
        """One precinct as published at that moment (a zero row before it reported)."""
        pos = position(request)
        got = feed.precinct(pos, precinct_id)
        if got is None:
            return _error(404, "unknown_precinct", f"precinct {precinct_id!r} is unknown")
        return _cached(got, request, pos)

    @app.get("/status", tags=["replay"])
    async def status() -> dict[str, Any]:
        """Where in the night the replay is."""
        minute = clock.minute()
        pos = timeline.position_at(minute)
        step = timeline.step(pos)
        upcoming = starts[pos] if pos < total else None
        return {
            "run": run_name, "election": timeline.election,
            "clock": format_clock(minute), "sim_min": round(minute, 3),
            "position": pos, "total": total, "version": step.version,
            "speed": clock.speed, "start": format_clock(timeline.start_min),
            "end": format_clock(timeline.end_min), "ended": minute >= timeline.end_min,
            "precincts_reporting": step.reporting,
            "precincts_total": step.summary["precincts_total"],
            "next_change": None if upcoming is None else {
                "clock": format_clock(upcoming),
                "in_seconds": round(max(0.0, clock.wall(upcoming) - time.time()), 3)},
        }

    @app.get("/timeline", tags=["replay"])
    async def steps() -> dict[str, Any]:
        """Every position of the feed: when it appeared in the night and what it showed."""
        return {"speed": clock.speed, "start": format_clock(timeline.start_min),
                "end": format_clock(timeline.end_min), "positions": [
                    {"position": s.position, "version": s.version,
                     "clock": format_clock(s.sim_min), "sim_min": s.sim_min,
                     "precincts_reporting": s.reporting, "changed": len(s.changed)}
                    for s in timeline.steps]}

    @app.get("/healthz", tags=["replay"])
    async def healthz() -> dict[str, Any]:
        """Liveness, in the reference server's shape."""
        return {"status": "ok", "provisioned": True, "precincts": len(timeline.units)}

    # Starlette tries routes in order and every miss costs: the polled ones first.
    app.router.routes.sort(key=lambda r: not getattr(r, "path", "").startswith("/v1/results"))
    return app
