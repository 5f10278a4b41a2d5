"""The adapter boundary in process (httpx.MockTransport): what the contract-v1 adapter
makes of the published results (precincts a target lists twice included), and how the
boundary names whatever an adapter raises on a broken target."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping

import httpx
import pytest

from caucus_rehearsal.errors import TargetProtocolError, TargetUnreachable
from caucus_rehearsal.published import loads_counting_duplicates, shape_problem
from caucus_rehearsal.rehearsal.adapters.base import HttpCall, Reply
from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter, feed_version
from caucus_rehearsal.rehearsal.boundary import Boundary, interpret

CANDS = ["A", "B"]
SUMMARY = {"precincts_total": 2, "precincts_reporting": 2,
           "statewide": {"first": {"A": 2, "B": 0}, "final": {"A": 2, "B": 0},
                         "sde": {"A": 0.5, "B": 0.0}}}
ENTRY = json.dumps({"attendance": 1, "first": {"A": 1, "B": 0}, "final": {"A": 1, "B": 0},
                    "delegates": {"A": 1, "B": 0}, "sde": {"A": 0.25, "B": 0.0}})


def client(precincts_body: bytes) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/results":
            return httpx.Response(200, json=SUMMARY, headers={"ETag": '"1"'})
        return httpx.Response(200, content=precincts_body)

    return httpx.Client(transport=httpx.MockTransport(answer), base_url="http://t")


def test_repeated_keys_are_counted_where_json_would_hide_them() -> None:
    value, repeated = loads_counting_duplicates('{"a": 1, "b": {"x": 1, "x": 2}, "a": 3}')
    assert value == {"a": 3, "b": {"x": 2}}
    assert repeated == {"a": 2, "x": 2}


def test_v1_reports_a_precinct_listed_twice() -> None:
    body = '{"precincts": {"IA-1": E, "IA-2": E, "IA-1": E}}'.replace("E", ENTRY)
    tag, results = ContractV1Adapter("http://t", CANDS).published_since(
        client(body.encode()), None)
    assert tag == '"1"' and results is not None
    assert sorted(results["precincts"]) == ["IA-1", "IA-2"]
    assert results["duplicates"] == {"IA-1": 2}
    once = '{"precincts": {"IA-1": E, "IA-2": E}}'.replace("E", ENTRY).encode()
    _, results = ContractV1Adapter("http://t", CANDS).published_since(client(once), None)
    assert results is not None and "duplicates" not in results


# ---- the boundary: whatever the adapter raises is the target's error, named -------------

def mock(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(answer), base_url="http://t")


def test_a_wrong_shape_is_a_protocol_error_naming_endpoint_and_answer() -> None:
    boundary = Boundary(mock(lambda r: httpx.Response(200, json=[])))
    ad = ContractV1Adapter("http://t", CANDS)
    with pytest.raises(TargetProtocolError) as info:
        boundary.call("snapshot", ad.published_since, boundary.client, None)
    rec = info.value.record
    assert rec is not None
    assert (rec["call"], rec["kind"], rec["endpoint"], rec["status"], rec["excerpt"]) == (
        "snapshot", "protocol", "GET /v1/results", 200, "[]")
    assert rec["error"].startswith("TypeError: ")
    assert str(info.value).startswith("snapshot: GET /v1/results answered 200 '[]' (TypeError")


def test_an_error_status_is_refused_and_no_answer_is_unreachable() -> None:
    boundary = Boundary(mock(lambda r: httpx.Response(503, json={"error": {"code": "outage"}})))
    ad = ContractV1Adapter("http://t", CANDS)
    with pytest.raises(TargetProtocolError) as info:
        boundary.call("snapshot", ad.published_since, boundary.client, None)
    assert info.value.record is not None and info.value.record["kind"] == "refused"

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    boundary = Boundary(mock(down))
    with pytest.raises(TargetUnreachable) as gone:
        boundary.call("health", ad.health, boundary.client)
    assert gone.value.record is not None and gone.value.record["kind"] == "unreachable"


def test_a_read_that_never_ends_is_bounded() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["after"])
        return httpx.Response(200, json={"items": [{"seq": after + 1}], "next_after": after + 1})

    boundary = Boundary(mock(page))
    ad = ContractV1Adapter("http://t", CANDS, "tok")
    with pytest.raises(TargetProtocolError) as info:
        boundary.call("audit", ad.audit, boundary.client, limit=50)
    assert info.value.record is not None and "more than 50 requests" in info.value.record["error"]
    boundary.call("health", lambda: None)  # the next call starts a fresh count


def test_pages_that_do_not_advance_are_a_protocol_error_at_once() -> None:
    calls = []

    def page(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"items": [{"seq": 1}], "next_after": 0})

    with pytest.raises(TargetProtocolError, match="the pages do not advance"):
        ContractV1Adapter("http://t", CANDS, "tok").audit(mock(page))
    assert len(calls) == 1


def test_an_adapter_that_cannot_read_an_answer_gives_protocol_error() -> None:
    class Raising(ContractV1Adapter):
        def interpret(self, call: HttpCall, status: int, headers: Mapping[str, str],
                      body: bytes) -> Reply:
            raise KeyError("token")

    call = HttpCall("login", "POST", "/v1/auth/chair", "/v1/auth/chair")
    reply = interpret(Raising("http://t", CANDS), call, 200, {}, b"[]")
    assert (reply.outcome, reply.detail) == (
        "protocol_error", "POST /v1/auth/chair answered 200 '[]': KeyError: 'token'")
    reply = ContractV1Adapter("http://t", CANDS).interpret(call, 200, {}, b"{}")
    assert (reply.outcome, reply.detail) == (
        "protocol_error", "POST /v1/auth/chair answered 200 '{}': a sign-in answer without a "
                          "token")


def test_the_normalised_shape_is_checked() -> None:
    assert shape_problem({"precincts": {"IA-1": {}}, "statewide": {}}) is None
    assert shape_problem([]) == "the published results are list, not an object"
    assert shape_problem({"precincts": []}) == "'precincts' is list, not an object of precincts"
    assert shape_problem({"precincts": {"IA-1": 3}}) == "precinct 'IA-1' is int, not an object"
    assert shape_problem({"precincts": {}, "statewide": []}) == "'statewide' is list, not an object"


def test_an_attack_keeps_its_request_step_and_says_its_intent() -> None:
    ad = ContractV1Adapter("http://t", CANDS)
    login = dataclasses.replace(ad.chair_login("IA-1", "000000"), intent="bad_pin")
    assert (login.step, login.intent) == ("login", "bad_pin")
    # A wrong-PIN sign-in answered 200 without a token is not a sign-in.
    assert ad.interpret(login, 200, {}, b"[]").outcome == "protocol_error"
    final = dataclasses.replace(
        ad.chair_step("final", "IA-1", "tok", {"final": {}, "delegates": {}}, "k"),
        intent="replay")
    stored = ad.interpret(final, 201, {"Idempotent-Replayed": "true"}, b"{}")
    again = ad.interpret(final, 201, {}, b"{}")
    assert (stored.outcome, stored.replayed, again.replayed) == ("ok", True, False)
    honest = dataclasses.replace(final, intent="honest")
    assert ad.interpret(honest, 201, {}, b"{}").replayed is None


def test_the_feed_version_is_read_from_plain_weak_and_gzip_etags() -> None:
    # docs/contract.md: "<db_id>-<version>", "-gzip" appended on a gzip-encoded body.
    assert [feed_version(t) for t in ('"a1b2-7"', 'W/"a1b2-7"', '"a1b2-7-gzip"',
                                      '"a1b2"', '"a1b2-gzip"', None)] == [7, 7, 7, None,
                                                                          None, None]
