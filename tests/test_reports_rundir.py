"""Reading hand-built run directories (tests/support/rundirs.py builds them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from caucus_rehearsal.errors import InputFileError
from caucus_rehearsal.rundir.reader import read_run_dir
from support.rundirs import CANDS, RunBuilder, tally


def test_reads_a_complete_directory(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    b.ack("U1", b.truth[0]["tally"])
    run = read_run_dir(b.write())
    assert run.candidates == CANDS
    assert [t.unit_id for t in run.truth] == ["U1"]
    assert run.plan["U1"].error is None
    assert len(run.events) == 1 and run.partial is False and run.truncated == []


def test_a_cut_off_last_line_is_dropped_and_marks_the_run_partial(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    b.ack("U1", b.truth[0]["tally"])
    path = b.write(status="complete")
    with (path / "events.jsonl").open("a") as fh:
        fh.write('{"unit_id": "U1", "actor": "ch')
    run = read_run_dir(path)
    assert len(run.events) == 1
    assert run.truncated == ["events.jsonl"] and run.partial


def test_a_bad_line_before_the_last_is_an_input_error(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    path = b.write()
    (path / "events.jsonl").write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(InputFileError, match=r"events.jsonl: line 2 is not JSON"):
        read_run_dir(path)


@pytest.mark.parametrize("remove", ["run.json", "truth.jsonl"])
def test_missing_required_file_is_named(tmp_path: Path, remove: str) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", tally(10, (6, 4), (6, 4), (2, 2)))
    path = b.write()
    (path / remove).unlink()
    with pytest.raises(InputFileError, match=remove.replace(".", r"\.") + ": missing"):
        read_run_dir(path)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not a directory"):
        read_run_dir(tmp_path / "nope")


def test_snapshot_304_repeats_the_previous_and_failed_fetches_are_skipped(
        tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    t = tally(10, (6, 4), (6, 4), (2, 2))
    b.unit("U1", t)
    b.ack("U1", t)
    b.snapshot(70.0, {"U1": t})
    b.snapshots.append({"sim_min": 80.0, "status": 304, "results": None})
    b.snapshots.append({"sim_min": 90.0, "status": 0, "results": None})
    run = read_run_dir(b.write())
    assert run.published.curve == [(70.0, 1), (80.0, 1)]
    assert run.published.first_seen == {"U1": 70.0}
    assert list(run.published.final["precincts"]) == ["U1"]
