"""The target adapter: everything a rehearsal needs of a target, in one interface.

An adapter has two faces:

- **load** (used by the Locust users): each method *describes* one HTTP request as an
  :class:`HttpCall`; the user sends it with FastHttpUser (``name=`` grouping,
  ``catch_response``) and hands the answer back to :meth:`TargetAdapter.interpret`,
  which says what it meant (:class:`Reply`). Adapters never send load themselves, so a
  vendor's adapter gets Locust's statistics and schedule-fidelity logging for free.
- **orchestration** (used by ``rehearse run``, with an ``httpx.Client`` whose
  ``base_url`` is the target): health check, provisioning, reading the published
  results normalised to the run-directory shape, and, optionally, fault switching and
  the audit trail.

Tallies are ``{"attendance": int, "first": {candidate: int}, "final": {...},
"delegates": {...}}`` with every candidate present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from caucus_rehearsal.attacks import HONEST
from caucus_rehearsal.errors import TargetProtocolError, TargetUnreachable
from caucus_rehearsal.published import CONTRACT_V1_PUBLISHES


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One request: ``name`` groups it in Locust's statistics; ``step`` tells
    :meth:`TargetAdapter.interpret` what request it is (``login``, ``attendance``...), and
    ``intent`` why it was sent: ``honest``, or an attack of
    :data:`caucus_rehearsal.attacks.ATTACKS` (``bad_pin``, ``replay``, ``cross_precinct``,
    ``malformed``) built with the same builder. Exactly one of ``json``/``body`` or none."""

    step: str
    method: str
    path: str
    name: str
    json: Any = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    intent: str = HONEST


@dataclass(frozen=True, slots=True)
class Reply:
    """What an answer meant: ``outcome`` as in ``events.jsonl`` (``ok``, ``rejected``,
    ``error``, ``locked_out``, ``unauthorized``...), the sign-in ``token`` if one came
    back, how long to wait before retrying (``retry_after_s``), and a one-line ``detail``.

    ``replayed``, for a write accepted again: True when the target answered it as a
    replay of the write it had stored (nothing new stored), False when it stored it again,
    None when the answer does not say (contract v1: the ``Idempotent-Replayed`` header).
    For a read of the published results, its ``etag`` and the feed ``version`` it shows
    (a number that grows with every change of what is published; None when the target
    does not say), from which a rehearsal measures how stale the public's answers were."""

    outcome: str
    token: str | None = None
    retry_after_s: float | None = None
    detail: str = ""
    etag: str | None = None
    replayed: bool | None = None
    version: int | None = None


def outcome_of_status(status: int) -> str:
    """The events outcome of an HTTP status (0 means no answer at all)."""
    if 200 <= status < 300 or status == 304:
        return "ok"
    if status == 429:
        return "locked_out"
    if status == 401:
        return "unauthorized"
    if status >= 500:
        return "error"
    if status == 0:
        return "conn_error"
    return "rejected"


