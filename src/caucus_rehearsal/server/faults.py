"""Switchable faults that make the server fail the ways 2020 failed (docs/contract.md).

A fault spec is ``NAME[:params]``; :func:`parse_fault` turns it into a frozen record and
raises ``ValueError`` naming the spec and what was expected. :class:`FaultState` holds the
active set and the one seeded generator every random draw comes from.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FAULT_NAMES = ("incomplete-output", "login-failures", "latency", "errors", "outage", "capacity",
               "shared-capacity", "transient")
TRANSIENT_MODES = ("stale", "spike")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_Z95 = 1.6448536269514722
"""The standard normal's 95th percentile (lognormal given by median and p95)."""


def parse_duration(text: str, spec: str) -> float:
    """Seconds from ``200ms`` or ``1.5s``."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"fault {spec!r}: duration {text!r} must look like 200ms or 1.5s")
    value = float(m.group(1))
    return value / 1000.0 if m.group(2) == "ms" else value


def _probability(text: str, spec: str) -> float:
    try:
        p = float(text)
    except ValueError:
        p = math.nan
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"fault {spec!r}: probability {text!r} must be a number in [0, 1]")
    return p


@dataclass(frozen=True, slots=True)
class Latency:
    """A delay distribution in seconds: ``kind`` constant|uniform|exp|lognormal."""

    kind: str
    a: float
    b: float = 0.0

    def draw(self, rng: np.random.Generator) -> float:
        """One delay in seconds."""
        if self.kind == "constant":
            return self.a
        if self.kind == "uniform":
            return float(rng.uniform(self.a, self.b))
        if self.kind == "exp":
            return float(rng.exponential(self.a))
        # lognormal from median a and 95th percentile b
        sigma = math.log(self.b / self.a) / _Z95
        return float(rng.lognormal(math.log(self.a), sigma))


@dataclass(frozen=True, slots=True)
class Fault:
    """One parsed fault: ``name``, its ``spec`` as given, and the parameters it uses."""

    name: str
    spec: str
    p: float = 0.0
    n: int = 0
    timeout_s: float = 10.0
    mode: str = "drop"
    latency: Latency | None = None
    window_s: float = 0.0
    every_s: float = 0.0
    rate: float = 0.0


def _parse_latency(parts: list[str], spec: str) -> Latency:
    if len(parts) == 1:
        return Latency("constant", parse_duration(parts[0], spec))
    kind, args = parts[0], parts[1:]
    want = {"uniform": 2, "exp": 1, "lognormal": 2}
    if kind not in want or len(args) != want[kind]:
        raise ValueError(
            f"fault {spec!r}: latency must be DURATION, uniform:LO:HI, exp:MEAN "
            "or lognormal:MEDIAN:P95 (durations like 200ms)")
    vals = [parse_duration(a, spec) for a in args]
    if kind == "uniform" and vals[0] > vals[1]:
        raise ValueError(f"fault {spec!r}: uniform needs LO <= HI")
    if kind == "lognormal" and not 0 < vals[0] < vals[1]:
        raise ValueError(f"fault {spec!r}: lognormal needs 0 < MEDIAN < P95")
    return Latency(kind, vals[0], vals[1] if len(vals) > 1 else 0.0)


def parse_fault(spec: str) -> Fault:
    """The fault described by ``spec`` (``NAME[:params]``, see docs/contract.md)."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"fault {spec!r}: expected NAME[:params]")
    name, _, rest = spec.partition(":")
    parts = rest.split(":") if rest else []
    if name == "incomplete-output":
        mode = parts[0] if parts else "drop"
        if len(parts) > 1 or mode not in ("drop", "truncate"):
            raise ValueError(f"fault {spec!r}: expected incomplete-output[:drop|:truncate]")
        return Fault(name, spec, mode=mode)
    if name in ("login-failures", "errors"):
        if len(parts) != 1:
            raise ValueError(f"fault {spec!r}: expected {name}:P with P in [0, 1]")
        return Fault(name, spec, p=_probability(parts[0], spec))
    if name == "latency":
        if not parts:
            raise ValueError(f"fault {spec!r}: expected latency:DIST, e.g. latency:200ms")
        return Fault(name, spec, latency=_parse_latency(parts, spec))
    if name == "outage":
        if parts:
            raise ValueError(f"fault {spec!r}: outage takes no parameters")
        return Fault(name, spec)
    if name == "capacity":
        if len(parts) not in (1, 2) or not parts[0].isdigit() or int(parts[0]) < 1:
            raise ValueError(f"fault {spec!r}: expected capacity:N[:TIMEOUT] with N >= 1")
        timeout = parse_duration(parts[1], spec) if len(parts) == 2 else 10.0
        return Fault(name, spec, n=int(parts[0]), timeout_s=timeout)
    if name == "shared-capacity":
        try:
            rate = float(parts[0]) if len(parts) in (1, 2) else math.nan
        except ValueError:
            rate = math.nan
        if not 0 < rate < math.inf:
            raise ValueError(f"fault {spec!r}: expected shared-capacity:RATE[:TIMEOUT] with "
                             "RATE > 0 units of work per second")
        timeout = parse_duration(parts[1], spec) if len(parts) == 2 else 10.0
        return Fault(name, spec, rate=rate, timeout_s=timeout)
    if name == "transient":
        if not 1 <= len(parts) <= 3 or parts[0] not in TRANSIENT_MODES:
            raise ValueError(f"fault {spec!r}: expected transient:stale|spike[:WINDOW[:EVERY]]")
        window = parse_duration(parts[1], spec) if len(parts) > 1 else 5.0
        every = parse_duration(parts[2], spec) if len(parts) > 2 else 60.0
        if not 0 < window < every:
            raise ValueError(f"fault {spec!r}: needs 0 < WINDOW < EVERY")
        return Fault(name, spec, mode=parts[0], window_s=window, every_s=every)
    raise ValueError(f"fault {spec!r}: unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")


