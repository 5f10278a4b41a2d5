"""The run directory's records (``rundir/``): the one writer, the one reader, and the
public's reads aggregated into mergeable histograms."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from caucus_rehearsal.rundir.reader import iter_jsonl, read_reads
from caucus_rehearsal.rundir.reads import (
    ReadStats,
    VersionBook,
    latency_p_ms,
    staleness_p_s,
)
from caucus_rehearsal.rundir.vocab import APP_DATA_STEPS, DATA_STEPS, FINAL_STEPS
from caucus_rehearsal.rundir.writer import (
    AppendLog,
    end_run,
    read_run_info,
    write_json,
    write_jsonl,
    write_reads,
)
from caucus_rehearsal.simulator.plan import APP_STEPS


def test_append_log_writes_whole_lines_and_the_reader_drops_a_torn_last_one(
        tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = AppendLog(path)
    log.write({"a": 1})
    log.write_lines(b'{"b":2}\n{"c":3}\n')
    log.close()
    with path.open("ab") as fh:
        fh.write(b'{"d": ')  # the process died mid-line
    truncated: list[str] = []
    assert list(iter_jsonl(path, truncated)) == [{"a": 1}, {"b": 2}, {"c": 3}]
    assert truncated == ["events.jsonl"]


def test_the_vocabulary_is_the_models() -> None:
    assert APP_DATA_STEPS == APP_STEPS[1:] == ("attendance", "first", "final", "photo")
    assert set(FINAL_STEPS.values()) <= DATA_STEPS


def test_end_run_marks_only_a_run_that_has_not_ended(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"status": "running"}))
    end_run(tmp_path, "interrupted", "Ctrl-C")
    run = read_run_info(tmp_path)
    assert run["status"] == "interrupted" and run["stop_reason"] == "Ctrl-C"
    end_run(tmp_path, "aborted", "later")
    assert read_run_info(tmp_path)["status"] == "interrupted"


def _record(stats: ReadStats, rng: random.Random, n: int) -> None:
    for _ in range(n):
        minute = rng.uniform(0.0, 60.0)
        b = stats.at(minute, rng.choice(("results", "feed")))
        r = rng.random()
        if r < 0.02:
            b.drop("busy")
        elif r < 0.03:
            b.record("timeouts", None, 0.001)
        elif r < 0.05:
            b.record("errors", rng.uniform(0.001, 0.01), 0.001)
        else:
            stale = rng.random() < 0.1
            b.record("ok", rng.uniform(0.001, 0.2), rng.uniform(0, 0.01),
                     stale_s=rng.uniform(0.1, 3.0) if stale else None, behind=2 if stale else 0,
                     versioned=True)


def test_reads_merged_from_two_processes_equal_one_process_that_saw_them_all(
        tmp_path: Path) -> None:
    one, a, b = ReadStats(), ReadStats(), ReadStats()
    _record(one, random.Random(1), 3000)
    _record(a, random.Random(1), 1000)  # the same reads, split over two "workers"...
    rng = random.Random(1)
    _record(ReadStats(), rng, 1000)  # ...that is, the rest of the same sequence
    _record(b, rng, 2000)
    merged = ReadStats()
    merged.merge_rows(a.take())
    merged.merge_rows(b.take())
    assert a.bins == {} and b.bins == {}  # take() starts afresh
    assert merged.rows() == one.rows()
    write_reads(tmp_path, merged)  # and through the file: the same bins
    assert read_reads(tmp_path / "reads.jsonl", []).rows() == one.rows()
    total = one.total()
    c = total.counts
    assert c["due"] == 3000 and c["due"] == c["sent"] + c["dropped_busy"]
    assert c["ok"] + c["errors"] + c["timeouts"] == c["sent"]


def test_a_read_without_an_answer_is_infinitely_slow() -> None:
    s = ReadStats()
    for i in range(98):
        s.at(0.0, "results").record("ok", 0.010 + i * 1e-4, 0.0)
    s.at(0.0, "results").record("timeouts", None, 0.0)
    t = s.total()
    p50 = latency_p_ms(t, 50)
    assert p50 is not None and 14 <= p50 <= 15.1
    assert latency_p_ms(t, 98) is not None and latency_p_ms(t, 98) < 20  # type: ignore[operator]
    s.at(0.0, "results").record("conn_errors", None, 0.0)
    assert latency_p_ms(s.total(), 99) == math.inf  # 2 of 100 never answered
    assert latency_p_ms(ReadStats().total(), 99) is None


def test_staleness_percentile_counts_fresh_reads_as_zero() -> None:
    s = ReadStats()
    for _ in range(95):
        s.at(0.0, "results").record("ok", 0.01, 0.0, versioned=True)
    for i in range(5):
        s.at(0.0, "results").record("ok", 0.01, 0.0, stale_s=1.0 + i, behind=1, versioned=True)
    t = s.total()
    assert staleness_p_s(t, 95) == 0.0
    p99 = staleness_p_s(t, 99)  # the 99th of 100 reads: the 4th stale one, 4 s
    assert p99 is not None and 3.95 <= p99 <= 4.05
    assert t.counts["versions_behind"] == 5 and t.versions_behind_max == 1
    assert staleness_p_s(ReadStats().total(), 99) is None


def test_version_book_says_how_stale_an_answer_was() -> None:
    book = VersionBook()
    book.saw(10, at=100.0)
    assert book.behind(10, sent=101.0) is None  # the newest known
    book.saw(12, at=102.0)
    book.saw(15, at=103.0)
    assert book.behind(10, sent=101.5) is None  # nothing newer had been seen yet
    assert book.behind(10, sent=104.0) == (2.0, 2)  # 12 seen 2 s before, 15 too
    assert book.behind(12, sent=104.0) == (1.0, 1)
    assert book.behind(15, sent=104.0) is None
    book.saw(12, at=200.0)  # seen again: first seen stays
    assert book.first_seen[12] == 102.0


def test_a_bad_reads_line_names_the_file(tmp_path: Path) -> None:
    from caucus_rehearsal.errors import InputFileError

    path = tmp_path / "reads.jsonl"
    path.write_text('{"bin": 0}\n{"bin": 1, "endpoint": "results", "due": "x"}\n')
    with pytest.raises(InputFileError, match=r"reads\.jsonl"):
        read_reads(path, [])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_write_on_a_full_disk_names_its_file_and_leaves_no_tmp(tmp_path: Path) -> None:
    # /dev/full fails every write with ENOSPC, at flush: an OSError that names no file.
    for name, write in (("a.json", lambda p: write_json(p, {"x": 1})),
                        ("b.jsonl", lambda p: write_jsonl(p, [{"x": 1}]))):
        path = tmp_path / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.symlink_to("/dev/full")
        with pytest.raises(OSError) as caught:
            write(path)
        assert caught.value.filename == str(path) and "space" in str(caught.value.strerror)
        assert not tmp.exists() and not tmp.is_symlink() and not path.exists()
    log = AppendLog(tmp_path / "c.jsonl")
    log.path.unlink()
    (tmp_path / "c.jsonl").symlink_to("/dev/full")
    full = AppendLog(tmp_path / "c.jsonl")
    with pytest.raises(OSError) as caught:
        full.write({"x": 1})
    assert caught.value.filename == str(tmp_path / "c.jsonl")
    log.close()
    full.close()
