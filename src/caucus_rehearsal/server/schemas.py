"""Request bodies of contract v1 as Pydantic models (they also make ``/openapi.json``).

Counts are strict integers (``"5"`` and ``5.0`` are refused) within sane bounds, so that
no input can reach the arithmetic as something it does not expect.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_COUNT = 1_000_000
"""Largest head count accepted anywhere (far above any real precinct)."""

Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Ident = Annotated[str, Field(min_length=1, max_length=64)]
Tally = Annotated[dict[Name, Count], Field(max_length=100)]
"""Candidate name -> head count; a candidate left out counts 0."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChairLogin(_Body):
    """Chair sign-in with the precinct's 6-digit PIN."""

    precinct_id: Ident
    pin: Annotated[str, Field(min_length=1, max_length=32)]


class OperatorLogin(_Body):
    """Hotline operator sign-in."""

    operator_id: Ident
    password: Annotated[str, Field(min_length=1, max_length=200)]


class AttendanceBody(_Body):
    """T: attendees counted at the opening."""

    attendance: Count


class FirstBody(_Body):
    """First alignment head counts."""

    first: Tally


class FinalBody(_Body):
    """Final alignment head counts and the county delegates awarded."""

    final: Tally
    delegates: Tally


class HotlineReport(_Body):
    """A whole precinct's three data sets as read over the phone."""

    attendance: Count
    first: Tally
    final: Tally
    delegates: Tally


class CountyIn(_Body):
    """A county or satellite group: S_k and C_k give the SDE of one county delegate."""

    name: Name
    state_delegates: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
    county_delegates: Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
    satellite_group: bool = False


class PrecinctIn(_Body):
    """A reporting unit; ``delegates`` is D (ignored for a satellite)."""

    id: Ident
    county: Name
    name: Annotated[str, Field(max_length=200)]
    satellite: bool = False
    delegates: Annotated[int, Field(strict=True, ge=0, le=1000)]
    pin: Annotated[str, Field(min_length=1, max_length=32)]


class OperatorIn(_Body):
    """A hotline operator's credentials."""

    id: Ident
    password: Annotated[str, Field(min_length=1, max_length=200)]


class RosterIn(_Body):
    """The provisioning body: the roster file the rehearsal writes (``roster.json``)."""

    election: Annotated[str, Field(max_length=200)] = ""
    candidates: Annotated[list[Name], Field(min_length=1, max_length=100)]
    counties: Annotated[list[CountyIn], Field(max_length=10_000)]
    precincts: Annotated[list[PrecinctIn], Field(max_length=100_000)]
    operators: Annotated[list[OperatorIn], Field(max_length=10_000)] = []


class FaultsBody(_Body):
    """The fault specs to make active (replacing the current set)."""

    faults: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=20)]
