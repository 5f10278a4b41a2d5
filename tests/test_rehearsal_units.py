"""Pure parts of the live rehearsal: clock, hotline pool, event log, sharding, adapter."""

from __future__ import annotations

import math

import pytest

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.rehearsal.adapters import DEFAULT_ADAPTER, load_adapter
from caucus_rehearsal.rehearsal.adapters.base import outcome_of_status
from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.hotline import HotlinePool, Outcome
from caucus_rehearsal.rehearsal.night import operator_credentials, owners, wrong_pin


def test_clock_maps_both_ways() -> None:
    c = SimClock(t0_wall=1000.0, speed=60.0, sim_start_min=-30.0)
    assert c.wall(-30.0) == 1000.0
    assert c.wall(0.0) == 1030.0  # 30 simulated minutes are 30 wall seconds at speed 60
    assert c.sim(1030.0) == 0.0
    assert c.wall_seconds(10.0) == 10.0
    assert c.sim_minutes(1.0) == 1.0  # one wall second late is one simulated minute here
    with pytest.raises(ValueError, match="speed"):
        SimClock(0.0, 0.0, 0.0)


def _log(outcomes: list[Outcome]) -> list[tuple[str, str, float, float]]:
    return [(o.caller, o.result, o.at, o.wait_min) for o in outcomes]


def test_pool_exact_log_on_the_modelled_clock() -> None:
    pool = HotlinePool(lines=2, operators=1)
    pool.dial("a", 0.0, patience=10.0, service=3.0)
    pool.dial("b", 1.0, patience=4.0, service=3.0)
    pool.dial("c", 2.0, patience=9.0)
    # a is answered at once; b holds; c finds both lines taken. The pool cannot decide past
    # minute 3, when a's call may end at the earliest, until a says when it ended.
    assert _log(pool.advance(100.0)) == [("a", "answered", 0.0, 0.0), ("c", "busy", 2.0, 0.0)]
    assert pool.blocked_at() == 3.0 and pool.now == 3.0
    pool.finish("a", 3.5)  # its operator's request to the target took real time
    pool.dial("d", 4.0, patience=1.0)
    assert _log(pool.advance(100.0)) == [("b", "answered", 3.5, 2.5),  # before its patience
                                         ("d", "abandoned", 5.0, 1.0)]
    pool.finish("b", 7.0)
    assert pool.advance(100.0) == []
    assert pool.lines_in_use == 0 and pool.queue_len == 0 and pool.late == 0


def test_pool_decides_in_modelled_order_whatever_the_arrival_order() -> None:
    """Announcements arriving in any order before the pool decides give the same outcomes."""
    dials = [(f"c{i}", float(i % 7) + i / 100.0) for i in range(30)]

    def outcomes(order: list[tuple[str, float]]) -> list[tuple[str, str, float, float]]:
        pool = HotlinePool(lines=5, operators=2)
        for caller, at in order:
            pool.dial(caller, at, patience=2.0, hold_for=1.5)
        return sorted(_log(pool.advance(math.inf)))

    assert outcomes(dials) == outcomes(list(reversed(dials))) == outcomes(sorted(dials))


def test_pool_takes_a_late_announcement_at_its_current_moment_and_counts_it() -> None:
    pool = HotlinePool(lines=0, operators=0)
    pool.advance(10.0)
    pool.dial("late", 4.0, patience=1.0)
    out = pool.advance(20.0)
    assert (pool.late, pool.late_max_min) == (1, 6.0)
    assert [(o.result, o.at, o.late_min) for o in out] == [("abandoned", 11.0, 6.0)]


def test_pool_unlimited_lines_and_no_abandonment() -> None:
    pool = HotlinePool(lines=0, operators=0)
    for i in range(50):
        pool.dial(f"c{i}", float(i))
    assert pool.advance(math.inf) == [] and pool.queue_len == 50


def test_pool_rejects_bad_use() -> None:
    pool = HotlinePool(1, 1)
    pool.dial("a", 0.0)
    with pytest.raises(ValueError, match="already"):
        pool.dial("a", 0.0)
    with pytest.raises(ValueError, match="not talking"):
        pool.finish("zzz", 0.0)
    with pytest.raises(ValueError, match="lines"):
        HotlinePool(-1, 1)


def test_pool_more_operators_never_longer_waits() -> None:
    """Metamorphic: the same arrivals with more operators wait no longer in total."""
    def total_wait(operators: int) -> float:
        pool = HotlinePool(lines=0, operators=operators)
        for i in range(40):
            pool.dial(f"c{i}", i * 1.0, hold_for=3.5)
        return sum(o.wait_min for o in pool.advance(math.inf) if o.result == "answered")
    assert total_wait(3) <= total_wait(2) <= total_wait(1)


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_every_unit_has_exactly_one_owner(workers: int) -> None:
    owner = owners(seed=5, n_units=101, n_workers=workers)
    assert len(owner) == 101 and set(owner) == set(range(workers))
    counts = [owner.count(w) for w in range(workers)]
    assert max(counts) - min(counts) <= 1
    assert owner == owners(5, 101, workers)  # rebuilt identically from the arguments
    assert owner != owners(6, 101, workers) or workers == 1


