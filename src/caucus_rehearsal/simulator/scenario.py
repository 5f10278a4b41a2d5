"""The scenario: every parameter of a rehearsal, loaded once into frozen objects.

A scenario is a TOML file (``scenarios/*.toml``) with these tables; each key is
documented on its field below, with its unit. Times of day are clock times
(``"22:30"``, ``"16:00+1d"``) and become minutes after 19:00; durations carry units
(``"45min"``) and become minutes; distributions are inline tables (see ``dists.py``).

``[scenario]`` name, seed · ``[election]`` units, candidates, support · ``[meeting]`` ·
``[people]`` the chairs · ``[app]`` · ``[hotline]`` · ``[paper]`` · ``[adversaries]`` ·
``[central]`` verification and release · ``[target]`` the modelled target for pure
simulation · ``[live]`` live-run settings · ``[demand]`` the public and the media reading
the results (``demand.py``) · ``gates`` pass/fail conditions.

Load with :func:`load_scenario`; override any value with ``overrides=["hotline.operators=80"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.simulator.demand import Demand
from caucus_rehearsal.simulator.dists import Dist
from caucus_rehearsal.simulator.gates import Gate, parse_gate
from caucus_rehearsal.simulator.schema import spec
from caucus_rehearsal.simulator.units import parse_clock

WORKSHEET_ERROR_KINDS = (
    "arithmetic_slip",
    "wrong_attendee_count",
    "delegate_misallocation",
    "swapped_columns",
    "transposed_digits",
)
"""The labelled ways a chair's worksheet can differ from the truth."""


def _d(name: str, *params: float) -> Dist:
    return Dist(name, params)


@dataclass(frozen=True, slots=True)
class ScenarioMeta:
    """``[scenario]``: identity and the seed every random stream derives from."""

    name: str = spec("str")
    description: str = spec("str", "")
    seed: int = spec("int", 20200203, min=0)


@dataclass(frozen=True, slots=True)
class Election:
    """``[election]``: the reporting units and the electorate.

    ``source = "iowa-2020"`` uses the real 2020 units, apportionment and certified
    results shipped in ``scenarios/data/`` (``units``, ``counties``, ``satellites``,
    ``attendance`` and ``support`` are then ignored except as documented);
    ``"synthetic"`` draws units from the parameters below.
    """

    source: str = spec("str", "synthetic", choices=("synthetic", "iowa-2020"))
    units: int = spec("int", 40, min=1, max=100000)
    """synthetic: number of in-state precincts."""
    counties: int = spec("int", 4, min=1, max=5000)
    satellites: int = spec("int", 0, min=0, max=10000)
    """synthetic: number of satellite caucuses (each in its own group)."""
    candidates: tuple[str, ...] = spec(
        "str_list", ("Buttigieg", "Sanders", "Warren", "Biden", "Klobuchar", "Yang"))
    support: tuple[float, ...] = spec("float_list", (0.25, 0.25, 0.19, 0.15, 0.12, 0.04),
                                      min=0.0)
    """Statewide first-choice shares, one per candidate (normalised to sum to 1)."""
    support_concentration: float = spec("float", 30.0, min=0.1)
    """Dirichlet concentration of precinct-level support around the statewide shares:
    lower means precincts differ more."""
    second_choices: tuple[tuple[str, float], ...] = spec("weights", ())
    """Unused unless set: extra weight a candidate's supporters give each other candidate
    when realigning (``"Klobuchar>Biden" = 3``); the default is proportional to support."""
    leave_after_nonviable: float = spec("prob", 0.12)
    """Fraction of a non-viable group's members who go home instead of realigning."""
    attendance: Dist = spec("count_dist", lambda: _d("lognormal", 61.0, 245.0))
    """synthetic: attendees per precinct (2020: median 61, p90 245, max 860)."""
    delegates_per_100: float = spec("float", 6.5, min=0.1)
    """synthetic: county delegates per 100 expected attendees (2020: 11,402 / 176,352)."""
    state_delegates_per_county_delegate: float = spec("float", 0.185, min=0.0)
    """synthetic: mean SDE ratio S_k / C_k (2020: 2,107 / 11,402)."""
    first_alignment: str = spec("str", "drawn", choices=("drawn", "certified"))
    """iowa-2020: ``certified`` takes the real first alignment as the truth; ``drawn``
    resamples it around the real shares and attendance."""


