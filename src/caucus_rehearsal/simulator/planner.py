"""The search of ``rehearse plan``: the cheapest combination of the varied keys whose
simulated nights meet every goal with the required probability.

Candidates are points of the grid of the varied keys (:class:`Axis`); a candidate's
cost is the sum of each key's value times its weight. Whether a candidate meets the
goals comes from :mod:`.sequential` (an :class:`~.sequential.Evaluation`).

The search rests on one hypothesis, *more of any varied key never hurts* (more
operators, lines, verifiers; a higher share of chairs with the app): the set of
candidates that meet the goals is then closed upwards, and for each combination of the
other keys a binary search along one key finds the least value that meets, bounded by
what combinations below and above it already showed, and skipped when even its least
value would cost more than the best answer so far. The hypothesis is checked, not
assumed: on every pair of evaluated candidates where one has at least as much of every
key, the one with less must not pass a goal significantly more often (disjoint
intervals); the bottom of the ranges is always evaluated for this (it is cheap: a
candidate far below the threshold stops after the first look). When a check fails, the
search falls back to evaluating every candidate in order of cost.
Every one-step-cheaper neighbour of the answer is evaluated; if one meets after all (a
verdict near the threshold), the answer moves to it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from caucus_rehearsal.simulator.sequential import Evaluation, Goal

Point = tuple[int, ...]
"""A candidate: one index into each axis's values."""


@dataclass(frozen=True, slots=True)
class Axis:
    """A varied key: its candidate ``values`` (ascending) and cost ``weight`` per unit."""

    key: str
    values: tuple[Any, ...]
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Violation:
    """Candidate ``less`` (at most ``more`` in every key) passed goal ``goal`` more often
    than ``more``, beyond both intervals; or ``less`` met the goals where ``more`` did not."""

    less: Point
    more: Point
    goal: int | None
    what: str


@dataclass
class PlanResult:
    """The search's answer (None: no candidate meets every goal), the top of the ranges,
    every evaluation in the order made, and how the search went."""

    answer: Point | None
    top: Point
    evaluated: dict[Point, Evaluation]
    violations: list[Violation] = field(default_factory=list)
    exhaustive: bool = False
    neighbours: list[Point] = field(default_factory=list)
    moved: list[Point] = field(default_factory=list)


def dominated(p: Point, q: Point) -> bool:
    """Whether ``p`` has at most as much of every key as ``q``."""
    return all(a <= b for a, b in zip(p, q, strict=True))


def cheaper_neighbours(p: Point) -> list[Point]:
    """The points one step lower than ``p`` in one key."""
    return [(*p[:k], p[k] - 1, *p[k + 1:]) for k in range(len(p)) if p[k] > 0]


