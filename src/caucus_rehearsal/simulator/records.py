"""What the night model records: immutable records appended as the night runs.

The model never prints or aggregates; :mod:`.series` derives every time series and
metric from these records afterwards. Times are simulation minutes (0 = 19:00).

The records a night appends by the thousand (:class:`AppAttempt`, :class:`Call`,
:class:`UnitOutcome`) are typed named tuples rather than frozen dataclasses: equally
immutable and named, but about 3x cheaper to create (0.8 us against 2.8 us each; a frozen dataclass
sets every field through ``object.__setattr__``), which keeps a full iowa-2020 night
within 2x of bare SimPy (benchmarks/bench_night.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from caucus_rehearsal.simulator.stages import StageTimes

make = tuple.__new__
"""``make(Call, (...all fields...))`` builds a record without the named tuple's Python-level
``__new__`` (what ``Call._make`` does): the model's hot paths use it, with every field."""

NUISANCE = -1
"""``Call.caller`` of a nuisance caller (chairs' calls carry their unit index)."""

CALL_OUTCOMES = ("busy", "abandoned", "answered")
APP_OUTCOMES = ("ok", "error", "timeout", "rejected", "chair_error")
"""``rejected``: sign-in refused; ``chair_error``: a confused chair got the step wrong;
``error``: server error or outage; ``timeout``: waited too long for the target."""


class AppAttempt(NamedTuple):
    """One app request by a chair: ``step`` is one of ``plan.APP_STEPS``."""

    unit_index: int
    step: str
    attempt: int
    start: float
    end: float
    outcome: str


class Call(NamedTuple):
    """One dial of the hotline.

    ``caller`` is the unit index, or :data:`NUISANCE`; ``call_no`` counts the caller's
    dials from 0; ``hold`` is the time on hold (0 for a busy signal or an immediate
    answer); ``service`` the operator's time (0 unless answered); ``typo`` whether the
    operator keyed a number wrong.
    """

    caller: int
    call_no: int
    dial: float
    outcome: str
    hold: float
    service: float
    typo: bool = False


class UnitOutcome(NamedTuple):
    """How one unit's report travelled.

    ``channel`` is ``app``, ``hotline`` or ``paper`` (the channel that delivered it), or
    ``none`` when nothing arrived before the horizon; ``received`` is when the party
    had it (inf if never); ``verified`` and ``published`` follow on the central side.
    """

    unit_index: int
    ready_at: float
    channel: str
    app_failures: int
    calls: int
    received: float
    verified: float
    published: float


@dataclass(frozen=True, slots=True)
class NightResult:
    """Everything one replication of the night recorded.

    ``processes`` and ``events`` count SimPy processes started and events scheduled
    (for the cost comparison in benchmarks/bench_night.py); ``stages`` is where each
    unit's time went (:mod:`.stages`), derived from the rest, so not compared.
    """

    replication: int
    units: tuple[UnitOutcome, ...]
    app_attempts: tuple[AppAttempt, ...]
    calls: tuple[Call, ...]
    processes: int
    events: int
    stages: StageTimes | None = field(default=None, compare=False)
