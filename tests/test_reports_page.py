"""The page: server faults in the header, the top findings, long lists collapsed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from caucus_rehearsal.reports import build_report
from support.rundirs import RunBuilder, tally

T = tally(20, (10, 10), (10, 10), (2, 2))


def lost_night(path: Path, units: int, lost: int, toml: str = "",
               faults: tuple[str, ...] = ()) -> RunBuilder:
    """``units`` units acknowledged at 20:00-ish; all but the first ``lost`` published."""
    b = RunBuilder(path)
    ids = [f"U{i:02d}" for i in range(units)]
    for i, uid in enumerate(ids):
        b.unit(uid, T)
        b.ack(uid, T, sim_min=60.0 + i)
    b.snapshot(100.0, {uid: T for uid in ids[lost:]})
    b.write(gates=("published_fraction >= 0.9 by 22:00", "data_loss == 0"), toml=toml,
            server_faults=faults)
    return b


def test_whole_run_and_scheduled_faults_are_shown(tmp_path: Path) -> None:
    toml = ('[live]\nfaults = [{ at = "21:00", fault = "incomplete-output" },\n'
            '  { at = "20:00", fault = "outage", until = "20:30" }]\n')
    b = lost_night(tmp_path / "run", 3, 1, toml=toml, faults=("errors:0.1",))
    build_report(b.path)
    html = (b.path / "report.html").read_text()
    assert ("server faults: errors:0.1 (whole run), incomplete-output from 21:00, "
            "outage 20:00–20:30") in html
    s = json.loads((b.path / "summary.json").read_text())
    assert s["server_faults"] == {
        "whole_run": ["errors:0.1"], "applied": True,
        "scheduled": [{"fault": "incomplete-output", "at": "21:00", "until": None},
                      {"fault": "outage", "at": "20:00", "until": "20:30"}]}


def test_no_faults_reads_none(tmp_path: Path) -> None:
    b = lost_night(tmp_path / "run", 3, 0)
    build_report(b.path)
    assert "server faults: none" in (b.path / "report.html").read_text()


def test_top_findings_are_plain_and_do_not_repeat_a_gate(tmp_path: Path) -> None:
    b = lost_night(tmp_path / "run", 10, 4)
    out = build_report(b.path)
    assert out.findings[:2] == (
        "4 precincts were acknowledged by the server but never published (data loss) (20:00 "
        "to 20:03): P U00 (Adair, U00), P U01 (Adair, U01), P U02 (Adair, U02), "
        "P U03 (Adair, U03).",
        "Only 6 of 10 precincts (60%) were published by 22:00 (gate "
        "'published_fraction >= 0.9 by 22:00').")
    assert not any("data_loss == 0" in f for f in out.findings)  # said as the first one


def test_a_long_class_list_shows_20_and_collapses_the_rest(tmp_path: Path) -> None:
    b = lost_night(tmp_path / "run", 30, 27)
    build_report(b.path)
    html = (b.path / "report.html").read_text()
    section = html.split("<h3 id='class-acknowledged_not_published'>", 1)[1]
    section = section.split("<h3", 1)[0].split("<h2", 1)[0]
    assert section.startswith("Acknowledged by the server but never published (data loss): "
                              "27</h3>")
    shown, rest = section.split("<details>", 1)
    assert len(re.findall(r"<tr><td>P U", shown)) == 20
    assert rest.startswith("<summary>Show the other 7</summary>")
    assert len(re.findall(r"<tr><td>P U", rest)) == 7
