"""A precinct chair on the night: the app, then the hotline, then paper.

:func:`run_chair` follows one :class:`~caucus_rehearsal.simulator.plan.ChairPlan` on the
compressed clock (rules in ``simulator/plan.py``) and reacts to the target's real
answers. Times below are wall seconds; ``t`` is when the chair is next free to act.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from caucus_rehearsal.rehearsal.context import RunContext
from caucus_rehearsal.rehearsal.hotline_link import HotlinePhone
from caucus_rehearsal.rehearsal.night import wrong_pin
from caucus_rehearsal.rehearsal.send import send, wait_until
from caucus_rehearsal.simulator.plan import ChairPlan
from caucus_rehearsal.simulator.streams import stream

EARLY_SPREAD_MIN = 1.0
"""Simulated minutes over which chairs ready before the live window are spread."""
OPERATOR_TRIES = 3
"""Times an operator re-sends a report that failed for a server error or timeout."""


def run_chair(client: Any, ctx: RunContext, phone: HotlinePhone, plan: ChairPlan) -> None:
    """Play one chair's night; counts it done in ``ctx`` whatever happens."""
    try:
        t = ctx.clock.wall(plan.ready_at)
        if t < ctx.clock.t0_wall:
            # Ready before the live window opens (a daytime satellite): act within its first
            # simulated minute, spread out (all at one instant would be an artefact).
            spread = float(stream(ctx.scenario.seed, "live-early", plan.unit_index).random())
            t = ctx.clock.t0_wall + ctx.wall_s(EARLY_SPREAD_MIN * spread)
        if t > ctx.end_wall:
            return
        tally = ctx.night.worksheet_json(plan.unit_index)
        done = False
        if plan.first_channel == "app" and ctx.scenario.app.enabled:
            t, done = _app(client, ctx, plan, tally, t)
        if not done:
            t, done = _hotline(client, ctx, phone, plan, tally, t)
        if not done:
            done = _paper(client, ctx, plan, tally, t + ctx.wall_s(plan.paper_delay_min))
        if done:
            ctx.units_acked += 1
    finally:
        ctx.chairs_done += 1


def _gave_up(ctx: RunContext, plan: ChairPlan, channel: str, t: float, detail: str) -> None:
    ctx.log(unit_id=plan.unit_id, actor="chair", channel=channel, step="gave_up",
            intended_wall=round(t, 6), outcome="gave_up", detail=detail)


def _app(client: Any, ctx: RunContext, plan: ChairPlan, tally: dict[str, Any],
         t: float) -> tuple[float, bool]:
    steps = ["login", "attendance", "first", "final"] + (["photo"] if ctx.scenario.app.photo
                                                         else [])
    unit = ctx.night.roster.units[plan.unit_index]
    pin = wrong_pin(unit.chair.pin) if plan.app_status == "cannot_login" else unit.chair.pin
    rng = stream(ctx.scenario.seed, "live-confused", plan.unit_index)
    patience_end = t + ctx.wall_s(plan.app_patience_min)
    failures, i, token, acked = 0, 0, "", False
    attempts = dict.fromkeys(steps, 0)
    while i < len(steps):
        step = steps[i]
        if step != "login":
            t += ctx.wall_s(plan.think_time_min)
        if t > patience_end or t > ctx.end_wall:
            _gave_up(ctx, plan, "app", t, "patience ran out")
            return t, acked
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
        reply = send(client, ctx, call, t, unit_id=plan.unit_id, actor="chair",
                     channel="app", attempt=attempts[step], payload=payload)
        t = time.time()
        if reply.outcome == "ok" and sent_step == step:
            if step == "login":
                token = reply.token or ""
            if step == "final":
                acked = True
                ctx.acknowledged.append((plan.unit_id, token))
            i += 1
            continue
        if reply.outcome == "ok":
            continue  # a confused step the target accepted anyway
        failures += 1
        if reply.outcome == "unauthorized" and step != "login":
            i = 0  # token lost: sign in again
        if reply.outcome == "rejected" and reply.detail.startswith("422"):
            _gave_up(ctx, plan, "app", t, f"the target rejects the worksheet ({reply.detail})")
            return t, acked
        if failures >= plan.app_max_failures:
            _gave_up(ctx, plan, "app", t, f"{failures} failures")
            return t, acked
        backoff = ctx.wall_s(plan.backoff_min * 2 ** (failures - 1))
        t += max(backoff, reply.retry_after_s or 0.0)
    return t, acked


