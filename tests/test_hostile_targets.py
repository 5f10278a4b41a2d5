"""``rehearse run`` against small hostile targets on loopback (tests/support/hostile_target.py):
each ends with the right verdict, exit code and first finding, and leaves a run
directory that ``rehearse report`` rebuilds to the same ``summary.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.slow
Against = Callable[..., Any]


def test_an_honest_small_server_passes(against: Against,
                                       target_passed: Callable[..., None]) -> None:
    r = against("honest")
    target_passed(r.summary, r.code)
    c = r.summary["published_consistency"]
    assert c["statewide_total_errors"] == [] and c["sde_errors"] == {}
    assert r.rebuilt_identically()


def test_inflated_statewide_totals_fail(against: Against) -> None:
    r = against("inflate")
    assert (r.code, r.summary["verdict"]) == (1, "fail"), r.stdout + r.stderr
    assert r.first_finding().startswith(
        "The published statewide totals are not the sum of the published precincts: "
        "statewide final/Buttigieg: published ")
    (err,) = r.summary["published_consistency"]["statewide_total_errors"]
    assert err["published"] - err["summed"] == 500
    assert r.rebuilt_identically()


def test_a_phantom_precinct_fails(against: Against) -> None:
    r = against("phantom")
    assert (r.code, r.summary["verdict"]) == (1, "fail"), r.stdout + r.stderr
    assert r.first_finding().startswith(
        "The target published 1 precinct that is not in the roster: IA-9999 (IA-9999 repeats ")
    assert r.rebuilt_identically()


def test_a_target_that_publishes_no_sde_fails_unless_its_adapter_says_so(
        against: Against) -> None:
    r = against("no-sde")  # through the contract-v1 adapter, which declares SDE
    assert (r.code, r.summary["verdict"]) == (1, "fail"), r.stdout + r.stderr
    assert r.first_finding().endswith("published missing).")
    assert "SDE that do not follow from their published delegates" in r.first_finding()
    assert r.summary["not_checked"] == ["counties"]
    assert r.rebuilt_identically()
