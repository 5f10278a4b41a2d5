"""Run the server with uvicorn on a socket bound up front (so a bad port fails early).

:func:`serve` is what ``rehearse serve`` and ``python -m caucus_rehearsal.server`` run.
Binding the socket before uvicorn starts lets the caller report an unusable port in one
line, and lets a parent process bind port 0 and hand the socket over (``fd``).
"""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import socket
import sys
from collections.abc import Sequence

import uvicorn

from caucus_rehearsal.server.app import create_app
from caucus_rehearsal.server.connections import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    Limits,
    guarded_protocol,
)
from caucus_rehearsal.server.faults import parse_fault


class ServeError(Exception):
    """A bad option or an unusable address; the message is one line."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family = infos[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


GC_GEN0_THRESHOLD = 20_000
"""Allocations between young collections (CPython's default is 700)."""


def tune_gc() -> None:
    """Set up the collector for a server process (measured: benchmarks/bench_server.py).

    Everything alive after start (FastAPI, pydantic, numpy, the loaded state) is moved
    out of the collector's view (``gc.freeze``): a full collection scanning it took
    ~35 ms, and the benchmark ran ~20 in 8 s of writes. The young-generation threshold is
    raised because the objects of the writes waiting together for one group commit
    (32 connections: a few thousand) outnumber the default 700, so every batch
    triggered collections that only promoted live objects to the older generations.
    Objects freed by reference counting (nearly all of a request's) are unaffected.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``rehearse serve`` (shared with ``python -m caucus_rehearsal.server``)."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="TCP port (8080; 0 = any free)")
    p.add_argument("--db", default="reporting.db",
                   help="SQLite database path, created if missing (reporting.db)")
    p.add_argument("--fault", dest="faults", action="append", default=[], metavar="NAME[:P]",
                   help="a fault to start with (repeatable), e.g. incomplete-output, "
                        "login-failures:0.3, latency:lognormal:50ms:500ms, errors:0.05, "
                        "outage, capacity:20, shared-capacity:150, transient:stale "
                        "(see docs/contract.md)")
    p.add_argument("--admin-token", default=None,
                   help="admin bearer token (default: env CAUCUS_ADMIN_TOKEN, else generated)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fault generator (0)")
    p.add_argument("--durability", choices=("normal", "full"), default="normal",
                   help="SQLite synchronous mode: normal survives kill -9, full power loss")
    p.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT_S,
                   metavar="SECONDS",
                   help="time a client has to send a request's headers (10; slowloris guard)")
    p.add_argument("--body-timeout", type=float, default=BODY_TIMEOUT_S,
                   metavar="SECONDS", help="time a client has to send a request's body (30)")
    p.add_argument("--max-connections", type=int, default=0, metavar="N",
                   help="open connections at most; beyond it the longest-stalled is closed "
                        "(default: the file-descriptor limit less 64)")
    p.add_argument("--forwarded-allow-ips", default="", metavar="IPS",
                   help="comma-separated proxy addresses whose X-Forwarded-For is trusted as "
                        "the client's address (default: none; the peer address is the source)")
    p.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--log-level", default="info", choices=("warning", "info", "debug"),
                   help="uvicorn log level (info)")


def serve(args: argparse.Namespace, announce: bool = True) -> int:
    """Run until SIGINT/SIGTERM; ``ServeError`` for bad faults or an unusable port."""
    for spec in args.faults:
        try:
            parse_fault(spec)
        except ValueError as exc:
            raise ServeError(str(exc)) from None
    try:
        limits = Limits(args.header_timeout, args.body_timeout, args.max_connections)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    sock = socket.socket(fileno=args.fd) if args.fd is not None else bind(args.host, args.port)
    token = args.admin_token or os.environ.get("CAUCUS_ADMIN_TOKEN")
    if not token:
        token = secrets.token_urlsafe(18)
        print(f"admin token: {token}", file=sys.stderr, flush=True)
    app = create_app(args.db, args.faults, token, args.seed, durability=args.durability)
    if announce:
        host, port = sock.getsockname()[:2]
        print(f"reference reporting server on http://{host}:{port} (db {args.db})",
              file=sys.stderr, flush=True)
    protocol, _ = guarded_protocol(limits)
    trusted = [ip.strip() for ip in args.forwarded_allow_ips.split(",") if ip.strip()]
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False,
                            timeout_graceful_shutdown=5, http=protocol,
                            proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None)
    server = uvicorn.Server(config)
    tune_gc()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it has already handled: a clean stop
    finally:
        app.state.service.store.close()
    print("reference reporting server stopped", file=sys.stderr, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m caucus_rehearsal.server``: what a subprocess started by
    :func:`~.process.start_server` runs."""
    p = argparse.ArgumentParser(prog="python -m caucus_rehearsal.server")
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return serve(args)
    except ServeError as exc:
        print(f"caucus_rehearsal.server: error: {exc}", file=sys.stderr)
        return 2
