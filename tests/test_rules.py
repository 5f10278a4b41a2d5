"""The caucus rules of DOMAIN.md §1: edge values, ties, adjustments, satellites, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caucus_rehearsal import rules


@pytest.mark.parametrize("t", range(0, 121))
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 9, 36])
def test_viability_number_every_edge_of_t(t: int, d: int) -> None:
    need = rules.viability_number(t, d)
    if d == 1:
        assert need == 0
        return
    share = {2: 0.25, 3: 1 / 6}.get(d, 0.15)
    # The smallest count reaching the share exactly (ceil), by exact integer arithmetic.
    assert need == min(n for n in range(t + 1) if n * (100 if d >= 4 else 1) >= (
        15 * t if d >= 4 else t * {2: 1 / 4, 3: 1 / 6}[d]) - 1e-9)
    assert need == math.ceil(round(share * t, 9))


def test_viability_edges_named() -> None:
    assert rules.viability_number(100, 4) == 15 and rules.viability_number(101, 4) == 16
    assert rules.viability_number(20, 4) == 3 and rules.viability_number(7, 4) == 2
    assert rules.viability_number(8, 2) == 2 and rules.viability_number(9, 2) == 3
    assert rules.viability_number(12, 3) == 2 and rules.viability_number(13, 3) == 3
    assert rules.viable([15, 14, 0], 100, 4) == [True, False, False]


def test_bad_arguments_raise_value_error_naming_the_value() -> None:
    with pytest.raises(ValueError, match=r"attendance\(=-1\)"):
        rules.viability_number(-1, 4)
    with pytest.raises(ValueError, match=r"final"):
        rules.allocate([3, -1], 2, 4)


def test_plain_rounding() -> None:
    # raw 2.4, 1.6 -> 2, 2 (sum 4 = D)
    assert rules.allocate([60, 40], 100, 4).delegates == (2, 2)


def test_round_half_up() -> None:
    # D=5: raw 2.5, 1.5, 1.0 -> 3, 2, 1 = 6 > 5; the two .5 groups tie: a toss decides.
    assert {a.delegates for a in rules.possible_allocations([50, 30, 20], 100, 5)} == {
        (2, 2, 1), (3, 1, 1)}
    # D=5: raw 1.5, 1.5, 2.0 -> 2, 2, 2 = 6 > 5; again a toss.
    assert rules.allocate([30, 30, 40], 100, 5, np.random.default_rng(1)).coin_toss


def test_too_few_gives_highest_decimal_that_rounded_down() -> None:
    # D=5, T=100: raw 1.7 -> 2, 1.4 -> 1, 1.35 -> 1 (sum 4): the .4 group gets one more.
    assert rules.allocate([34, 28, 27, 11], 100, 5).delegates == (2, 2, 1, 0)


def test_too_many_takes_lowest_decimal_that_rounded_up() -> None:
    # D=4, T=60: raw 1.6667 -> 2, 1.5333 -> 2, 0.8 -> 1 (sum 5): the .53 group gives one.
    assert rules.allocate([25, 23, 12], 60, 4).delegates == (2, 1, 1)


def test_too_many_never_takes_an_only_delegate() -> None:
    # D=4, T=100: raw 2.2 -> 2 and three .6 -> 1 (sum 5); the .6 groups rounded up but
    # hold one delegate each, so the one comes off the group that rounded down.
    assert rules.allocate([55, 15, 15, 15], 100, 4) == rules.Allocation((1, 1, 1, 1), False)


def test_people_left_keeps_awarding_by_largest_remaining_fraction() -> None:
    # Ames 3-1 (2020): T=447, D=9, only 377 stayed in viable groups: 1.87, 2.94, 2.78
    # all round up (sum 8); the largest remaining fraction (Sanders .94) gets the 9th.
    final = [93, 146, 138, 27, 43]
    assert rules.allocate(final, 447, 9).delegates == (2, 4, 3, 0, 0)


def test_more_viable_groups_than_delegates_the_largest_get_one() -> None:
    assert rules.allocate([10, 9, 8], 27, 2).delegates == (1, 1, 0)
    assert rules.allocate([5, 9, 8], 22, 1).delegates == (0, 1, 0)


def test_one_delegate_tie_needs_a_toss() -> None:
    with pytest.raises(ValueError, match="coin toss"):
        rules.allocate([7, 7, 2], 16, 1)
    seen = {rules.allocate([7, 7, 2], 16, 1, np.random.default_rng(s)).delegates
            for s in range(20)}
    assert seen == {(1, 0, 0), (0, 1, 0)}
    a = rules.allocate([7, 7, 2], 16, 1, np.random.default_rng(3))
    assert a.coin_toss and a == rules.allocate([7, 7, 2], 16, 1, np.random.default_rng(3))


def test_is_valid_allocation_accepts_any_toss_outcome() -> None:
    assert rules.is_valid_allocation([10, 10, 10, 10], 40, 6, [2, 1, 2, 1])
    assert rules.is_valid_allocation([10, 10, 10, 10], 40, 6, [1, 1, 2, 2])
    assert not rules.is_valid_allocation([10, 10, 10, 10], 40, 6, [3, 1, 1, 1])
    assert {a.delegates for a in rules.possible_allocations([7, 7, 2], 16, 1)} == {
        (1, 0, 0), (0, 1, 0)}


def test_no_viable_group_and_nobody_present() -> None:
    assert rules.allocate([0, 0], 0, 4).delegates == (0, 0)
    assert rules.allocate([0, 0, 0], 12, 7).delegates == (0, 0, 0)
    assert rules.allocate([3, 4], 7, 0).delegates == (0, 0)


@pytest.mark.parametrize(("t", "d"), [(0, 0), (1, 4), (20, 4), (21, 5), (40, 5), (41, 6),
                                      (60, 6), (61, 7), (80, 7), (81, 8), (100, 8), (101, 9),
                                      (860, 9)])
def test_satellite_tiers(t: int, d: int) -> None:
    assert rules.satellite_delegates(t) == d


def test_satellite_sde_by_attendance() -> None:
    assert rules.satellite_sde(6.0, [10, 20, 30]) == pytest.approx([1.0, 2.0, 3.0])
    assert rules.satellite_sde(6.0, [0, 0]) == [0.0, 0.0]
    assert rules.sde([2, 0, 1], 4 / 51) == (0.1569, 0.0, 0.0784)


def test_check_codes() -> None:
    assert rules.check(60, 5, [30, 20, 10], [30, 20, 10], [2, 2, 1]) == []
    codes = [p.code for p in rules.check(60, 5, [30, 20, 10], [30, 20, 10], [3, 1, 1])]
    assert codes == ["delegate_mismatch"]
    codes = [p.code for p in rules.check(59, 5, [30, 20, 10], [30, 20, 12], [2, 2, 1])]
    assert codes[:2] == ["first_sum_mismatch", "final_exceeds_attendance"]
    # Polk ELKHART-01 (2020): Biden 15 < 16 awarded a delegate.
    codes = [p.code for p in rules.check(106, 4, [15, 26, 15, 50], [15, 27, 18, 46],
                                         [1, 1, 1, 1])]
    assert "nonviable_awarded" in codes and "delegate_mismatch" in codes
    codes = [p.code for p in rules.check(20, 4, [10, 10], [14, 6], [4, 0])]
    assert "locked_group_shrank" in codes and "viable_not_awarded" in codes
    # D = 1: no threshold; the delegate to a group that is not the largest is the problem.
    assert rules.check(9, 1, [5, 4], [5, 4], [1, 0]) == []
    assert rules.check(9, 1, [4, 4, 1], [4, 4, 1], [0, 1, 0]) == []  # a tie: either
    (problem, _) = rules.check(9, 1, [5, 4], [5, 4], [0, 1])
    assert problem.code == "not_largest_awarded" and "group 0 (5)" in problem.detail
    assert [p.code for p in rules.check(-1, 4, [1], [1], [1])] == ["negative_count"]
    assert [p.code for p in rules.check(10, 4, [10], [10, 0], [4])] == ["length_mismatch"]
    assert set(rules.ADVISORY_CODES) <= set(rules.PROBLEM_CODES)


counts = st.lists(st.integers(0, 300), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(counts, st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_properties(final: list[int], d: int, seed: int) -> None:
    t = sum(final)
    alloc = rules.allocate(final, t, d, np.random.default_rng(seed))
    ok = rules.viable(final, t, d)
    won = alloc.delegates
    assert all(w == 0 for w, v in zip(won, ok, strict=True) if not v)  # non-viable get none
    if t > 0 and any(ok):
        assert sum(won) == d  # everyone stayed, so the delegates sum to D
    if 0 < sum(ok) <= d:
        assert all(w >= 1 for w, v in zip(won, ok, strict=True) if v)
    assert rules.is_valid_allocation(final, t, d, won)


@settings(max_examples=200, deadline=None)
@given(counts, st.integers(1, 40), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_candidate_order(final: list[int], d: int, r: object) -> None:
    t = sum(final)
    order = list(range(len(final)))
    r.shuffle(order)  # type: ignore[attr-defined]
    permuted = [final[i] for i in order]
    base = {a.delegates for a in rules.possible_allocations(final, t, d)}
    other = {tuple(a.delegates[order.index(i)] for i in range(len(final)))
             for a in rules.possible_allocations(permuted, t, d)}
    assert base == other


@settings(max_examples=200, deadline=None)
@given(counts, st.integers(1, 40), st.floats(0, 0.5))
def test_people_leaving_never_breaks_the_sum(final: list[int], d: int, gone: float) -> None:
    t = sum(final) + int(gone * sum(final))
    alloc = rules.allocate(final, t, d, np.random.default_rng(0))
    if any(rules.viable(final, t, d)):
        assert sum(alloc.delegates) == d
