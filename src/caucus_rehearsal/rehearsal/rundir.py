"""Writing the start of a run directory (``docs/run-directory.md``): the scenario as
used, ``run.json``, ``roster.json``, ``truth.jsonl``, ``plan.jsonl`` and ``band.json``."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from caucus_rehearsal import __version__
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


def write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` atomically (a reader never sees half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """One compact JSON object per line."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":"), allow_nan=False) + "\n")


def write_start(run_dir: Path, night: Night, scenario_file: Path, run: dict[str, Any]) -> None:
    """Everything known before the night; ``run`` is the first ``run.json``."""
    shutil.copyfile(scenario_file, run_dir / "scenario.toml")
    write_json(run_dir / "roster.json", roster_body(night))
    write_jsonl(run_dir / "truth.jsonl", list(truth_rows(night.roster, night.truth)))
    write_jsonl(run_dir / "plan.jsonl",
                [plan_to_json(p, night.candidates) for p in night.plans])
    write_json(run_dir / "run.json", {**run, "version": __version__})
