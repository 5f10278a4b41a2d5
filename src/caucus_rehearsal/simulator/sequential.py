"""One candidate of a plan, evaluated by sequential sampling.

A candidate (values of the varied keys) is run on replications 0, 1, 2, ... of the
night, in batches that end at the looks of :func:`.passrate.looks` (10, 20, 40, ...,
``runs_max``). After each batch, every goal's share of passing nights gets its Wilson
interval at the per-look level (:func:`.passrate.look_level`), and sampling stops as
soon as a goal is surely missed (its interval wholly below its required probability)
or every goal is surely met. A candidate still undecided at ``runs_max`` is judged on
the point estimates and marked not sure. Every candidate uses the same replications
from 0 up (common random numbers), so two candidates differ only by their values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from caucus_rehearsal.simulator.gates import Gate
from caucus_rehearsal.simulator.montecarlo import RunOutcome
from caucus_rehearsal.simulator.passrate import (
    LEVEL,
    Share,
    Verdict,
    judge,
    look_level,
    looks,
    share,
)

Nights = Callable[[range], Sequence[RunOutcome]]
"""Runs the given replications of one candidate and returns their outcomes in order."""


@dataclass(frozen=True, slots=True)
class Goal:
    """A gate to meet and the probability of a night passing it that is required."""

    gate: Gate
    required: float

    def __str__(self) -> str:
        return str(self.gate)


@dataclass
class Evaluation:
    """What is known of one candidate: per goal, whether each night passed.

    ``nights`` were run (replications ``0 .. nights - 1``); ``stopped`` says why sampling
    stopped: ``sure`` (an interval cleared a threshold), ``runs-max``, or
    ``interrupted``; ``kept`` holds what :class:`Sampler` was asked to keep per night.
    """

    values: dict[str, Any]
    cost: float
    passes: list[list[bool]]
    level: float
    stopped: str = "interrupted"
    kept: list[Any] = field(default_factory=list)
    _cached: tuple[int, list[Share]] = field(default=(-1, []), init=False, repr=False,
                                             compare=False)

    @property
    def nights(self) -> int:
        return len(self.passes[0]) if self.passes else 0

    def shares(self) -> list[Share]:
        """Each goal's share of passing nights, at the per-look level."""
        if self._cached[0] != self.nights:
            self._cached = (self.nights, [share(p, self.level) for p in self.passes])
        return self._cached[1]

    def verdicts(self, goals: Sequence[Goal]) -> list[Verdict]:
        return [judge(s, g.required) for s, g in zip(self.shares(), goals, strict=True)]

    def meets(self, goals: Sequence[Goal]) -> bool:
        """Whether every goal is met (surely, or on the estimate at ``runs_max``)."""
        return bool(self.nights) and all(v.meets for v in self.verdicts(goals))

    def sure(self, goals: Sequence[Goal]) -> bool:
        """Whether the verdict is sure (sampling can stop): a goal surely missed, or
        every goal surely met."""
        vs = self.verdicts(goals)
        return any(v.sure and not v.meets for v in vs) or all(v.sure for v in vs)

    def all_passed(self) -> list[bool]:
        """Per night, whether it passed every goal."""
        return [all(col) for col in zip(*self.passes, strict=True)]


@dataclass(frozen=True, slots=True)
class Sampler:
    """How candidates are sampled: the goals, ``runs_max`` nights at most, the interval
    ``level`` over all looks, and ``keep`` (what to keep of each night, or None)."""

    goals: tuple[Goal, ...]
    runs_max: int
    level: float = LEVEL
    keep: Callable[[RunOutcome], Any] | None = None

    @property
    def look_level(self) -> float:
        return look_level(self.runs_max, self.level)

    def evaluate(self, values: Mapping[str, Any], cost: float, nights: Nights,
                 on_look: Callable[[Evaluation], None] | None = None) -> Evaluation:
        """Sample one candidate until it is decided or ``runs_max`` nights were run.

        ``nights`` runs replications; ``on_look`` is called after every batch. On
        Ctrl-C the evaluation so far is attached to the ``KeyboardInterrupt`` as
        ``evaluation`` (``stopped`` stays ``interrupted``).
        """
        ev = Evaluation(dict(values), cost, [[] for _ in self.goals], self.look_level)
        try:
            for n in looks(self.runs_max):
                self.add(ev, nights(range(ev.nights, n)))
                if on_look:
                    on_look(ev)
                if ev.sure(self.goals):
                    ev.stopped = "sure"
                    return ev
            ev.stopped = "runs-max"
            return ev
        except KeyboardInterrupt as exc:
            exc.evaluation = ev  # type: ignore[attr-defined]
            raise

    def add(self, ev: Evaluation, outcomes: Sequence[RunOutcome]) -> None:
        """Record each night's pass or fail of every goal (and what is kept)."""
        for o in outcomes:
            for i, g in enumerate(self.goals):
                v = o.gates[i]
                if v is None:
                    raise ValueError(f"goal {g} is not measured by the night model")
                ev.passes[i].append(g.gate.passes(v))
            if self.keep is not None:
                ev.kept.append(self.keep(o))
