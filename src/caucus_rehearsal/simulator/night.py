"""One night: a SimPy process per reporting unit plus the shared resources.

``run_night(scenario, units, replication)`` draws every chair's behaviour
(:mod:`.draws`), runs the meeting (as one timeout to the meeting's end), the app
(:mod:`.app`), the hotline and nuisance callers (:mod:`.hotline`) and paper, until the
scenario's horizon, then the central side (:mod:`.central`), and returns the frozen
records (:class:`~.records.NightResult`, with where each unit's time went:
:mod:`.stages`). Replication ``r`` uses only the streams
``stream(seed, "night", r, ...)``.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from caucus_rehearsal.simulator import central
from caucus_rehearsal.simulator.app import use_app
from caucus_rehearsal.simulator.draws import Behaviour, EnvDraws, draw_behaviour, sampler
from caucus_rehearsal.simulator.hotline import nuisance, phone
from caucus_rehearsal.simulator.plan import APP_STEPS
from caucus_rehearsal.simulator.queues import Lines, Pool
from caucus_rehearsal.simulator.records import AppAttempt, Call, NightResult, UnitOutcome, make
from caucus_rehearsal.simulator.roster import Unit
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.stages import stage_times
from caucus_rehearsal.simulator.streams import stream

INF = math.inf


class NightState:
    """The shared state of one night while it runs (the model's working memory)."""

    def __init__(self, scenario: Scenario, n: int, replication: int,
                 behaviour: Behaviour, start: float) -> None:
        s = scenario
        self.scenario = s
        self.env = simpy.Environment(initial_time=start)
        self.behaviour = behaviour
        self.draws = EnvDraws(s.seed, replication, n)
        self.nuisance_rng = stream(s.seed, "night", replication, "nuisance")
        self.target = Pool(self.env, s.target.capacity)
        h = s.hotline
        if h.hold_capacity is None:  # callers hold on the lines
            self.operators = Pool(self.env, h.operators)
            self.lines = Lines(h.lines)
        else:  # the phone system queues them; an answered call takes a line
            self.operators = Pool(self.env, min(h.operators, h.lines or h.operators))
            self.lines = Lines(0)
        self.hold_capacity = math.inf if h.hold_capacity is None else h.hold_capacity
        self.abandonment = s.hotline.abandonment
        self.outages = [(o.start, o.start + o.duration) for o in s.target.outages]
        self.steps = APP_STEPS if s.app.photo else APP_STEPS[:-1]
        self.latency = sampler(s.target.latency)
        self.service_time = sampler(s.hotline.service_time)
        self.nuisance_hold = sampler(s.adversaries.nuisance_hold)
        self.nuisance_patience = sampler(s.people.hold_patience)
        self.app_attempts: list[AppAttempt] = []
        self.calls: list[Call] = []
        self.app_failures = [0] * n
        self.unit_calls = [0] * n
        self.received = [INF] * n
        self.channel = ["none"] * n
        self.phone_pending = n
        self.processes = 0
        # Where each chair's time goes (read by :mod:`.stages` after the run): when it
        # started on the phone, when it gave up for paper, and its phone minutes spent
        # in redials after busy signals, other redials, holds and operator service.
        self.phone_start = [INF] * n
        self.gave_up = [INF] * n
        self.phone_spent = [[0.0, 0.0, 0.0, 0.0] for _ in range(n)]

    def finish(self, i: int, done: bool) -> None:
        """Unit ``i``'s chair stops calling: reported (``done``), or the worksheet goes
        on paper and reaches the party ``paper_delay`` later."""
        if not done:
            self.gave_up[i] = self.env.now
            self.received[i] = self.env.now + self.behaviour.paper_delay[i]
            self.channel[i] = "paper"
        self.phone_pending -= 1

    def acknowledge(self, i: int, channel: str) -> None:
        """Unit ``i``'s report reached the party now through ``channel``."""
        self.received[i] = self.env.now
        self.channel[i] = channel


def chair(st: NightState, i: int) -> Generator[Any, Any, None]:
    """Unit ``i`` whose chair tries the app first: the meeting, the app, then the
    hotline and paper as needed. (A chair who starts on the phone runs
    ``phone(st, i, ready_at, finish=True)`` as its process instead.)"""
    env, b = st.env, st.behaviour
    if b.ready_at[i] > env.now:
        yield env.timeout(b.ready_at[i] - env.now)
    done = yield from use_app(st, i)
    if not done:
        done = yield from phone(st, i)
    st.finish(i, done)


def run_night(scenario: Scenario, units: tuple[Unit, ...], replication: int) -> NightResult:
    """Replication ``replication`` of the night for ``units`` (roster order)."""
    b = draw_behaviour(scenario, units, replication)
    n = len(units)
    start = min([0.0, scenario.hotline.opens, *b.ready_at])
    st = NightState(scenario, n, replication, b, start)
    env = st.env
    for i in range(n):
        if b.first_channel[i] == "app":
            env.process(chair(st, i))
        else:
            env.process(phone(st, i, b.ready_at[i], finish=True))
    env.process(nuisance(st))
    st.processes += n + 1
    c = scenario.central
    env.run(until=max(c.horizon, start + 1e-9))
    received = [t if t < c.horizon else INF for t in st.received]
    channel = [ch if t < INF else "none" for ch, t in zip(st.channel, received, strict=True)]
    verified = central.verify(received, b.validate, b.verify, c.verifiers, c.shifts)
    published = central.publish(c, verified)
    outcomes = tuple(
        make(UnitOutcome, row) for row in zip(range(n), b.ready_at, channel, st.app_failures,
                                              st.unit_calls, received, verified, published,
                                              strict=True))
    events = next(env._eid)  # SimPy's count of scheduled events
    times = stage_times(c, b.ready_at, b.first_channel, st.channel, st.received,
                        st.phone_start, st.gave_up, st.phone_spent, b.validate, b.verify,
                        verified, published)
    return NightResult(replication, outcomes, tuple(st.app_attempts), tuple(st.calls),
                       st.processes, events, times)
