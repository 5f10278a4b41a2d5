"""The adversaries of ``[adversaries]``: everyone who is not a chair reporting honestly
(the attacks of :data:`caucus_rehearsal.attacks.ATTACKS`, a brute-force PIN guesser and
nuisance callers tying up the hotline). The public's and the media's reads are not
adversaries: :mod:`.public`."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from gevent.pool import Group
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

from caucus_rehearsal.rehearsal.adapters.base import HttpCall
from caucus_rehearsal.rehearsal.addresses import brute_force_address, stream_attacker_address
from caucus_rehearsal.rehearsal.boundary import guarded
from caucus_rehearsal.rehearsal.context import RunContext
from caucus_rehearsal.rehearsal.hotline_link import HotlinePhone
from caucus_rehearsal.rehearsal.process_state import state_of
from caucus_rehearsal.rehearsal.send import REFUSALS, send, wait_until
from caucus_rehearsal.simulator.streams import stream

NUISANCE_PARTY = "nuisance"
"""The hotline pool's name for the stream of nuisance callers."""
BRUTE_EVERY_MIN = 1.0
"""Simulated minutes between a brute-force attacker's sign-in attempts."""


def _ctx(user: Any) -> RunContext:
    from caucus_rehearsal.rehearsal.users import context

    return context(user.environment)


