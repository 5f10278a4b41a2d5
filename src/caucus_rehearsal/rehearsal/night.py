"""What every process of a run rebuilds from the arguments alone: the roster, the truth,
the plan, the operators' credentials and which worker owns which unit.

The orchestrator and each Locust process call :func:`build_night` with the same scenario
and get the same night (every draw is keyed by the scenario seed), so the master ships
nothing but the arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caucus_rehearsal.rehearsal.hotline import operator_ids
from caucus_rehearsal.rundir.records import RunInfo
from caucus_rehearsal.rundir.writer import write_start
from caucus_rehearsal.simulator.plan import ChairPlan, draw_plan, plan_to_json, tally_json
from caucus_rehearsal.simulator.roster import Roster
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.streams import stream
from caucus_rehearsal.simulator.truth import Truth, truth_rows


@dataclass(frozen=True, slots=True)
class Night:
    """One scenario's night: roster, truth and plans in roster order."""

    scenario: Scenario
    roster: Roster
    truth: Truth
    plans: tuple[ChairPlan, ...]

    @property
    def candidates(self) -> tuple[str, ...]:
        return self.roster.candidates

    def worksheet_json(self, index: int) -> dict[str, Any]:
        """Unit ``index``'s worksheet tally as the run directory writes tallies."""
        return tally_json(self.plans[index].worksheet.tally, self.candidates)


def build_night(scenario: Scenario) -> Night:
    """Roster, truth and plan of ``scenario`` (deterministic in its seed)."""
    from caucus_rehearsal.simulator.roster import build_roster
    from caucus_rehearsal.simulator.truth import build_truth

    roster = build_roster(scenario)
    truth = build_truth(scenario, roster)
    return Night(scenario, roster, truth, draw_plan(scenario, roster, truth))


def operator_count(scenario: Scenario) -> int:
    """Operator accounts to provision: the hotline's operators, at least one (paper desk)."""
    return max(1, scenario.hotline.operators)


def operator_credentials(seed: int, n: int) -> list[tuple[str, str]]:
    """(id, password) of ``n`` operators; passwords are seeded, so every process agrees."""
    rng = stream(seed, "operator-passwords")
    return [(op, "pw-" + "".join(f"{int(x):02x}" for x in rng.integers(0, 256, 8)))
            for op in operator_ids(n)]


def roster_body(night: Night) -> dict[str, Any]:
    """The contract v1 provisioning body (``roster.json``)."""
    sc = night.scenario
    return {
        "election": sc.name,
        "candidates": list(night.candidates),
        "counties": [{"name": c.name, "state_delegates": c.state_delegates,
                      "county_delegates": c.county_delegates,
                      "satellite_group": c.satellite_group} for c in night.roster.counties],
        "precincts": [{"id": u.unit_id, "county": u.county, "name": u.name,
                       "satellite": u.satellite, "delegates": 0 if u.satellite else u.delegates,
                       "pin": u.chair.pin} for u in night.roster.units],
        "operators": [{"id": op, "password": pw}
                      for op, pw in operator_credentials(sc.seed, operator_count(sc))],
    }


def owners(seed: int, n_units: int, n_workers: int) -> list[int]:
    """The worker index owning each unit: a seeded shuffle dealt round-robin, so every
    unit has exactly one owner and shares differ by at most one."""
    if n_workers < 1:
        raise ValueError(f"n_workers(={n_workers}) must be >= 1")
    order = stream(seed, "shard").permutation(n_units)
    owner = [0] * n_units
    for position, unit in enumerate(order):
        owner[int(unit)] = position % n_workers
    return owner


def wrong_pin(pin: str) -> str:
    """A PIN that is certainly not ``pin`` (what a chair who cannot sign in types)."""
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def write_night(run_dir: Path, night: Night, scenario_file: Path, run: RunInfo) -> None:
    """The run directory's starting files for ``night`` (``rundir.writer.write_start``):
    ``run``, the scenario as used, the roster, the truth and the plan."""
    write_start(run_dir, scenario_file, roster_body(night),
                truth_rows(night.roster, night.truth),
                (plan_to_json(p, night.candidates) for p in night.plans), run)