class TargetAdapter:
    """Base of every adapter; subclasses implement the request builders.

    ``base_url`` is the target's root; ``candidates`` the roster's candidate order;
    ``admin_token`` authorises provisioning and fault switching where the target has them.
    """

    name = "base"
    supports_faults = False
    publishes: frozenset[str] = CONTRACT_V1_PUBLISHES
    """What the target publishes, in the words of ``caucus_rehearsal.published.PUBLISHABLE``
    (per precinct: ``attendance``, ``first``, ``final``, ``delegates``, ``sde``; totals:
    ``statewide``, ``counties``). The report checks exactly these and lists the rest as
    not checked; what :meth:`published` returns beyond them is ignored."""

    def __init__(self, base_url: str, candidates: Sequence[str], admin_token: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.candidates = tuple(candidates)
        self.admin_token = admin_token

    # ---- load face -------------------------------------------------------------------
    def chair_login(self, unit_id: str, pin: str) -> HttpCall:
        """The chair's sign-in with the precinct PIN."""
        raise NotImplementedError

    def chair_step(self, step: str, unit_id: str, token: str, tally: Mapping[str, Any],
                   key: str) -> HttpCall:
        """One app data step after sign-in (``attendance``, ``first``, ``final``, ``photo``:
        :data:`caucus_rehearsal.rundir.vocab.APP_DATA_STEPS`); ``key`` is the idempotency
        key of this data."""
        raise NotImplementedError

    def operator_login(self, operator_id: str, password: str) -> HttpCall:
        """A hotline operator's sign-in."""
        raise NotImplementedError

    def operator_report(self, unit_id: str, token: str, tally: Mapping[str, Any],
                        key: str) -> HttpCall:
        """The operator keys in a whole precinct's report."""
        raise NotImplementedError

    def results_call(self, etag: str | None = None) -> HttpCall:
        """One poll of the public results (conditional on ``etag`` where supported): what
        a page view of the public results asks for."""
        raise NotImplementedError

    def feed_call(self, etag: str | None = None) -> HttpCall:
        """One poll of the precinct-level feed, as a media consumer makes it (conditional
        on ``etag``); the default is :meth:`results_call`."""
        return self.results_call(etag)

    def interpret(self, call: HttpCall, status: int, headers: Mapping[str, str],
                  body: bytes) -> Reply:
        """What the answer to ``call`` meant; the default reads the status (and, for a
        write answered as a replay, the ``Idempotent-Replayed`` header) only.

        Read the answer as what it is, whatever ``call.intent`` says: a 2xx to an attack
        is the target accepting it (``ok``), which the report counts against the target;
        a sign-in answer without a session is a ``protocol_error``, not a sign-in."""
        if status < 400:
            again = str(headers.get("idempotent-replayed")
                        or headers.get("Idempotent-Replayed") or "").lower()
            return Reply(outcome_of_status(status), replayed=True if again == "true" else None)
        retry = headers.get("retry-after") or headers.get("Retry-After")
        return Reply(outcome_of_status(status),
                     retry_after_s=float(retry) if retry and retry.isdigit() else None,
                     detail=_short(body))

    # ---- orchestration face -------------------------------------------------------------
    def health(self, client: httpx.Client) -> None:
        """Raise TargetUnreachable unless the target answers."""
        try:
            client.get("/")
        except httpx.TransportError as exc:
            raise TargetUnreachable(f"nothing answers at {self.base_url} ({exc})") from exc

    def provision(self, client: httpx.Client, roster: Mapping[str, Any]) -> None:
        """Load the roster (``roster.json``) into the target; default: the target is
        provisioned by its owner and nothing is done."""

    def published(self, client: httpx.Client) -> dict[str, Any]:
        """The published results in the run directory's normalised shape."""
        raise NotImplementedError

    def zero_state(self, client: httpx.Client) -> dict[str, Any]:
        """The published results before the night (``rehearse run`` reads them once, after
        provisioning): :meth:`published`'s shape plus ``unreported``, every precinct the
        target lists as not reporting (its zero rows) with its data fields as published,
        when the target lists them. The default is :meth:`published` alone: the report
        then cannot tell whether every unit of the roster is listed, and says so."""
        return self.published(client)

    def published_since(self, client: httpx.Client,
                        tag: str | None) -> tuple[str | None, dict[str, Any] | None]:
        """(new tag, results), or (tag, None) when nothing changed since ``tag``; the
        default cannot tell and always fetches."""
        return None, self.published(client)

    def set_faults(self, client: httpx.Client, faults: Sequence[str]) -> None:
        """Replace the target's active faults (reference server only)."""
        raise TargetProtocolError(f"the {self.name} adapter cannot switch faults")

    def audit(self, client: httpx.Client) -> list[dict[str, Any]] | None:
        """The target's audit trail (with ``request_id`` and ``received_at``), or None."""
        return None

    def reset(self, client: httpx.Client) -> None:
        """Clear what the target recorded (submissions, sign-ins, lockouts, audit trail),
        keeping its roster, for a fresh night on it (a restart from Locust's web UI);
        the default cannot."""
        raise TargetProtocolError(f"the {self.name} adapter cannot reset its target")


EXCERPT_CHARS = 120
"""Characters of an answer quoted in a protocol error."""


def excerpt(body: bytes | str) -> str:
    """The first :data:`EXCERPT_CHARS` characters of an answer, on one line."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


def protocol_error(call: HttpCall, status: int, body: bytes, why: str) -> Reply:
    """The ``protocol_error`` reply to ``call``: endpoint, status, excerpt and why."""
    return Reply("protocol_error",
                 detail=f"{call.method} {call.name} answered {status} "
                        f"{excerpt(body)!r}: {why}"[:300])


def _short(body: bytes) -> str:
    return body[:200].decode("utf-8", "replace").replace("\n", " ")


def expect_ok(resp: httpx.Response, what: str) -> None:
    """Nothing for a 2xx answer, else TargetProtocolError naming ``what`` and the status."""
    if not 200 <= resp.status_code < 300:
        raise TargetProtocolError(f"{what}: HTTP {resp.status_code} {_short(resp.content)}")


def expect_json(resp: httpx.Response, what: str) -> Any:
    """The JSON of a 2xx answer, else TargetProtocolError naming ``what`` and the status."""
    expect_ok(resp, what)
    try:
        return resp.json()
    except ValueError as exc:
        raise TargetProtocolError(f"{what}: answer is not JSON") from exc
