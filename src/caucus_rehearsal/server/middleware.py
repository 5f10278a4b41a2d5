"""The outermost layer (plain ASGI, cheap): arrival time, body limits, request faults.

``received_at`` (epoch seconds) is taken first thing, before any queueing or injected
delay, and left in ``scope["state"]`` for the audit trail. Request bodies are read here
up to a per-route limit, so an oversized body is a 413 before anything parses it.
Faults (outage, shared-capacity, capacity, latency, errors) act on every path except
health, docs and admin, in that order: an outage refuses at once; a turn of the shared
work budget is waited for (or the request fails when it would come too late); a capacity
slot is waited for; the injected delay is spent holding the slot (a slow server also
queues); an injected error fails the request before any handler runs, so nothing is
stored.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from caucus_rehearsal.server.faults import READ_COST, WRITE_COST, FaultState

JSON_LIMIT = 64 * 1024
"""Largest JSON body of a data write or sign-in, bytes."""
PHOTO_LIMIT = 2 * 1024 * 1024
"""Largest worksheet photo, bytes."""
ADMIN_LIMIT = 32 * 1024 * 1024
"""Largest admin body (a whole roster), bytes."""

_EXEMPT_PREFIXES = ("/v1/admin", "/healthz", "/openapi.json", "/docs", "/redoc")

Scope = dict[str, Any]
Message = dict[str, Any]


def body_limit(path: str) -> int:
    """The body size limit of ``path`` in bytes."""
    if path.startswith("/v1/admin"):
        return ADMIN_LIMIT
    if path.endswith("/worksheet"):
        return PHOTO_LIMIT
    return JSON_LIMIT


async def _send_error(send: Any, status: int, code: str, detail: str,
                      headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": {"code": code, "detail": detail}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class Gate:
    """ASGI middleware applying arrival time, body limits and the request faults."""

    def __init__(self, app: Any, faults: FaultState) -> None:
        self.app = app
        self.faults = faults
        self._slots: tuple[int, asyncio.Semaphore] | None = None

    def _semaphore(self, n: int) -> asyncio.Semaphore:
        if self._slots is None or self._slots[0] != n:
            self._slots = (n, asyncio.Semaphore(n))
        return self._slots[1]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["received_at"] = time.time()
        if scope["method"] in ("POST", "PUT"):
            receive = await self._buffer(scope, receive, send)
            if receive is None:
                return
        path: str = scope["path"]
        if not self.faults.any_request_fault or path.startswith(_EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        f = self.faults
        if f.get("outage") is not None:
            await _send_error(send, 503, "outage", "service unavailable (injected outage)",
                              [(b"retry-after", b"30")])
            return
        shared = f.budget()
        if shared is not None:
            fault, budget = shared
            cost = READ_COST if scope["method"] in ("GET", "HEAD") else WRITE_COST
            wait = budget.reserve(cost, f.clock(), fault.timeout_s)
            if wait is None:
                await asyncio.sleep(fault.timeout_s)
                await _send_error(send, 503, "overloaded",
                                  "the server is overloaded (injected shared-capacity)",
                                  [(b"retry-after", b"5")])
                return
            if wait > 0:
                await asyncio.sleep(wait)
        cap = f.get("capacity")
        sem = self._semaphore(cap.n) if cap is not None else None
        if sem is not None and cap is not None:
            try:
                await asyncio.wait_for(sem.acquire(), cap.timeout_s)
            except TimeoutError:
                await _send_error(send, 503, "capacity_timeout",
                                  f"no capacity within {cap.timeout_s:g} s (injected capacity)")
                return
        try:
            delay = f.delay()
            if delay > 0:
                await asyncio.sleep(delay)
            if f.chance("errors"):
                await _send_error(send, 500, "injected_error", "internal error (injected errors)")
                return
            await self.app(scope, receive, send)
        finally:
            if sem is not None:
                sem.release()

    async def _buffer(self, scope: Scope, receive: Any, send: Any) -> Any:
        """Read the whole body within its limit; a replaying ``receive``, or None after
        answering 413."""
        limit = body_limit(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    await _send_error(send, 413, "body_too_large",
                                      f"body over the limit of {limit} bytes")
                    return None
                break
        chunks: list[bytes] = []
        size = 0
        while True:
            msg: Message = await receive()
            if msg["type"] == "http.disconnect":
                return None
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_error(send, 413, "body_too_large",
                                  f"body over the limit of {limit} bytes")
                return None
            chunks.append(chunk)
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            msg: Message = await receive()
            return msg

        return replay
