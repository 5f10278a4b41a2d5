"""What the run's recorder observes of the target, through the adapter's boundary
(:class:`~.boundary.Boundary`): snapshots of the published results and, at the end, the
audit trail.

A snapshot the target refuses or does not answer is recorded (``status`` 0 with its
``detail``) and the night goes on; one the adapter cannot read, or published results
that are not in the normalised shape, is the target's **protocol error**: the line
keeps its ``protocol_error`` record and the caller ends the run with it
(``run.json`` ``target_error``, exit 3).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from caucus_rehearsal.errors import TargetError, TargetProtocolError
from caucus_rehearsal.published import shape_problem
from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter
from caucus_rehearsal.rehearsal.boundary import MAX_REQUESTS_PER_CALL, Boundary, Problem
from caucus_rehearsal.rehearsal.clock import SimClock


def published(adapter: TargetAdapter, client: httpx.Client,
              tag: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """``adapter.published_since``, its results in the normalised shape or refused."""
    new_tag, results = adapter.published_since(client, tag)
    if results is not None and (why := shape_problem(results)) is not None:
        raise TargetProtocolError(f"the adapter's published results: {why}")
    return new_tag, results


Snapshot = tuple[str | None, str, dict[str, Any] | None, TargetError | None]
"""(new tag, the ``snapshots.jsonl`` line, its fresh results if any, the protocol error
that must end the run)."""


def snapshot(adapter: TargetAdapter, boundary: Boundary, clock: SimClock, tag: str | None,
             force: bool) -> Snapshot:
    """One read of the published results (conditional on ``tag`` unless ``force``)."""
    now = time.time()
    line: dict[str, Any] = {"fetched_wall": round(now, 3), "sim_min": round(clock.sim(now), 3)}
    failure: TargetError | None = None
    try:
        new_tag, results = boundary.call("snapshot", published, adapter, boundary.client,
                                         None if force else tag)
        line.update(status=304 if results is None else 200, results=results)
        return (new_tag, json.dumps(line, separators=(",", ":"), allow_nan=False), results,
                None)
    except TargetError as exc:
        line.update(status=0, results=None, detail=str(exc)[:200])
        if exc.record is not None and exc.record.get("kind") == "protocol":
            line["protocol_error"], failure = exc.record, exc
    except (TypeError, ValueError) as exc:  # NaN, infinity, a set...: not JSON
        problem = Problem("snapshot", "protocol", "", 0, "", f"{type(exc).__name__}: {exc}")
        failure = TargetProtocolError(f"snapshot: the published results are not JSON ({exc})",
                                      record=problem.as_json())
        line.update(status=0, results=None, detail=str(failure)[:200],
                    protocol_error=failure.record)
    return tag, json.dumps(line, separators=(",", ":")), None, failure


def audit_trail(adapter: TargetAdapter, boundary: Boundary, requests: int,
                units: int) -> list[dict[str, Any]] | None:
    """The target's audit trail. It has at most one item per request the night sent: more
    pages than twice that is a read that does not end (a protocol error)."""
    bound = max(MAX_REQUESTS_PER_CALL, 2 * (requests + units))
    trail: list[dict[str, Any]] | None = boundary.call("audit", adapter.audit,
                                                       boundary.client, limit=bound)
    return trail
