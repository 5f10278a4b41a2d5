"""What limits a goal: the stages where simulated nights lose the time, named.

From the nights' :class:`~.stages.NightStages`, for a gate about when units are
published or received (``published_fraction >= 0.95 by 22:30``):

- *hard limits*, read from the scenario itself: no release batch before the gate's
  time, a halt of publication covering it, or (measured) too few meetings over by then.
  No staffing of the hotline moves these;
- the *lateness* past the gate's time of the units that miss it, split by stage and
  summed over all nights: the stages holding most of it, with the keys that move them.

For a hotline gate (waits, holds, abandoned calls), the stage is the phone stage where
chairs spend most time. :func:`stage_table` is where the time goes overall: per stage,
the median over nights of the p50, p95 and mean minutes per unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from caucus_rehearsal.simulator.gates import Gate
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.stages import (
    LATE_STAGES,
    MEETING,
    STAGE_KEYS,
    STAGE_LABELS,
    STAGES,
    NightStages,
    mark_of,
)
from caucus_rehearsal.simulator.units import format_clock

PHONE_STAGES = ("busy_signals", "redial_delays", "holds")
"""The stages a chair's hotline wait is made of."""

SHOWN = 3
"""At most this many stages are named; each must hold at least :data:`MIN_SHARE`."""
MIN_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Limit:
    """What limits one gate: hard limits (stage, statement), the stages holding the
    lateness (stage, share), the median night's time to reach the gate's fraction (None
    when not a timing gate; inf: never), the keys that would move the limit (those of
    every hard limit, else of the first stage) and the gate's clock minute ``after``."""

    gate: str
    hard: tuple[tuple[str, str], ...]
    shares: tuple[tuple[str, float], ...]
    reach: float | None
    keys: tuple[str, ...]
    after: float | None = None

    @property
    def stage(self) -> str | None:
        """The one stage named first."""
        if self.hard:
            return self.hard[0][0]
        return self.shares[0][0] if self.shares else None

    def breakdown(self) -> str:
        """``waiting for a verifier 56% (central.verifiers), ...``."""
        return ", ".join(f"{STAGE_LABELS[s]} {x:.0%} ({', '.join(STAGE_KEYS[s])})"
                         for s, x in self.shares)

    def sentence(self) -> str:
        """The limit in one line."""
        return f"limit for '{self.gate}': {self.body()}"

    def body(self) -> str:
        """The limit without naming the gate."""
        parts = []
        if self.hard:
            parts.append(" and ".join(text for _, text in self.hard) + ", whatever the "
                         "hotline")
        if self.shares:
            where = (f"of the late units' time after {format_clock(self.after)}"
                     if self.after is not None else "of the chairs' hotline wait")
            parts.append(f"{where}: {self.breakdown()}")
        if self.reach is not None:
            parts.append("the median night never gets there" if math.isinf(self.reach)
                         else f"the median night gets there at {format_clock(self.reach)}")
        return "; ".join(parts) if parts else "nothing is late"

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, "stage": self.stage, "sentence": self.sentence(),
                "hard": [{"stage": s, "text": t, "keys": list(STAGE_KEYS[s])}
                         for s, t in self.hard],
                "lateness": [{"stage": s, "share": x, "keys": list(STAGE_KEYS[s])}
                             for s, x in self.shares],
                "reach": None if self.reach is None or math.isinf(self.reach)
                else self.reach, "keys": list(self.keys)}


def hard_limits(scenario: Scenario, gate: Gate, ended: float) -> list[tuple[str, str]]:
    """Limits no hotline staffing can move, for a timing gate (``ended``: fraction of
    meetings over by its time on the median night)."""
    mark = mark_of(gate)
    if mark is None:
        return []
    t, c = mark.minute, scenario.central
    out = []
    if not math.isnan(ended) and ended < mark.fraction:
        out.append((MEETING, f"only {ended:.0%} of the meetings are over by {format_clock(t)}"))
    if mark.published and c.release_policy == "batches" and min(c.release_times) > t:
        out.append(("release_wait", f"nothing is released before "
                    f"{format_clock(min(c.release_times))} (central.release_times)"))
    if (mark.published and c.halt_start is not None and c.halt_end is not None
            and c.halt_start <= t < c.halt_end):
        out.append(("halt", f"publication is halted from {format_clock(c.halt_start)} to "
                    f"{format_clock(c.halt_end)} (central.halt_start, central.halt_end)"))
    return out


def ranked(totals: np.ndarray[Any, Any], names: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """The largest shares of ``totals`` (at least :data:`MIN_SHARE`, at most :data:`SHOWN`)."""
    total = float(totals.sum())
    if total <= 0:
        return ()
    order = sorted(range(len(names)), key=lambda k: (-totals[k], k))
    return tuple((names[k], float(totals[k]) / total) for k in order[:SHOWN]
                 if totals[k] / total >= MIN_SHARE)


def limit(scenario: Scenario, gate: Gate, index: int,
          nights: Sequence[NightStages]) -> Limit | None:
    """What limits gate number ``index`` of the nights' gates, or None (not a gate about
    time or the hotline, or no nights)."""
    if not nights:
        return None
    mark = mark_of(gate)
    if mark is not None:
        late = [n.late[index] for n in nights]
        totals = np.sum([x for x in late if x is not None], axis=0)
        ended = float(np.median([n.ended[index] for n in nights]))
        hard = tuple(hard_limits(scenario, gate, ended))
        shares = ranked(np.asarray(totals), LATE_STAGES)
        reach = float(np.median([n.reach[index] for n in nights]))
        named = [s for s, _ in hard] or [s for s, _ in shares[:1]]
        keys = tuple(dict.fromkeys(k for s in named for k in STAGE_KEYS[s]))
        return Limit(str(gate), hard, shares, reach, keys, mark.minute)
    if gate.metric.startswith("hotline_") or gate.metric == "abandoned_calls":
        idx = [STAGES.index(s) for s in PHONE_STAGES]
        means = np.median([n.mean[idx] for n in nights], axis=0)
        shares = ranked(np.asarray(means), PHONE_STAGES)
        keys = STAGE_KEYS[shares[0][0]] if shares else ()
        return Limit(str(gate), (), shares, None, keys)
    return None


def stage_table(nights: Sequence[NightStages]) -> dict[str, dict[str, float]]:
    """Per stage, the median over nights of the p50, p95 and mean minutes per unit."""
    if not nights:
        return {}
    out = {}
    for k, s in enumerate(STAGES):
        out[s] = {q: float(np.median([getattr(n, q)[k] for n in nights]))
                  for q in ("p50", "p95", "mean")}
    return out
