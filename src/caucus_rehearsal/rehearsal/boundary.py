"""The boundary between the rehearsal and a target's adapter: a broken target is the
target's failure, named, never a crash of the rehearsal.

Whatever an adapter raises, on a malformed answer (``[]`` where the contract has an
object, a missing key, not JSON) or for a bug of its own, is caught here and recorded as
the target's **protocol error**, with the endpoint, the status and a short excerpt of
what came back:

- on the **load** path (Locust users), :func:`interpret` asks the adapter what an answer
  meant; an exception becomes the outcome ``protocol_error`` with that ``detail``.
  :func:`guarded` runs one simulated actor and records an exception escaping it (from
  the adapter's request builders) as a ``protocol_error`` event with step ``adapter``;
- on the **orchestration** path (``rehearse run``), :class:`Boundary` makes each call
  (``health``, ``provision``, ``zero_state``, ``snapshot``, ``faults``, ``audit``)
  through the adapter with a client that remembers the last answer and bounds the
  requests one call may make, so a paginated read that never ends is a protocol error
  too. A failure is a :class:`~caucus_rehearsal.errors.TargetError` whose ``record``
  (:class:`Problem`) the run directory keeps (``run.json`` ``target_error``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import httpx

from caucus_rehearsal.errors import (
    RehearsalError,
    TargetError,
    TargetProtocolError,
    TargetUnreachable,
)
from caucus_rehearsal.rehearsal.adapters.base import (
    HttpCall,
    Reply,
    TargetAdapter,
    excerpt,
    protocol_error,
)

MAX_REQUESTS_PER_CALL = 1000
"""Requests one orchestration call may make unless told otherwise (pages of a read)."""

T = TypeVar("T")


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


class EndlessRead(TargetProtocolError):
    """One orchestration call made more requests than it may: a read that does not end."""


@dataclass(frozen=True, slots=True)
class Problem:
    """What went wrong in one orchestration call.

    ``call`` is what the rehearsal was doing (``adapter``, ``health``, ``provision``,
    ``zero_state``, ``snapshot``, ``faults``, ``audit``); ``kind`` is ``protocol`` (an
    answer the adapter cannot read, or a read that never ends), ``refused`` (an error
    status where the contract has a success) or ``unreachable`` (no answer);
    ``endpoint``/``status``/``excerpt`` describe the last answer (``""``/0/``""`` when
    there was none).
    """

    call: str
    kind: str
    endpoint: str
    status: int
    excerpt: str
    error: str

    def text(self) -> str:
        """One line: ``snapshot: GET /v1/results/precincts answered 200 '[]' (TypeError: …)``."""
        if not self.endpoint:
            return f"{self.call}: {self.error}"
        return (f"{self.call}: {self.endpoint} answered {self.status} {self.excerpt!r} "
                f"({self.error})")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Boundary:
    """Orchestration calls through an adapter, each guarded (see the module docstring).

    ``client`` is the ``httpx.Client`` on the target; the boundary adds event hooks to it
    that count the requests of the current call and keep its last answer.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._limit = MAX_REQUESTS_PER_CALL
        self._count = 0
        self._call = ""
        self._last: httpx.Response | None = None
        client.event_hooks["request"].append(self._on_request)
        client.event_hooks["response"].append(self._on_response)

    def _on_request(self, request: httpx.Request) -> None:
        self._count += 1
        if self._call and self._count > self._limit:
            raise EndlessRead(
                f"{self._call}: more than {self._limit} requests for one {self._call} "
                f"(last {request.method} {request.url.path}): a paginated read that does "
                "not end?")

    def _on_response(self, response: httpx.Response) -> None:
        self._last = response

    def call(self, what: str, fn: Callable[..., T], *args: Any,
             limit: int = MAX_REQUESTS_PER_CALL) -> T:
        """``fn(*args)``; anything it raises becomes a TargetError with a :class:`Problem`
        (a RehearsalError that is not the target's, such as a bad argument, passes)."""
        self._call, self._limit, self._count, self._last = what, limit, 0, None
        try:
            return fn(*args)
        except Exception as exc:  # the boundary: whatever the adapter raised
            if isinstance(exc, RehearsalError) and not isinstance(exc, TargetError):
                raise
            problem = self.problem(what, exc)
            cls = TargetUnreachable if problem.kind == "unreachable" else TargetProtocolError
            raise cls(problem.text(), record=problem.as_json()) from exc
        finally:
            self._call = ""

    def problem(self, what: str, exc: BaseException) -> Problem:
        """The :class:`Problem` of ``exc`` raised during call ``what``."""
        last = self._last
        if last is None:
            kind = "unreachable" if isinstance(exc, httpx.TransportError | TargetUnreachable) \
                else "protocol"
            return Problem(what, kind, "", 0, "", _error(exc))
        try:
            body = last.content
        except httpx.ResponseNotRead:
            body = b""
        if isinstance(exc, httpx.TransportError | TargetUnreachable):
            kind = "unreachable"
        elif last.status_code >= 400 and not isinstance(exc, EndlessRead):
            kind = "refused"
        else:
            kind = "protocol"
        return Problem(what, kind, f"{last.request.method} {last.request.url.path}",
                       last.status_code, excerpt(body), _error(exc))


def interpret(adapter: TargetAdapter, call: HttpCall, status: int,
              headers: Mapping[str, str], body: bytes) -> Reply:
    """``adapter.interpret``; an exception is the answer's ``protocol_error``."""
    try:
        return adapter.interpret(call, status, headers, body)
    except Exception as exc:  # the boundary: the adapter could not read the answer
        return protocol_error(call, status, body, _error(exc))


def adapter_failed(log: Callable[..., None], unit_id: str, actor: str, channel: str,
                   exc: BaseException) -> None:
    """Log that the adapter raised ``exc`` outside :func:`interpret` (building a request):
    a ``protocol_error`` event with step ``adapter``."""
    log(unit_id=unit_id, actor=actor, channel=channel, step="adapter",
        outcome="protocol_error", detail=f"the adapter raised {_error(exc)}")


def guarded(log: Callable[..., None], unit_id: str, actor: str, channel: str,
            fn: Callable[..., None], *args: Any) -> None:
    """Run ``fn(*args)`` (one simulated actor); an exception escaping it (the adapter
    failed to build a request) is logged by :func:`adapter_failed`."""
    try:
        fn(*args)
    except Exception as exc:  # the boundary: the adapter's own code raised
        adapter_failed(log, unit_id, actor, channel, exc)
