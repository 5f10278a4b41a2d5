"""Writing a run directory (docs/run-directory.md): the one writer.

Only the Locust master (or the single local process) writes a run's records, through
this module: load generators on other machines send theirs over Locust's messages
(``rehearsal/recorder.py``). ``rehearse run`` adds what only it knows before the night
(``band.json``, the reference server's facts in ``run.json``) and marks a run it had to
stop. JSON documents are replaced atomically; JSONL files are appended a whole batch of
lines per write, so an interrupted run leaves a readable prefix.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from caucus_rehearsal import __version__
from caucus_rehearsal.errors import is_disk_full
from caucus_rehearsal.rundir.reads import ReadStats
from caucus_rehearsal.rundir.records import RunInfo
from caucus_rehearsal.rundir.vocab import (
    AUDIT_FILE,
    BAND_FILE,
    ENDED,
    PLAN_FILE,
    READS_FILE,
    ROSTER_FILE,
    RUN_FILE,
    SCENARIO_FILE,
    TRUTH_FILE,
    ZERO_STATE_FILE,
)
from caucus_rehearsal.rundir.zero import ZeroRead

_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
"""One encoder for every line: ``json.dumps`` with options builds a new one per call."""


def encode_line(record: dict[str, Any]) -> str:
    """One JSONL line (with its newline) as every JSONL file of a run has it."""
    return _ENCODER.encode(record) + "\n"


def new_run_dir(root: Path, scenario_name: str) -> Path:
    """``root/<YYYYmmdd-HHMMSS>-<scenario>``, made unique with a suffix if it exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"{stamp}-{scenario_name}"
    n = 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            n += 1
            path = root / f"{stamp}-{scenario_name}-{n}"


def write_json(path: Path, doc: Any, *, compact: bool = False) -> None:
    """Write ``doc`` atomically (a reader never sees half a file, and a failed write, a
    full disk, leaves no ``.tmp`` behind); indented unless ``compact`` (for a large
    document)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    text = _ENCODER.encode(doc) if compact else json.dumps(doc, indent=2, allow_nan=False)
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        raise _named(exc, path) from None
    tmp.replace(path)


def _named(exc: BaseException, path: Path) -> BaseException:
    """``exc``, naming ``path`` when it is an ``OSError`` that names no file (a write that
    failed at flush: a full disk)."""
    if isinstance(exc, OSError) and not exc.filename:
        return OSError(exc.errno, exc.strerror, str(path))
    return exc


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Replace ``path`` with one compact JSON object per line (atomically)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(encode_line(row))
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        raise _named(exc, path) from None
    tmp.replace(path)


def read_run_info(run_dir: Path) -> RunInfo:
    """``run.json`` as written so far (empty when there is none yet)."""
    try:
        doc = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return RunInfo()
    return cast(RunInfo, doc) if isinstance(doc, dict) else RunInfo()


def write_run_info(run_dir: Path, run: RunInfo) -> bool:
    """Replace ``run.json`` (stamped with this package's version); on a full disk,
    rewrite the old file in place (its own blocks hold the new text). False when even
    that failed."""
    doc = {**run, "version": __version__}
    path = run_dir / RUN_FILE
    try:
        write_json(path, doc)
        return True
    except OSError as exc:
        if not is_disk_full(exc):
            raise
    data = (json.dumps(doc, indent=2, allow_nan=False) + "\n").encode("utf-8")
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


def update_run_info(run_dir: Path, **changes: Any) -> bool:
    """``run.json`` with ``changes`` merged in (keys not named are kept); False when it
    could not be written (:func:`write_run_info`)."""
    return write_run_info(run_dir, cast(RunInfo, {**read_run_info(run_dir), **changes}))


def end_run(run_dir: Path, status: str, reason: str) -> bool:
    """Mark a run that stopped early (``interrupted`` or ``aborted``, with its
    ``stop_reason``) unless ``run.json`` already says it ended. False when ``run.json``
    could not be written (missing, or the disk too full even to rewrite it in place)."""
    if not (run_dir / RUN_FILE).exists():
        return False
    if read_run_info(run_dir).get("status") in ENDED:
        return True
    return update_run_info(run_dir, status=status, stop_reason=reason,
                           ended_wall=time.time())


def write_start(run_dir: Path, scenario_file: Path, roster: dict[str, Any],
                truth_rows: Iterable[dict[str, Any]], plan_rows: Iterable[dict[str, Any]],
                run: RunInfo) -> None:
    """Everything known before the night: ``run.json`` first (so a run stopped while
    preparing says so), the scenario as used, the roster, the truth and the plan. A
    night's starting files never change: one already there (``rehearse run`` writes them
    before Locust starts, so that a run stopped before the night still has them) is kept."""
    write_run_info(run_dir, run)
    if not (run_dir / SCENARIO_FILE).exists():
        try:
            shutil.copyfile(scenario_file, run_dir / SCENARIO_FILE)
        except OSError as exc:
            raise _named(exc, run_dir / SCENARIO_FILE) from None
    if not (run_dir / ROSTER_FILE).exists():
        write_json(run_dir / ROSTER_FILE, roster)
    if not (run_dir / TRUTH_FILE).exists():
        write_jsonl(run_dir / TRUTH_FILE, truth_rows)
    if not (run_dir / PLAN_FILE).exists():
        write_jsonl(run_dir / PLAN_FILE, plan_rows)


def write_band(run_dir: Path, band: dict[str, Any]) -> None:
    """``band.json``: the simulated band the live curves are drawn against."""
    write_json(run_dir / BAND_FILE, band)


def write_audit(run_dir: Path, items: Iterable[dict[str, Any]]) -> None:
    """``audit.jsonl``: the target's audit trail as its adapter reads it."""
    write_jsonl(run_dir / AUDIT_FILE, items)


def write_zero_state(run_dir: Path, zero: ZeroRead) -> None:
    """``zero_state.json``: the zero read before the night (``rehearse run``), compact
    (a state's zero rows)."""
    write_json(run_dir / ZERO_STATE_FILE, zero.as_json(), compact=True)


def write_reads(run_dir: Path, stats: ReadStats) -> None:
    """``reads.jsonl``: the run's reads, one line per bin and endpoint (replaced)."""
    write_jsonl(run_dir / READS_FILE, stats.rows())


class AppendLog:
    """An append-only JSONL file (``events.jsonl``, ``snapshots.jsonl``).

    Each :meth:`write_lines` is one ``os.write`` on a file opened ``O_APPEND``: whole lines,
    never buffered, so an interrupted run leaves a readable prefix.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as one line."""
        self.write_lines(encode_line(record).encode("utf-8"))

    def write_lines(self, lines: bytes) -> None:
        """Append complete lines (each ending in a newline), already encoded; a failed
        write (a full disk) raises ``OSError`` naming this file."""
        view = memoryview(lines)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc

    def close(self) -> None:
        """Close the file (further writes fail)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
