"""Caucus arithmetic of an Iowa-style precinct caucus (DOMAIN.md §1), pure and exact.

Standard library and NumPy only: the reference server imports this module alone.

Vocabulary: ``T`` is the attendance counted at the opening, ``D`` the county delegates the
precinct elects, counts are head counts per candidate in a fixed candidate order. All
comparisons of fractions use exact integer arithmetic (every raw share ``final * D / T``
has the same denominator ``T``, so its decimal part compares as the remainder
``final * D mod T``).

Coin tosses: when a tie decides who gets a delegate, :func:`allocate` draws from the
``rng`` it is given (reproducible from the seed); :func:`is_valid_allocation` accepts a
reported allocation when it equals the result of *some* outcome of the tosses.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

SATELLITE_TIERS: tuple[tuple[int, int], ...] = ((20, 4), (40, 5), (60, 6), (80, 7), (100, 8))
"""(largest attendance of the tier, county delegates); over 100 attendees elect 9."""
SATELLITE_MAX_DELEGATES = 9

_Chooser = Callable[[list[int], int], Sequence[int]]
"""Picks k of the tied group indices (a coin toss, or drawing of lots for more than two)."""


class _TossNeeded(Exception):
    """Raised by the no-rng chooser; turned into a ValueError naming the situation."""


def viability_number(attendance: int, delegates: int) -> int:
    """Head count a group needs to be viable, from T and D.

    D <= 1: 0 (no threshold; the single delegate goes to the largest group);
    D = 2: ceil(T/4); D = 3: ceil(T/6); D >= 4: ceil(0.15 T), computed exactly.
    """
    if attendance < 0:
        raise ValueError(f"attendance(={attendance}) must be >= 0")
    if delegates < 0:
        raise ValueError(f"delegates(={delegates}) must be >= 0")
    if delegates <= 1:
        return 0
    if delegates == 2:
        return -(-attendance // 4)
    if delegates == 3:
        return -(-attendance // 6)
    return -(-15 * attendance // 100)


def viable(counts: Sequence[int], attendance: int, delegates: int) -> list[bool]:
    """Per group: True when its count reaches the viability number (and is not zero)."""
    need = viability_number(attendance, delegates)
    return [c > 0 and c >= need for c in counts]


@dataclass(frozen=True, slots=True)
class Allocation:
    """County delegates per group; ``coin_toss`` is True when a tie was decided by lot."""

    delegates: tuple[int, ...]
    coin_toss: bool


def _take(tied: list[int], k: int, choose: _Chooser) -> tuple[list[int], bool]:
    """``k`` of the ``tied`` indices; the flag says whether that took a toss."""
    if k >= len(tied):
        return tied, False
    return sorted(choose(tied, k)), True


def _allocate(
    final: Sequence[int], attendance: int, delegates: int, choose: _Chooser
) -> Allocation:
    n = len(final)
    award = [0] * n
    if delegates <= 0 or attendance <= 0:
        return Allocation(tuple(award), False)
    tossed = False
    need = viability_number(attendance, delegates)
    groups = [i for i, c in enumerate(final) if c > 0 and c >= need]
    if len(groups) > delegates:
        # More viable groups than delegates: in effect the D largest get one each.
        cut = sorted((final[i] for i in groups), reverse=True)[delegates - 1]
        above = [i for i in groups if final[i] > cut]
        chosen, tossed = _take(
            [i for i in groups if final[i] == cut], delegates - len(above), choose
        )
        for i in above + chosen:
            award[i] = 1
        return Allocation(tuple(award), tossed)
    # Raw share final*D/T, kept as the integer numerator over the common denominator T.
    num = {i: final[i] * delegates for i in groups}
    for i in groups:
        whole, rem = divmod(num[i], attendance)
        award[i] = max(1, whole + (1 if 2 * rem >= attendance else 0))

    def slack(i: int) -> int:
        # (raw - awarded) * T: the decimal of a group that rounded down, decimal-1 if up.
        return num[i] - award[i] * attendance

    while groups and sum(award) < delegates:
        best = max(slack(i) for i in groups)
        level = [i for i in groups if slack(i) == best]
        chosen, toss = _take(level, delegates - sum(award), choose)
        tossed |= toss
        for i in chosen:
            award[i] += 1
    while sum(award) > delegates:
        donors = [i for i in groups if award[i] > 1]
        if not donors:  # cannot happen with at most D viable groups; guard anyway
            break
        worst = min(slack(i) for i in donors)
        level = [i for i in donors if slack(i) == worst]
        chosen, toss = _take(level, sum(award) - delegates, choose)
        tossed |= toss
        for i in chosen:
            award[i] -= 1
    return Allocation(tuple(award), tossed)


def allocate(
    final: Sequence[int],
    attendance: int,
    delegates: int,
    rng: np.random.Generator | None = None,
) -> Allocation:
    """County delegates per group from the final alignment.

    Viability is tested against ``attendance`` (T). With more viable groups than D the D
    largest get one each; otherwise each viable group gets ``final*D/T`` rounded at .5
    (at least one), then one more to the highest decimal among those rounded down while
    the sum is short (cycling by largest remaining fraction), or one less from the lowest
    decimal among those rounded up (never a group's only delegate) while it is over.
    Ties on the deciding value are broken by ``rng``; without one a needed toss raises
    ``ValueError``.
    """
    _validate(final, attendance, delegates)

    if rng is None:

        def choose(tied: list[int], k: int) -> Sequence[int]:
            raise _TossNeeded(tied)

        try:
            return _allocate(final, attendance, delegates, choose)
        except _TossNeeded as exc:
            raise ValueError(
                f"a coin toss between groups {list(exc.args[0])} is needed "
                f"(final={list(final)}, T={attendance}, D={delegates}) but no rng was given"
            ) from None
    gen = rng

    def toss(tied: list[int], k: int) -> Sequence[int]:
        return [tied[int(j)] for j in gen.choice(len(tied), size=k, replace=False)]

    return _allocate(final, attendance, delegates, toss)


def possible_allocations(
    final: Sequence[int], attendance: int, delegates: int
) -> Iterator[Allocation]:
    """Every allocation some outcome of the coin tosses gives (duplicates removed)."""
    _validate(final, attendance, delegates)
    seen: set[tuple[int, ...]] = set()
    scripts: list[list[int]] = [[]]
    while scripts:
        script = scripts.pop()
        made: list[int] = []

        def choose(
            tied: list[int], k: int, script: list[int] = script, made: list[int] = made
        ) -> Sequence[int]:
            # Replays ``script`` (which combination at each toss), then takes the first
            # combination at new tosses and queues the others for later.
            options = list(itertools.combinations(tied, k))
            depth = len(made)
            if depth < len(script):
                pos = script[depth]
            else:
                pos = 0
                scripts.extend([*made, alt] for alt in range(1, len(options)))
            made.append(pos)
            return options[pos]

        result = _allocate(final, attendance, delegates, choose)
        if result.delegates not in seen:
            seen.add(result.delegates)
            yield result


def is_valid_allocation(
    final: Sequence[int], attendance: int, delegates: int, reported: Sequence[int]
) -> bool:
    """True when ``reported`` is the allocation under some outcome of the coin tosses."""
    if len(reported) != len(final):
        return False
    want = tuple(reported)
    return any(a.delegates == want for a in possible_allocations(final, attendance, delegates))


def sde(delegates_won: Sequence[int], ratio: float) -> tuple[float, ...]:
    """State delegate equivalents: county delegates won x ratio_k, to 4 decimals."""
    return tuple(round(d * ratio, 4) if d else 0.0 for d in delegates_won)


def satellite_delegates(attendance: int) -> int:
    """County delegates of a satellite caucus by attendance tier (0 when nobody came)."""
    if attendance < 0:
        raise ValueError(f"attendance(={attendance}) must be >= 0")
    if attendance == 0:
        return 0
    for top, d in SATELLITE_TIERS:
        if attendance <= top:
            return d
    return SATELLITE_MAX_DELEGATES


def satellite_sde(group_state_delegates: float, attendances: Sequence[int]) -> list[float]:
    """Each satellite's share of its group's SDE, proportional to its attendance."""
    if any(a < 0 for a in attendances):
        raise ValueError(f"attendances(={list(attendances)}) must all be >= 0")
    total = sum(attendances)
    if total == 0:
        return [0.0 for _ in attendances]
    return [group_state_delegates * a / total for a in attendances]


@dataclass(frozen=True, slots=True)
class Problem:
    """One inconsistency of a reported precinct: a machine-readable ``code`` and a
    ``detail`` in plain words."""

    code: str
    detail: str


PROBLEM_CODES: tuple[str, ...] = (
    "negative_count",
    "length_mismatch",
    "first_sum_mismatch",
    "final_exceeds_attendance",
    "locked_group_shrank",
    "nonviable_awarded",
    "viable_not_awarded",
    "not_largest_awarded",
    "delegate_sum",
    "delegate_mismatch",
)
"""Every code :func:`check` may return, in the order it reports them."""

ADVISORY_CODES: frozenset[str] = frozenset({"locked_group_shrank"})
"""Codes that break procedure without making the numbers impossible (members of a viable
group left or realigned); an audit reports them as notes, not as flagged precincts."""


def effective_attendance(attendance: int, final: Sequence[int]) -> int:
    """T for the delegate math: the opening count, or the final alignment's head count
    when that is larger (nobody may join after the opening, so the count was short)."""
    return max(attendance, sum(final))


def check(
    attendance: int,
    delegates: int,
    first: Sequence[int],
    final: Sequence[int],
    reported_delegates: Sequence[int],
) -> list[Problem]:
    """Everything wrong with one precinct's reported numbers; ``[]`` when consistent.

    ``attendance`` is T as reported (normally the sum of ``first``). Codes are in
    :data:`PROBLEM_CODES`; :data:`ADVISORY_CODES` break procedure without making the
    numbers impossible. Viability and delegates are judged against
    :func:`effective_attendance`.
    """
    n = len(first)
    if len(final) != n or len(reported_delegates) != n:
        return [
            Problem(
                "length_mismatch",
                f"{len(first)} first, {len(final)} final and {len(reported_delegates)} "
                "delegate counts",
            )
        ]
    negative = [
        f"{what}[{i}]={v}"
        for what, seq in (("first", first), ("final", final), ("delegates", reported_delegates))
        for i, v in enumerate(seq)
        if v < 0
    ]
    if attendance < 0 or delegates < 0 or negative:
        if attendance < 0:
            negative.insert(0, f"attendance={attendance}")
        if delegates < 0:
            negative.insert(0, f"D={delegates}")
        return [Problem("negative_count", "negative " + ", ".join(negative))]
    problems: list[Problem] = []
    if sum(first) != attendance:
        problems.append(
            Problem("first_sum_mismatch", f"first alignment sums to {sum(first)}, T={attendance}")
        )
    if sum(final) > attendance:
        problems.append(
            Problem("final_exceeds_attendance", f"final alignment {sum(final)} > T={attendance}")
        )
    if delegates >= 2:
        locked = viable(first, attendance, delegates)
        shrank = [i for i in range(n) if locked[i] and final[i] < first[i]]
        if shrank:
            problems.append(
                Problem(
                    "locked_group_shrank",
                    "viable in first alignment but smaller in final: "
                    + ", ".join(f"group {i} {first[i]}->{final[i]}" for i in shrank),
                )
            )
    # With more people in the final alignment than counted at the opening, the opening
    # count was evidently short (already reported above); judge the delegates against the
    # larger count so that one error is not reported as several.
    attendance = effective_attendance(attendance, final)
    if delegates == 1:
        problems += _one_delegate_problems(final, reported_delegates)
    elif delegates >= 2:
        problems += _viability_problems(final, attendance, delegates, reported_delegates)
    expect = [a.delegates for a in possible_allocations(final, attendance, delegates)]
    due = sum(expect[0])
    if sum(reported_delegates) != due:
        problems.append(
            Problem(
                "delegate_sum",
                f"{sum(reported_delegates)} delegates awarded, "
                f"the rules award {due} (D={delegates})",
            )
        )
    if tuple(reported_delegates) not in expect:
        shown = " or ".join(str(list(e)) for e in expect[:3])
        problems.append(
            Problem(
                "delegate_mismatch",
                f"reported {list(reported_delegates)}, the rules give {shown}",
            )
        )
    return problems


def _one_delegate_problems(final: Sequence[int], reported: Sequence[int]) -> list[Problem]:
    """D = 1 has no viability threshold: the delegate goes to the largest group."""
    top = max(final, default=0)
    wrong = [i for i, r in enumerate(reported) if r > 0 and (final[i] < top or top == 0)]
    if not wrong:
        return []
    largest = " or ".join(f"group {i} ({c})" for i, c in enumerate(final) if c == top and c > 0)
    return [Problem(
        "not_largest_awarded",
        "D=1 has no viability threshold, its delegate goes to the largest group: awarded to "
        + ", ".join(f"group {i} ({final[i]})" for i in wrong)
        + ", the largest is " + (largest or "none (nobody in the final alignment)"),
    )]


def _viability_problems(final: Sequence[int], attendance: int, delegates: int,
                        reported: Sequence[int]) -> list[Problem]:
    """D >= 2: a delegate to a group below the viability number, or none to a viable group
    while there are delegates enough for every viable group."""
    n = len(final)
    ok = viable(final, attendance, delegates)
    need = viability_number(attendance, delegates)
    problems = []
    bad = [i for i in range(n) if reported[i] > 0 and not ok[i]]
    if bad:
        problems.append(
            Problem(
                "nonviable_awarded",
                "delegates to non-viable "
                + ", ".join(f"group {i} ({final[i]} < {need})" for i in bad)
                + f" (T={attendance}, D={delegates})",
            )
        )
    if sum(ok) <= delegates:
        missed = [i for i in range(n) if ok[i] and reported[i] == 0]
        if missed:
            problems.append(
                Problem(
                    "viable_not_awarded",
                    "no delegate for viable "
                    + ", ".join(f"group {i} ({final[i]} >= {need})" for i in missed),
                )
            )
    return problems


def _validate(final: Sequence[int], attendance: int, delegates: int) -> None:
    if attendance < 0:
        raise ValueError(f"attendance(={attendance}) must be >= 0")
    if delegates < 0:
        raise ValueError(f"delegates(={delegates}) must be >= 0")
    if any(c < 0 for c in final):
        raise ValueError(f"final(={list(final)}) counts must all be >= 0")
