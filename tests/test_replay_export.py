"""``rehearse report RUN_DIR --at TIME``: the published state at a moment as a canonical
results file, audited by ``rehearse audit``."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from caucus_rehearsal.audit import audit_file
from caucus_rehearsal.cli import main
from conftest import RecordedNight


def _export(run_dir: Path, at: str, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["report", str(run_dir), "--at", at, "--csv", str(out)]) == 0
    said = capsys.readouterr().out
    assert str(out) in said and f"rehearse audit {out}" in said
    return said


def test_the_export_at_2300_is_what_was_published_then(
        recorded_night: RecordedNight, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "at-2300.csv"
    said = _export(recorded_night.path, "23:00", out, capsys)
    assert "35 of 40 precincts" in said and "current since 22:30" in said
    with out.open(newline="") as fh:
        rows = {r["unit_id"]: r for r in csv.DictReader(fh)}
    snaps = [json.loads(x) for x in
             (recorded_night.path / "snapshots.jsonl").read_text().splitlines()]
    then = next(s for s in snaps if s["sim_min"] == 210)["results"]["precincts"]
    assert set(rows) == set(then)
    for uid, row in rows.items():
        for part in ("first", "final", "delegates"):
            assert {c: int(row[f"{part}_{c}"]) for c in then[uid][part]} == then[uid][part]
        assert {c: float(row[f"sde_{c}"]) for c in then[uid]["sde"]} == then[uid]["sde"]
    # the worksheet published wrong is still there at 23:00: the audit flags it
    assert main(["audit", str(out)]) == 1
    report = audit_file(out)
    flagged = {u.row.unit_id for u in report.units if u.flagged}
    assert flagged and flagged <= set(recorded_night.wrong)


def test_the_export_at_the_end_audits_clean(recorded_night: RecordedNight, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "end.csv"
    assert "40 of 40 precincts (state 6 of 6" in _export(recorded_night.path, "end", out,
                                                         capsys)
    assert main(["audit", str(out)]) == 0
    assert "0 of 40 units flagged" in capsys.readouterr().out
    report = audit_file(out)
    assert report.exact_rate() == (40, 40)
    assert report.reported_sde == report.recomputed_sde  # satellites' ratios included
    assert any(u.row.satellite for u in report.units)


def test_default_files_and_the_report_without_at(recorded_night: RecordedNight,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / recorded_night.path.name
    shutil.copytree(recorded_night.path, run_dir)
    assert main(["report", str(run_dir), "--at", "16:00+1d"]) == 0
    assert (run_dir / "published-1600+1d.csv").is_file()
    assert main(["report", str(run_dir), "--at", "-60"]) == 0  # before the night: no rows
    with (run_dir / "published-1800.csv").open() as fh:
        assert len(fh.read().splitlines()) == 1
    assert "nothing was published" in capsys.readouterr().out
    main(["report", str(run_dir)])
    said = capsys.readouterr().out
    assert "verdict:" in said and f"-> {run_dir / 'published-end.csv'}" in said
    assert len((run_dir / "published-end.csv").read_text().splitlines()) == 41


@pytest.mark.parametrize(("args", "message"), [
    (["--at", "teatime"], "--at: moment 'teatime'"),
    (["--at", "23:00", "--csv", "{dir}"], "is a directory"),
    (["--at", "23:00", "--csv", "{dir}/no/such/x.csv"], "cannot be written"),
])
def test_bad_export_input_is_one_line_and_exit_2(
        recorded_night: RecordedNight, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        args: list[str], message: str) -> None:
    args = [a.replace("{dir}", str(tmp_path)) for a in args]
    assert main(["report", str(recorded_night.path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not list(tmp_path.rglob("*.tmp"))


def test_an_export_needs_the_roster(recorded_night: RecordedNight, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(recorded_night.path, run_dir)
    (run_dir / "roster.json").unlink()
    assert main(["report", str(run_dir), "--at", "23:00"]) == 2
    assert "roster.json: missing" in capsys.readouterr().err
