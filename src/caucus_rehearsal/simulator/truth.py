"""Ground truth of the night and the worksheets chairs will actually report.

``build_truth(scenario, roster)`` gives, per unit: attendance, first alignment,
realignment along the second-choice matrix, final alignment, delegates and SDE (the
truth); then the worksheet the chair reports, which with the scenario's error rates
differs from the truth in labelled ways (``scenario.WORKSHEET_ERROR_KINDS``).
Counts are tuples in the roster's candidate order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tally:
    """One unit's three data sets plus SDE.

    ``attendance`` is T, the attendees counted at the opening; ``first``/``final`` are
    head counts per candidate; ``delegates`` county delegates per candidate (sum D when
    enough groups are viable); ``sde`` state delegate equivalents, 4 decimals.
    """

    attendance: int
    first: tuple[int, ...]
    final: tuple[int, ...]
    delegates: tuple[int, ...]
    sde: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class UnitTruth:
    """What really happened at one unit; ``delegates_total`` is D (for satellites, by tier);
    ``coin_toss`` is True when a tie had to be broken by lot."""

    unit_id: str
    delegates_total: int
    tally: Tally
    coin_toss: bool


@dataclass(frozen=True, slots=True)
class Worksheet:
    """What the chair writes down and reports; ``error`` is None or one of
    ``WORKSHEET_ERROR_KINDS``, ``error_detail`` says what changed in plain words."""

    unit_id: str
    tally: Tally
    error: str | None = None
    error_detail: str = ""


@dataclass(frozen=True, slots=True)
class Truth:
    """Truth and worksheets of every unit, in roster order."""

    candidates: tuple[str, ...]
    units: tuple[UnitTruth, ...]
    worksheets: tuple[Worksheet, ...]
