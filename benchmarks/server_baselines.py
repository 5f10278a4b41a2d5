"""Baseline FastAPI apps for bench_server.py, run with the same uvicorn settings.

``insert``: one SQLite insert (WAL, synchronous=NORMAL, as the server) and commit per
request. ``const``: returns a constant JSON (the same document as ``GET /v1/results``).
``tiny``: returns ``{"ok": true}``. Deliberately ordinary: an ``async`` endpoint (no
threadpool hop), CPython's default GC, one transaction per request; the server's group
commit and GC settings are its own work, not given to the baseline.

Run: ``python benchmarks/server_baselines.py insert|const|tiny --fd N --db PATH --body F``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sqlite3
from typing import Any

import uvicorn
from fastapi import FastAPI, Request


def insert_app(db: str) -> FastAPI:
    conn = sqlite3.connect(db, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
    app = FastAPI()

    @app.post("/insert")
    async def insert(request: Request) -> dict[str, Any]:
        conn.execute("INSERT INTO t (body) VALUES (?)", ((await request.body()).decode(),))
        conn.commit()
        return {"ok": True}

    return app


def const_app(doc: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.get("/const")
    async def const() -> dict[str, Any]:
        return doc

    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=("insert", "const", "tiny"))
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--db", default=":memory:")
    p.add_argument("--body", default=None, help="JSON file: the constant document")
    a = p.parse_args()
    if a.kind == "insert":
        app = insert_app(a.db)
    elif a.kind == "const":
        with open(a.body) as f:
            app = const_app(json.load(f))
    else:
        app = const_app({"ok": True})
    config = uvicorn.Config(app, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[socket.socket(fileno=a.fd)])


if __name__ == "__main__":
    main()
