"""The default adapter: contract v1 (``docs/contract.md``), which the reference server speaks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from caucus_rehearsal.errors import TargetProtocolError, TargetUnreachable
from caucus_rehearsal.published import DATA_FIELDS, loads_counting_duplicates
from caucus_rehearsal.rehearsal.adapters.base import (
    HttpCall,
    Reply,
    TargetAdapter,
    expect_json,
    expect_ok,
    outcome_of_status,
    protocol_error,
)
from caucus_rehearsal.rehearsal.photo import worksheet_jpeg

TORN_READS = 3
"""Reads of the precinct list at most for one snapshot, until it shows the version of a
summary read just before or after it."""

_STEP_PATH = {"attendance": "attendance", "first": "first-alignment",
              "final": "final-alignment", "photo": "worksheet"}


class ContractV1Adapter(TargetAdapter):
    """Contract v1: bearer tokens from PIN sign-in, one POST per data step, ETag'd results."""

    name = "contract-v1"
    supports_faults = True

    def chair_login(self, unit_id: str, pin: str) -> HttpCall:
        return HttpCall("login", "POST", "/v1/auth/chair", "/v1/auth/chair",
                        json={"precinct_id": unit_id, "pin": pin})

    def chair_step(self, step: str, unit_id: str, token: str, tally: Mapping[str, Any],
                   key: str) -> HttpCall:
        path = f"/v1/precincts/{unit_id}/{_STEP_PATH[step]}"
        name = f"/v1/precincts/[id]/{_STEP_PATH[step]}"
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        if step == "photo":
            return HttpCall(step, "POST", path, name, body=worksheet_jpeg(unit_id),
                            headers={**headers, "Content-Type": "image/jpeg"})
        body: dict[str, Any]
        if step == "attendance":
            body = {"attendance": tally["attendance"]}
        elif step == "first":
            body = {"first": tally["first"]}
        else:
            body = {"final": tally["final"], "delegates": tally["delegates"]}
        return HttpCall(step, "POST", path, name, json=body, headers=headers)

    def operator_login(self, operator_id: str, password: str) -> HttpCall:
        return HttpCall("operator_login", "POST", "/v1/auth/operator", "/v1/auth/operator",
                        json={"operator_id": operator_id, "password": password})

    def operator_report(self, unit_id: str, token: str, tally: Mapping[str, Any],
                        key: str) -> HttpCall:
        body = {k: tally[k] for k in ("attendance", "first", "final", "delegates")}
        return HttpCall("report", "POST", f"/v1/hotline/precincts/{unit_id}/report",
                        "/v1/hotline/precincts/[id]/report", json=body,
                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})

    def results_call(self, etag: str | None = None) -> HttpCall:
        return HttpCall("results", "GET", "/v1/results", "/v1/results",
                        headers={"If-None-Match": etag} if etag else {})

    def feed_call(self, etag: str | None = None) -> HttpCall:
        return HttpCall("feed", "GET", "/v1/results/precincts", "/v1/results/precincts",
                        headers={"If-None-Match": etag} if etag else {})

    def interpret(self, call: HttpCall, status: int, headers: Mapping[str, str],
                  body: bytes) -> Reply:
        if status < 400 and call.step in ("results", "feed"):  # the public's reads: many
            etag = headers.get("etag") or headers.get("ETag")
            return Reply(outcome_of_status(status), etag=etag, version=feed_version(etag))
        reply = super().interpret(call, status, headers, body)
        if status >= 400:
            try:
                err = json.loads(body)["error"]
                reply = Reply(reply.outcome, None, reply.retry_after_s,
                              f"{status} {err.get('code', '')}")
            except (ValueError, KeyError, TypeError):
                pass
            return reply
        if call.step in ("login", "operator_login") and reply.outcome == "ok":
            try:
                return Reply("ok", token=str(json.loads(body)["token"]))
            except (ValueError, KeyError, TypeError):
                return protocol_error(call, status, body, "a sign-in answer without a token")
        if call.intent == "replay":  # contract v1 marks the stored answer of a replay
            return Reply(reply.outcome, replayed=reply.replayed is True)
        return reply

    # ---- orchestration ---------------------------------------------------------------------
    def _admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def health(self, client: httpx.Client) -> None:
        try:
            resp = client.get("/healthz")
        except httpx.TransportError as exc:
            raise TargetUnreachable(f"nothing answers at {self.base_url} ({exc})") from exc
        expect_json(resp, f"GET {self.base_url}/healthz")

    def provision(self, client: httpx.Client, roster: Mapping[str, Any]) -> None:
        resp = client.post("/v1/admin/provision", json=roster, headers=self._admin())
        expect_json(resp, "provisioning (POST /v1/admin/provision)")

    def reset(self, client: httpx.Client) -> None:
        resp = client.post("/v1/admin/reset", headers=self._admin())
        expect_json(resp, "reset (POST /v1/admin/reset)")

    def published(self, client: httpx.Client) -> dict[str, Any]:
        results = self.published_since(client, None)[1]
        if results is None:  # pragma: no cover - without a tag results are always fetched
            raise TargetProtocolError("GET /v1/results: no results")
        return results

    def published_since(self, client: httpx.Client,
                        tag: str | None) -> tuple[str | None, dict[str, Any] | None]:
        return self._read(client, tag, zero_rows=False)

    def zero_state(self, client: httpx.Client) -> dict[str, Any]:
        results = self._read(client, None, zero_rows=True)[1]
        if results is None:  # pragma: no cover - without a tag results are always fetched
            raise TargetProtocolError("GET /v1/results: no results")
        return results

    def _read(self, client: httpx.Client, tag: str | None,
              zero_rows: bool) -> tuple[str | None, dict[str, Any] | None]:
        """The summary and the precinct list of one state of the feed. A write between the
        two requests tears the pair (totals of one state, precincts of another). When both
        carry the feed's ``version``, the summary is read again after a precinct list of
        another version, and the list again after that; without versions, the summary is
        read again after every list, and the pair is whole when the two summaries agree
        (nothing was published meanwhile). Up to :data:`TORN_READS` lists; a pair still
        torn records ``precincts_version``: the list's version, None without versions."""
        resp = client.get("/v1/results", headers={"If-None-Match": tag} if tag else {})
        if tag is not None and resp.status_code == 304:
            return tag, None
        out = _totals(expect_json(resp, "GET /v1/results"))
        whole = False
        for _ in range(TORN_READS):
            detail_resp = client.get("/v1/results/precincts")
            expect_ok(detail_resp, "GET /v1/results/precincts")
            try:
                detail, repeated = loads_counting_duplicates(detail_resp.content)
            except ValueError as exc:
                raise TargetProtocolError("GET /v1/results/precincts: answer is not JSON") \
                    from exc
            versioned = _versioned(out, detail)
            if not isinstance(detail, Mapping) or (
                    versioned and out["version"] == detail["version"]):
                whole = True  # (not a precinct list at all: reading it says so)
                break
            resp = client.get("/v1/results")  # the state after the list: the same one?
            before, out = out, _totals(expect_json(resp, "GET /v1/results"))
            if (out.get("version") == detail["version"]) if versioned else out == before:
                whole = True
                break
        markers = ("channel", "version", "revision")  # kept when published (the replay's)
        rows = {pid: {**{k: p.get(k) for k in DATA_FIELDS}, **{k: p[k] for k in markers if k in p}}
                for pid, p in detail["precincts"].items()}
        out["precincts"] = precincts = {
            pid: row for pid, row in rows.items()
            if detail["precincts"][pid].get("reporting", True)}  # not the zero rows
        if not whole:
            out["precincts_version"] = detail.get("version")
        if zero_rows and any("reporting" in p for p in detail["precincts"].values()):
            # a target that marks reporting lists its zero rows (one that does not, as
            # before contract v1 had them, cannot show whether every unit is listed)
            out["unreported"] = {pid: row for pid, row in rows.items() if pid not in precincts}
        duplicates = {pid: n for pid, n in repeated.items() if pid in precincts}
        if duplicates:
            out["duplicates"] = duplicates
        return resp.headers.get("etag"), out

    def set_faults(self, client: httpx.Client, faults: Sequence[str]) -> None:
        resp = client.put("/v1/admin/faults", json={"faults": list(faults)},
                          headers=self._admin())
        expect_json(resp, f"switching faults {list(faults)}")

    def audit(self, client: httpx.Client) -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = []
        after = 0
        while True:
            resp = client.get("/v1/admin/audit", params={"after": after, "limit": 5000},
                              headers=self._admin())
            page = expect_json(resp, "GET /v1/admin/audit")
            items.extend(page["items"])
            if page.get("next_after") is None:
                return items
            if not page["items"] or int(page["next_after"]) <= after:
                raise TargetProtocolError(
                    f"GET /v1/admin/audit: next_after {page['next_after']!r} after {after} "
                    f"with {len(page['items'])} items: the pages do not advance")
            after = int(page["next_after"])


def _totals(summary: Any) -> dict[str, Any]:
    """The normalised results' totals and version markers from a ``GET /v1/results``."""
    out: dict[str, Any] = {k: summary[k] for k in ("precincts_total", "precincts_reporting",
                                                   "statewide")}
    out.update({k: summary[k] for k in ("version", "published_at", "winner") if k in summary})
    return out


def _versioned(summary: Mapping[str, Any], detail: object) -> bool:
    """Whether the summary and the precinct list both carry the feed's version."""
    return isinstance(detail, Mapping) and summary.get("version") is not None \
        and detail.get("version") is not None


def feed_version(etag: str | None) -> int | None:
    """The feed version in a contract v1 ETag (``"<db_id>-<version>"``, with the suffix
    ``-gzip`` on a gzip-encoded body: docs/contract.md), or None."""
    if not etag:
        return None
    core = etag.strip().removeprefix("W/").strip('"').removesuffix("-gzip")
    tail = core.rpartition("-")[2]
    return int(tail) if tail.isdigit() else None
