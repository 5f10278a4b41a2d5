"""An example target adapter for an API of a different shape: the "Tally Exchange"
(``tally_exchange_server.py``). Use it as a template for a vendor's own (docs/adapters.md)::

    rehearse run smoke --target http://127.0.0.1:PORT --admin-token KEY \\
        --adapter examples.vendor_adapter:TallyExchangeAdapter

What differs from contract v1, and how the adapter bridges it:

- sessions in an ``X-Session`` header instead of bearer tokens; a wrong PIN is a 403
  (the adapter reports it as ``unauthorized``, as the chair experiences it);
- the app fills a *draft* (attendance, then the first alignment) and submits once: the
  rehearsal's ``final`` step is the submit, with rows per candidate instead of maps;
- the photo is base64 JSON; the public feed lists reported precincts as rows, which
  :meth:`published` normalises to the run directory's shape; it publishes no SDE and no
  totals, and says so (``publishes``), so the report checks the rest and lists those as
  not checked;
- provisioning is ``POST /api/admin/load`` with an ``X-Admin-Key``; there are no faults
  to switch and no audit trail (so the report has no arrival lag for this target).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import httpx

from caucus_rehearsal.errors import TargetUnreachable
from caucus_rehearsal.rehearsal.adapters.base import (
    HttpCall,
    Reply,
    TargetAdapter,
    expect_json,
    protocol_error,
)
from caucus_rehearsal.rehearsal.photo import worksheet_jpeg


class TallyExchangeAdapter(TargetAdapter):
    """The Tally Exchange API (see the module docstring)."""

    name = "tally-exchange"
    publishes = frozenset({"attendance", "first", "final", "delegates"})

    def _rows(self, tally: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"candidate": c, "first": tally["first"][c], "final": tally["final"][c],
                 "delegates": tally["delegates"][c]} for c in self.candidates]

    def chair_login(self, unit_id: str, pin: str) -> HttpCall:
        return HttpCall("login", "POST", "/api/session", "/api/session",
                        json={"precinct": unit_id, "code": pin})

    def chair_step(self, step: str, unit_id: str, token: str, tally: Mapping[str, Any],
                   key: str) -> HttpCall:
        headers = {"X-Session": token}
        base = f"/api/precincts/{unit_id}"
        if step == "attendance":
            return HttpCall(step, "PUT", base + "/draft", "/api/precincts/[code]/draft",
                            json={"attendees": tally["attendance"]}, headers=headers)
        if step == "first":
            rows = [{"candidate": c, "first": tally["first"][c]} for c in self.candidates]
            return HttpCall(step, "PUT", base + "/draft", "/api/precincts/[code]/draft",
                            json={"rows": rows}, headers=headers)
        if step == "final":
            return HttpCall(step, "POST", base + "/submit", "/api/precincts/[code]/submit",
                            json={"rows": self._rows(tally)}, headers=headers)
        photo = base64.b64encode(worksheet_jpeg(unit_id)).decode()
        return HttpCall(step, "POST", base + "/attachment", "/api/precincts/[code]/attachment",
                        json={"jpeg_b64": photo}, headers=headers)

    def operator_login(self, operator_id: str, password: str) -> HttpCall:
        return HttpCall("operator_login", "POST", "/api/staff/session", "/api/staff/session",
                        json={"user": operator_id, "secret": password})

    def operator_report(self, unit_id: str, token: str, tally: Mapping[str, Any],
                        key: str) -> HttpCall:
        return HttpCall("report", "POST", "/api/staff/entries", "/api/staff/entries",
                        json={"precinct": unit_id, "attendees": tally["attendance"],
                              "rows": self._rows(tally)}, headers={"X-Session": token})

    def results_call(self, etag: str | None = None) -> HttpCall:
        return HttpCall("results", "GET", "/api/feed", "/api/feed")

    def interpret(self, call: HttpCall, status: int, headers: Mapping[str, str],
                  body: bytes) -> Reply:
        # call.step is the request (an attack keeps its builder's step; call.intent says
        # "bad_pin", "replay"...): read every answer as what it is.
        if call.step in ("login", "operator_login") and status == 403:
            return Reply("unauthorized", detail="403 wrong precinct or code")
        reply = super().interpret(call, status, headers, body)
        if reply.outcome == "ok" and call.step in ("login", "operator_login"):
            try:
                return Reply("ok", token=str(json.loads(body)["session"]))
            except (ValueError, KeyError, TypeError):
                return protocol_error(call, status, body, "a sign-in answer without a session")
        return reply

    def health(self, client: httpx.Client) -> None:
        try:
            expect_json(client.get("/api/ping"), "GET /api/ping")
        except httpx.TransportError as exc:
            raise TargetUnreachable(f"nothing answers at {self.base_url} ({exc})") from exc

    def provision(self, client: httpx.Client, roster: Mapping[str, Any]) -> None:
        body = {"election": roster["election"], "candidates": roster["candidates"],
                "units": [{"code": p["id"], "pin": p["pin"]} for p in roster["precincts"]],
                "staff": [{"user": o["id"], "secret": o["password"]}
                          for o in roster["operators"]]}
        expect_json(client.post("/api/admin/load", json=body,
                                headers={"X-Admin-Key": self.admin_token}), "loading the roster")

    def published(self, client: httpx.Client) -> dict[str, Any]:
        feed = expect_json(client.get("/api/feed"), "GET /api/feed")
        precincts: dict[str, Any] = {}
        duplicates: dict[str, int] = {}
        for p in feed["reported"]:
            if p["precinct"] in precincts:
                duplicates[p["precinct"]] = duplicates.get(p["precinct"], 1) + 1
            rows = {r["candidate"]: r for r in p["rows"]}
            precincts[p["precinct"]] = {"attendance": p["attendees"], **{
                k: {c: int(rows.get(c, {}).get(k, 0)) for c in self.candidates}
                for k in ("first", "final", "delegates")}}
        out = {"precincts_total": feed["total"], "precincts_reporting": len(precincts),
               "precincts": precincts}
        if duplicates:
            out["duplicates"] = duplicates
        return out