@dataclass(frozen=True, slots=True)
class Meeting:
    """``[meeting]``: the caucus meeting, per precinct."""

    doors_open: float = spec("clock", -30.0)
    doors_close: float = spec("clock", 0.0)
    checkin_desks: int = spec("int", 2, min=1)
    """Check-in desks per 100 expected attendees (at least one per site)."""
    checkin_time: Dist = spec("dist", lambda: _d("lognormal", 0.5, 1.5))
    """Per attendee at a desk, including same-day registration."""
    intro_business: Dist = spec("dist", lambda: _d("uniform", 15.0, 30.0))
    first_alignment: Dist = spec("dist", lambda: _d("lognormal", 12.0, 20.0))
    """Counting the first alignment in a room of 100; scales with the square root of size."""
    realignment: float = spec("duration", 15.0, min=0.0)
    math: Dist = spec("dist", lambda: _d("lognormal", 12.0, 30.0))
    """Filling and signing the math worksheet after the final count."""


@dataclass(frozen=True, slots=True)
class People:
    """``[people]``: precinct chairs, their readiness and habits."""

    app_installed: float = spec("prob", 0.9)
    """Probability that the chair installed the app before the night."""
    app_can_login: float = spec("prob", 0.95)
    """Given installed: probability the chair's sign-in and PIN work."""
    app_knows_flow: float = spec("prob", 0.95)
    """Given signed in: probability the chair completes the flow without confusion."""
    app_patience: Dist = spec("dist", lambda: _d("lognormal", 20.0, 60.0))
    """How long a chair keeps trying the app before falling back to the hotline."""
    app_max_failures: int = spec("int", 5, min=1)
    """Failed app attempts after which the chair falls back to the hotline."""
    retry_backoff: Dist = spec("dist", lambda: _d("exponential", 1.0))
    """Wait before retrying a failed app step (doubles on each further failure)."""
    step_think_time: Dist = spec("dist", lambda: _d("lognormal", 0.5, 1.5))
    """Time the chair takes to key in one app step."""
    hold_patience: Dist = spec("dist", lambda: _d("lognormal", 30.0, 90.0))
    """Time on hold before hanging up."""
    redial_delay: Dist = spec("dist", lambda: _d("exponential", 10.0))
    """Wait before calling again after a busy signal or hanging up."""
    confused_step_failure: float = spec("prob", 0.5)
    """For a chair who does not know the app's flow: probability that one app step goes
    wrong by the chair's own mistake and must be redone (counts as a failure)."""
    max_calls: int = spec("int", 12, min=1)
    """Calls after which a chair gives up on the phone and the paper worksheet decides."""
    worksheet_error_rate: float = spec("prob", 0.04)
    """Fraction of worksheets with a mistake (2020: 3-5% of published precincts)."""
    worksheet_errors: tuple[tuple[str, float], ...] = spec(
        "weights",
        lambda: (("arithmetic_slip", 0.3), ("delegate_misallocation", 0.3),
                 ("swapped_columns", 0.1), ("transposed_digits", 0.15),
                 ("wrong_attendee_count", 0.15)),
        choices=WORKSHEET_ERROR_KINDS)
    """Relative weight of each kind of worksheet mistake."""


@dataclass(frozen=True, slots=True)
class App:
    """``[app]``: the reporting app."""

    enabled: bool = spec("bool", True)
    crash_rate: float = spec("prob", 0.0)
    """Probability that the app crashes during one step (the step must be redone)."""
    photo: bool = spec("bool", True)
    """Whether the flow ends with the worksheet photo upload."""