def _operator_token(client: Any, ctx: RunContext, operator: str, unit_id: str,
                    channel: str, fresh: bool = False) -> str:
    if fresh or operator not in ctx.operator_tokens:
        call = ctx.adapter.operator_login(operator, ctx.operators[operator])
        reply = send(client, ctx, call, time.time(), unit_id=unit_id, actor="operator",
                     channel=channel, operator=operator)
        ctx.operator_tokens[operator] = reply.token or ""
    return ctx.operator_tokens[operator]


def _operator_enters(client: Any, ctx: RunContext, operator: str, plan: ChairPlan,
                     keyed: dict[str, Any], channel: str, key: str) -> str:
    """The operator keys the report in; the outcome of the last try."""
    outcome = "error"
    for attempt in range(1, OPERATOR_TRIES + 1):
        token = _operator_token(client, ctx, operator, plan.unit_id, channel,
                                fresh=outcome == "unauthorized")
        call = ctx.adapter.operator_report(plan.unit_id, token, keyed, key)
        if channel == "paper":
            call = type(call)("delivered", call.method, call.path, call.name, call.json,
                              call.body, call.headers)
        reply = send(client, ctx, call, time.time(), unit_id=plan.unit_id, actor="operator",
                     channel=channel, attempt=attempt, payload=keyed, operator=operator)
        outcome = reply.outcome
        if outcome not in ("error", "timeout", "conn_error", "unauthorized"):
            break
    return outcome


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
             tally: dict[str, Any], t: float) -> tuple[float, bool]:
    sc = ctx.scenario
    for k in range(plan.max_calls):
        if t > ctx.end_wall:
            return t, False
        wait_until(t)
        caller = f"{plan.unit_id}#{k}"
        hold = plan.hold_patience_min[k] if sc.hotline.abandonment else math.inf
        dialled = time.time()
        reply = phone.dial(caller, dialled + ctx.wall_s(hold))
        base = {"unit_id": plan.unit_id, "actor": "caller", "channel": "hotline",
                "attempt": k + 1, "queue_len": reply["queue_len"]}
        if reply["result"] == "busy":
            ctx.log(step="call", outcome="busy", intended_wall=round(t, 6),
                    sent_wall=round(dialled, 6), **base)
            t = time.time() + ctx.wall_s(plan.redial_delay_min[k])
            continue
        ctx.log(step="call", outcome="queued", intended_wall=round(t, 6),
                sent_wall=round(dialled, 6), **{**base, "queue_len": None})
        wait_min = reply["wait_s"] * ctx.speed / 60.0
        ctx.log(step="hold", outcome=reply["result"], wait_min=round(wait_min, 3),
                intended_wall=round(time.time(), 6), **base)
        if reply["result"] == "abandoned":
            t = time.time() + ctx.wall_s(plan.redial_delay_min[k])
            continue
        rng = stream(sc.seed, "live-call", plan.unit_index, k)
        service = ctx.wall_s(sc.hotline.service_time.sample(rng))
        wait_until(time.time() + service)
        keyed = keyed_with_typos(tally, sc.hotline.typo_rate, rng)
        try:
            outcome = _operator_enters(client, ctx, reply["operator"], plan, keyed, "hotline",
                                       key=f"{plan.unit_id}:call{k}")
        finally:
            phone.finish(caller)
        t = time.time()
        if outcome == "ok":
            return t, True
        if outcome == "rejected":
            _gave_up(ctx, plan, "hotline", t, "the target rejects the report")
            return t, False
        t += ctx.wall_s(plan.redial_delay_min[k])
    _gave_up(ctx, plan, "hotline", t, f"{plan.max_calls} calls")
    return t, False


def _paper(client: Any, ctx: RunContext, plan: ChairPlan, tally: dict[str, Any],
           arrives: float) -> bool:
    if arrives > ctx.end_wall:
        return False
    wait_until(arrives)
    desk = next(iter(ctx.operators))
    return _operator_enters(client, ctx, desk, plan, tally, "paper",
                            key=f"{plan.unit_id}:paper") == "ok"
