"""Run a command on a small filesystem and fill it up: run by the ``small_disk`` fixture
(tests/conftest.py) inside a private mount namespace whose tmpfs is mounted at ``disk``.

The job (JSON, first argument): ``disk``, ``argv`` (run with ``disk`` as the current
folder), ``timeout_s``, and ``fill``: ``"before"`` (leave ``leave_bytes`` free before the
command starts) or ``{"file": GLOB, "lines": N}`` (fill the disk completely once a file
matching GLOB under ``disk`` has N lines); ``then`` (an argv run after the command, once
the filler is deleted: the disk has room again).

Prints one JSON line: ``rc``, ``stdout``, ``stderr``, ``descendants`` (pids of the
command's process tree when the disk was filled) and ``alive`` (those still running
after the command exited), ``files``
(path -> size, the filler aside), ``run_json`` (the first ``*/run.json``, or None), and
``then`` (``rc``, ``stderr``, ``summary``) when asked.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil


def fill(disk: Path, leave_bytes: int) -> None:
    """Write a filler file until only ``leave_bytes`` are free; with 0, until the disk
    answers ENOSPC to a write of one byte."""
    st = os.statvfs(disk)
    want = st.f_bavail * st.f_frsize - leave_bytes
    with open(disk / "filler", "ab", buffering=0) as fh:
        if leave_bytes:
            while want > 0:
                want -= fh.write(b"\0" * min(1 << 16, want))
            return
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


def lines_in(pattern: str) -> int:
    counts = [Path(p).read_bytes().count(b"\n") for p in glob.glob(pattern)]
    return max(counts, default=0)


def main() -> None:
    job: dict[str, Any] = json.loads(sys.argv[1])
    disk = Path(job["disk"])
    spec = job["fill"]
    if spec == "before":
        fill(disk, int(job.get("leave_bytes", 0)))
    proc = subprocess.Popen(job["argv"], cwd=disk, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    tree: list[psutil.Process] = []
    if spec != "before":
        deadline = time.monotonic() + job["timeout_s"]
        while lines_in(str(disk / spec["file"])) < spec["lines"] and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        tree = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        fill(disk, 0)
    out, err = proc.communicate(timeout=job["timeout_s"])
    time.sleep(0.5)
    alive = [p.pid for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    files = {str(p.relative_to(disk)): p.stat().st_size for p in disk.rglob("*")
             if p.is_file() and p.name != "filler"}
    runs = sorted(disk.glob("*/run.json"))
    result: dict[str, Any] = {
        "rc": proc.returncode, "stdout": out, "stderr": err,
        "descendants": [p.pid for p in tree], "alive": alive, "files": files,
        "run_json": json.loads(runs[0].read_text()) if runs else None}
    if job.get("then"):
        (disk / "filler").unlink(missing_ok=True)
        then = subprocess.run(job["then"], cwd=disk, capture_output=True, text=True,
                              timeout=job["timeout_s"], check=False)
        summaries = sorted(disk.glob("*/summary.json"))
        result["then"] = {"rc": then.returncode, "stderr": then.stderr,
                          "summary": json.loads(summaries[0].read_text()) if summaries else None}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
