"""A small results server of a *different* API shape than contract v1 ("Tally Exchange").

It exists to prove the adapter seam (``vendor_adapter.py``) in a test: sessions instead
of bearer tokens, a draft that the app fills step by step and one submit, rows of
counts per candidate instead of maps, and a public feed of reported precincts.
Standard library only; state in memory. Run ``python examples/tally_exchange_server.py
--port 0 --admin-key K``: it prints ``listening on http://127.0.0.1:PORT`` and serves
until SIGTERM.

    GET  /api/ping                          -> {"ok": true}
    POST /api/admin/load   (X-Admin-Key)    {"election", "candidates", "units": [{"code", "pin"}],
                                             "staff": [{"user", "secret"}]}
    POST /api/session                       {"precinct": code, "code": pin} -> {"session"}
    PUT  /api/precincts/{code}/draft        (X-Session) {"attendees"} or {"rows": [...]}
    POST /api/precincts/{code}/submit       (X-Session) {"rows": [{"candidate", "first",
                                             "final", "delegates"}]} -> 201 {"receipt"}
    POST /api/precincts/{code}/attachment   (X-Session) {"jpeg_b64"}
    POST /api/staff/session                 {"user", "secret"} -> {"session"}
    POST /api/staff/entries                 (X-Session) {"precinct", "attendees", "rows"}
    GET  /api/feed                          -> {"total", "reported": [{"precinct", "attendees",
                                             "rows"}]}
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class State:
    """The exchange's data, guarded by one lock."""

    def __init__(self, admin_key: str) -> None:
        self.admin_key = admin_key
        self.lock = threading.Lock()
        self.candidates: list[str] = []
        self.pins: dict[str, str] = {}
        self.staff: dict[str, str] = {}
        self.sessions: dict[str, str] = {}  # session -> precinct code or "staff:<user>"
        self.drafts: dict[str, dict[str, Any]] = {}
        self.reported: dict[str, dict[str, Any]] = {}


def _rows_ok(rows: Any, candidates: list[str]) -> bool:
    if not isinstance(rows, list):
        return False
    for r in rows:
        if not isinstance(r, dict) or r.get("candidate") not in candidates:
            return False
        for k in ("first", "final", "delegates"):
            v = r.get(k, 0)
            if type(v) is not int or v < 0:
                return False
    return True


class Handler(BaseHTTPRequestHandler):
    """One request; answers JSON ``{"message": ...}`` on errors."""

    state: State
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, a keep-alive
    # client waits ~40 ms for the second (delayed ACK) on every request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, doc: Any) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(n) or b"null")
        except ValueError:
            return None

    def do_GET(self) -> None:
        st = self.state
        if self.path == "/api/ping":
            return self._send(200, {"ok": True})
        if self.path == "/api/feed":
            with st.lock:
                doc = {"total": len(st.pins), "reported": [
                    {"precinct": k, **v} for k, v in sorted(st.reported.items())]}
            return self._send(200, doc)
        return self._send(404, {"message": "no such page"})

    def do_PUT(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        st = self.state
        body = self._body()
        parts = self.path.strip("/").split("/")
        if not isinstance(body, dict):
            return self._send(400, {"message": "body must be a JSON object"})
        with st.lock:
            if self.path == "/api/admin/load":
                if self.headers.get("X-Admin-Key") != st.admin_key:
                    return self._send(403, {"message": "admin key"})
                st.candidates = list(body["candidates"])
                st.pins = {u["code"]: u["pin"] for u in body["units"]}
                st.staff = {s["user"]: s["secret"] for s in body["staff"]}
                st.sessions.clear(), st.drafts.clear(), st.reported.clear()
                return self._send(200, {"units": len(st.pins)})
            if self.path == "/api/session":
                code = body.get("precinct")
                if code not in st.pins or st.pins[code] != body.get("code"):
                    return self._send(403, {"message": "wrong precinct or code"})
                session = secrets.token_hex(12)
                st.sessions[session] = code
                return self._send(200, {"session": session})
            if self.path == "/api/staff/session":
                if st.staff.get(body.get("user", "")) != body.get("secret"):
                    return self._send(403, {"message": "wrong user or secret"})
                session = secrets.token_hex(12)
                st.sessions[session] = "staff:" + body["user"]
                return self._send(200, {"session": session})
            who = st.sessions.get(self.headers.get("X-Session", ""))
            if who is None:
                return self._send(401, {"message": "no session"})
            if self.path == "/api/staff/entries":
                code = body.get("precinct")
                if not who.startswith("staff:") or code not in st.pins:
                    return self._send(403, {"message": "not allowed"})
                if type(body.get("attendees")) is not int or not _rows_ok(body.get("rows"),
                                                                         st.candidates):
                    return self._send(422, {"message": "bad entry"})
                st.reported[code] = {"attendees": body["attendees"], "rows": body["rows"]}
                return self._send(201, {"receipt": secrets.token_hex(6)})
            if len(parts) != 4 or parts[:2] != ["api", "precincts"] or parts[2] != who:
                return self._send(403, {"message": "not your precinct"})
            code, action = parts[2], parts[3]
            draft = st.drafts.setdefault(code, {})
            if action == "draft":
                if "attendees" in body and type(body["attendees"]) is int:
                    draft["attendees"] = body["attendees"]
                elif "rows" in body and _rows_ok(body["rows"], st.candidates):
                    draft["rows"] = body["rows"]
                else:
                    return self._send(422, {"message": "bad draft"})
                return self._send(200, {"draft": draft})
            if action == "submit":
                if "attendees" not in draft or not _rows_ok(body.get("rows"), st.candidates):
                    return self._send(409 if "attendees" not in draft else 422,
                                      {"message": "draft incomplete or rows invalid"})
                st.reported[code] = {"attendees": draft["attendees"], "rows": body["rows"]}
                return self._send(201, {"receipt": secrets.token_hex(6)})
            if action == "attachment":
                return self._send(201, {"stored": bool(body.get("jpeg_b64"))})
        return self._send(404, {"message": "no such action"})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--admin-key", required=True)
    args = p.parse_args(argv)
    Handler.state = State(args.admin_key)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
