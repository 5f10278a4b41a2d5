"""Pure parts of the live rehearsal: clock, hotline pool, event log, sharding, adapter."""

from __future__ import annotations

import heapq
import json
import math
from pathlib import Path

import pytest

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.rehearsal.adapters import DEFAULT_ADAPTER, load_adapter
from caucus_rehearsal.rehearsal.adapters.base import outcome_of_status
from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.eventlog import EventLog, Tail
from caucus_rehearsal.rehearsal.hotline import Abandoned, Answered, HotlinePool
from caucus_rehearsal.rehearsal.night import operator_credentials, owners, wrong_pin


def test_clock_maps_both_ways() -> None:
    c = SimClock(t0_wall=1000.0, speed=60.0, sim_start_min=-30.0)
    assert c.wall(-30.0) == 1000.0
    assert c.wall(0.0) == 1030.0  # 30 simulated minutes are 30 wall seconds at speed 60
    assert c.sim(1030.0) == 0.0
    assert c.wall_seconds(10.0) == 10.0
    with pytest.raises(ValueError, match="speed"):
        SimClock(0.0, 0.0, 0.0)


def test_pool_exact_log() -> None:
    pool = HotlinePool(lines=2, operators=1)
    assert pool.dial("a", 0.0, 10.0) == ("queued", [Answered("a", "op-01", 0.0, 0)])
    assert pool.dial("b", 1.0, 5.0) == ("queued", [])
    assert pool.dial("c", 2.0, 9.0) == ("busy", [])  # two lines, both taken
    assert pool.expire(4.0) == []
    assert pool.expire(5.0) == [Abandoned("b", 4.0, 0)]  # b hung up, its line is free
    assert pool.dial("c", 6.0, 20.0) == ("queued", [])
    assert pool.finish("a", 7.0) == [Answered("c", "op-01", 1.0, 0)]
    assert pool.expire(30.0) == []  # c was answered before its deadline
    assert pool.lines_in_use == 1


def test_pool_unlimited_lines_and_no_abandonment() -> None:
    pool = HotlinePool(lines=0, operators=0)
    for i in range(50):
        assert pool.dial(f"c{i}", float(i))[0] == "queued"
    assert pool.next_deadline() is None
    assert pool.expire(math.inf) == [] and pool.queue_len == 50


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
        agenda = [(i * 1.0, 1, f"c{i}") for i in range(40)]  # (time, 0 finish / 1 dial, who)
        heapq.heapify(agenda)
        waits = 0.0
        while agenda:
            now, kind, who = heapq.heappop(agenda)
            answered = pool.dial(who, now)[1] if kind else pool.finish(who, now)
            for a in answered:
                waits += a.wait_s
                heapq.heappush(agenda, (now + 3.5, 0, a.caller))
        return waits
    assert total_wait(3) <= total_wait(2) <= total_wait(1)


def test_event_log_appends_lines_and_tail_waits_for_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    tail = Tail(path)
    log.write({"a": 1})
    assert list(tail.new_records()) == [{"a": 1}]
    with path.open("ab") as fh:
        fh.write(b'{"b": ')
    assert list(tail.new_records()) == []
    with path.open("ab") as fh:
        fh.write(b"2}\n")
    log.write({"c": 3})
    assert list(tail.new_records()) == [{"b": 2}, {"c": 3}]
    log.close()
    assert json.loads(path.read_text().splitlines()[0]) == {"a": 1}


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
