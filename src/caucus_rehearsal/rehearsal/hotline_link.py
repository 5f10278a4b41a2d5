"""One hotline pool per run, reached through Locust's custom messages.

The pool (:class:`~caucus_rehearsal.rehearsal.hotline.HotlinePool`) lives in the master
(or the single local process). Every process sends ``hotline`` messages stamped with
modelled moments: ``bounds`` (the earliest moment each of its parties may next dial: each
chair after each of its actions, the nuisance stream before each arrival), ``dial`` and
``finish``; callers wait for a ``hotline_reply`` (``busy``, ``answered`` or
``abandoned``, with the modelled moment it happened). The keeper lets the pool decide
after every message, as far as nobody can still announce anything earlier: the
decisions follow the modelled clock alone, however late a busy process delivers its
messages (docs/time.md). A LocalRunner delivers messages to itself, synchronously, so
the same code serves both modes.

Should a party fall silent (its process died), the keeper stops waiting for it after
:data:`STALL_GRACE_S` past the moment it holds back, so the hotline never hangs; that is
counted, and a later announcement of it is taken late (the report's fidelity).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from gevent.event import AsyncResult

from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.hotline import HotlinePool, Outcome

STALL_GRACE_S = 30.0
"""Wall seconds past the held-back moment (and past the longest a request may take)
after which the keeper stops waiting for a silent party."""
CHECK_S = 1.0
"""How often the keeper looks for silent parties (wall seconds)."""


class PoolKeeper:
    """The master's side: the pool, answering ``hotline`` messages on the modelled clock.

    ``parties`` are everyone who may call (the run's units, and ``nuisance`` when the
    scenario has nuisance callers): the pool decides nothing until each has said when it
    may first dial. ``clock`` gives the run's :class:`SimClock` once the night's start is
    known (the master learns it at test start); it is used only to notice silent parties.
    ``request_timeout_s`` is the longest a party may legitimately wait for the target.
    """

    def __init__(self, environment: Any, lines: int, operators: int, parties: Iterable[str],
                 clock: Callable[[], SimClock | None], request_timeout_s: float,
                 hold_capacity: int | None = None) -> None:
        self.env = environment
        self.pool = HotlinePool(lines, operators, hold_capacity)
        self.pool.expect(list(parties))
        self._clock_of = clock
        self.grace_s = STALL_GRACE_S + request_timeout_s
        self.where: dict[str, str] = {}  # caller -> node id to reply to
        self.silenced: list[str] = []
        self.refused = 0
        environment.runner.register_message("hotline", self.on_message)
        self._checker = gevent.spawn(self._check_loop)

    def reset(self, lines: int, operators: int, parties: Iterable[str],
              clock: Callable[[], SimClock | None], hold_capacity: int | None = None) -> None:
        """An empty pool for a fresh night (a restart from Locust's web UI)."""
        self.pool = HotlinePool(lines, operators, hold_capacity)
        self.pool.expect(list(parties))
        self._clock_of = clock
        self.where.clear()
        self.silenced.clear()
        self.refused = 0

    def on_message(self, environment: Any, msg: Any) -> None:
        data = msg.data
        pool = self.pool
        try:
            op = data["op"]
            if op == "bounds":
                for party, at in data["bounds"]:
                    pool.bound(str(party), math.inf if at is None else float(at))
            elif op == "dial":
                self.where[data["caller"]] = msg.node_id
                patience = data.get("patience")
                pool.dial(data["caller"], float(data["at"]),
                          math.inf if patience is None else float(patience),
                          float(data.get("service") or 0.0), data.get("hold_for"),
                          data.get("party"))
            elif op == "finish":
                pool.finish(data["caller"], float(data["at"]))
        except ValueError:
            self.refused += 1  # a call the keeper ended already, or a repeated dial
        for outcome in pool.advance():
            self._reply(outcome)

    def _check_loop(self) -> None:
        while True:
            gevent.sleep(CHECK_S)
            clock = self._clock_of()
            if clock is None:
                continue
            held = self.pool.horizon()
            if held == math.inf:
                continue
            since = max(clock.t0_wall, clock.wall(held) if math.isfinite(held) else -math.inf)
            if time.time() > since + self.grace_s:
                self._silence(held)

    def abandon(self, parties: Iterable[str]) -> None:
        """Stop waiting for ``parties`` at once (their load generator was lost): they will
        not dial again, and their calls in progress end at their earliest end."""
        gone = set(parties)
        pool = self.pool
        for caller, end in pool.pending().items():
            if caller.partition("#")[0] in gone:
                pool.finish(caller, end)
        for party in gone:
            pool.silent(party)
        self.silenced.extend(sorted(gone))
        for outcome in pool.advance():
            self._reply(outcome)

    def _silence(self, held: float) -> None:
        """Stop waiting for every party that holds the pool at ``held``."""
        pool = self.pool
        while pool.horizon() == held and (who := pool.waiting_for()) is not None:
            self.silenced.append(who)
            pending = pool.pending()
            if who in pending:
                pool.finish(who, pending[who])
            else:
                pool.silent(who)
        for outcome in pool.advance():
            self._reply(outcome)

    def _reply(self, o: Outcome) -> None:
        node = self.where.get(o.caller, "local")
        if o.result != "answered":
            self.where.pop(o.caller, None)
        data = {"caller": o.caller, "result": o.result, "at": o.at, "wait_min": o.wait_min,
                "operator": o.operator, "queue_len": o.queue_len, "late_min": o.late_min}
        if node == "local":
            self.env.runner.send_message("hotline_reply", data)
        else:
            self.env.runner.send_message("hotline_reply", data, client_id=node)


class HotlinePhone:
    """A process's side: announce bounds, dials and call ends; wait for the decision."""

    def __init__(self, environment: Any) -> None:
        self.env = environment
        self.pending: dict[str, AsyncResult] = {}
        environment.runner.register_message("hotline_reply", self.on_reply)

    def on_reply(self, environment: Any, msg: Any) -> None:
        waiter = self.pending.pop(msg.data["caller"], None)
        if waiter is not None:
            waiter.set(msg.data)

    def bounds(self, bounds: Iterable[tuple[str, float]]) -> None:
        """Each party will not dial before its moment (``inf``: never again)."""
        self._send({"op": "bounds", "bounds": [
            (party, None if math.isinf(at) and at > 0 else at) for party, at in bounds]})

    def bound(self, party: str, at: float) -> None:
        """``party`` will not dial before modelled minute ``at``."""
        self.bounds([(party, at)])

    def dial(self, caller: str, at: float, patience: float, service: float = 0.0,
             party: str | None = None) -> dict[str, Any]:
        """Dial at modelled minute ``at`` and wait for the outcome:
        ``{"result": "busy"|"answered"|"abandoned", "at": minute, "wait_min": ...}``."""
        reply: dict[str, Any] = self.announce(caller, at, patience, service,
                                              party=party).get()
        return reply

    def announce(self, caller: str, at: float, patience: float, service: float = 0.0,
                 hold_for: float | None = None, party: str | None = None) -> AsyncResult:
        """Dial at modelled minute ``at`` without waiting: the outcome arrives in the
        returned result (as :meth:`dial` returns it)."""
        waiter: AsyncResult = AsyncResult()
        self.pending[caller] = waiter
        self._send({"op": "dial", "caller": caller, "at": at,
                    "patience": None if math.isinf(patience) else patience,
                    "service": service, "hold_for": hold_for, "party": party})
        return waiter

    def finish(self, caller: str, at: float) -> None:
        """The call ended at modelled minute ``at``; the operator and the line are free."""
        self._send({"op": "finish", "caller": caller, "at": at})

    def _send(self, data: dict[str, Any]) -> None:
        # A worker's message goes to the master; a LocalRunner delivers it to itself.
        self.env.runner.send_message("hotline", data)
