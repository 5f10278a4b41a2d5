"""Slow and stalled clients on real loopback sockets: header and body read timeouts, and
the bound on open connections that sheds the stalled ones first (slowloris)."""

from __future__ import annotations

import http.client
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from caucus_rehearsal.server.process import ServerHandle, start_server
from caucus_rehearsal.server.runner import bind
from support.server import ADMIN, ADMIN_H, roster

pytestmark = pytest.mark.slow

PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
"""A request whose headers never end."""


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _stalled(port: int, n: int, payload: bytes = PARTIAL) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(payload)
        socks.append(s)
    return socks


def _answer(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (10 s at most)."""
    s.settimeout(10)
    got = b""
    while chunk := s.recv(4096):
        got += chunk
    return got


def _closed(s: socket.socket) -> bool:
    """True when the server has closed ``s`` (read returns EOF or the 408)."""
    s.settimeout(0.01)
    try:
        s.recv(4096, socket.MSG_PEEK)  # data (the 408) or b"" (EOF): answered and closed
        return True
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True


@pytest.fixture
def low_fd_server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The server with a soft limit of 256 file descriptors and long read timeouts, so
    only the connection bound can save it."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    proc = subprocess.Popen(
        [sys.executable, "-m", "caucus_rehearsal.server", "--fd", str(sock.fileno()),
         "--db", str(tmp_path / "r.db"), "--log-level", "warning",
         "--header-timeout", "120", "--body-timeout", "120"],
        pass_fds=(sock.fileno(),), preexec_fn=limit,
        env=dict(os.environ, CAUCUS_ADMIN_TOKEN=ADMIN), stderr=subprocess.DEVNULL)
    sock.close()
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(10)


def test_stalled_sockets_beyond_the_file_limit_do_not_lock_out_new_clients(
        low_fd_server: tuple[int, subprocess.Popen[bytes]]) -> None:
    port, proc = low_fd_server
    socks = _stalled(port, 300)  # more than the server has file descriptors
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            assert c.post("/v1/admin/provision", json=roster(),
                          headers=ADMIN_H).status_code == 200
            for _ in range(5):
                assert c.get("/v1/results").status_code == 200
        shed = sum(_closed(s) for s in socks)
        assert shed >= 300 - (256 - 64), shed  # the oldest stalled ones made room
        assert not _closed(socks[-1])  # the newest stalled one is still waiting
        assert proc.poll() is None
    finally:
        for s in socks:
            s.close()


@pytest.fixture
def quick_timeouts(tmp_path: Path) -> Iterator[ServerHandle]:
    with start_server(tmp_path / "r.db", admin_token=ADMIN,
                      options=["--header-timeout", "0.5", "--body-timeout", "0.5"]) as srv:
        yield srv


def test_slow_headers_and_bodies_get_408_and_are_closed(quick_timeouts: ServerHandle) -> None:
    port = _port(quick_timeouts.url)
    with httpx.Client(base_url=quick_timeouts.url, timeout=10) as c:
        assert c.post("/v1/admin/provision", json=roster(), headers=ADMIN_H).status_code == 200
    partial_header, silent = _stalled(port, 1)[0], _stalled(port, 1, b"")[0]
    body = (b"POST /v1/auth/chair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"precinct_id\":")
    partial_body = _stalled(port, 1, body)[0]
    t0 = time.monotonic()
    try:
        got = _answer(partial_header)
        assert got.startswith(b"HTTP/1.1 408") and b"request_timeout" in got
        assert _answer(silent) == b""  # nothing was asked: closed without an answer
        got = _answer(partial_body)
        assert got.startswith(b"HTTP/1.1 408") and b"request_timeout" in got
        assert time.monotonic() - t0 < 10
    finally:
        for s in (partial_header, silent, partial_body):
            s.close()
    # a client that keeps its connection and then trickles a second request is cut too
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/healthz")
    assert conn.getresponse().read().startswith(b'{"status":"ok"')
    assert conn.sock is not None
    conn.sock.sendall(PARTIAL)
    assert _answer(conn.sock).startswith(b"HTTP/1.1 408")
    conn.close()
    with httpx.Client(base_url=quick_timeouts.url, timeout=10, headers=ADMIN_H) as c:
        kinds = [i["kind"] for i in c.get("/v1/admin/audit").json()["items"]]
        assert kinds == ["provision"]  # the half body reached nothing
        assert c.get("/healthz").status_code == 200


def test_when_every_connection_is_busy_a_new_one_is_refused_with_503(tmp_path: Path) -> None:
    with start_server(tmp_path / "r.db", faults=["latency:1500ms"], admin_token=ADMIN,
                      options=["--max-connections", "4"]) as srv:
        port = _port(srv.url)
        busy = _stalled(port, 4, b"GET /v1/results HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # all four are in the handler (the injected latency)
        refused = _stalled(port, 1, b"")[0]
        try:
            got = _answer(refused)
            assert got.startswith(b"HTTP/1.1 503") and b"too_many_connections" in got
            for s in busy:  # the busy ones were not shed: each gets its answer
                s.settimeout(10)
                assert s.recv(4096).startswith(b"HTTP/1.1 409")  # not provisioned
        finally:
            for s in (*busy, refused):
                s.close()
