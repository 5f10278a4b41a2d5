"""One hotline pool per run, reached through Locust's custom messages.

The pool (:class:`~caucus_rehearsal.rehearsal.hotline.HotlinePool`) lives in the master
(or the single local process). Callers anywhere send ``hotline`` messages (``dial``,
``finish``) and wait for a ``hotline_reply`` (``busy``, ``answered`` or ``abandoned``).
A LocalRunner delivers messages to itself, so the same code serves both modes. The pool's
keeper also hangs up callers whose patience runs out, so there is no race between an
answer and an abandonment: the keeper alone decides.
"""

from __future__ import annotations

import math
import time
from typing import Any

import gevent
from gevent.event import AsyncResult, Event

from caucus_rehearsal.rehearsal.hotline import Abandoned, Answered, HotlinePool


class PoolKeeper:
    """The master's side: the pool, answering ``hotline`` messages."""

    def __init__(self, environment: Any, lines: int, operators: int) -> None:
        self.env = environment
        self.pool = HotlinePool(lines, operators)
        self.where: dict[str, str] = {}  # caller -> node id to reply to
        self._wake = Event()
        environment.runner.register_message("hotline", self.on_message)
        self._expirer = gevent.spawn(self._expire_loop)

    def on_message(self, environment: Any, msg: Any) -> None:
        data = msg.data
        now = time.time()
        if data["op"] == "dial":
            caller = data["caller"]
            deadline = data["deadline"] if data["deadline"] is not None else math.inf
            self.where[caller] = msg.node_id
            result, answered = self.pool.dial(caller, now, deadline)
            if result == "busy":
                self._reply(caller, {"result": "busy", "queue_len": self.pool.queue_len})
            self._answer(answered)
            self._wake.set()
        elif data["op"] == "finish":
            self._answer(self.pool.finish(data["caller"], now))

    def _answer(self, answered: list[Answered]) -> None:
        for a in answered:
            self._reply(a.caller, {"result": "answered", "operator": a.operator,
                                   "wait_s": a.wait_s, "queue_len": a.queue_len})

    def _reply(self, caller: str, data: dict[str, Any]) -> None:
        node = self.where.get(caller, "local")
        if data["result"] != "answered":
            self.where.pop(caller, None)
        data["caller"] = caller
        if node == "local":
            self.env.runner.send_message("hotline_reply", data)
        else:
            self.env.runner.send_message("hotline_reply", data, client_id=node)

    def _expire_loop(self) -> None:
        while True:
            nxt = self.pool.next_deadline()
            timeout = 1.0 if nxt is None else max(0.0, min(1.0, nxt - time.time()))
            self._wake.clear()
            self._wake.wait(timeout)
            gone: list[Abandoned] = self.pool.expire(time.time())
            for g in gone:
                self._reply(g.caller, {"result": "abandoned", "wait_s": g.wait_s,
                                       "queue_len": g.queue_len})


class HotlinePhone:
    """A process's side: dial and hang up through messages, wait for the keeper's answer."""

    def __init__(self, environment: Any) -> None:
        self.env = environment
        self.pending: dict[str, AsyncResult] = {}
        environment.runner.register_message("hotline_reply", self.on_reply)

    def on_reply(self, environment: Any, msg: Any) -> None:
        waiter = self.pending.pop(msg.data["caller"], None)
        if waiter is not None:
            waiter.set(msg.data)

    def dial(self, caller: str, deadline_wall: float) -> dict[str, Any]:
        """Call and wait: ``{"result": "busy"|"answered"|"abandoned", ...}``."""
        waiter: AsyncResult = AsyncResult()
        self.pending[caller] = waiter
        self._send({"op": "dial", "caller": caller,
                    "deadline": None if math.isinf(deadline_wall) else deadline_wall})
        reply: dict[str, Any] = waiter.get()
        return reply

    def finish(self, caller: str) -> None:
        """The call ends; the operator and the line are free again."""
        self._send({"op": "finish", "caller": caller})

    def _send(self, data: dict[str, Any]) -> None:
        # A worker's message goes to the master; a LocalRunner delivers it to itself.
        self.env.runner.send_message("hotline", data)
