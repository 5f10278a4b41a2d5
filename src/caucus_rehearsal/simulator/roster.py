"""The roster: counties, reporting units (precincts and satellites) and their chairs.

``build_roster(scenario)`` gives the real 1,765 units of 2020 for ``source = "iowa-2020"``
(from ``scenarios/data/``) or a synthetic electorate with heavy-tailed turnout.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
