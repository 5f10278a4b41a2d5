"""Ground truth of the night and the worksheets chairs will actually report.

``build_truth(scenario, roster)`` gives, per unit: attendance, first alignment,
realignment along the second-choice matrix, final alignment, delegates and SDE (the
truth); then the worksheet the chair reports, which with the scenario's error rates
differs from the truth in labelled ways (``scenario.WORKSHEET_ERROR_KINDS``).
Counts are tuples in the roster's candidate order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from caucus_rehearsal import rules
from caucus_rehearsal.errors import InputFileError, ScenarioError
from caucus_rehearsal.simulator.roster import Roster
from caucus_rehearsal.simulator.streams import each_substream, stream, substream_uniforms

if TYPE_CHECKING:
    from caucus_rehearsal.simulator.scenario import Scenario

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Tally:
    """One unit's three data sets plus SDE.

    ``attendance`` is T, the attendees counted at the opening; ``first``/``final`` are
    head counts per candidate; ``delegates`` county delegates per candidate (sum D when
    enough groups are viable); ``sde`` state delegate equivalents, 4 decimals.
    """

    attendance: int
    first: tuple[int, ...]
    final: tuple[int, ...]
    delegates: tuple[int, ...]
    sde: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class UnitTruth:
    """What really happened at one unit; ``delegates_total`` is D (for satellites, by tier);
    ``coin_toss`` is True when a tie had to be broken by lot."""

    unit_id: str
    delegates_total: int
    tally: Tally
    coin_toss: bool


@dataclass(frozen=True, slots=True)
class Worksheet:
    """What the chair writes down and reports; ``error`` is None or one of
    ``WORKSHEET_ERROR_KINDS``, ``error_detail`` says what changed in plain words."""

    unit_id: str
    tally: Tally
    error: str | None = None
    error_detail: str = ""


@dataclass(frozen=True, slots=True)
class Truth:
    """Truth and worksheets of every unit, in roster order."""

    candidates: tuple[str, ...]
    units: tuple[UnitTruth, ...]
    worksheets: tuple[Worksheet, ...]


def tally_to_json(tally: Tally, candidates: Sequence[str]) -> dict[str, Any]:
    """A tally as in truth.jsonl: ``{"attendance": T, "first": {cand: n}, ...}``."""
    return {
        "attendance": tally.attendance,
        "first": dict(zip(candidates, tally.first, strict=True)),
        "final": dict(zip(candidates, tally.final, strict=True)),
        "delegates": dict(zip(candidates, tally.delegates, strict=True)),
        "sde": dict(zip(candidates, tally.sde, strict=True)),
    }


def tally_from_json(data: Mapping[str, Any], candidates: Sequence[str]) -> Tally:
    """The inverse of :func:`tally_to_json`; ``KeyError`` names a missing candidate."""
    return Tally(
        attendance=int(data["attendance"]),
        first=tuple(int(data["first"][c]) for c in candidates),
        final=tuple(int(data["final"][c]) for c in candidates),
        delegates=tuple(int(data["delegates"][c]) for c in candidates),
        sde=tuple(float(data["sde"][c]) for c in candidates),
    )


def truth_rows(roster: Roster, truth: Truth) -> Iterator[dict[str, Any]]:
    """The lines of ``truth.jsonl`` (docs/run-directory.md), in roster order."""
    for unit, ut in zip(roster.units, truth.units, strict=True):
        yield {
            "unit_id": ut.unit_id,
            "county": unit.county,
            "precinct": unit.name,
            "satellite": unit.satellite,
            "delegates_total": ut.delegates_total,
            "coin_toss": ut.coin_toss,
            "tally": tally_to_json(ut.tally, truth.candidates),
        }


def build_truth(scenario: Scenario, roster: Roster) -> Truth:
    """Ground truth and worksheets of every unit of ``roster`` from ``scenario``'s seed.

    Unit ``i`` draws its first alignment from its substream ``(seed, "attendance", i)``,
    its realignment from ``(seed, "realign", i, round)``, its coin tosses from
    ``stream(seed, "toss", i)`` (made only when a tie needs one) and its worksheet from
    row ``i`` of fixed-width blocks of the ``"worksheet"`` stream: changing one unit's
    inputs changes no other unit's truth or worksheet (tests/test_truth.py).
    """
    from caucus_rehearsal.simulator.worksheets import mistake

    seed = scenario.scenario.seed
    cands = roster.candidates
    first = _first_alignment(scenario, roster)
    n = first.shape[0]
    attendance = first.sum(axis=1)
    final = _realign(scenario, roster, first, attendance)
    is_sat = np.array([u.satellite for u in roster.units], dtype=bool)
    d_total = [
        rules.satellite_delegates(int(t)) if u.satellite else u.delegates
        for u, t in zip(roster.units, attendance.tolist(), strict=True)
    ]
    sat_share = _satellite_shares(roster, attendance, is_sat)

    e_rate = scenario.people.worksheet_error_rate
    kinds = [k for k, _ in scenario.people.worksheet_errors]
    weights = np.array([w for _, w in scenario.people.worksheet_errors], dtype=float)
    wrng = stream(seed, "worksheet")
    err: list[bool] = np.less(wrng.random(n), e_rate).tolist()
    kind_ix: list[int] = (
        np.asarray(wrng.choice(len(kinds), size=n, p=weights / weights.sum())).tolist()
        if kinds
        else [0] * n
    )
    params = wrng.random((n, 4)).tolist()

    ratios = {county.name: county.ratio for county in roster.counties}
    units: list[UnitTruth] = []
    sheets: list[Worksheet] = []
    first_l, final_l, att_l = first.tolist(), final.tolist(), attendance.tolist()
    for i, unit in enumerate(roster.units):
        t, d, fin = att_l[i], d_total[i], final_l[i]
        try:
            alloc = rules.allocate(fin, t, d)
        except ValueError:  # a tie: draw lots from this unit's own stream
            alloc = rules.allocate(fin, t, d, stream(seed, "toss", i))
        won = alloc.delegates
        # A satellite's SDE per delegate is its attendance share of its group's S over D.
        ratio = (sat_share[i] / d if d else 0.0) if unit.satellite else ratios[unit.county]
        tally = Tally(t, tuple(first_l[i]), tuple(fin), won, rules.sde(won, ratio))
        units.append(UnitTruth(unit.unit_id, d, tally, alloc.coin_toss))
        if err[i] and kinds:
            sheet, kind, detail = mistake(tally, cands, kinds[kind_ix[i]], params[i])
            sheets.append(Worksheet(unit.unit_id, sheet, kind, detail))
        else:
            sheets.append(Worksheet(unit.unit_id, tally))
    return Truth(cands, tuple(units), tuple(sheets))


def _first_alignment(scenario: Scenario, roster: Roster) -> IntArray:
    """First-alignment head counts, (units, candidates).

    Unit ``i`` draws its support shares, its head count and their split from its own
    substream ``(seed, "attendance", i)``: nothing it draws depends on another unit.
    """
    e = scenario.election
    n, k = len(roster.units), len(roster.candidates)
    expected = np.array([u.expected_attendance for u in roster.units], dtype=float)
    if e.source == "iowa-2020":
        from caucus_rehearsal.simulator.iowa2020 import load_certified

        cert = load_certified()
        if cert.unit_ids != tuple(u.unit_id for u in roster.units):
            raise InputFileError("iowa-2020-results.csv: units differ from iowa-2020-units.csv")
        real = cert.first[:, cert.columns(roster.candidates, scenario.source)]
        if e.first_alignment == "certified":
            return real.copy()
        totals = real.sum(axis=1, keepdims=True)
        statewide = real.sum(axis=0) / max(1, int(real.sum()))
        local = np.where(totals > 0, real / np.maximum(totals, 1), statewide)
        alpha = e.support_concentration * (0.9 * local + 0.1 * statewide) + 1e-3
    else:
        support = np.array(e.support, dtype=float)
        support = support / support.sum() if support.sum() > 0 else np.full(k, 1 / k)
        alpha = np.tile(e.support_concentration * support + 1e-3, (n, 1))
    out: IntArray = np.empty((n, k), dtype=np.int64)
    for i, rng in enumerate(each_substream(scenario.scenario.seed, "attendance", np.arange(n))):
        shares = rng.standard_gamma(alpha[i])
        out[i] = rng.multinomial(rng.poisson(expected[i]), shares / shares.sum())
    return out


def _realign(scenario: Scenario, roster: Roster, first: IntArray, attendance: IntArray) -> IntArray:
    """Final alignment after the one realignment, the smallest non-viable group first.

    In each unit the groups not viable in the first alignment are taken from the smallest
    up: a group that has meanwhile reached the viability number (recruited by earlier
    ones) stands; otherwise it breaks up, a ``leave_after_nonviable`` fraction of its
    members go home and each other member joins one of the remaining groups (viable or
    not yet dispersed), chosen in proportion to that group's current size times the
    second-choice weight. So near-viable groups can become viable, as in 2020.

    Each member of a group that breaks up goes home or joins a group by one uniform:
    the same law as a binomial of stayers and a multinomial of their choices. The
    uniforms come from the unit's own substream ``(seed, "realign", unit)``, round ``r``
    reading its ``need - 1`` numbers from position ``r * (need - 1)`` (a group breaks up
    only when smaller than ``need``), so they depend on nothing outside the unit.
    """
    e = scenario.election
    seed = scenario.scenario.seed
    n, k = first.shape
    d = np.array([u.delegates for u in roster.units], dtype=np.int64)
    sat = np.array([u.satellite for u in roster.units], dtype=bool)
    tiers = [rules.satellite_delegates(t) if u.satellite else 0
             for t, u in zip(attendance.tolist(), roster.units, strict=True)]
    d = np.where(sat, tiers, d)
    need = np.select([d <= 1, d == 2, d == 3], [0, -(-attendance // 4), -(-attendance // 6)],
                     -(-15 * attendance // 100))
    ok = (first > 0) & (first >= need[:, None])
    # No group viable: the largest group stands and the others may join it.
    none = ~ok.any(axis=1) & (attendance > 0)
    ok[none, np.argmax(first[none], axis=1)] = True
    weak = (first > 0) & ~ok
    mult = second_choice_weights(roster.candidates, e.second_choices, scenario.source)
    out: IntArray = first.copy()
    # Per unit, its non-viable groups by size (ties by candidate order), smallest first.
    order = np.argsort(np.where(weak, first, np.iinfo(np.int64).max), axis=1, kind="stable")
    leave = e.leave_after_nonviable
    rounds = weak.sum(axis=1)
    stride = np.maximum(need - 1, 0)
    block = rounds * stride
    uniforms = substream_uniforms(seed, "realign", np.arange(n), block)
    block_start = np.cumsum(block) - block
    for r in range(int(rounds.max(initial=0))):
        units = np.flatnonzero(weak[np.arange(n), order[:, r]])
        group = order[units, r]
        size = out[units, group]
        go = size < need[units]  # still short: breaks up
        units, group, size = units[go], group[go], size[go]
        if units.size == 0:
            continue
        out[units, group] = 0
        weight = out[units, :] * mult[group, :]
        total = weight.sum(axis=1)
        has = total > 0  # someone to join; otherwise the group stays as it is
        out[units[~has], group[~has]] = size[~has]
        units, size, weight, total = units[has], size[has], weight[has], total[has]
        # Per member: go home (column 0) or join a group, by the cumulative odds.
        odds = np.hstack([np.full((units.size, 1), leave),
                          (1.0 - leave) * weight / total[:, None]])
        cum = np.cumsum(odds, axis=1)
        cum /= cum[:, -1:]  # exactly 1 at the end: a uniform < 1 always lands
        row = np.repeat(np.arange(units.size), size)
        first_member = np.cumsum(size) - size
        at = np.repeat(block_start[units] + r * stride[units] - first_member, size)
        u = uniforms[at + np.arange(row.size)]
        choice = (u[:, None] >= cum[row]).sum(axis=1)
        moved = np.bincount(row * (k + 1) + choice, minlength=units.size * (k + 1))
        out[units, :] += moved.reshape(units.size, k + 1)[:, 1:]
    return out


def second_choice_weights(
    candidates: Sequence[str], pairs: Sequence[tuple[str, float]], source: str
) -> npt.NDArray[np.float64]:
    """[from, to] multiplier of a target group's size: 1 by default, ``"A>B" = w`` sets it
    to w for A's supporters choosing B; 0 on the diagonal."""
    k = len(candidates)
    mult = np.ones((k, k)) - np.eye(k)
    for key, w in pairs:
        a, sep, b = key.partition(">")
        if not sep or a.strip() not in candidates or b.strip() not in candidates:
            raise ScenarioError(source, f"election.second_choices.{key}", w,
                                "a key FROM>TO naming two of election.candidates")
        mult[candidates.index(a.strip()), candidates.index(b.strip())] = w
    return mult


def _satellite_shares(
    roster: Roster, attendance: IntArray, is_sat: npt.NDArray[np.bool_]
) -> list[float]:
    """Each satellite's share of its group's SDE (by attendance); 0 for precincts."""
    out = [0.0] * len(roster.units)
    groups: dict[str, list[int]] = {}
    for i in np.flatnonzero(is_sat).tolist():
        groups.setdefault(roster.units[i].county, []).append(i)
    for name, idx in groups.items():
        shares = rules.satellite_sde(roster.county(name).state_delegates,
                                     [int(attendance[i]) for i in idx])
        for i, s in zip(idx, shares, strict=True):
            out[i] = s
    return out