class AdversaryUser(FastHttpUser):
    """Everyone who is not a chair reporting honestly, at the scenario's rates."""

    fixed_count = 0
    wait_time = constant(0)

    @task
    def night(self) -> None:
        ctx = _ctx(self)
        a = ctx.scenario.adversaries
        self.attacks = Group()
        kinds = (("bad_pin", a.bad_login_rate_per_min), ("replay", a.replay_rate_per_min),
                 ("cross_precinct", a.cross_precinct_rate_per_min),
                 ("malformed", a.malformed_rate_per_min))
        for kind, rate in kinds:
            if rate > 0:
                self.attacks.spawn(self._arrivals, ctx, kind, rate, ctx.scenario.live.start)
        if a.nuisance_rate_per_min > 0 and a.nuisance_start is not None:
            self.attacks.spawn(self._arrivals, ctx, "nuisance", a.nuisance_rate_per_min,
                             a.nuisance_start)
        for i in range(a.brute_force_attackers):
            self.attacks.spawn(guarded, ctx.log, "", "adversary", "app", self._brute_force,
                               ctx, i)
        self.attacks.join()
        raise StopUser()

    def _arrivals(self, ctx: RunContext, kind: str, rate: float, start: float) -> None:
        """A Poisson stream of ``kind`` at ``rate`` per simulated minute from ``start``.

        Nuisance callers keep the hotline pool told when the next may dial, and each dials
        before that bound moves on, so the pool takes them in modelled order."""
        rng = stream(ctx.scenario.seed, "live-adversary", kind)
        sim = max(start, ctx.scenario.live.start)
        phone = state_of(self.environment).hotline_phone() if kind == "nuisance" else None
        n = 0
        while True:
            sim += float(rng.exponential(1.0 / rate))
            if sim > ctx.scenario.live.end:
                if phone is not None:
                    phone.bound(NUISANCE_PARTY, math.inf)
                return
            if phone is not None:
                phone.bound(NUISANCE_PARTY, sim)
            n += 1
            seed = int(rng.integers(0, 2**31))
            wait_until(ctx.clock.wall(sim) - 0.05)
            if phone is not None:
                self._nuisance(ctx, phone, n, sim, seed)
            else:
                self.attacks.spawn(guarded, ctx.log, "", "adversary", "app", self._attack,
                                   ctx, kind, n, sim, seed)

    def _attack(self, ctx: RunContext, kind: str, n: int, at: float, seed: int) -> None:
        rng = stream(seed, "attack")
        units = ctx.night.roster.units
        unit = units[int(rng.integers(0, len(units)))]
        ad = ctx.adapter
        good = REFUSALS
        attacked = unit.unit_id  # the precinct the request is about
        payload: dict[str, Any] | None = None
        extra: dict[str, Any] = {}
        if kind == "bad_pin":
            pin = f"{int(rng.integers(0, 1_000_000)):06d}"
            if pin == unit.chair.pin:
                return
            call = ad.chair_login(unit.unit_id, pin)
        elif kind == "malformed":
            base = ad.chair_login(unit.unit_id, unit.chair.pin)
            call = dataclasses.replace(base, json=None, body=b'{"precinct_id": "' + bytes(
                unit.unit_id, "ascii"), headers={"Content-Type": "application/json"})
        else:
            # Victims: units acknowledged by the attack's modelled moment, in a fixed order
            # (not in the order a busy process happened to record them).
            known = sorted((u, tok) for u, tok, when in ctx.acknowledged if when <= at)
            if not known:
                return
            victim, token = known[int(rng.integers(0, len(known)))]
            index = next(i for i, u in enumerate(units) if u.unit_id == victim)
            tally = ctx.night.worksheet_json(index)
            if kind == "replay":
                call = ad.chair_step("final", victim, token, tally, key=f"{victim}:final")
                good = frozenset({"ok", "rejected"})
                attacked = victim
            else:
                if unit.unit_id == victim:
                    return
                call = ad.chair_step("attendance", unit.unit_id, token, tally,
                                     key=f"x-{victim}-{n}")
                payload, extra = {"attendance": tally["attendance"]}, {"session_of": victim}
        call = dataclasses.replace(call, intent=kind, name=f"{call.name} [{kind}]")
        send(self.client, ctx, call, at, unit_id=attacked, actor="adversary",
             channel="app", attempt=n, good=good, payload=payload,
             source=stream_attacker_address(kind), **extra)

    def _nuisance(self, ctx: RunContext, phone: HotlinePhone, n: int, at: float,
                  seed: int) -> None:
        """Nuisance caller ``n`` dials at ``at`` (announced now; logged when decided)."""
        rng = stream(seed, "nuisance")
        sc = ctx.scenario
        patience = sc.people.hold_patience.sample(rng)
        hold = sc.adversaries.nuisance_hold.sample(rng)
        outcome = phone.announce(f"nuisance#{n}", at, patience, hold_for=hold)

        def log() -> None:
            reply = outcome.get()
            record = {"unit_id": "", "actor": "adversary", "channel": "hotline",
                      "step": "nuisance", "attempt": n, "sim_min": round(at, 4),
                      "intended_wall": round(ctx.clock.wall(at), 6),
                      "outcome": reply["result"], "queue_len": reply["queue_len"]}
            if reply["result"] != "busy":
                record["wait_min"] = round(reply["wait_min"], 4)
            if reply["late_min"]:
                record["late_min"] = round(reply["late_min"], 4)
            ctx.log(**record)

        self.attacks.spawn(log)

    def _brute_force(self, ctx: RunContext, i: int) -> None:
        rng = stream(ctx.scenario.seed, "live-brute-force", i)
        units = ctx.night.roster.units
        unit = units[int(rng.integers(0, len(units)))]
        pin = int(rng.integers(0, 1_000_000))
        sim = ctx.scenario.live.start
        n = 0
        while sim <= ctx.scenario.live.end:
            n += 1
            pin = (pin + 1) % 1_000_000
            call: HttpCall = ctx.adapter.chair_login(unit.unit_id, f"{pin:06d}")
            call = dataclasses.replace(call, intent="bad_pin",
                                       name=f"{call.name} [brute_force]")
            send(self.client, ctx, call, sim, unit_id=unit.unit_id, actor="adversary",
                 channel="app", attempt=n, good=REFUSALS, attacker=i,
                 source=brute_force_address(i))
            sim += BRUTE_EVERY_MIN
