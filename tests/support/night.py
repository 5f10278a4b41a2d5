"""Helpers for the night-model tests: tiny rosters and truths built from the dataclasses."""

from __future__ import annotations

from typing import Any

from caucus_rehearsal.simulator.roster import Chair, County, Roster, Unit
from caucus_rehearsal.simulator.truth import Tally, Truth, UnitTruth, Worksheet

CANDIDATES = ("A", "B")


def tiny_roster(n: int, attendance: int = 60, start: float = 0.0) -> Roster:
    """``n`` units of one county, all starting at ``start`` with ``attendance``."""
    units = tuple(
        Unit(index=i, unit_id=f"T-{i:04d}", county="C", name=f"P{i}", satellite=False,
             delegates=4, start=start, expected_attendance=attendance,
             chair=Chair(name=f"Chair {i}", phone="555-0100", email="c@example.org",
                         pin=f"{i:06d}"))
        for i in range(n))
    return Roster(candidates=CANDIDATES, counties=(County("C", 1.0, 4 * n),), units=units)


def tiny_truth(roster: Roster) -> Truth:
    """A truth with one identical tally per unit (the worksheet equals the truth)."""
    t = Tally(attendance=60, first=(35, 25), final=(35, 25), delegates=(2, 2),
              sde=(0.5, 0.5))
    return Truth(candidates=CANDIDATES,
                 units=tuple(UnitTruth(u.unit_id, 4, t, False) for u in roster.units),
                 worksheets=tuple(Worksheet(u.unit_id, t) for u in roster.units))


def hotline_only_raw(window_min: float, service_mean: float, patience_mean: float | None,
                     seed: int = 7) -> dict[str, Any]:
    """The raw table of a hotline-only night: no app, unlimited lines, one call per chair,
    exponential service (and patience, unless None), meetings ending uniformly over
    ``window_min`` minutes from 19:00: Poisson arrivals in the middle of the window."""
    raw: dict[str, Any] = {
        "scenario": {"name": "mmc", "seed": seed},
        "meeting": {"checkin_time": {"dist": "fixed", "value": "0min"},
                    "intro_business": {"dist": "uniform", "low": "0min",
                                       "high": f"{window_min}min"},
                    "first_alignment": {"dist": "fixed", "value": "0min"},
                    "realignment": "0min", "math": {"dist": "fixed", "value": "0min"}},
        "people": {"max_calls": 1},
        "app": {"enabled": False},
        "hotline": {"lines": 0, "opens": "18:00", "abandonment": patience_mean is not None,
                    "service_time": {"dist": "exponential", "mean": f"{service_mean}min"}},
        "central": {"horizon": "19:00+5d"},
    }
    if patience_mean is not None:
        raw["people"]["hold_patience"] = {"dist": "exponential", "mean": f"{patience_mean}min"}
    return raw