@dataclass(frozen=True, slots=True)
class Hotline:
    """``[hotline]``: the phone hotline."""

    lines: int = spec("int", 85, min=0)
    """Phone lines; a caller who finds all busy hears a busy signal (0 = unlimited).
    Without ``hold_capacity`` a caller on hold holds a line too, so at most
    ``lines - operators`` callers can hold."""
    operators: int = spec("int", 50, min=0)
    hold_capacity: int | None = spec("int", None, optional=True, min=0)
    """Callers the phone system itself keeps on hold, in a queue of its own, beyond those
    talking to an operator; a caller who finds no operator free and the queue full hears
    a busy signal. A caller on hold then takes no line (a call being answered does: at
    most ``lines`` operators talk at once, 0 = unlimited). Unset (the default): callers
    hold on the lines, as above."""
    service_time: Dist = spec("dist", lambda: _d("lognormal", 6.0, 12.0))
    """One call, including reading the numbers back."""
    typo_rate: float = spec("prob", 0.01)
    """Probability that the operator keys a number wrong."""
    abandonment: bool = spec("bool", True)
    """Whether callers on hold hang up when their patience runs out."""
    opens: float = spec("clock", -30.0)


@dataclass(frozen=True, slots=True)
class Paper:
    """``[paper]``: the last resort, the signed worksheet delivered to the party."""

    delivery: Dist = spec("dist", lambda: _d("uniform", 720.0, 2160.0))
    """Delay from giving up on the phone to the worksheet reaching the party."""


@dataclass(frozen=True, slots=True)
class Adversaries:
    """``[adversaries]``: traffic that is not a chair reporting honestly."""

    nuisance_start: float | None = spec("clock", None, optional=True)
    """When nuisance callers start (2020: about 22:00); none by default."""
    nuisance_rate_per_min: float = spec("float", 0.0, min=0.0)
    nuisance_hold: Dist = spec("dist", lambda: _d("exponential", 2.0))
    """How long a nuisance call holds an operator."""
    bad_login_rate_per_min: float = spec("float", 0.0, min=0.0)
    """Sign-ins with wrong PINs, spread over the night."""
    brute_force_attackers: int = spec("int", 0, min=0)
    """Attackers cycling PINs against one precinct each (live run)."""
    replay_rate_per_min: float = spec("float", 0.0, min=0.0)
    """Replayed submissions (same Idempotency-Key or same body) per minute (live run)."""
    cross_precinct_rate_per_min: float = spec("float", 0.0, min=0.0)
    """Submissions with one precinct's token against another precinct (live run)."""
    malformed_rate_per_min: float = spec("float", 0.0, min=0.0)
    """Malformed payloads per minute (live run)."""


@dataclass(frozen=True, slots=True)
class Central:
    """``[central]``: validation, verification and release at the party."""

    validation_time: Dist = spec("dist", lambda: _d("fixed", 0.5))
    verifiers: int = spec("int", 20, min=1)
    """People verifying reports (until the first of ``shifts``)."""
    shifts: tuple[tuple[float, int], ...] = spec(
        "custom", (), parse=lambda raw: _shifts(raw),
        expected="a table of clock times to verifiers on duty, like {\"23:00+1d\" = 4}")
    """Verifiers on duty from each clock time on (``{"16:00+1d" = 8, "10:00+2d" = 13}``),
    until the next; before the first, ``verifiers``. A verifier whose shift ends in the
    middle of a report finishes it. ``--set central.shifts.23:00+1d=4`` sets one."""
    verification_time: Dist = spec("dist", lambda: _d("lognormal", 3.0, 8.0))
    """Checking one report against the worksheet photo or paper."""
    release_policy: str = spec("str", "continuous", choices=("continuous", "batches", "percent"))
    release_times: tuple[float, ...] = spec("clock_list", ())
    """``batches``: release everything verified at each of these times."""
    release_percents: tuple[float, ...] = spec("float_list", (), min=0.0, max=100.0)
    """``percent``: release when verified units first reach each of these percentages."""
    halt_start: float | None = spec("clock", None, optional=True)
    """Publication halted from here (the 2020 conversion failure); reports keep arriving."""
    halt_end: float | None = spec("clock", None, optional=True)
    horizon: float = spec("clock", 10080.0)
    """``rehearse simulate`` stops here (default 19:00+7d); units not published by then
    count as never published."""


@dataclass(frozen=True, slots=True)
class Outage:
    """``[[target.outages]]``: a window in which the target answers nothing useful."""

    start: float = spec("clock")
    duration: float = spec("duration", min=0.0)


