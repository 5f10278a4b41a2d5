"""Start the reference server in a subprocess on a free loopback port, and stop it.

For the rehearsal orchestrator and tests::

    handle = start_server("run/reporting.db", faults=["incomplete-output"])
    httpx.get(handle.url + "/v1/results")
    handle.stop()

The parent binds the listening socket (port 0 picks a free one, so there is no race) and
passes it to a fresh interpreter (``python -m caucus_rehearsal.server --fd N``), which
is therefore never gevent-patched even when the parent runs Locust. Only the standard
library is used here, so calling it from a gevent-patched process is safe.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from caucus_rehearsal.server.faults import parse_fault
from caucus_rehearsal.server.runner import bind


class ServerStartError(RuntimeError):
    """The server subprocess exited or did not answer ``/healthz`` in time; the message
    carries the tail of its log."""


@dataclass
class ServerHandle:
    """A running server subprocess: ``url`` (``http://127.0.0.1:PORT``), ``admin_token``,
    ``db_path``, the ``process`` and its log (``log_path``; a temporary one,
    ``own_log``, is removed once the server has stopped)."""

    url: str
    admin_token: str
    db_path: str
    process: subprocess.Popen[bytes]
    log_path: str
    own_log: bool = False

    def _ended(self) -> int:
        code = self.process.wait()
        if self.own_log:
            Path(self.log_path).unlink(missing_ok=True)
        return code

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def stop(self, timeout_s: float = 10.0) -> int:
        """Graceful stop (SIGINT, as Ctrl-C), then SIGKILL after ``timeout_s``; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self._ended()

    def kill(self) -> int:
        """``kill -9``: no shutdown at all (the durability test); the exit code."""
        if self.process.poll() is None:
            self.process.kill()
        return self._ended()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _healthy(host: str, port: int) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def start_server(db_path: str | Path, faults: Sequence[str] = (), admin_token: str | None = None,
                 port: int = 0, host: str = "127.0.0.1", seed: int = 0,
                 durability: str = "normal", log_path: str | Path | None = None,
                 ready_timeout_s: float = 30.0,
                 options: Sequence[str] = ()) -> ServerHandle:
    """Start ``python -m caucus_rehearsal.server`` and return once ``/healthz`` answers.

    ``faults`` are fault specs (``ValueError`` for a bad one, before anything starts);
    ``admin_token`` is generated when None (read it from the handle); the server's
    stderr goes to ``log_path`` (a temporary file when None, removed when it stops; a
    server that does not start raises with the log's tail); ``options`` are more
    command-line options of the server (``--header-timeout 2`` ...).
    """
    for spec in faults:
        parse_fault(spec)
    token = admin_token or secrets.token_urlsafe(18)
    sock = bind(host, port)
    real_port = sock.getsockname()[1]
    own_log = log_path is None
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="caucus-server-", suffix=".log")
        os.close(fd)
        log_path = name
    cmd = [sys.executable, "-m", "caucus_rehearsal.server", "--fd", str(sock.fileno()),
           "--db", str(db_path), "--seed", str(seed), "--durability", durability,
           "--log-level", "warning"]
    for spec in faults:
        cmd += ["--fault", spec]
    cmd += list(options)
    env = dict(os.environ, CAUCUS_ADMIN_TOKEN=token)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                pass_fds=(sock.fileno(),), env=env)
    sock.close()
    handle = ServerHandle(f"http://{host}:{real_port}", token, str(db_path), proc, str(log_path),
                          own_log)
    deadline = time.monotonic() + ready_timeout_s
    while not _healthy(host, real_port):
        if proc.poll() is not None or time.monotonic() > deadline:
            handle.own_log = False  # kept until its tail is read
            handle.stop(2.0)
            tail = Path(log_path).read_text(errors="replace")[-2000:]
            if own_log:
                Path(log_path).unlink(missing_ok=True)
            raise ServerStartError(f"reference server did not start (exit {proc.poll()}): "
                                   f"{tail.strip()}")
        time.sleep(0.05)
    return handle
