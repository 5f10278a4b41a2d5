"""``rehearse audit`` against the certified 2020 results: a test against reality."""

from __future__ import annotations

from pathlib import Path

import pytest

from caucus_rehearsal.audit import audit_file
from caucus_rehearsal.cli import main
from caucus_rehearsal.simulator.loader import data_dir

RESULTS = data_dir() / "iowa-2020-results.csv"


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return audit_file(RESULTS)


def test_rules_reproduce_published_delegates_in_96_percent_of_precincts(report) -> None:  # type: ignore[no-untyped-def]
    exact, n = report.exact_rate(satellite=False)
    assert n == 1678
    assert exact / n >= 0.96


def _flag(report, county: str, precinct: str):  # type: ignore[no-untyped-def]
    (unit,) = [u for u in report.units if (u.row.county, u.row.precinct) == (county, precinct)]
    return unit


def test_known_2020_errors_are_flagged_for_the_right_reason(report) -> None:  # type: ignore[no-untyped-def]
    # Polk ELKHART-01: Biden's 15 of 106 is below viability (16) yet got a delegate.
    elk = _flag(report, "Polk", "ELKHART-01")
    assert elk.flagged and "nonviable_awarded" in {p.code for p in elk.problems}
    # Black Hawk CF W4 P1: Klobuchar's 41 of 214 is viable (>= 33) yet got none.
    cf = _flag(report, "Black Hawk", "CF W4 P1")
    assert "viable_not_awarded" in {p.code for p in cf.problems}
    # Story Ames 3-1: delegates 3/3/3 where the rules give Klobuchar 2, Sanders 4, Warren 3.
    ames = _flag(report, "Story", "Ames 3-1")
    assert [p.code for p in ames.problems] == ["delegate_mismatch"]


def test_statewide_sde_recomputed_from_final_alignments(report) -> None:  # type: ignore[no-untyped-def]
    sde = report.recomputed_sde
    assert report.reported_sde is not None
    assert report.reported_sde["Buttigieg"] == pytest.approx(562.954, abs=0.01)
    assert report.reported_sde["Sanders"] == pytest.approx(562.021, abs=0.01)
    # Measured: Buttigieg 565.07, Sanders 563.23. The gap is the correction of the flagged
    # precincts (checked below); over the exact-match units it vanishes.
    assert abs(sde["Buttigieg"] - 562.954) < 2.5 and abs(sde["Sanders"] - 562.021) < 1.5
    assert sde["Buttigieg"] > sde["Sanders"]


def test_exact_units_reproduce_certified_sde(report) -> None:  # type: ignore[no-untyped-def]
    for cand in ("Buttigieg", "Sanders", "Warren", "Biden", "Klobuchar"):
        i = report.candidates.index(cand)
        rows = [u.row for u in report.units if u.exact and not u.row.satellite]
        ours = sum(r.delegates[i] * r.sde_ratio for r in rows)
        theirs = sum(r.sde[i] for r in rows if r.sde)
        assert ours == pytest.approx(theirs, abs=0.5)


def test_cli_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(RESULTS)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "Polk / ELKHART-01: nonviable_awarded: delegates to non-viable Biden" in "\n".join(out)
    assert out[-1].endswith("%)") and "exact match" in out[-1]
    lines = RESULTS.read_text(encoding="utf-8").splitlines()
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join([lines[0], lines[1]]) + "\n", encoding="utf-8")  # Adair 1NW
    assert main(["audit", str(clean)]) == 0
    assert capsys.readouterr().out.strip().endswith("(100.0%)")


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "no such file"), ("a,b\n1,2\n", "missing column"), (b"\xff\xfe\x00", "UTF-8"),
     ("county,precinct,satellite,delegates_total,sde_ratio,first_A,final_A,delegates_A\n"
      "X,Y,0,four,0.1,1,1,1\n", "line 2, column delegates_total")],
)
def test_bad_files_give_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, needle: str
) -> None:
    path = tmp_path / "results.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["audit", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err
