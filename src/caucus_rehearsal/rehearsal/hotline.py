"""The hotline of a live run: lines, operators and a first-come queue with abandonment,
decided on the **modelled** clock (simulation minutes), never on wall time.

A pure discrete-event state machine with no I/O, so one instance serves a whole run: the
Locust master (or the single local process) keeps it and callers reach it through custom
messages (``hotline_link``). It is a conservative simulation: every party that may call
(each unit's chair, the nuisance stream) keeps the pool told the earliest modelled
moment at which it could next dial (its *bound*), and the pool decides a moment only
when nobody can still announce something earlier. So the outcome depends only on the
modelled moments, never on when a busy load generator delivered them (docs/time.md):

    pool.expect(["IA-0001", ...], at=...)                 # who may call, and from when
    pool.dial("IA-0001#0", at=112.0, patience=20.0, service=6.0, party="IA-0001")
    pool.bound("IA-0002", 115.5)                           # "I won't dial before 115.5"
    pool.finish("IA-0001#0", at=118.003)                   # the call ended
    pool.advance() -> [Outcome(...), ...]                  # everything decidable now

A caller holds a line from dialling until its call ends or it hangs up; on hold it is
answered by the first free operator (first come, first served by dial moment), or
abandons when its patience runs out first. A chair's call ends when its operator has
keyed the report in, which takes a real request to the target: the pool knows only that
the call lasts at least ``service`` minutes after the answer, so it decides nothing past
that moment until the caller says when the call ended (``finish``). A nuisance call's
length is wholly modelled (``hold_for``) and ends by itself.

An announcement for a moment the pool has already decided past (possible only when the
keeper had to stop waiting for a party that fell silent) is taken at the pool's current
moment and counted in :attr:`HotlinePool.late`: a fidelity failure the report shows.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass

# Event kinds, in the order they are taken at the same moment: a freed operator first, then
# hang-ups, then new dials (the order of the night model's SimPy processes).
_FINISH, _ABANDON, _DIAL = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to a call: ``result`` is ``busy`` (no free line, at the dial moment),
    ``answered`` (by ``operator``) or ``abandoned``; ``at`` is that moment (simulation
    minutes), ``wait_min`` the time on hold, ``queue_len`` callers left on hold, and
    ``late_min`` how far past its dial moment the pool already was when the dial arrived
    (0 for a faithful run)."""

    caller: str
    result: str
    at: float
    wait_min: float
    operator: str | None
    queue_len: int
    late_min: float = 0.0


@dataclass(slots=True)
class _Call:
    dial: float
    patience: float
    service: float
    hold_for: float | None
    late_min: float
    answered_at: float | None = None
    operator: str | None = None


