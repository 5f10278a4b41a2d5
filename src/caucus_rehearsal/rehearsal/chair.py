"""A precinct chair on the night: the app, then the hotline, then paper.

:func:`run_chair` follows one :class:`~caucus_rehearsal.simulator.plan.ChairPlan` and
reacts to the target's real answers. The chair lives on its own **modelled** timeline
``s`` (simulation minutes): each attempt is due at ``s`` (the run's clock places it on
the wall), the target's real response time moves ``s`` on one to one, and modelled
durations (think times, backoffs, patience, redial delays, operator service) move it on
by their modelled length. Every decision (patience, give-ups, channel, redials) is taken
on ``s``, never on when a busy load generator got round to an action, so the same target
gives the same behaviour at any speed and on any machine (docs/time.md).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from caucus_rehearsal.rehearsal.addresses import chair_address
from caucus_rehearsal.rehearsal.context import RunContext
from caucus_rehearsal.rehearsal.hotline_link import HotlinePhone
from caucus_rehearsal.rehearsal.night import wrong_pin
from caucus_rehearsal.rehearsal.send import send
from caucus_rehearsal.rundir.vocab import FAILED_OUTCOMES
from caucus_rehearsal.simulator.plan import ChairPlan
from caucus_rehearsal.simulator.streams import stream

EARLY_SPREAD_MIN = 1.0
"""Simulated minutes over which chairs ready before the live window are spread."""
OPERATOR_TRIES = 3
"""Times an operator re-sends a report that failed for a server error or timeout."""
OPERATOR_RETRIES_ON = (FAILED_OUTCOMES - {"protocol_error"}) | {"unauthorized"}
"""An operator re-sends after a failure of the target that may pass (not an answer the
adapter cannot read), and after a refused session (with a fresh sign-in)."""


def start_moment(ctx: RunContext, plan: ChairPlan) -> float:
    """The modelled minute at which the chair starts: when it is ready; a chair ready
    before the live window opens (a daytime satellite) acts within its first simulated
    minute, spread out (all at one instant would be an artefact)."""
    if plan.ready_at >= ctx.scenario.live.start:
        return plan.ready_at
    spread = float(stream(ctx.scenario.seed, "live-early", plan.unit_index).random())
    return ctx.scenario.live.start + EARLY_SPREAD_MIN * spread


def run_chair(client: Any, ctx: RunContext, phone: HotlinePhone, plan: ChairPlan) -> None:
    """Play one chair's night; counts it done in ``ctx`` whatever happens.

    The hotline pool is kept told the earliest moment this chair may next dial (after
    each of its app requests), and that it will not call again once it is done with
    the phone (``hotline_link``).
    """
    try:
        s = start_moment(ctx, plan)
        if s > ctx.end_sim:
            return
        tally = ctx.night.worksheet_json(plan.unit_index)
        done = False
        if plan.first_channel == "app" and ctx.scenario.app.enabled:
            s, done = _app(client, ctx, phone, plan, tally, s)
        if not done:
            s, done = _hotline(client, ctx, phone, plan, tally, s)
        phone.bound(plan.unit_id, math.inf)
        if not done:
            done = _paper(client, ctx, plan, tally, s + plan.paper_delay_min)
        if done:
            ctx.units_acked += 1
    finally:
        phone.bound(plan.unit_id, math.inf)
        ctx.chair_done(plan.unit_id)


def _gave_up(ctx: RunContext, plan: ChairPlan, channel: str, s: float, detail: str) -> None:
    ctx.log(unit_id=plan.unit_id, actor="chair", channel=channel, step="gave_up",
            sim_min=round(s, 4), intended_wall=round(ctx.clock.wall(s), 6),
            outcome="gave_up", detail=detail)


def _app(client: Any, ctx: RunContext, phone: HotlinePhone, plan: ChairPlan,
         tally: dict[str, Any], s: float) -> tuple[float, bool]:
    """The app flow by the night model's rules (``simulator/app.py``): think before every
    attempt; after a failure give up at ``app_max_failures`` failures or once
    ``app_patience_min`` has passed since the start, else back off; a worksheet the
    target refuses (422) is given up at once (no retry mends the numbers)."""
    steps = ["login", "attendance", "first", "final"] + (["photo"] if ctx.scenario.app.photo
                                                         else [])
    unit = ctx.night.roster.units[plan.unit_index]
    pin = wrong_pin(unit.chair.pin) if plan.app_status == "cannot_login" else unit.chair.pin
    rng = stream(ctx.scenario.seed, "live-confused", plan.unit_index)
    started = s
    failures, i, token, acked = 0, 0, "", False
    ready: float | None = None
    attempts = dict.fromkeys(steps, 0)
    while i < len(steps):
        step = steps[i]
        s += plan.think_time_min
        phone.bound(plan.unit_id, s)  # the earliest this chair may now turn to the phone
        if s > ctx.end_sim:
            _gave_up(ctx, plan, "app", s, "the night ended")
            return s, acked
        sent_step = step
        if (plan.app_status == "confused" and step in ("attendance", "first")
                and rng.random() < plan.confused_step_failure):
            sent_step = steps[i + 1]  # out of order: the target should say 409
        attempts[step] += 1
        if sent_step == "login":
            call = ctx.adapter.chair_login(plan.unit_id, pin)
        else:
            call = ctx.adapter.chair_step(sent_step, plan.unit_id, token, tally,
                                          key=f"{plan.unit_id}:{sent_step}")
        payload = tally if sent_step == "final" else None
        sent = send(client, ctx, call, s, unit_id=plan.unit_id, actor="chair",
                    channel="app", attempt=attempts[step], payload=payload, ready_wall=ready,
                    source=chair_address(plan.unit_index))
        reply, ready = sent.reply, sent.done_wall
        s += sent.took_min
        if reply.outcome == "ok" and sent_step == step:
            if step == "login":
                token = reply.token or ""
            if step == "final":
                acked = True
                ctx.acknowledged.append((plan.unit_id, token, s))
            i += 1
            continue
        if reply.outcome == "ok":
            continue  # a confused step the target accepted anyway
        failures += 1
        if reply.outcome == "unauthorized" and step != "login":
            i = 0  # token lost: sign in again
        if reply.outcome == "rejected" and reply.detail.startswith("422"):
            _gave_up(ctx, plan, "app", s, f"the target rejects the worksheet ({reply.detail})")
            return s, acked
        if failures >= plan.app_max_failures:
            _gave_up(ctx, plan, "app", s, f"{failures} failures")
            return s, acked
        if s - started >= plan.app_patience_min:
            _gave_up(ctx, plan, "app", s, f"patience ran out after {failures} failures")
            return s, acked
        # A Retry-After is the target's real time: one to one on the modelled clock.
        s += max(plan.backoff_min * 2 ** (failures - 1), (reply.retry_after_s or 0.0) / 60.0)
    return s, acked


def _operator_token(client: Any, ctx: RunContext, operator: str, unit_id: str,
                    channel: str, s: float, fresh: bool = False,
                    ready: float | None = None) -> tuple[str, float, float | None]:
    """The operator's token (signing in at ``s`` when it has none); ``s`` after, and the
    wall time of the last answer waited for (``ready``, or the sign-in's)."""
    if fresh or operator not in ctx.operator_tokens:
        call = ctx.adapter.operator_login(operator, ctx.operators[operator])
        sent = send(client, ctx, call, s, unit_id=unit_id, actor="operator",
                    channel=channel, operator=operator, ready_wall=ready)
        ctx.operator_tokens[operator] = sent.reply.token or ""
        s += sent.took_min
        ready = sent.done_wall
    return ctx.operator_tokens[operator], s, ready


def _operator_enters(client: Any, ctx: RunContext, operator: str, plan: ChairPlan,
                     keyed: dict[str, Any], channel: str, key: str,
                     s: float, ready: float | None = None) -> tuple[str, float]:
    """The operator keys the report in from minute ``s``; the outcome of the last try and
    the minute it ended. ``ready``: the wall time of the answer the caller waited for
    before (on the hotline, the pool's: it can take an operator only once the operator's
    previous call has had its answer from the target)."""
    outcome = "error"
    for attempt in range(1, OPERATOR_TRIES + 1):
        token, s, ready = _operator_token(client, ctx, operator, plan.unit_id, channel, s,
                                          fresh=outcome == "unauthorized", ready=ready)
        call = ctx.adapter.operator_report(plan.unit_id, token, keyed, key)
        if channel == "paper":
            call = type(call)("delivered", call.method, call.path, call.name, call.json,
                              call.body, call.headers)
        sent = send(client, ctx, call, s, unit_id=plan.unit_id, actor="operator",
                    channel=channel, attempt=attempt, payload=keyed, operator=operator,
                    ready_wall=ready)
        s, ready, outcome = s + sent.took_min, sent.done_wall, sent.reply.outcome
        if outcome not in OPERATOR_RETRIES_ON:
            break
    return outcome, s


def keyed_with_typos(tally: dict[str, Any], rate: float,
                     rng: np.random.Generator) -> dict[str, Any]:
    """The tally as an operator keys it: with probability ``rate`` one count mistyped."""
    keyed = {k: (dict(v) if isinstance(v, dict) else v) for k, v in tally.items()}
    if rate > 0 and rng.random() < rate:
        field = ("first", "final")[int(rng.integers(0, 2))]
        names = sorted(keyed[field])
        name = names[int(rng.integers(0, len(names)))]
        keyed[field][name] = keyed[field][name] + int(rng.choice([1, 10, -1]))
        keyed[field][name] = max(0, keyed[field][name])
    return keyed


def _hotline(client: Any, ctx: RunContext, phone: HotlinePhone, plan: ChairPlan,
             tally: dict[str, Any], s: float) -> tuple[float, bool]:
    sc = ctx.scenario
    s = max(s, sc.hotline.opens)
    for k in range(plan.max_calls):
        if s > ctx.end_sim:
            return s, False
        caller = f"{plan.unit_id}#{k}"
        hold = plan.hold_patience_min[k] if sc.hotline.abandonment else math.inf
        rng = stream(sc.seed, "live-call", plan.unit_index, k)
        service = sc.hotline.service_time.sample(rng)
        # Announced at once (usually ahead of its moment); the pool decides on the
        # modelled clock, so when this greenlet runs does not matter.
        reply = phone.dial(caller, s, hold, service, party=plan.unit_id)
        # When the pool answered: an operator is taken only once the previous call the
        # operator took has had its answer from the target.
        decided = time.time()
        base = {"unit_id": plan.unit_id, "actor": "caller", "channel": "hotline",
                "attempt": k + 1}
        late = {"late_min": round(reply["late_min"], 4)} if reply["late_min"] else {}
        ctx.log(step="call", outcome="busy" if reply["result"] == "busy" else "queued",
                sim_min=round(s, 4), intended_wall=round(ctx.clock.wall(s), 6),
                queue_len=reply["queue_len"] if reply["result"] == "busy" else None,
                **base, **late)
        if reply["result"] == "busy":
            s += plan.redial_delay_min[k]
            continue
        at = float(reply["at"])
        ctx.log(step="hold", outcome=reply["result"], wait_min=round(reply["wait_min"], 4),
                sim_min=round(at, 4), intended_wall=round(ctx.clock.wall(at), 6),
                queue_len=reply["queue_len"], **base)
        if reply["result"] == "abandoned":
            s = at + plan.redial_delay_min[k]
            continue
        keyed = keyed_with_typos(tally, sc.hotline.typo_rate, rng)
        s = at + service
        try:
            outcome, s = _operator_enters(client, ctx, reply["operator"], plan, keyed,
                                          "hotline", f"{plan.unit_id}:call{k}", s,
                                          ready=decided)
        finally:
            phone.finish(caller, s)
        if outcome == "ok":
            return s, True
        if outcome == "rejected":
            _gave_up(ctx, plan, "hotline", s, "the target rejects the report")
            return s, False
        s += plan.redial_delay_min[k]
    _gave_up(ctx, plan, "hotline", s, f"{plan.max_calls} calls")
    return s, False


def _paper(client: Any, ctx: RunContext, plan: ChairPlan, tally: dict[str, Any],
           arrives: float) -> bool:
    if arrives > ctx.end_sim:
        return False
    desk = next(iter(ctx.operators))
    outcome, _ = _operator_enters(client, ctx, desk, plan, tally, "paper",
                                  f"{plan.unit_id}:paper", arrives)
    return outcome == "ok"
