"""The roster: counties, reporting units (precincts and satellites) and their chairs.

``build_roster(scenario)`` gives the real 1,765 units of 2020 for ``source = "iowa-2020"``
(from ``scenarios/data/``) or a synthetic electorate with heavy-tailed turnout.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from faker import Faker

from caucus_rehearsal import rules
from caucus_rehearsal.errors import InputFileError, ScenarioError
from caucus_rehearsal.simulator.loader import data_dir
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.streams import int_seed, stream

IOWA_UNITS = "iowa-2020-units.csv"
IOWA_COUNTIES = "iowa-2020-counties.csv"
IOWA_RESULTS = "iowa-2020-results.csv"


@dataclass(frozen=True, slots=True)
class County:
    """A county (or a satellite pseudo-county such as ``CD1 Satellite``).

    ``state_delegates`` S_k and ``county_delegates`` C_k give the SDE of one county
    delegate, ``ratio = S_k / C_k``. For a satellite group, ``state_delegates`` is the
    group's SDE, shared among its satellites by attendance.
    """

    name: str
    state_delegates: float
    county_delegates: int
    satellite_group: bool = False

    @property
    def ratio(self) -> float:
        """SDE per county delegate in this county (0 when it elects none)."""
        return self.state_delegates / self.county_delegates if self.county_delegates else 0.0


@dataclass(frozen=True, slots=True)
class Chair:
    """The unit's chair, as the party's contact sheet has them; ``pin`` is 6 digits."""

    name: str
    phone: str
    email: str
    pin: str


@dataclass(frozen=True, slots=True)
class Unit:
    """One reporting unit.

    ``index`` is its position in the roster (0-based, stable for a scenario);
    ``unit_id`` is URL-safe and stable (``IA-0001``); ``delegates`` is D, the county
    delegates it elects (for a satellite, 0 here: its D follows from its attendance);
    ``start`` is when its meeting starts, in simulation minutes (0 = 19:00);
    ``expected_attendance`` is the attendance planned for (2020: the certified count).
    """

    index: int
    unit_id: str
    county: str
    name: str
    satellite: bool
    delegates: int
    start: float
    expected_attendance: int
    chair: Chair


@dataclass(frozen=True, slots=True)
class Roster:
    """Everything known before the night: candidates, counties and units in a fixed order."""

    candidates: tuple[str, ...]
    counties: tuple[County, ...]
    units: tuple[Unit, ...]
    _county_index: dict[str, County] = field(default_factory=dict, compare=False, repr=False)

    def county(self, name: str) -> County:
        """The county called ``name``; ``KeyError`` names it when unknown."""
        if not self._county_index:
            self._county_index.update({c.name: c for c in self.counties})
        return self._county_index[name]


def build_roster(scenario: Scenario) -> Roster:
    """The counties, units and chairs of ``scenario`` (real 2020 or synthetic)."""
    if scenario.election.source == "iowa-2020":
        return _iowa_roster(scenario)
    return _synthetic_roster(scenario)


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a canonical data file; ``InputFileError`` names a missing or unreadable one."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror})") from None


def clock_minutes(text: str) -> float:
    """``"19:00"`` -> 0.0, ``"12:00"`` -> -420.0: minutes after 19:00."""
    hours, _, minutes = text.partition(":")
    return (int(hours) - 19) * 60.0 + int(minutes)


def make_chairs(seed: int, n: int) -> list[Chair]:
    """``n`` chairs with Faker names, phones, e-mails and distinct 6-digit PINs."""
    fake = Faker("en_US")
    fake.seed_instance(int_seed(seed, "chairs"))
    pins = stream(seed, "pins").choice(900_000, size=n, replace=False) + 100_000
    chairs = []
    for pin in pins:
        first, last = fake.first_name(), fake.last_name()
        email = f"{first}.{last}@{fake.free_email_domain()}".lower().replace("'", "")
        chairs.append(Chair(f"{first} {last}", fake.phone_number(), email, str(int(pin))))
    return chairs


def _iowa_roster(scenario: Scenario) -> Roster:
    folder = data_dir()
    unit_rows = read_csv(folder / IOWA_UNITS)
    county_rows = read_csv(folder / IOWA_COUNTIES)
    header = read_csv_header(folder / IOWA_RESULTS)
    known = [h.removeprefix("final_") for h in header if h.startswith("final_")]
    unknown = [c for c in scenario.election.candidates if c not in known]
    if unknown:
        raise ScenarioError(
            scenario.source, "election.candidates", unknown[0],
            "a candidate of the 2020 results: " + ", ".join(known),
        )
    counties = tuple(
        County(r["county"], float(r["state_delegates"]), int(r["county_delegates"]),
               r["satellite_group"] == "1")
        for r in county_rows
    )
    chairs = make_chairs(scenario.scenario.seed, len(unit_rows))
    units = tuple(
        Unit(
            index=i,
            unit_id=r["unit_id"],
            county=r["county"],
            name=r["precinct"],
            satellite=r["satellite"] == "1",
            delegates=int(r["delegates"]),
            start=clock_minutes(r["start"]),
            expected_attendance=int(r["expected_attendance"]),
            chair=chairs[i],
        )
        for i, r in enumerate(unit_rows)
    )
    return Roster(tuple(scenario.election.candidates), counties, units)


def read_csv_header(path: Path) -> list[str]:
    """The header row of a CSV file."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return next(csv.reader(fh), [])
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror})") from None