def test_credentials_and_wrong_pin_are_deterministic() -> None:
    assert operator_credentials(1, 3) == operator_credentials(1, 3)
    assert [op for op, _ in operator_credentials(1, 3)] == ["op-01", "op-02", "op-03"]
    assert wrong_pin("999999") == "000000" and wrong_pin("123456") != "123456"


def test_outcomes_of_status() -> None:
    assert [outcome_of_status(s) for s in (200, 201, 304, 401, 403, 409, 422, 429, 500, 503, 0)] \
        == ["ok", "ok", "ok", "unauthorized", "rejected", "rejected", "rejected", "locked_out",
            "error", "error", "conn_error"]


def test_v1_adapter_builds_calls_and_reads_answers() -> None:
    ad = ContractV1Adapter("http://127.0.0.1:1/", ["A", "B"], "tok")
    tally = {"attendance": 9, "first": {"A": 5, "B": 4}, "final": {"A": 9, "B": 0},
             "delegates": {"A": 2, "B": 0}}
    call = ad.chair_step("final", "IA-0001", "t0k", tally, key="IA-0001:final")
    assert (call.method, call.path, call.name) == (
        "POST", "/v1/precincts/IA-0001/final-alignment", "/v1/precincts/[id]/final-alignment")
    assert call.json == {"final": {"A": 9, "B": 0}, "delegates": {"A": 2, "B": 0}}
    assert call.headers["Authorization"] == "Bearer t0k"
    assert call.headers["Idempotency-Key"] == "IA-0001:final"
    photo = ad.chair_step("photo", "IA-0001", "t", tally, key="k")
    assert photo.body is not None and photo.body[:3] == b"\xff\xd8\xff"
    login = ad.chair_login("IA-0001", "123456")
    assert ad.interpret(login, 200, {}, b'{"token": "x", "precinct_id": "IA-0001"}').token == "x"
    bad = ad.interpret(login, 429, {"retry-after": "60"},
                       b'{"error": {"code": "locked_out", "detail": "..."}}')
    assert (bad.outcome, bad.retry_after_s, bad.detail) == ("locked_out", 60.0, "429 locked_out")
    assert ad.interpret(ad.results_call("e1"), 304, {"etag": "e1"}, b"").etag == "e1"


def test_load_adapter_names_the_problem() -> None:
    assert load_adapter(DEFAULT_ADAPTER) is ContractV1Adapter
    for spec, words in (("nocolon", "module:Class"), ("no.such.mod:X", "cannot import"),
                        ("json:dumps", "not a TargetAdapter")):
        with pytest.raises(UsageError, match=words):
            load_adapter(spec)


def test_pool_waits_for_every_party_that_may_still_call() -> None:
    """Conservative: nothing is decided past a moment at which a party may still dial."""
    pool = HotlinePool(lines=1, operators=1)
    pool.expect(["u1", "u2"])  # neither has said when it may call: nothing can be decided
    pool.dial("u1#0", 5.0, patience=3.0, hold_for=1.0, party="u1")
    assert pool.advance() == [] and pool.horizon() == -math.inf
    pool.bound("u2", 4.0)  # u2 may dial from minute 4: u1's dial at 5 must wait
    assert pool.advance() == [] and pool.waiting_for() == "u2"
    pool.dial("u2#0", 4.5, patience=3.0, hold_for=10.0, party="u2")  # it did, earlier
    out = pool.advance()
    # u2 (4.5) gets the only line; u1 (5.0) hears busy; u1 may dial again from minute 5.
    assert _log(out) == [("u2#0", "answered", 4.5, 0.0), ("u1#0", "busy", 5.0, 0.0)]
    assert pool.horizon() == 5.0 and pool.late == 0
    pool.bound("u1", math.inf)  # u1 gives up the phone; u2 is on its call, which ends by
    assert pool.advance() == [] and pool.horizon() == math.inf  # itself (a modelled hold)


def test_pool_with_its_own_hold_queue_mirrors_the_night_model() -> None:
    """``hotline.hold_capacity``: callers hold in the phone system's queue, not on lines;
    at most ``lines`` operators talk; a full queue with no operator free is a busy signal."""
    pool = HotlinePool(lines=1, operators=3, hold_capacity=2)  # one line: one operator talks
    for i, at in enumerate((0.0, 1.0, 2.0, 3.0)):
        pool.dial(f"c{i}", at, patience=100.0, service=10.0)
    out = pool.advance(5.0)
    assert _log(out) == [("c0", "answered", 0.0, 0.0), ("c3", "busy", 3.0, 0.0)]
    assert pool.queue_len == 2  # c1, c2 hold without a line each
    pool.finish("c0", 10.0)
    assert _log(pool.advance(20.0)) == [("c1", "answered", 10.0, 9.0)]
