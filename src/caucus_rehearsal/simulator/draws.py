"""The chairs' behaviour on one night, drawn for every unit at once.

Each unit owns one row of two fixed-width blocks of random numbers per replication: a
row of uniforms from ``stream(seed, "night", replication, "u")`` and a row of standard
normals from ``stream(seed, "night", replication, "z")``. Row ``i`` is the ``i``-th
``width`` numbers of each stream, so it depends only on (seed, replication, unit index,
width), never on what any other unit does or draws. One pair of generators per night
instead of 1,765 keyed ones keeps drawing a night about 60x cheaper (a keyed
``SeedSequence`` costs ~35 us; see benchmarks/bench_night.py) with the same independence.

Every distribution is sampled by transforming the row's uniform (``u``) or normal
(``z``) in the same column (see :func:`ppf`), vectorised over units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from caucus_rehearsal.simulator.dists import Dist
from caucus_rehearsal.simulator.roster import Unit
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.streams import stream

Array = npt.NDArray[np.float64]

APP_STATUSES = ("ready", "not_installed", "cannot_login", "confused")
"""A chair's app readiness: ready; never installed; installed but sign-in/PIN fail;
signed in but does not know the flow (steps go wrong at ``people.confused_step_failure``)."""

FIXED_COLUMNS = ("checkin", "intro", "first", "math", "installed", "login", "knows",
                 "patience", "backoff", "think", "paper", "validate", "verify")
"""Columns of a unit's row before the per-call columns (hold patience, redial delay)."""


def ppf(d: Dist, u: Array, z: Array) -> Array:
    """Samples of ``d`` from uniforms ``u`` (in [0, 1)) and standard normals ``z``.

    Inverse-CDF for the uniform-driven families; lognormal and normal use ``z``. Same
    laws as :meth:`Dist.sample`, vectorised; never negative.
    """
    p = d.params
    if d.name == "fixed":
        return np.full(u.shape, p[0])
    if d.name == "exponential":
        return -p[0] * np.log1p(-u)
    if d.name == "uniform":
        return p[0] + (p[1] - p[0]) * u
    if d.name == "triangular":
        lo, mode, hi = p
        if hi == lo:
            return np.full(u.shape, lo)
        cut = (mode - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode))
        return np.where(u < cut, left, right)
    if d.name == "lognormal":
        return p[0] * np.exp(d.sigma * z)
    if d.name == "normal":
        return np.maximum(p[0] + p[1] * z, 0.0)
    raise ValueError(f"unknown distribution {d.name!r}")  # pragma: no cover