def _county_sizes(rng: np.random.Generator, units: int, counties: int) -> list[int]:
    """Precincts per county: one each, the rest by heavy-tailed (Dirichlet 0.7) weights."""
    base = min(units, counties)
    sizes = [1] * base + [0] * (counties - base)
    weights = rng.dirichlet(np.full(counties, 0.7))
    extra = rng.multinomial(units - base, weights)
    return [int(a + b) for a, b in zip(sizes, extra, strict=True)]


def _state_delegates(county_delegates: int, ratio: float) -> float:
    """S_k: an integer, at least 1 for a county that elects anyone."""
    return float(max(1, round(county_delegates * ratio))) if county_delegates else 0.0


def _synthetic_roster(scenario: Scenario) -> Roster:
    e = scenario.election
    seed = scenario.scenario.seed
    rng = stream(seed, "roster")
    names = Faker("en_US")
    names.seed_instance(int_seed(seed, "county-names"))
    county_names = [f"{names.unique.last_name()}" for _ in range(e.counties)]
    sizes = _county_sizes(rng, e.units, e.counties)
    attendance = np.maximum(1, np.rint(e.attendance.sample(rng, e.units))).astype(int)
    sat_attendance = np.maximum(
        1, np.rint(e.attendance.sample(rng, e.satellites) / 3)
    ).astype(int)
    chairs = make_chairs(seed, e.units + e.satellites)
    units: list[Unit] = []
    counties: list[County] = []
    k = 0
    for name, size in zip(county_names, sizes, strict=True):
        ds = [max(1, round(int(a) * e.delegates_per_100 / 100)) for a in attendance[k : k + size]]
        for j, d in enumerate(ds):
            i = len(units)
            units.append(Unit(i, f"IA-{i + 1:04d}", name, f"{name} {j + 1:02d}", False, d, 0.0,
                              int(attendance[k + j]), chairs[i]))
        k += size
        c_k = sum(ds)
        counties.append(County(name, _state_delegates(c_k, e.state_delegates_per_county_delegate),
                               c_k))
    for s, att in enumerate(sat_attendance):
        i = len(units)
        group = f"Satellite {s + 1:02d}"
        d = rules.satellite_delegates(int(att))
        units.append(Unit(i, f"IA-{i + 1:04d}", group, f"{group} site", True, 0, 0.0, int(att),
                          chairs[i]))
        counties.append(County(group, _state_delegates(d, e.state_delegates_per_county_delegate),
                               d, True))
    return Roster(tuple(e.candidates), tuple(counties), tuple(units))


def units_by_county(roster: Roster) -> dict[str, list[Unit]]:
    """The roster's units grouped by county, in roster order."""
    out: dict[str, list[Unit]] = {}
    for u in roster.units:
        out.setdefault(u.county, []).append(u)
    return out


def expected(units: Sequence[Unit]) -> int:
    """Total expected attendance of ``units``."""
    return sum(u.expected_attendance for u in units)
