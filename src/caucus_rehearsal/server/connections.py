"""Connection limits under uvicorn: header and body read timeouts, and a bound on open
connections that sheds the stalled ones first (slowloris).

uvicorn closes an *idle* keep-alive connection after ``timeout_keep_alive``, but a
connection that sends nothing at all, or a few header bytes, or half a body, stays open
for ever; enough of them exhaust the process's file descriptors and every new client is
refused. :func:`guarded_protocol` makes a subclass of uvicorn's httptools protocol that:

- gives a request ``header_timeout_s`` from the moment the server waits for it (the
  connection is opened, or the previous response completed) until its headers are
  complete, and ``body_timeout_s`` from then until its body is complete; on expiry the
  client gets ``408 request_timeout`` (when it had sent part of a request and no response
  has started) and the connection is closed; a handler still waiting for the body sees a
  disconnect;
- admits at most ``max_connections`` connections: a new one beyond that makes room by
  closing the connection that has waited longest on its client (reading headers or a
  body, or idle between requests); when every connection is busy in a handler the new one
  gets ``503 too_many_connections`` and is closed.

The default bound leaves ``FD_RESERVE`` descriptors of the soft ``RLIMIT_NOFILE`` for the
database, logs and the listening socket. The timeouts are enforced by one sweep of the
open connections per ``sweep_s`` (a second at most), not by a timer per request: a
request then costs two attribute writes, and a timeout is late by at most ``sweep_s``.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
from dataclasses import dataclass
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FD_RESERVE = 64
"""File descriptors kept free of client connections (database, WAL, logs, listener)."""
HEADER_TIMEOUT_S = 10.0
"""Default time a client has to send a request's headers, seconds."""
BODY_TIMEOUT_S = 30.0
"""Default time a client has to send a request's body (a 2 MiB photo at ~70 KB/s)."""
MAX_CONNECTIONS_CAP = 65_536
"""The default bound never exceeds this, whatever the file limit."""


def default_max_connections() -> int:
    """The soft file-descriptor limit less ``FD_RESERVE`` (at least 16)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft > MAX_CONNECTIONS_CAP:
        soft = MAX_CONNECTIONS_CAP
    return max(16, soft - FD_RESERVE)


@dataclass(frozen=True, slots=True)
class Limits:
    """Read timeouts in seconds and the bound on open connections."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    max_connections: int = 0
    """0: :func:`default_max_connections` at start."""

    def __post_init__(self) -> None:
        if not all(0 < t < math.inf for t in (self.header_timeout_s, self.body_timeout_s)):
            raise ValueError(f"read timeouts (header {self.header_timeout_s!r} s, body "
                             f"{self.body_timeout_s!r} s) must be finite and > 0")
        if self.max_connections < 0:
            raise ValueError(f"max_connections(={self.max_connections}) must be >= 0")


def _raw_response(status: bytes, code: str, detail: str, extra: bytes = b"") -> bytes:
    body = json.dumps({"error": {"code": code, "detail": detail}}).encode()
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n"
            + extra + b"\r\n" + body)


_TIMEOUT = _raw_response(b"408 Request Timeout", "request_timeout",
                         "the request did not arrive in time")
_FULL = _raw_response(b"503 Service Unavailable", "too_many_connections",
                      "too many open connections; retry", b"retry-after: 1\r\n")

WAITING = ("header", "body")
"""Phases in which a connection waits on its client (and may be shed)."""


class Guard:
    """The open connections of one server, for admission, shedding and timeouts."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.max_connections = limits.max_connections or default_max_connections()
        self.open: dict[GuardedProtocol, None] = {}
        self.shed = 0
        """Connections closed to make room for a new one."""
        self.refused = 0
        """New connections refused because every open one was busy."""
        self.sweep_s = min(1.0, limits.header_timeout_s / 4, limits.body_timeout_s / 4)
        """Seconds between two sweeps for expired reads."""
        self._sweeping: asyncio.TimerHandle | None = None

    def sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Expire every connection whose read has taken too long; sweep again later."""
        now = loop.time()
        header, body = self.limits.header_timeout_s, self.limits.body_timeout_s
        late = [c for c in self.open
                if (c.phase == "header" and now - c.since >= header)
                or (c.phase == "body" and now - c.since >= body)]
        for c in late:
            c.expire()
        self._sweeping = loop.call_later(self.sweep_s, self.sweep, loop) if self.open else None

    def admit(self, conn: GuardedProtocol) -> bool:
        """Register ``conn``, closing the longest-waiting one if the bound is reached;
        False when there is no room (every open connection is in a handler)."""
        if len(self.open) >= self.max_connections:
            victim = min((c for c in self.open if c.phase in WAITING),
                         key=lambda c: c.since, default=None)
            if victim is None:
                self.refused += 1
                return False
            self.shed += 1
            victim.expire()
            self.open.pop(victim, None)
        self.open[conn] = None
        if self._sweeping is None:
            self._sweeping = conn.loop.call_later(self.sweep_s, self.sweep, conn.loop)
        return True

    def forget(self, conn: GuardedProtocol) -> None:
        """``conn`` is closed."""
        self.open.pop(conn, None)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with read timeouts and admission (module docstring)."""

    guard: ClassVar[Guard]
    phase: str = "header"
    """``header`` (waiting for a request), ``body`` (reading one) or ``app`` (handling)."""
    since: float = 0.0
    """Loop time the current phase began."""
    _partial = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.since = self.loop.time()
        if not self.guard.admit(self):
            transport.write(_FULL)
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.phase = "closed"
        self.guard.forget(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._partial = True
        super().data_received(data)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.phase, self.since = "body", self.loop.time()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self.cycle is not None and not self.cycle.response_complete:
            self.phase = "app"

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._partial = False
            self.phase, self.since = "header", self.loop.time()

    def expire(self) -> None:
        """The client took too long (or the connection is shed): answer 408 when part of
        a request came and no response has started, then close."""
        phase, self.phase = self.phase, "closed"
        if self.transport.is_closing():
            return
        cycle = self.cycle
        in_request = phase == "body" and cycle is not None and not cycle.response_complete
        if in_request and cycle is not None:
            cycle.disconnected = True  # the handler's receive() sees a disconnect
            cycle.message_event.set()
        if (in_request and cycle is not None and not cycle.response_started) or (
                phase == "header" and self._partial):
            self.transport.write(_TIMEOUT)
        self.transport.close()


def guarded_protocol(limits: Limits) -> tuple[type[GuardedProtocol], Guard]:
    """A protocol class for ``uvicorn.Config(http=...)`` sharing one new :class:`Guard`."""
    guard = Guard(limits)
    cls = type("GuardedHttpProtocol", (GuardedProtocol,), {"guard": guard})
    return cls, guard
