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


def test_a_wrong_shape_ends_the_run_with_exit_3_and_a_report(against: Against) -> None:
    r = against("wrong-shape")
    assert (r.code, r.summary["verdict"]) == (3, "error"), r.stdout + r.stderr
    assert r.first_finding().startswith(
        "The target broke the contract (reading the published results): "
        "GET /v1/results/precincts answered 200 '[]' (TypeError: ")
    assert r.run["status"] == "aborted"
    assert r.run["target_error"]["call"] == "snapshot"
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.rebuilt_identically()


def test_answers_the_adapter_cannot_read_end_with_exit_3(against: Against) -> None:
    r = against("login-shape")
    assert (r.code, r.summary["verdict"]) == (3, "error"), r.stdout + r.stderr
    assert r.summary["target_errors"]["protocol_errors"] > 0
    assert r.first_finding().endswith(
        "of the target's answers to the load could not be read (protocol errors; e.g. "
        "POST /v1/auth/chair answered 200 '{}': a sign-in answer without a token).")
    assert r.run["status"] == "complete" and r.run.get("target_error") is None
    assert r.rebuilt_identically()


def test_an_audit_trail_that_never_ends_is_bounded(against: Against) -> None:
    r = against("endless-audit")
    assert (r.code, r.summary["verdict"]) == (3, "error"), r.stdout + r.stderr
    err = r.run["target_error"]
    assert (err["call"], err["kind"], err["endpoint"]) == ("audit", "protocol",
                                                           "GET /v1/admin/audit")
    assert "EndlessRead" in err["error"]
    assert r.first_finding().startswith("The target broke the contract (reading the audit "
                                        "trail): GET /v1/admin/audit answered 200 ")
    assert r.rebuilt_identically()


def test_an_adapter_whose_health_check_raises(hostile_target: Callable[[str], str],
                                              rehearse: Callable[..., Any]) -> None:
    r = rehearse("smoke", "--target", hostile_target("honest"), "--admin-token", "k3y",
                 "--adapter", "tests.support.broken_adapters:RaisingHealth", "--speed", "2000",
                 "--band-runs", "0")
    assert (r.code, r.summary["verdict"]) == (3, "error"), r.stdout + r.stderr
    assert r.first_finding() == (
        "The target broke the contract (health check): GET /healthz answered 200 "
        "'{\"status\": \"ok\", \"provisioned\": false, \"precincts\": 0}' "
        "(RuntimeError: health check exploded).")
    assert r.run["status"] == "aborted"
    assert r.rebuilt_identically()


def test_writes_accepted_with_another_precinct_s_session_are_an_attack_not_data_loss(
        against: Against) -> None:
    r = against("cross-precinct", "--set", "adversaries.cross_precinct_rate_per_min=0.5")
    s = r.summary
    assert (r.code, s["verdict"]) == (1, "fail"), r.stdout + r.stderr
    assert r.first_finding().startswith("The target accepted ")
    assert "made with another precinct's credentials" in r.first_finding()
    sec = s["security"]
    assert sec["unauthorized_writes"] == sec["attacks"]["cross_precinct"]["accepted"] > 0
    assert s["reconciliation"]["overwritten_by_attacker"] > 0
    assert s["data_loss"] == 0 and s["mismatches"] == 0
    gates = {g["metric"]: g["result"] for g in s["gates"]}
    assert (gates["unauthorized_writes"], gates["data_loss"]) == ("fail", "pass")
    assert r.rebuilt_identically()


def test_a_lockout_keyed_on_the_precinct_alone_locks_the_real_chair_out(
        against: Against) -> None:
    # The attacker and the chairs send from distinct addresses (X-Forwarded-For); this
    # target ignores them and locks the precinct itself after five wrong PINs.
    r = against("lock-per-precinct", "--set", "adversaries.brute_force_attackers=1",
                "--set", 'gates=["data_loss == 0", "chairs_locked_out_by_attackers == 0"]')
    s = r.summary
    assert (r.code, s["verdict"]) == (1, "fail"), r.stdout + r.stderr
    locked = s["security"]["chairs_locked_out_by_attackers"]
    assert len(locked) == 1
    assert r.first_finding() == ("An attacker's wrong PINs locked out the real chair of "
                                 f"1 precinct: {locked[0]}.")
    gates = {g["metric"]: g["result"] for g in s["gates"]}
    assert gates["chairs_locked_out_by_attackers"] == "fail"