@dataclass(frozen=True, slots=True)
class Target:
    """``[target]``: the target as modelled in pure simulation (``rehearse simulate``)."""

    latency: Dist = spec("dist", lambda: _d("lognormal", 0.2 / 60, 0.8 / 60))
    error_rate: float = spec("prob", 0.005)
    """Probability that one request fails with a server error."""
    login_failure_rate: float = spec("prob", 0.0)
    """Probability that a valid sign-in is refused anyway (2020 login trouble)."""
    capacity: int = spec("int", 200, min=1)
    """Requests served at once; more wait in line."""
    timeout: float = spec("duration", 0.5, min=0.0)
    """A request waiting longer than this counts as failed."""
    outages: tuple[Outage, ...] = spec("table_list", (), of=Outage)


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    """``[[live.faults]]``: a reference-server fault switched on at a clock time."""

    at: float = spec("clock")
    fault: str = spec("str")
    """A fault as ``rehearse serve --fault`` takes it: ``outage``, ``errors:0.2``..."""
    until: float | None = spec("clock", None, optional=True)


SPEED_MIN = 1.0
"""The slowest compression: real time (a rehearsal slower than the night has no use, and
``--speed 1e-9`` would never end)."""
SPEED_MAX = 3600.0
"""The fastest compression: an hour of the night per wall second (smoke plays in ~7 s).
Beyond it modelled think times and backoffs shrink below the target's real latency and
the load generator's own lag: the rehearsal could not keep the night's schedule."""


def check_speed(value: float, flag: str = "--speed") -> float:
    """``value`` if it is a compression from :data:`SPEED_MIN` to :data:`SPEED_MAX`,
    else ``UsageError`` naming ``flag`` (inf and nan included)."""
    if not SPEED_MIN <= value <= SPEED_MAX:
        raise UsageError(f"{flag} {value}: expected simulated seconds per wall second from "
                         f"{SPEED_MIN:g} (real time) to {SPEED_MAX:g}")
    return value


@dataclass(frozen=True, slots=True)
class Live:
    """``[live]``: settings of the live rehearsal (``rehearse run``)."""

    speed: float = spec("float", 60.0, min=SPEED_MIN, max=SPEED_MAX)
    """Compression: simulated seconds per wall second (60 plays an hour in a minute),
    from 1 (real time) to 3600."""
    start: float = spec("clock", -30.0)
    """The simulated clock time at which the live run begins."""
    end: float = spec("clock", 300.0)
    """The simulated clock time at which the run stops, done or not."""
    snapshot_interval: float = spec("duration", 1 / 30, min=0.0)
    """Wall-clock interval between snapshots of the published results."""
    request_timeout: float = spec("duration", 1 / 6, min=0.0)
    """Wall-clock timeout of one request to the target."""
    faults: tuple[ScheduledFault, ...] = spec("table_list", (), of=ScheduledFault)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario; ``source`` is the file it came from (or ``<defaults>``)."""

    scenario: ScenarioMeta = spec("section", of=ScenarioMeta)
    election: Election = spec("section", of=Election)
    meeting: Meeting = spec("section", of=Meeting)
    people: People = spec("section", of=People)
    app: App = spec("section", of=App)
    hotline: Hotline = spec("section", of=Hotline)
    paper: Paper = spec("section", of=Paper)
    adversaries: Adversaries = spec("section", of=Adversaries)
    central: Central = spec("section", of=Central)
    target: Target = spec("section", of=Target)
    live: Live = spec("section", of=Live)
    demand: Demand = spec("section", of=Demand)
    gates: tuple[Gate, ...] = spec("custom", (), parse=lambda raw: _gates(raw),
                                   expected="a list of gates like 'data_loss == 0'")
    source: str = spec("str", "<defaults>")

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def seed(self) -> int:
        return self.scenario.seed


def _shifts(raw: object) -> tuple[tuple[float, int], ...]:
    if not isinstance(raw, dict):
        raise ValueError("a table of clock times to verifiers on duty, like {\"23:00+1d\" = 4}")
    out = []
    for clock, n in raw.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"shift {clock!r}: verifiers {n!r} must be a whole number >= 0")
        out.append((parse_clock(clock), n))
    return tuple(sorted(out))


def _gates(raw: object) -> tuple[Gate, ...]:
    if not isinstance(raw, list):
        raise ValueError("a list of gates like 'data_loss == 0'")
    return tuple(parse_gate(g) for g in raw)
