"""The compressed clock of a live run.

Simulated minutes (after 19:00 on caucus night) map to wall time (Unix epoch seconds)::

    wall = t0_wall + (sim_min - sim_start_min) * 60 / speed

``speed`` is simulated seconds per wall second: at 60 an hour of the night plays in a
minute. Only modelled durations are compressed; what is real (the target's response
time) is real on the modelled clock too (docs/time.md). The clock is a frozen value:
every process of a run (orchestrator, Locust master and workers) rebuilds the same one
from the arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

START_LEAD_S = 3.0
"""Wall seconds between a start and the night's first minute, at least, when the Locust
master chooses ``--t0`` (plain Locust, or workers on other machines)."""
UNITS_PER_LEAD_S = 300
"""...plus a second per this many units: every process builds its part of the night and
Locust spawns a chair slot per unit before the first minute."""


def start_lead_s(units: int) -> float:
    """Wall seconds from a start to the night's first minute for a night of ``units``."""
    return START_LEAD_S + units / UNITS_PER_LEAD_S


@dataclass(frozen=True, slots=True)
class SimClock:
    """Maps simulation minutes to wall seconds; ``speed`` must be > 0."""

    t0_wall: float
    speed: float
    sim_start_min: float

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed(={self.speed}) must be > 0")

    def wall(self, sim_min: float) -> float:
        """The wall time (epoch seconds) at which the night reaches ``sim_min``."""
        return self.t0_wall + (sim_min - self.sim_start_min) * 60.0 / self.speed

    def sim(self, wall: float) -> float:
        """The simulation minute at wall time ``wall``."""
        return self.sim_start_min + (wall - self.t0_wall) * self.speed / 60.0

    def wall_seconds(self, sim_minutes: float) -> float:
        """Wall seconds that ``sim_minutes`` of *modelled* duration take (compressed)."""
        return sim_minutes * 60.0 / self.speed

    def sim_minutes(self, wall_seconds: float) -> float:
        """Simulated minutes that pass on the run's clock in ``wall_seconds`` (how far a
        late action is behind its modelled moment); not the modelled length of a real
        duration, which is ``wall_seconds / 60`` (real time is never compressed)."""
        return wall_seconds * self.speed / 60.0