READ_COST = 1.0
"""Units of ``shared-capacity`` a read (GET) costs."""
WRITE_COST = 3.0
"""Units a write (POST, PUT) costs: a chair's write takes ~3 times a results read's CPU
on the reference server (benchmarks/bench_server.py)."""
BURST_S = 1.0
"""Seconds of unused ``shared-capacity`` that are banked for a burst."""


class SharedBudget:
    """``shared-capacity``: ``rate`` units of work per second that every request draws
    from, first come first served; up to ``BURST_S`` seconds of unused capacity is
    banked. A request waits for its turn; one whose turn would come later than the
    timeout gets none (and takes nothing from the budget)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.next_free = -math.inf
        """When the work already admitted will have been done (clock seconds)."""

    def reserve(self, cost: float, now: float, timeout_s: float) -> float | None:
        """Seconds to wait before doing ``cost`` units, or None beyond ``timeout_s``."""
        start = max(self.next_free, now - BURST_S)
        if start - now > timeout_s:
            return None
        self.next_free = start + cost / self.rate
        return max(0.0, start - now)


class FaultState:
    """The active faults (at most one of each name; a later spec replaces an earlier one)
    and the seeded generator behind every random fault decision."""

    def __init__(self, specs: list[str] | tuple[str, ...] = (), seed: int = 0,
                 clock: Callable[[], float] = time.time) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.clock = clock
        self.by_name: dict[str, Fault] = {}
        self._budget: tuple[Fault, SharedBudget] | None = None
        self.since: dict[str, float] = {}
        """When each active fault was switched on (``clock`` seconds); a spec put again
        unchanged keeps its moment."""
        self.replace(list(specs))

    def replace(self, specs: list[str]) -> None:
        """Make exactly ``specs`` active; all are parsed before any takes effect."""
        parsed = [parse_fault(s) for s in specs]
        now = self.clock()
        old = self.by_name
        self.by_name = {f.name: f for f in parsed}
        self.since = {n: (self.since[n] if n in old and old[n] == f else now)
                      for n, f in self.by_name.items()}
        shared = self.by_name.get("shared-capacity")
        if shared is None:
            self._budget = None
        elif self._budget is None or self._budget[0] != shared:
            self._budget = (shared, SharedBudget(shared.rate))

    def budget(self) -> tuple[Fault, SharedBudget] | None:
        """The active ``shared-capacity`` fault and its budget, if any."""
        return self._budget

    @property
    def specs(self) -> list[str]:
        """The active specs, as given."""
        return [f.spec for f in self.by_name.values()]

    @property
    def any_request_fault(self) -> bool:
        """True when some fault acts on requests (all but incomplete-output and transient,
        which act on what is published)."""
        return any(n not in ("incomplete-output", "transient") for n in self.by_name)

    def get(self, name: str) -> Fault | None:
        """The active fault called ``name``, if any."""
        return self.by_name.get(name)

    def chance(self, name: str) -> bool:
        """One Bernoulli draw for a probability fault; False when it is not active."""
        f = self.by_name.get(name)
        return f is not None and f.p > 0.0 and float(self.rng.random()) < f.p

    def delay(self) -> float:
        """A latency draw in seconds (0 when no latency fault is active)."""
        f = self.by_name.get("latency")
        return f.latency.draw(self.rng) if f is not None and f.latency is not None else 0.0

    def window(self, name: str) -> tuple[Fault, int, int] | None:
        """For an active windowed fault (``transient``): (fault, cycle, open window) now,
        where cycle ``k`` is the k-th ``every_s`` since it was switched on and the window
        (``window_s`` at the start of each cycle from the first on) is ``k`` while open,
        else 0. None when the fault is not active."""
        f = self.by_name.get(name)
        if f is None:
            return None
        elapsed = self.clock() - self.since[name]
        k = int(elapsed // f.every_s)
        return f, k, k if k >= 1 and elapsed - k * f.every_s < f.window_s else 0

    def publication_mode(self) -> str | None:
        """``drop``/``truncate`` while incomplete-output is active, else None."""
        f = self.by_name.get("incomplete-output")
        return f.mode if f is not None else None
