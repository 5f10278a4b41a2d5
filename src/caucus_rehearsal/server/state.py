"""What the server knows: the roster and, per precinct, the latest accepted data.

The chair posts three data sets one at a time; each accepted post is a new version of
that data set. A precinct's *complete* record (attendance, first, final, delegates) is
fixed when a final alignment or a hotline report is accepted, validated as a whole with
:func:`caucus_rehearsal.rules.check`; that record is what is published. Tallies are
tuples of counts in the roster's candidate order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caucus_rehearsal import rules
from caucus_rehearsal.server.schemas import RosterIn

Counts = tuple[int, ...]


class Rejection(Exception):
    """A write refused with an HTTP status, a machine-readable code and a detail."""

    def __init__(self, status: int, code: str, detail: str,
                 problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.problems = problems

    def body(self) -> dict[str, Any]:
        """The error body of contract v1."""
        err: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.problems is not None:
            err["problems"] = self.problems
        return {"error": err}


@dataclass(frozen=True, slots=True)
class County:
    """``ratio`` is the SDE of one county delegate (S_k / C_k; 0 when C_k is 0)."""

    name: str
    state_delegates: float
    ratio: float
    satellite_group: bool


@dataclass(frozen=True, slots=True)
class Precinct:
    """A provisioned reporting unit; ``delegates`` is D (0 for a satellite)."""

    id: str
    county: str
    name: str
    satellite: bool
    delegates: int
    pin: str


@dataclass(frozen=True, slots=True)
class Roster:
    """Everything provisioned, validated and indexed."""

    election: str
    candidates: tuple[str, ...]
    counties: dict[str, County]
    precincts: dict[str, Precinct]
    operators: dict[str, str]
    body: dict[str, Any]
    known: frozenset[str] = frozenset()

    @classmethod
    def from_body(cls, body: RosterIn) -> Roster:
        """Validate cross-references; ``Rejection`` (422 bad_roster) names the first fault."""
        def bad(detail: str) -> Rejection:
            return Rejection(422, "bad_roster", detail)

        cands = tuple(body.candidates)
        if len(set(cands)) != len(cands):
            raise bad(f"candidates(={list(cands)}) must be unique")
        counties: dict[str, County] = {}
        for c in body.counties:
            if c.name in counties:
                raise bad(f"county {c.name!r} appears twice")
            ratio = c.state_delegates / c.county_delegates if c.county_delegates else 0.0
            counties[c.name] = County(c.name, c.state_delegates, ratio, c.satellite_group)
        precincts: dict[str, Precinct] = {}
        for p in body.precincts:
            if p.id in precincts:
                raise bad(f"precinct id {p.id!r} appears twice")
            if p.county not in counties:
                raise bad(f"precinct {p.id!r}: county {p.county!r} is not in counties")
            precincts[p.id] = Precinct(p.id, p.county, p.name, p.satellite,
                                       0 if p.satellite else p.delegates, p.pin)
        operators: dict[str, str] = {}
        for o in body.operators:
            if o.id in operators:
                raise bad(f"operator id {o.id!r} appears twice")
            operators[o.id] = o.password
        return cls(body.election, cands, counties, precincts, operators,
                   body.model_dump(mode="json"), frozenset(cands))

    def counts(self, tally: dict[str, int], what: str) -> Counts:
        """``tally`` as counts in candidate order; 422 unknown_candidate otherwise."""
        unknown = [k for k in tally if k not in self.known]
        if unknown:
            raise Rejection(422, "unknown_candidate",
                            f"{what}: unknown candidate(s) {unknown}; "
                            f"known: {list(self.candidates)}")
        return tuple(tally.get(c, 0) for c in self.candidates)


@dataclass(frozen=True, slots=True)
class Complete:
    """A precinct's complete, validated record: what is published for it."""

    attendance: int
    first: Counts
    final: Counts
    delegates: Counts
    d_total: int
    channel: str
    version: int
    seq: int
    withheld: str | None


@dataclass(slots=True)
class PrecinctData:
    """The latest accepted version of each data set of one precinct."""

    attendance: int | None = None
    first: Counts | None = None
    versions: int = 0
    complete: Complete | None = None
    worksheets: list[int] = field(default_factory=list)


def delegates_of(p: Precinct, attendance: int) -> int:
    """D of a precinct: provisioned, or by attendance tier for a satellite."""
    return rules.satellite_delegates(attendance) if p.satellite else p.delegates


def check_first(attendance: int | None, first: Counts) -> None:
    """A first alignment needs the attendance before it and must sum to it."""
    if attendance is None:
        raise Rejection(409, "out_of_order", "post the attendance before the first alignment")
    if sum(first) != attendance:
        raise Rejection(422, "first_sum_mismatch",
                        f"first alignment sums to {sum(first)}, attendance is {attendance}",
                        [{"code": "first_sum_mismatch",
                          "detail": f"first alignment sums to {sum(first)}, T={attendance}"}])


def check_complete(p: Precinct, attendance: int, first: Counts, final: Counts,
                   delegates: Counts) -> int:
    """Validate a complete record with the caucus rules; return its D or raise 422."""
    d_total = delegates_of(p, attendance)
    problems = rules.check(attendance, d_total, first, final, delegates)
    if problems:
        raise Rejection(422, problems[0].code, problems[0].detail,
                        [{"code": q.code, "detail": q.detail} for q in problems])
    return d_total
