"""Shared resources of the night: servers with a FIFO line and impatient customers.

A :class:`Pool` is ``servers`` identical servers (hotline operators; the target's
request slots). A customer who finds one free takes it at once, with no event at all;
otherwise it waits in a first-come-first-served line and may give up after its
patience. This is SimPy's ``Resource`` with reneging, written with one plain
:class:`simpy.Event` per waiting customer (plus its patience timeout) instead of a
request, a release and an ``AnyOf`` condition, because a night has tens of thousands
of them (see benchmarks/bench_night.py).
"""

from __future__ import annotations

import math
from collections import deque

import simpy


class _Waiter:
    __slots__ = ("done", "event")

    def __init__(self, event: simpy.Event) -> None:
        self.event = event
        self.done = False


class Pool:
    """``servers`` servers with a FIFO line; ``waiting`` counts customers in line."""

    def __init__(self, env: simpy.Environment, servers: int) -> None:
        if servers < 0:
            raise ValueError(f"servers(={servers}) must be >= 0")
        self.env = env
        self.servers = servers
        self.free = servers
        self.waiting = 0
        self._line: deque[_Waiter] = deque()

    def acquire(self, patience: float = math.inf) -> simpy.Event | None:
        """Take a server now (``None``), or an event that fires with ``True`` when one
        is taken for this customer, or with ``False`` when ``patience`` minutes pass first.
        """
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return None
        event = self.env.event()
        waiter = _Waiter(event)
        self._line.append(waiter)
        self.waiting += 1
        if patience < math.inf:
            timer = self.env.timeout(patience)
            timer.callbacks.append(lambda _ev: self._renege(waiter))
        return event

    def _renege(self, waiter: _Waiter) -> None:
        if not waiter.done:
            waiter.done = True
            self.waiting -= 1
            waiter.event.succeed(False)

    def release(self) -> None:
        """A server becomes free: it takes the first customer still in line."""
        line = self._line
        while line:
            waiter = line.popleft()
            if not waiter.done:
                waiter.done = True
                self.waiting -= 1
                waiter.event.succeed(True)
                return
        self.free += 1


class Lines:
    """Phone lines: a caller on hold or talking holds one; ``capacity`` 0 is unlimited."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity(={capacity}) must be >= 0")
        self.capacity = capacity
        self.busy = 0

    def take(self) -> bool:
        """Take a line if one is free; ``False`` is a busy signal."""
        if self.capacity and self.busy >= self.capacity:
            return False
        self.busy += 1
        return True

    def put(self) -> None:
        """Hang up."""
        self.busy -= 1
