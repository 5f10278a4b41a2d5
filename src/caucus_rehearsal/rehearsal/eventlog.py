"""``events.jsonl``: one line per attempt, appended and flushed as the run goes.

Each line is written with a single ``os.write`` on a file opened ``O_APPEND``, so several
processes on one machine (Locust workers) can share the file without interleaving lines
and an interrupted run leaves a readable prefix. Fields: see ``docs/run-directory.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

EVENTS_FILE = "events.jsonl"

DATA_FINAL_STEPS = {("app", "final"), ("hotline", "report"), ("paper", "delivered")}
"""(channel, step) pairs whose ``ok`` outcome acknowledges a unit."""

_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
"""One encoder for every line: ``json.dumps`` with options builds a new one per call."""

FAILED_OUTCOMES = frozenset({"error", "timeout", "conn_error", "protocol_error"})
"""Outcomes that count as errors of the target in the live status line."""


class EventLog:
    """An append-only JSONL file; ``write`` never buffers.

    A failed write (a full disk) raises, unless ``on_error`` is set: then it is called
    with the error instead (the Locust process stops itself; its users' greenlets go on
    undisturbed until then).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.on_error: Callable[[OSError], None] | None = None

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as one line."""
        try:
            os.write(self._fd, (_ENCODER.encode(record) + "\n").encode("utf-8"))
        except OSError as exc:
            named = OSError(exc.errno, exc.strerror, str(self.path))
            if self.on_error is None:
                raise named from exc
            self.on_error(named)

    def close(self) -> None:
        """Close the file (further writes fail)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class Tail:
    """Reads the complete lines appended to a JSONL file since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def new_records(self) -> Iterator[dict[str, Any]]:
        """The records appended since the previous call (a half-written last line waits)."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if line.strip():
                yield json.loads(line)


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every complete record of a JSONL file (a torn last line is ignored)."""
    return list(Tail(path).new_records())
