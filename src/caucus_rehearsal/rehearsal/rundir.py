"""Writing the start of a run directory (``docs/run-directory.md``): the scenario as
used, ``run.json``, ``roster.json``, ``truth.jsonl``, ``plan.jsonl`` and ``band.json``;
and ``run.json``'s last word when a run stops early (:func:`end_run`)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from caucus_rehearsal import __version__
from caucus_rehearsal.errors import is_disk_full
from caucus_rehearsal.rehearsal.night import Night, roster_body
from caucus_rehearsal.simulator.plan import plan_to_json
from caucus_rehearsal.simulator.truth import truth_rows


def new_run_dir(root: Path, scenario_name: str) -> Path:
    """``root/<YYYYmmdd-HHMMSS>-<scenario>``, made unique with a suffix if it exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"{stamp}-{scenario_name}"
    n = 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{scenario_name}-{n}"
    path.mkdir(parents=True)
    return path


ENDED = ("complete", "interrupted", "aborted")
"""``run.json`` statuses of a run that has ended (``preparing`` and ``running`` have not)."""


def write_json(path: Path, doc: Any, *, compact: bool = False) -> None:
    """Write ``doc`` atomically (a reader never sees half a file); indented unless
    ``compact`` (for a large document)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False) if compact \
        else json.dumps(doc, indent=2, allow_nan=False)
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def write_run_json(run_dir: Path, run: dict[str, Any]) -> bool:
    """Write ``run.json``; on a full disk, rewrite the old file in place (its own blocks
    hold the new text). False when even that failed."""
    path = run_dir / "run.json"
    try:
        write_json(path, run)
        return True
    except OSError as exc:
        if not is_disk_full(exc):
            raise
    data = (json.dumps(run, indent=2, allow_nan=False) + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, data)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


def end_run(run_dir: Path, status: str, reason: str) -> bool:
    """Mark the run in ``run_dir`` as stopped early (``interrupted`` or ``aborted``, with
    ``stop_reason``) unless ``run.json`` already says it ended. False when ``run.json``
    could not be written (missing, or the disk too full even to rewrite it in place)."""
    try:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if run.get("status") in ENDED:
        return True
    return write_run_json(run_dir, {**run, "status": status, "stop_reason": reason,
                                    "ended_wall": time.time()})


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """One compact JSON object per line."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":"), allow_nan=False) + "\n")


def write_start(run_dir: Path, night: Night, scenario_file: Path, run: dict[str, Any]) -> None:
    """Everything known before the night; ``run`` is the first ``run.json`` (written
    first, so a run stopped while preparing still says so)."""
    write_json(run_dir / "run.json", {**run, "version": __version__})
    shutil.copyfile(scenario_file, run_dir / "scenario.toml")
    write_json(run_dir / "roster.json", roster_body(night))
    write_jsonl(run_dir / "truth.jsonl", list(truth_rows(night.roster, night.truth)))
    write_jsonl(run_dir / "plan.jsonl",
                [plan_to_json(p, night.candidates) for p in night.plans])
