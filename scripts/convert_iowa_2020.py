"""Convert the published 2020 Iowa caucus data into the project's canonical CSV files.

    python scripts/convert_iowa_2020.py [SOURCE_DIR] [--out scenarios/data]

SOURCE_DIR defaults to ``../shared/data/iowa-2020`` beside the repository. The output is
byte-identical on every run (fixed row order, fixed float formatting, ``\\n`` line ends).

Files written (UTF-8, comma-separated, header row; names HTML-unescaped):

``iowa-2020-units.csv`` -- one row per reporting unit, in the order of the results:
    unit_id (IA-0001..IA-1765), county, precinct, satellite (0/1), delegates (D; 0 for a
    satellite, whose D follows from its attendance), start (HH:MM CST: satellites' real
    start times from satellite-locations.csv where the site matches, else 19:00),
    expected_attendance (certified first-alignment head count T).

``iowa-2020-counties.csv`` -- 99 counties then the 5 satellite groups: county,
    state_delegates (S_k, integer), county_delegates (C_k: sum of the apportioned D;
    for a satellite group the sum of its satellites' tier D), satellite_group (0/1).

``iowa-2020-results.csv`` -- the certified results in the canonical per-precinct results
    format that ``rehearse audit`` reads: unit_id, county, precinct, satellite (0/1),
    delegates_total (D), sde_ratio (SDE of one county delegate: S_k / C_k in a county;
    for a satellite its attendance share of the group's S over its D), then for each
    candidate ``first_<cand>``, then ``final_<cand>``, ``delegates_<cand>`` (county
    delegates as published: round(sde / published SDE per delegate)), ``sde_<cand>``
    (published, 4 decimals).

Where the published name-to-D mapping is wrong (about 28 rows carry another precinct's
D), D is recovered as the precinct's published SDE / county ratio: the recovered D is
used when the published delegates are a valid allocation under it and not under the
mapped D; otherwise the mapped D stands and the published delegates are the error.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import re
import sys
from collections import defaultdict
from pathlib import Path

from caucus_rehearsal import rules

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "iowa-2020"
DEFAULT_OUT = ROOT / "scenarios" / "data"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", html.unescape(html.unescape(text)).lower())


def _clock(text: str) -> str:
    """'7:00:00 PM' / '8:30 PM' / '10:00 AM' -> '19:00'."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::\d{2})?\s*([AP]M)\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"start time {text!r} is not like '7:00:00 PM'")
    hour = int(m.group(1)) % 12 + (12 if m.group(3).upper() == "PM" else 0)
    return f"{hour:02d}:{m.group(2)}"


def satellite_starts(path: Path) -> dict[str, str]:
    """Normalised site name (with city) -> start time HH:MM CST."""
    starts: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            city = _norm(row["City"])
            starts[city + "|" + _norm(row["Name of Location"])] = _clock(row["Start Time in CST"])
    return starts


def _site_key(precinct: str) -> str:
    """'Iowa City, IA - X - 7:45pm' -> 'iowacity|x'."""
    place, _, site = html.unescape(precinct).partition(" - ")
    site = re.sub(r"\s*-\s*\d{1,2}:\d{2}\s*[ap]m\s*$", "", site, flags=re.IGNORECASE)
    city = place.split(",")[0]
    return _norm(city) + "|" + _norm(site)


