"""The adapter boundary in process (httpx.MockTransport): what the contract-v1 adapter
makes of the published results, including precincts a target lists twice."""

from __future__ import annotations

import json

import httpx

from caucus_rehearsal.published import loads_counting_duplicates
from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter

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
