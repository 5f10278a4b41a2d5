"""Sending one :class:`HttpCall` through a FastHttpUser and logging the attempt.

Every attempt by any simulated actor goes through :func:`send`: it waits for the
intended moment, sends with ``name=`` grouping and ``catch_response``, asks the adapter
what the answer meant, marks the Locust sample as success or failure, and appends the
event with its intended and actual send time (``docs/run-directory.md``).
"""

from __future__ import annotations

import time
from typing import Any

import gevent

from caucus_rehearsal.rehearsal.adapters.base import HttpCall, Reply
from caucus_rehearsal.rehearsal.context import RunContext
from caucus_rehearsal.rehearsal.eventlog import FAILED_OUTCOMES

REFUSALS = frozenset({"rejected", "unauthorized", "locked_out"})
"""Outcomes by which a target correctly refuses an adversary."""


def wait_until(wall: float) -> None:
    """Sleep (cooperatively) until wall time ``wall``; return at once if it has passed."""
    delay = wall - time.time()
    if delay > 0:
        gevent.sleep(delay)


def send(client: Any, ctx: RunContext, call: HttpCall, intended: float, *, unit_id: str,
         actor: str, channel: str, attempt: int = 1, payload: Any = None,
         good: frozenset[str] = frozenset({"ok"}), log: bool = True, **extra: Any) -> Reply:
    """Send ``call`` at ``intended`` (wall); return what the answer meant.

    ``good``: the outcomes Locust counts as a success; for an adversary that is a
    refusal (:data:`REFUSALS`): the target doing its job.
    """
    wait_until(intended)
    rid = ctx.request_id(unit_id, call.step)
    headers = dict(call.headers)
    headers["X-Request-Id"] = rid
    ctx.in_flight += 1
    sent = time.time()
    try:
        with client.request(call.method, call.path, name=call.name, json=call.json,
                            data=call.body, headers=headers, catch_response=True) as resp:
            latency_ms = (time.time() - sent) * 1000.0
            status = int(resp.status_code or 0)
            if status == 0:
                err = repr(getattr(resp, "error", "")).lower()
                reply = Reply("timeout" if "timeout" in err or "timed out" in err
                              else "conn_error", detail=err[:200])
            else:
                # geventhttpclient's headers look names up case-insensitively already.
                reply = ctx.adapter.interpret(call, status, resp.headers or {},
                                              resp.content or b"")
            if reply.outcome in good:
                resp.success()
            else:
                resp.failure(f"{reply.outcome}: {reply.detail}"[:300])
    finally:
        ctx.in_flight -= 1
    ctx.requests += 1
    if reply.outcome in FAILED_OUTCOMES:
        ctx.errors += 1
    if log:
        record: dict[str, Any] = {
            "unit_id": unit_id, "actor": actor, "channel": channel, "step": call.step,
            "attempt": attempt, "intended_wall": intended,
            "sent_wall": sent, "latency_ms": round(latency_ms, 3),
            "status": status,
            "outcome": "rejected" if reply.outcome == "unauthorized" else reply.outcome,
            "request_id": rid,
            "detail": reply.detail}
        if payload is not None:
            record["payload"] = payload
        record.update(extra)
        ctx.log(**record)
    return reply