class HotlinePool:
    """``lines`` phone lines (0 = unlimited) and ``operators`` named ``op-01``...

    With ``hold_capacity`` (``hotline.hold_capacity``, as the night model has it) the
    phone system keeps callers on hold in a queue of its own: a caller who finds no
    operator free and that many callers already holding hears a busy signal, a caller on
    hold takes no line, and at most ``lines`` operators talk at once.
    """

    def __init__(self, lines: int, operators: int, hold_capacity: int | None = None) -> None:
        if lines < 0 or operators < 0 or (hold_capacity is not None and hold_capacity < 0):
            raise ValueError(f"lines(={lines}), operators(={operators}) and "
                             f"hold_capacity(={hold_capacity}) must be >= 0")
        self.hold_capacity = math.inf if hold_capacity is None else hold_capacity
        if hold_capacity is not None:  # the phone system queues; an answered call takes a line
            operators, lines = min(operators, lines or operators), 0
        self.lines = lines
        self.free_operators: deque[str] = deque(operator_ids(operators))
        self.lines_in_use = 0
        self.now = -math.inf
        """The modelled moment up to which the pool has decided."""
        self.late = 0
        """Announcements that arrived after the pool had decided past their moment."""
        self.late_max_min = 0.0
        self._calls: dict[str, _Call] = {}
        self._hold: list[tuple[float, str]] = []  # (dial moment, caller): FCFS by dial
        self._events: list[tuple[float, int, str]] = []  # (moment, kind, caller)
        self._pending: dict[str, float] = {}  # caller talking -> its call ends no earlier
        self._bounds: dict[str, float] = {}  # party -> earliest moment it may next dial
        self._bound_heap: list[tuple[float, str]] = []  # lazily pruned copy of _bounds
        self._party: dict[str, str] = {}  # caller -> its party

    @property
    def queue_len(self) -> int:
        """Callers on hold now."""
        return len(self._hold)

    def expect(self, parties: list[str] | tuple[str, ...], at: float = -math.inf) -> None:
        """``parties`` may call, none before minute ``at`` (until they say otherwise)."""
        for party in parties:
            self.bound(party, at)

    def bound(self, party: str, at: float) -> None:
        """``party`` will not dial before minute ``at`` (``inf``: never again)."""
        self._bounds[party] = at
        if at != math.inf:
            heapq.heappush(self._bound_heap, (at, party))

    def silent(self, party: str) -> None:
        """Stop waiting for ``party`` (it fell silent); a later dial of it counts as late."""
        self.bound(party, math.inf)

    def horizon(self) -> float:
        """The moment up to which the pool can decide: nobody may still announce anything
        earlier, and no call in progress may end earlier."""
        heap, bounds = self._bound_heap, self._bounds
        while heap and bounds.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)  # superseded
        return min(heap[0][0] if heap else math.inf, self.blocked_at())

    def waiting_for(self) -> str | None:
        """The party (or the caller whose call is in progress) holding the horizon back."""
        if self.horizon() == math.inf:
            return None
        if self._bound_heap and self._bound_heap[0][0] <= self.blocked_at():
            return self._bound_heap[0][1]
        return min(self._pending, key=self._pending.__getitem__)

    def dial(self, caller: str, at: float, patience: float = math.inf, service: float = 0.0,
             hold_for: float | None = None, party: str | None = None) -> None:
        """``caller`` (one call of ``party``) dials at minute ``at``; it holds at most
        ``patience`` minutes; once answered its call lasts at least ``service`` minutes and
        ends by :meth:`finish`, or exactly ``hold_for`` minutes when given (a nuisance
        caller). While the call is in the pool's hands its party cannot dial again."""
        if caller in self._calls:
            raise ValueError(f"caller(={caller!r}) is already on the line")
        if party is not None:
            self._party[caller] = party
            self.bound(party, math.inf)
        late = max(0.0, self.now - at)
        if late > 0:
            self.late += 1
            self.late_max_min = max(self.late_max_min, late)
            at = self.now
        self._calls[caller] = _Call(at, max(0.0, patience), max(0.0, service), hold_for, late)
        heapq.heappush(self._events, (at, _DIAL, caller))

    def finish(self, caller: str, at: float) -> None:
        """The call of ``caller`` ended at minute ``at``: its operator and line are free."""
        call = self._calls.get(caller)
        if call is None or call.answered_at is None or caller not in self._pending:
            raise ValueError(f"caller(={caller!r}) is not talking to an operator")
        del self._pending[caller]
        at = max(at, call.answered_at)
        heapq.heappush(self._events, (at, _FINISH, caller))
        self._party_may_dial(caller, at)

    def blocked_at(self) -> float:
        """The moment past which the pool cannot decide until a call in progress ends
        (``inf`` when no call waits for its :meth:`finish`)."""
        return min(self._pending.values(), default=math.inf)

    def pending(self) -> dict[str, float]:
        """Calls in progress whose end is not known yet: caller -> earliest end."""
        return dict(self._pending)

    def next_moment(self) -> float | None:
        """The earliest moment with something to decide, if any."""
        return self._events[0][0] if self._events else None

    def advance(self, until: float = math.inf) -> list[Outcome]:
        """Decide everything up to minute ``until`` and the :meth:`horizon`, in modelled
        order; the outcomes decided."""
        limit = min(until, self.horizon())
        out: list[Outcome] = []
        events = self._events
        while events and events[0][0] <= limit:
            at, kind, caller = heapq.heappop(events)
            self.now = max(self.now, at)
            if kind == _DIAL:
                self._take_dial(caller, at, out)
            elif kind == _ABANDON:
                self._take_abandon(caller, at, out)
            else:
                self._take_finish(caller, at, out)
            limit = min(until, self.horizon())
        if limit > self.now and math.isfinite(limit):
            self.now = limit
        return out

    def _party_may_dial(self, caller: str, at: float) -> None:
        """After an outcome at ``at`` the caller's party may dial again, not before ``at``."""
        party = self._party.pop(caller, None)
        if party is not None:
            self.bound(party, at)

    # ---- the events ------------------------------------------------------------------
    def _take_dial(self, caller: str, at: float, out: list[Outcome]) -> None:
        call = self._calls[caller]
        if (self.lines and self.lines_in_use >= self.lines) or (
                not self.free_operators and len(self._hold) >= self.hold_capacity):
            del self._calls[caller]
            self._party_may_dial(caller, at)
            out.append(Outcome(caller, "busy", at, 0.0, None, len(self._hold), call.late_min))
            return
        self.lines_in_use += 1
        heapq.heappush(self._hold, (at, caller))
        if math.isfinite(call.patience):
            heapq.heappush(self._events, (at + call.patience, _ABANDON, caller))
        self._dispatch(at, out)

    def _take_abandon(self, caller: str, at: float, out: list[Outcome]) -> None:
        call = self._calls.get(caller)
        if call is None or call.answered_at is not None:
            return  # answered before its patience ran out
        self._hold.remove((call.dial, caller))
        heapq.heapify(self._hold)
        self.lines_in_use -= 1
        del self._calls[caller]
        self._party_may_dial(caller, at)
        out.append(Outcome(caller, "abandoned", at, at - call.dial, None, len(self._hold),
                           call.late_min))

    def _take_finish(self, caller: str, at: float, out: list[Outcome]) -> None:
        call = self._calls.pop(caller)
        assert call.operator is not None  # only answered calls are finished
        self.free_operators.append(call.operator)
        self.lines_in_use -= 1
        self._dispatch(at, out)

    def _dispatch(self, at: float, out: list[Outcome]) -> None:
        while self.free_operators and self._hold:
            dialled, caller = heapq.heappop(self._hold)
            call = self._calls[caller]
            call.answered_at, call.operator = at, self.free_operators.popleft()
            if call.hold_for is not None:
                heapq.heappush(self._events, (at + call.hold_for, _FINISH, caller))
            else:
                self._pending[caller] = at + call.service
            out.append(Outcome(caller, "answered", at, at - dialled, call.operator,
                               len(self._hold), call.late_min))


def operator_ids(n: int) -> list[str]:
    """The ids of ``n`` operators: ``op-01``, ``op-02``..."""
    return [f"op-{i + 1:02d}" for i in range(n)]
