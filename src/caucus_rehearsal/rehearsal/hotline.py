"""The hotline of a live run: lines, operators and a first-come queue with abandonment.

A pure state machine on wall time, with no I/O, so one instance can serve a whole run:
the Locust master (or the single local process) keeps it and callers reach it through
custom messages (``hotline_link``). A caller holds a line from dialling until the call
ends or it hangs up; a caller on hold is answered by the first free operator, or
abandons when its deadline passes first.

    pool.dial("IA-0001#1", now, deadline) -> "busy" | "queued"   (+ answers made)
    pool.expire(now)                      -> the callers who hung up
    pool.finish("IA-0001#1", now)         -> answers made by the freed operator
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Answered:
    """``caller`` reached ``operator`` after ``wait_s`` wall seconds on hold."""

    caller: str
    operator: str
    wait_s: float
    queue_len: int


@dataclass(frozen=True, slots=True)
class Abandoned:
    """``caller`` hung up after ``wait_s`` wall seconds on hold."""

    caller: str
    wait_s: float
    queue_len: int


class HotlinePool:
    """``lines`` phone lines (0 = unlimited) and ``operators`` named ``op-01``..."""

    def __init__(self, lines: int, operators: int) -> None:
        if lines < 0 or operators < 0:
            raise ValueError(f"lines(={lines}) and operators(={operators}) must be >= 0")
        self.lines = lines
        self.free_operators: deque[str] = deque(operator_ids(operators))
        self.lines_in_use = 0
        # caller -> (on hold since, deadline)
        self._hold: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._deadlines: list[tuple[float, str]] = []
        self._talking: dict[str, str] = {}  # caller -> operator

    @property
    def queue_len(self) -> int:
        """Callers on hold now."""
        return len(self._hold)

    def dial(self, caller: str, now: float,
             deadline: float = math.inf) -> tuple[str, list[Answered]]:
        """A call arrives; ``"busy"`` when every line is taken, else ``"queued"``."""
        if caller in self._hold or caller in self._talking:
            raise ValueError(f"caller(={caller!r}) is already on the line")
        if self.lines and self.lines_in_use >= self.lines:
            return "busy", []
        self.lines_in_use += 1
        self._hold[caller] = (now, deadline)
        if deadline < math.inf:
            heapq.heappush(self._deadlines, (deadline, caller))
        return "queued", self._dispatch(now)

    def expire(self, now: float) -> list[Abandoned]:
        """Callers whose patience ran out by ``now`` hang up and free their line."""
        gone: list[Abandoned] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            _, caller = heapq.heappop(self._deadlines)
            held = self._hold.pop(caller, None)
            if held is None:
                continue  # answered before its deadline
            self.lines_in_use -= 1
            gone.append(Abandoned(caller, now - held[0], len(self._hold)))
        return gone

    def next_deadline(self) -> float | None:
        """The earliest pending abandonment deadline, if any."""
        while self._deadlines and self._deadlines[0][1] not in self._hold:
            heapq.heappop(self._deadlines)
        return self._deadlines[0][0] if self._deadlines else None

    def finish(self, caller: str, now: float) -> list[Answered]:
        """The call of ``caller`` ends: its operator and line are free again."""
        operator = self._talking.pop(caller, None)
        if operator is None:
            raise ValueError(f"caller(={caller!r}) is not talking to an operator")
        self.free_operators.append(operator)
        self.lines_in_use -= 1
        return self._dispatch(now)

    def _dispatch(self, now: float) -> list[Answered]:
        answered: list[Answered] = []
        while self.free_operators and self._hold:
            caller, (since, _) = self._hold.popitem(last=False)
            operator = self.free_operators.popleft()
            self._talking[caller] = operator
            answered.append(Answered(caller, operator, now - since, len(self._hold)))
        return answered


def operator_ids(n: int) -> list[str]:
    """The ids of ``n`` operators: ``op-01``, ``op-02``..."""
    return [f"op-{i + 1:02d}" for i in range(n)]
