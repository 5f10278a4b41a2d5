"""The zero read of ``rehearse run``: the target's published results once, after
provisioning and before the first report, recorded as ``zero_state.json``
(:mod:`caucus_rehearsal.rundir.zero`; ``rehearse report`` judges it)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from caucus_rehearsal.errors import TargetError, TargetProtocolError
from caucus_rehearsal.published import shape_problem
from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter
from caucus_rehearsal.rehearsal.boundary import Boundary
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rundir.zero import SKIP_FLAG, ZeroRead


def _zero(adapter: TargetAdapter, client: httpx.Client) -> dict[str, Any]:
    results = adapter.zero_state(client)
    if (why := shape_problem(results)) is not None:
        raise TargetProtocolError(f"the adapter's published results: {why}")
    return results


def read_zero_state(adapter: TargetAdapter, boundary: Boundary, clock: SimClock,
                    skip: bool) -> ZeroRead:
    """Read the target's published results now, through the boundary (nothing when
    ``skip``). A read that fails (an error answer, a body of another shape) is recorded
    as failed, which the report counts against the zero state; the night goes on."""
    if skip:
        return ZeroRead(None, None, 0, None, SKIP_FLAG, skipped=True)
    now = time.time()
    at = (round(now, 3), round(clock.sim(now), 3))
    try:
        results = boundary.call("zero_state", _zero, adapter, boundary.client)
    except TargetError as exc:
        return ZeroRead(*at, 0, None, str(exc)[:300])
    return ZeroRead(*at, 200, results)
