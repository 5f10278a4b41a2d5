"""Sending one :class:`HttpCall` through a FastHttpUser and logging the attempt.

Every request by any simulated actor goes through :func:`send`: it waits for the
attempt's due moment (a modelled minute, placed on the wall clock by the run's
:class:`~caucus_rehearsal.rehearsal.clock.SimClock`), sends with ``name=`` grouping and
``catch_response``, asks the adapter what the answer meant, marks the Locust sample as
success or failure, and appends the event with its due and actual send time and how late
it went (docs/time.md, docs/run-directory.md).

The actor's modelled timeline moves on by the target's real response time, one to one
(:attr:`Sent.took_min`), never by ``speed`` times it; and how late the load generator
was never changes what the actor does next: both are the time semantics of a run.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import gevent

from caucus_rehearsal.attacks import HONEST
from caucus_rehearsal.rehearsal.adapters.base import HttpCall, Reply
from caucus_rehearsal.rehearsal.addresses import SOURCE_HEADER
from caucus_rehearsal.rehearsal.boundary import interpret
from caucus_rehearsal.rehearsal.context import RunContext
from caucus_rehearsal.rundir.vocab import FAILED_OUTCOMES

REFUSALS = frozenset({"rejected", "unauthorized", "locked_out"})
"""Outcomes by which a target correctly refuses an adversary."""


class Sent(NamedTuple):
    """One request's answer: what it meant, how long the target took (real seconds, and
    the same as simulated minutes), and the wall time the answer was in."""

    reply: Reply
    took_s: float
    done_wall: float

    @property
    def took_min(self) -> float:
        """The response time on the modelled clock: real seconds are real (1:1)."""
        return self.took_s / 60.0


def wait_until(wall: float) -> None:
    """Sleep (cooperatively) until wall time ``wall``; return at once if it has passed."""
    delay = wall - time.time()
    if delay > 0:
        gevent.sleep(delay)


def send(client: Any, ctx: RunContext, call: HttpCall, at: float, *, unit_id: str,
         actor: str, channel: str, attempt: int = 1, payload: Any = None,
         good: frozenset[str] = frozenset({"ok"}), log: bool = True,
         ready_wall: float | None = None, source: str | None = None, **extra: Any) -> Sent:
    """Send ``call`` at modelled minute ``at``; return what the answer meant.

    ``good``: the outcomes Locust counts as a success; for an adversary that is a
    refusal (:data:`REFUSALS`): the target doing its job. ``ready_wall``: when the actor
    got the answer it was waiting for before this attempt (the part of the lateness
    after which is the target's, not the load generator's). ``source``: the sender's own
    address, sent in :data:`~.addresses.SOURCE_HEADER` (:mod:`.addresses`).
    """
    intended = ctx.clock.wall(at)
    wait_until(intended)
    step = call.step if call.intent == HONEST else call.intent  # an attack: its name
    rid = ctx.request_id(unit_id, step)
    headers = dict(call.headers)
    headers["X-Request-Id"] = rid
    if source is not None:
        headers[SOURCE_HEADER] = source
    ctx.in_flight += 1
    sent = time.time()
    try:
        with client.request(call.method, call.path, name=call.name, json=call.json,
                            data=call.body, headers=headers, catch_response=True) as resp:
            done = time.time()
            status = int(resp.status_code or 0)
            if status == 0:
                err = repr(getattr(resp, "error", "")).lower()
                reply = Reply("timeout" if "timeout" in err or "timed out" in err
                              else "conn_error", detail=err[:200])
            else:
                # geventhttpclient's headers look names up case-insensitively already;
                # an answer the adapter cannot read is the target's protocol_error.
                reply = interpret(ctx.adapter, call, status, resp.headers or {},
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
        late_s = max(0.0, sent - intended)
        record: dict[str, Any] = {
            "unit_id": unit_id, "actor": actor, "channel": channel, "step": step,
            "attempt": attempt, "sim_min": round(at, 4), "intended_wall": intended,
            "sent_wall": sent, "late_ms": round(late_s * 1000.0, 3),
            "late_min": round(ctx.clock.sim_minutes(late_s), 4),
            "latency_ms": round((done - sent) * 1000.0, 3),
            "status": status,
            "outcome": "rejected" if reply.outcome == "unauthorized" else reply.outcome,
            "request_id": rid,
            "detail": reply.detail}
        if ready_wall is not None and ready_wall > intended:
            record["late_target_ms"] = round(min(late_s, ready_wall - intended) * 1000.0, 3)
        if payload is not None:
            record["payload"] = payload
        if reply.replayed is not None:
            record["replayed"] = reply.replayed
        record.update(extra)
        ctx.log(**record)
    return Sent(reply, done - sent, done)