class Planner:
    """Searches ``axes`` for the cheapest point meeting ``goals``; ``evaluate`` samples a
    point's nights (it is called at most once per point)."""

    def __init__(self, axes: Sequence[Axis], goals: Sequence[Goal],
                 evaluate: Callable[[Point, dict[str, Any], float], Evaluation]) -> None:
        if not axes:
            raise ValueError("at least one axis to vary")
        self.axes = tuple(axes)
        self.goals = tuple(goals)
        self._evaluate = evaluate
        self.evaluated: dict[Point, Evaluation] = {}

    def values(self, p: Point) -> dict[str, Any]:
        """The key values of point ``p``."""
        return {a.key: a.values[i] for a, i in zip(self.axes, p, strict=True)}

    def cost(self, p: Point) -> float:
        """Sum of value times weight over the keys."""
        return float(sum(a.weight * a.values[i] for a, i in zip(self.axes, p, strict=True)))

    def evaluation(self, p: Point) -> Evaluation:
        """Point ``p``'s evaluation, sampled on first use."""
        if p not in self.evaluated:
            self.evaluated[p] = self._evaluate(p, self.values(p), self.cost(p))
        return self.evaluated[p]

    def meets(self, p: Point) -> bool:
        return self.evaluation(p).meets(self.goals)

    @property
    def top(self) -> Point:
        return tuple(len(a.values) - 1 for a in self.axes)

    def search(self) -> PlanResult:
        """The cheapest point meeting every goal, by monotone search checked as it goes."""
        top = self.top
        result = PlanResult(None, top, self.evaluated)
        if not self.meets(top):
            bottom = tuple(0 for _ in self.axes)
            if bottom != top and self.meets(bottom):
                result.violations.append(Violation(bottom, top, None, "the bottom of the "
                                                   "ranges meets the goals, the top does not"))
            else:
                result.violations = self.check()
                if not result.violations:
                    return result
            return self.exhaustive(result)
        answer = self.frontier()
        if answer is None:  # the top met, so its own combination cannot have failed
            return self.exhaustive(result)
        answer = self.descend(answer, result)
        self.evaluation(tuple(0 for _ in self.axes))  # the bottom too: a cheap, wide check
        result.violations += self.check()
        if result.violations:
            return self.exhaustive(result)
        result.answer = answer
        return result

    def frontier(self) -> Point | None:
        """For each combination of the other keys, the least value of the search key that
        meets (binary search within monotone bounds); the cheapest of them."""
        last = max(range(len(self.axes)), key=lambda k: (len(self.axes[k].values), k))
        others = [k for k in range(len(self.axes)) if k != last]
        top_last = len(self.axes[last].values) - 1

        def point(combo: tuple[int, ...], i: int) -> Point:
            p = [0] * len(self.axes)
            for k, j in zip(others, combo, strict=True):
                p[k] = j
            p[last] = i
            return tuple(p)

        least: dict[tuple[int, ...], int | None] = {}
        best: Point | None = None
        for combo in itertools.product(*(range(len(self.axes[k].values)) for k in others)):
            if any(m is None and dominated(combo, d) for d, m in least.items()):
                least[combo] = None  # even the top of the search key failed with more
                continue
            ub = min((m for d, m in least.items() if m is not None and dominated(d, combo)),
                     default=None)
            lb = max((m for d, m in least.items() if m is not None and dominated(combo, d)),
                     default=0)
            if best is not None and self.cost(point(combo, lb)) >= self.cost(best):
                continue  # cannot be cheaper than the answer so far
            hi = self.least(functools.partial(point, combo), lb, ub, top_last)
            if hi is None:
                least[combo] = None
                continue
            p = point(combo, hi)
            least[combo] = hi
            if best is None or self.cost(p) < self.cost(best):
                best = p
        return best

    def least(self, at: Callable[[int], Point], lb: int, implied: int | None,
              top: int) -> int | None:
        """The least index of the search key (from ``lb``) whose point meets, or None.

        ``implied`` is an index that monotonicity says meets (a combination with less
        of the other keys met there); without it the top is evaluated first. If the
        index found fails after all (a verdict near the threshold), the search goes on
        above it.
        """
        hi = top if implied is None else implied
        if implied is None and not self.meets(at(hi)):
            return None
        lo = min(lb, hi)
        while True:
            while lo < hi:
                mid = (lo + hi) // 2
                if self.meets(at(mid)):
                    hi = mid
                else:
                    lo = mid + 1
            if self.meets(at(hi)):
                return hi
            if hi >= top:
                return None
            lo, hi = hi + 1, top
            if not self.meets(at(hi)):
                return None

    def descend(self, answer: Point, result: PlanResult) -> Point:
        """Evaluate every one-step-cheaper neighbour of ``answer``; while one meets the
        goals (a verdict near the threshold, or bounds that ruled it out), move to it."""
        while True:
            nbrs = cheaper_neighbours(answer)
            result.neighbours = nbrs
            better = [q for q in nbrs if self.meets(q)]
            if not better:
                return answer
            answer = min(better, key=lambda q: (self.cost(q), q))
            result.moved.append(answer)

    def check(self) -> list[Violation]:
        """Pairs of evaluated points where less of every key passed a goal significantly
        more often (the intervals are disjoint)."""
        out = []
        items = list(self.evaluated.items())
        for (p, ep), (q, eq) in itertools.permutations(items, 2):
            if p == q or not dominated(p, q):
                continue
            for g, (sp, sq) in enumerate(zip(ep.shares(), eq.shares(), strict=True)):
                if sp.low > sq.high:
                    out.append(Violation(p, q, g, "less passed the goal significantly "
                                         "more often"))
        return out

    def exhaustive(self, result: PlanResult) -> PlanResult:
        """Evaluate every point, cheapest first; the answer is the first that meets."""
        result.exhaustive = True
        grid = sorted(itertools.product(*(range(len(a.values)) for a in self.axes)),
                      key=lambda p: (self.cost(p), p))
        for p in grid:
            if self.meets(p):
                result.answer = p
                result.neighbours = cheaper_neighbours(p)
                for q in result.neighbours:
                    self.evaluation(q)
                return result
        return result

    def pathwise(self) -> tuple[int, int]:
        """Over pairs of evaluated points where one has at least as much of every key:
        nights (same replication) the one with less passed every goal and the one with
        more did not, and the nights compared. (Common random numbers make the pairs
        comparable night by night; a queue need not be monotone night by night, so this
        is reported, not acted on.)"""
        reversals = compared = 0
        items = [(p, e.all_passed()) for p, e in self.evaluated.items()]
        for (p, a), (q, b) in itertools.permutations(items, 2):
            if p != q and dominated(p, q):
                n = min(len(a), len(b))
                compared += n
                reversals += sum(1 for x, y in zip(a[:n], b[:n], strict=True) if x and not y)
        return reversals, compared
