"""A small contract-v1 results server that misbehaves on purpose, for the hostile-target
tests (tests/test_hostile_targets.py). Standard library and ``caucus_rehearsal.rules``
only; state in memory; no validation of the numbers, no idempotency, no lockout (but
in ``lock-per-precinct``).

    python tests/support/hostile_target.py --port 0 --admin-token K --mode MODE

prints ``listening on http://127.0.0.1:PORT`` and serves until SIGTERM. Modes:

- ``honest``: the contract's shapes, right totals, SDE by the rules;
- ``inflate``: the statewide final total of the first candidate is 500 too high;
- ``phantom``: the results also list ``IA-9999``, a copy of the first published precinct;
- ``no-sde``: no SDE anywhere (precincts nor statewide);
- ``cross-precinct``: a chair's session may write any precinct (last write wins);
- ``wrong-shape``: ``GET /v1/results/precincts`` answers ``[]``;
- ``login-shape``: a chair's sign-in answers ``200 {}`` (no token);
- ``endless-audit``: the audit trail always has a next page;
- ``lock-per-precinct``: the 5th wrong PIN in a row at a precinct, from anyone, locks
  the precinct for 60 s (``429``, even for the right PIN): a guesser locks the real chair
  out (the lockout keyed on the precinct alone, whatever ``X-Forwarded-For`` says).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from caucus_rehearsal import rules

MODES = ("honest", "inflate", "phantom", "no-sde", "cross-precinct", "wrong-shape",
         "login-shape", "endless-audit", "lock-per-precinct")
STEPS = {"attendance": "attendance", "first-alignment": "first",
         "final-alignment": "final", "worksheet": "worksheet"}
WRITE = re.compile(r"^/v1/precincts/([^/]+)/([a-z-]+)$")
REPORT = re.compile(r"^/v1/hotline/precincts/([^/]+)/report$")


class State:
    """The roster, the sessions and the latest data of each precinct, behind one lock."""

    def __init__(self, admin_token: str, mode: str) -> None:
        self.admin_token = admin_token
        self.mode = mode
        self.lock = threading.Lock()
        self.roster: dict[str, Any] = {"candidates": [], "counties": [], "precincts": []}
        self.sessions: dict[str, str] = {}  # token -> precinct id or "operator:<id>"
        self.data: dict[str, dict[str, Any]] = {}
        self.audit: list[dict[str, Any]] = []
        self.wrong: dict[str, int] = {}  # precinct -> wrong PINs in a row
        self.locked: dict[str, float] = {}  # precinct -> locked until (epoch seconds)

    def published(self) -> dict[str, dict[str, Any]]:
        """Every precinct with a final alignment, with its SDE (contract v1 shape)."""
        cands = self.roster["candidates"]
        counties = {c["name"]: c for c in self.roster["counties"]}
        units = {p["id"]: p for p in self.roster["precincts"]}
        done = {pid: d for pid, d in self.data.items() if "final" in d and "delegates" in d}
        out: dict[str, dict[str, Any]] = {}
        for pid, d in done.items():
            unit, county = units[pid], counties[units[pid]["county"]]
            won = [int(d["delegates"].get(c, 0)) for c in cands]
            if unit["satellite"]:
                group = [q for q in done if units[q]["satellite"]
                         and units[q]["county"] == unit["county"]]
                shares = rules.satellite_sde(county["state_delegates"],
                                             [int(done[q].get("attendance", 0)) for q in group])
                share, total = shares[group.index(pid)], sum(won)
                sde = [round(share * x / total, 4) if total else 0.0 for x in won]
            else:
                ratio = county["state_delegates"] / county["county_delegates"] \
                    if county["county_delegates"] else 0.0
                sde = list(rules.sde(won, ratio))
            out[pid] = {"county": unit["county"], "name": unit["name"],
                        "satellite": unit["satellite"], "channel": d["channel"], "version": 1,
                        "attendance": d.get("attendance", 0),
                        "first": {c: d.get("first", {}).get(c, 0) for c in cands},
                        "final": {c: d["final"].get(c, 0) for c in cands},
                        "delegates": dict(zip(cands, won, strict=True)),
                        "sde": dict(zip(cands, sde, strict=True))}
            if self.mode == "no-sde":
                del out[pid]["sde"]
        if self.mode == "phantom" and out:
            out["IA-9999"] = dict(next(iter(out.values())))
        return out

    def summary(self) -> dict[str, Any]:
        cands = self.roster["candidates"]
        shown = self.published()
        statewide: dict[str, Any] = {
            k: {c: sum(p[k][c] for p in shown.values()) for c in cands}
            for k in ("first", "final")}
        if self.mode != "no-sde":
            statewide["sde"] = {c: round(sum(p["sde"][c] for p in shown.values()), 4)
                                for c in cands}
        if self.mode == "inflate" and cands:
            statewide["final"][cands[0]] += 500
        total = len(self.roster["precincts"])
        return {"election": self.roster.get("election", ""), "candidates": cands,
                "precincts_total": total, "precincts_reporting": len(shown),
                "percent_reporting": round(100 * len(shown) / total, 2) if total else 0.0,
                "statewide": statewide}


class Handler(BaseHTTPRequestHandler):
    """One request of contract v1 (the subset a rehearsal uses)."""

    state: State
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, doc: Any) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str) -> None:
        self._send(status, {"error": {"code": code, "detail": code}})

    def _body(self) -> tuple[bytes, Any]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return raw, json.loads(raw)
        except ValueError:
            return raw, None

    def _bearer(self) -> str:
        return (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()

    def do_GET(self) -> None:
        st = self.state
        path, _, query = self.path.partition("?")
        with st.lock:
            if path == "/healthz":
                self._send(200, {"status": "ok", "provisioned": bool(st.roster["precincts"]),
                                 "precincts": len(st.roster["precincts"])})
            elif path == "/v1/results":
                self._send(200, st.summary())
            elif path == "/v1/results/precincts":
                self._send(200, [] if st.mode == "wrong-shape" else
                           {"precincts": st.published()})
            elif path == "/v1/admin/audit":
                if self._bearer() != st.admin_token:
                    self._error(401, "unauthorized")
                    return
                after = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                            .get("after", "0"))
                if st.mode == "endless-audit":
                    self._send(200, {"items": [{"seq": after + 1, "request_id": None,
                                                "received_at": time.time()}],
                                     "next_after": after + 1})
                else:
                    self._send(200, {"items": st.audit, "next_after": None})
            else:
                self._error(404, "not_found")

    def do_POST(self) -> None:
        st = self.state
        raw, body = self._body()
        with st.lock:
            self._post(st, raw, body)

    def _post(self, st: State, raw: bytes, body: Any) -> None:
        path = self.path
        if path == "/v1/admin/provision":
            if self._bearer() != st.admin_token:
                self._error(401, "unauthorized")
                return
            st.roster, st.sessions, st.data, st.audit = body, {}, {}, []
            self._send(200, {"precincts": len(body["precincts"]),
                             "operators": len(body["operators"]),
                             "candidates": len(body["candidates"])})
            return
        if path == "/v1/auth/chair":
            pins = {p["id"]: p["pin"] for p in st.roster["precincts"]}
            pid = str(body.get("precinct_id")) if isinstance(body, dict) else ""
            if st.mode == "lock-per-precinct" and st.locked.get(pid, 0.0) > time.time():
                self._error(429, "locked_out")
                return
            if not isinstance(body, dict) or pins.get(body.get("precinct_id")) != \
                    body.get("pin"):
                st.wrong[pid] = st.wrong.get(pid, 0) + 1
                if st.wrong[pid] >= 5:
                    st.wrong[pid], st.locked[pid] = 0, time.time() + 60.0
                self._error(401, "bad_credentials")
                return
            st.wrong[pid] = 0
            token = secrets.token_hex(8)
            st.sessions[token] = body["precinct_id"]
            self._send(200, {} if st.mode == "login-shape" else
                       {"token": token, "precinct_id": body["precinct_id"]})
            return
        if path == "/v1/auth/operator":
            pws = {o["id"]: o["password"] for o in st.roster["operators"]}
            if not isinstance(body, dict) or pws.get(body.get("operator_id")) != \
                    body.get("password"):
                self._error(401, "bad_credentials")
                return
            token = secrets.token_hex(8)
            st.sessions[token] = "operator:" + body["operator_id"]
            self._send(200, {"token": token, "operator_id": body["operator_id"]})
            return
        who = st.sessions.get(self._bearer())
        st.audit.append({"seq": len(st.audit) + 1, "received_at": time.time(),
                         "request_id": self.headers.get("X-Request-Id"), "path": path})
        m, r = WRITE.match(path), REPORT.match(path)
        if who is None or not (m or r):
            self._error(401 if who is None else 404, "unauthorized")
            return
        pid = (m or r).group(1)  # type: ignore[union-attr]
        if m:
            step = STEPS.get(m.group(2))
            allowed = who == pid or (st.mode == "cross-precinct"
                                     and not who.startswith("operator:"))
            if step is None or not allowed:
                self._error(403, "forbidden")
                return
            d = st.data.setdefault(pid, {"channel": "app"})
            if step != "worksheet":
                d.update({k: v for k, v in (body or {}).items()
                          if k in ("attendance", "first", "final", "delegates")})
        else:
            if not who.startswith("operator:"):
                self._error(403, "forbidden")
                return
            st.data[pid] = {"channel": "hotline", **(body or {})}
        self._send(201, {"precinct_id": pid, "version": 1, "published": True,
                         "received_at": time.time()})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--mode", choices=MODES, default="honest")
    args = ap.parse_args()
    Handler.state = State(args.admin_token, args.mode)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
