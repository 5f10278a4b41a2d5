"""``rehearse audit`` against the certified 2020 results: a test against reality."""

from __future__ import annotations

from pathlib import Path

import pytest

from caucus_rehearsal.audit import audit_file, gap_kind, sde_gap
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
    """Issue 2 asked for the recomputed SDE within 0.5 of certified; it is not, and the
    whole gap is the published errors (measured, ``python scripts/sde_gap.py``):

    Buttigieg 565.0722 vs certified 562.9538 (+2.1184), Sanders 563.2255 vs 562.0214
    (+1.2041). In-state exact matches (1,626 units) contribute exactly 0. Buttigieg's gap:
    +1.1830 from 17 one-delegate precincts whose delegate went to a non-plurality group
    (e.g. Story Grant Township, Scott Liberty Township; two of them are ties drawn by the
    audit's seeded toss, +0.2333 each), +0.9519 from 9 with a delegate to a non-viable
    group (Polk DES MOINES-79, -76, ELKHART-01: +0.2798 each), -0.1132 from 5 that left a
    viable group out, +0.0967 from satellites. Sanders': +0.6484 one-delegate, +0.9900
    rounding or adjustment wrong (Story Ames 3-1 +0.415, Johnson NL06 +0.405), +0.4471
    non-viable awarded, -0.4040 viable left out (Black Hawk CF W4 P1), -0.1167 final above
    attendance, -0.3607 satellites (Cedar Rapids Hoover Elementary -0.8591: its published
    SDE is an attendance share of 116, its first alignment counts 43).
    """
    sde = report.recomputed_sde
    assert report.reported_sde is not None
    assert report.reported_sde["Buttigieg"] == pytest.approx(562.954, abs=0.001)
    assert report.reported_sde["Sanders"] == pytest.approx(562.021, abs=0.001)
    assert sde["Buttigieg"] == pytest.approx(565.0722, abs=0.0005)
    assert sde["Sanders"] == pytest.approx(563.2255, abs=0.0005)
    gap = sde_gap(report, ["Buttigieg", "Sanders"])
    measured = {  # kind: (units, Buttigieg, Sanders)
        "exact": (1626, 0.0, 0.0),
        "one_delegate_not_plurality": (17, 1.1830, 0.6484),
        "delegate_sum": (3, 0.0, 0.0),
        "final_exceeds_attendance": (4, 0.0, -0.1167),
        "nonviable_awarded": (9, 0.9519, 0.4471),
        "viable_not_awarded": (5, -0.1132, -0.4040),
        "rounding": (14, 0.0, 0.9900),
        "satellite_exact": (83, 0.0448, -0.3608),
        "satellite_flagged": (4, 0.0519, 0.0001),
    }
    for kind, (n, butt, sand) in measured.items():
        got_n, sums = gap.by_kind[kind]
        assert got_n == n, kind
        assert sums["Buttigieg"] == pytest.approx(butt, abs=0.0006), kind
        assert sums["Sanders"] == pytest.approx(sand, abs=0.0006), kind
    for cand in report.candidates:  # the kinds account for the whole gap
        total = sum(sums[cand] for _, sums in gap.by_kind.values())
        assert total == pytest.approx(sde[cand] - report.reported_sde[cand], abs=0.001)


def test_one_delegate_gap_is_published_errors(report) -> None:  # type: ignore[no-untyped-def]
    # Each of them gave its single delegate to a group that is not the largest in the
    # final alignment (or reported no final alignment at all): not a rules reading of ours.
    # 15 lead neither alignment; two lead only the first, where the final one is broken.
    units = [u for u in report.units if gap_kind(u) == "one_delegate_not_plurality"]
    assert len(units) == 17
    led_first = []
    for unit in units:
        row = unit.row
        (winner,) = [i for i, d in enumerate(row.delegates) if d]
        assert row.final[winner] < max(row.final) or max(row.final) == 0
        if row.first[winner] == max(row.first):
            led_first.append(row.precinct)
            assert sum(row.final) <= sum(row.first) // 4
    assert sorted(led_first) == ["43 Oto/Oto Township", "GRAHAM TOWNSHIP"]
    # The audit names that reason, never a viability threshold (D = 1 has none).
    for unit in units:
        codes = [p.code for p in unit.problems]
        assert "not_largest_awarded" in codes and "nonviable_awarded" not in codes
        assert "viable_not_awarded" not in codes


def test_one_delegate_reason_names_the_largest_group(
        report, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["audit", str(RESULTS)]) == 1
    out = capsys.readouterr().out
    assert "(0 < 0)" not in out
    assert ("Muscatine / Orono-City: not_largest_awarded: D=1 has no viability threshold, its "
            "delegate goes to the largest group: awarded to Warren (0), the largest is Steyer (3)"
            ) in out


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