def row_width(scenario: Scenario) -> int:
    """Random numbers per unit per block: fixed columns plus two per possible call."""
    return len(FIXED_COLUMNS) + 2 * scenario.people.max_calls


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Every unit's draws for one replication, as plain lists in roster order (minutes).

    ``meeting_start`` is when business starts after the check-in backlog; ``ready_at``
    when the meeting ends and the chair starts reporting; ``hold_patience`` and
    ``redial_delay`` hold one value per possible call; ``validate`` and ``verify`` are
    the central side's times for this unit's report.
    """

    meeting_start: list[float]
    ready_at: list[float]
    app_status: list[str]
    first_channel: list[str]
    app_patience: list[float]
    backoff: list[float]
    think: list[float]
    paper_delay: list[float]
    hold_patience: list[list[float]]
    redial_delay: list[list[float]]
    validate: list[float]
    verify: list[float]


def meeting_times(scenario: Scenario, units: tuple[Unit, ...], u: Array,
                  z: Array) -> tuple[Array, Array]:
    """(business start, meeting end) per unit from its row's meeting columns.

    The check-in line: ``checkin_desks`` desks per 100 expected attendees (at least
    one) each take ``checkin_time`` per attendee; whatever the desks cannot clear
    between doors open and doors close delays the business.
    First alignment scales with the square root of room size (a room of 100 is 1x).
    """
    m = scenario.meeting
    col = FIXED_COLUMNS.index
    att = np.array([max(1, un.expected_attendance) for un in units], dtype=float)
    start = np.array([un.start for un in units], dtype=float)
    desks = np.maximum(1.0, np.ceil(m.checkin_desks * att / 100.0))
    # The site's mean time per attendee: one draw x stands for the average of ``att``
    # attendees, mean + (x - mean) / sqrt(att) (same mean and variance, by the CLT).
    x = ppf(m.checkin_time, u[:, col("checkin")], z[:, col("checkin")])
    mean = m.checkin_time.mean
    per_person = np.maximum(0.0, mean + (x - mean) / np.sqrt(att))
    backlog = np.maximum(0.0, att * per_person / desks - (m.doors_close - m.doors_open))
    business = start + backlog
    intro = ppf(m.intro_business, u[:, col("intro")], z[:, col("intro")])
    first = ppf(m.first_alignment, u[:, col("first")], z[:, col("first")]) * np.sqrt(att / 100)
    math_ = ppf(m.math, u[:, col("math")], z[:, col("math")])
    return business, business + intro + first + m.realignment + math_


def draw_behaviour(scenario: Scenario, units: tuple[Unit, ...],
                   replication: int) -> Behaviour:
    """Every unit's behaviour on night ``replication`` (0 is the plan's night)."""
    n, width = len(units), row_width(scenario)
    seed = scenario.seed
    u = stream(seed, "night", replication, "u").random((n, width))
    z = stream(seed, "night", replication, "z").standard_normal((n, width))
    pe, col = scenario.people, FIXED_COLUMNS.index

    def draw(d: Dist, name: str) -> Array:
        return ppf(d, u[:, col(name)], z[:, col(name)])

    business, ready = meeting_times(scenario, units, u, z)
    installed = u[:, col("installed")] < pe.app_installed
    login = u[:, col("login")] < pe.app_can_login
    knows = u[:, col("knows")] < pe.app_knows_flow
    status = np.where(~installed, 1, np.where(~login, 2, np.where(~knows, 3, 0)))
    app_on = scenario.app.enabled
    statuses = [APP_STATUSES[s] for s in status.tolist()]
    channels = ["app" if app_on and s != "not_installed" else "hotline" for s in statuses]
    calls = pe.max_calls
    k0 = len(FIXED_COLUMNS)
    hold = ppf(pe.hold_patience, u[:, k0:k0 + calls], z[:, k0:k0 + calls])
    redial = ppf(pe.redial_delay, u[:, k0 + calls:k0 + 2 * calls],
                 z[:, k0 + calls:k0 + 2 * calls])
    c = scenario.central
    return Behaviour(
        meeting_start=business.tolist(),
        ready_at=ready.tolist(),
        app_status=statuses,
        first_channel=channels,
        app_patience=draw(pe.app_patience, "patience").tolist(),
        backoff=draw(pe.retry_backoff, "backoff").tolist(),
        think=draw(pe.step_think_time, "think").tolist(),
        paper_delay=draw(scenario.paper.delivery, "paper").tolist(),
        hold_patience=hold.tolist(),
        redial_delay=redial.tolist(),
        validate=draw(c.validation_time, "validate").tolist(),
        verify=draw(c.verification_time, "verify").tolist(),
    )



def sampler(d: Dist) -> Callable[[float, float], float]:
    """A fast scalar sampler of ``d``: ``f(u, z)`` from a uniform and a standard normal
    (the same law as :func:`ppf`, for one draw at a time inside the model)."""
    p = d.params
    if d.name == "lognormal":
        median, sigma = p[0], d.sigma
        return lambda u, z: median * math.exp(sigma * z)
    if d.name == "exponential":
        mean = p[0]
        return lambda u, z: -mean * math.log1p(-u)
    if d.name == "fixed":
        value = p[0]
        return lambda u, z: value
    if d.name == "uniform":
        lo, width = p[0], p[1] - p[0]
        return lambda u, z: lo + width * u
    if d.name == "normal":
        mu, sd = p
        return lambda u, z: max(mu + sd * z, 0.0)
    return lambda u, z: float(ppf(d, np.array([u]), np.array([z]))[0])


ENV_WIDTH = 24
"""Environment draws per unit in the shared block before a unit's own overflow stream."""


class EnvDraws:
    """Every unit's environment draws on one night (server latency and errors, operator
    service, typos), each unit consuming its own sequence in order.

    Unit ``i`` first takes row ``i`` (``ENV_WIDTH`` numbers) of the uniforms of
    ``stream(seed, "night", replication, "env-u")`` and the normals of ``"env-z"``; a
    unit that needs more continues on its own ``stream(seed, "night", replication,
    "env", i)``, ``ENV_WIDTH`` uniforms then ``ENV_WIDTH`` normals at a time. The blocks
    are kept as two flat lists with a cursor per unit (no object per unit: a night
    builds this 1,765 times over in Monte Carlo).
    """

    __slots__ = ("_cur", "_extra", "_rep", "_seed", "_u", "_z")

    def __init__(self, seed: int, replication: int, n: int) -> None:
        self._seed, self._rep = seed, replication
        self._u: list[float] = stream(seed, "night", replication, "env-u").random(
            n * ENV_WIDTH).tolist()
        self._z: list[float] = stream(seed, "night", replication, "env-z").standard_normal(
            n * ENV_WIDTH).tolist()
        self._cur = list(range(0, n * ENV_WIDTH, ENV_WIDTH))
        self._extra: dict[int, tuple[np.random.Generator, list[float], list[float], int]] = {}

    def next(self, i: int) -> tuple[float, float]:
        """Unit ``i``'s next (uniform, normal) pair."""
        j = self._cur[i]
        if j < (i + 1) * ENV_WIDTH:
            self._cur[i] = j + 1
            return self._u[j], self._z[j]
        return self._more(i)

    def _more(self, i: int) -> tuple[float, float]:
        extra = self._extra.get(i)
        if extra is None or extra[3] >= ENV_WIDTH:
            gen = stream(self._seed, "night", self._rep, "env", i) if extra is None else extra[0]
            extra = (gen, gen.random(ENV_WIDTH).tolist(),
                     gen.standard_normal(ENV_WIDTH).tolist(), 0)
        gen, u, z, k = extra
        self._extra[i] = (gen, u, z, k + 1)
        return u[k], z[k]