def _fmt(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def convert(source: Path, out: Path) -> dict[str, int]:
    """Write the three canonical files; returns counts for the summary line."""
    with (source / "results-certified.csv").open(newline="", encoding="utf-8") as fh:
        results = list(csv.DictReader(fh))
    with (source / "precinct-delegates.csv").open(newline="", encoding="utf-8") as fh:
        mapping = list(csv.DictReader(fh))
    starts = satellite_starts(source / "satellite-locations.csv")
    cands = [k.removeprefix("final_") for k in results[0] if k.startswith("final_")]

    county_d: dict[str, int] = defaultdict(int)
    county_s: dict[str, float] = defaultdict(float)
    mapped: dict[tuple[str, str], int] = {}
    for m in mapping:
        county = m["County"].strip()
        county_d[county] += int(m["County Delegates"])
        county_s[county] += float(m["Precinct SDE (IDP)"])
        if m["Precinct"]:
            mapped[(county, m["Precinct"])] = int(m["County Delegates"])
    state = {k: round(v) for k, v in county_s.items()}

    sat_rows = [r for r in results if r["satellite"] == "True"]
    group_att: dict[str, int] = defaultdict(int)
    group_sde: dict[str, float] = defaultdict(float)
    group_d: dict[str, int] = defaultdict(int)
    for r in sat_rows:
        t = sum(int(r[f"first_{c}"]) for c in cands)
        group_att[r["county"]] += t
        group_sde[r["county"]] += sum(float(r[f"sde_{c}"]) for c in cands)
        group_d[r["county"]] += rules.satellite_delegates(t)
    group_s = {k: round(v) for k, v in group_sde.items()}

    units: list[list[object]] = []
    res: list[list[object]] = []
    stats = {"units": 0, "recovered_d": 0, "matched_starts": 0}
    for n, r in enumerate(results, start=1):
        uid = f"IA-{n:04d}"
        county, name = r["county"], r["precinct"]
        first = [int(r[f"first_{c}"]) for c in cands]
        final = [int(r[f"final_{c}"]) for c in cands]
        sdes = [float(r[f"sde_{c}"]) for c in cands]
        t = sum(first)
        satellite = r["satellite"] == "True"
        start = "19:00"
        if satellite:
            d = rules.satellite_delegates(t)
            share = rules.satellite_sde(group_s[county], [t, group_att[county] - t])[0]
            ratio = share / d if d else 0.0
            published = sum(sdes)
            won = [round(s / published * d) if published else 0 for s in sdes]
            key = _site_key(name)
            # Rooms of one site ("... Living Rm 1") share the site's start time.
            found = [v for k, v in starts.items() if k == key or key.startswith(k)]
            if found:
                start = found[0]
                stats["matched_starts"] += 1
        else:
            ratio = state[county] / county_d[county]
            won = [round(s / ratio) for s in sdes]
            d = mapped[(county, name)]
            recovered = round(sum(sdes) / ratio)
            if (
                recovered != d
                and rules.is_valid_allocation(final, t, recovered, won)
                and not rules.is_valid_allocation(final, t, d, won)
            ):
                d = recovered
                stats["recovered_d"] += 1
        plain_county, plain_name = html.unescape(html.unescape(county)), html.unescape(
            html.unescape(name)
        )
        units.append(
            [uid, plain_county, plain_name, int(satellite), 0 if satellite else d, start, t]
        )
        res.append(
            [uid, plain_county, plain_name, int(satellite), d, repr(round(ratio, 12))]
            + first
            + final
            + won
            + [_fmt(s) for s in sdes]
        )
        stats["units"] += 1

    out.mkdir(parents=True, exist_ok=True)
    _write(
        out / "iowa-2020-units.csv",
        ["unit_id", "county", "precinct", "satellite", "delegates", "start", "expected_attendance"],
        units,
    )
    counties: list[list[object]] = [
        [k.strip(), state[k], county_d[k], 0] for k in sorted(county_d, key=str.strip)
    ]
    counties += [[k, group_s[k], group_d[k], 1] for k in sorted(group_s)]
    _write(
        out / "iowa-2020-counties.csv",
        ["county", "state_delegates", "county_delegates", "satellite_group"],
        counties,
    )
    header = ["unit_id", "county", "precinct", "satellite", "delegates_total", "sde_ratio"]
    for part in ("first", "final", "delegates", "sde"):
        header += [f"{part}_{c}" for c in cands]
    _write(out / "iowa-2020-results.csv", header, res)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not (args.source / "results-certified.csv").is_file():
        print(f"convert_iowa_2020: no results-certified.csv in {args.source}", file=sys.stderr)
        return 2
    stats = convert(args.source, args.out)
    print(
        f"wrote {stats['units']} units to {args.out} "
        f"(D recovered from SDE for {stats['recovered_d']} precincts, "
        f"{stats['matched_starts']} satellite start times matched)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
