"""The server's behaviour, independent of HTTP: sign-in, writes, idempotency, publication.

One :class:`Service` owns the :class:`~.store.Store` and the in-memory view rebuilt from
it at start (roster, tokens, idempotency keys, each precinct's latest accepted data), so
after a crash and restart the server publishes exactly what it had acknowledged. A write
reads, validates, stages its audit row and updates the view without awaiting (so on one
event loop that sequence is atomic, and staging order is commit order), then awaits the
group commit (:meth:`~.store.Store.committed`) before it returns, and so before the
response. A new complete record is published only once committed; when a commit fails,
every write in it gets ``503 storage_error`` and the view is rebuilt from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caucus_rehearsal.server.faults import FaultState
from caucus_rehearsal.server.feed import Feed
from caucus_rehearsal.server.lockout import Lockouts
from caucus_rehearsal.server.publish import Publisher, republishes
from caucus_rehearsal.server.schemas import RosterIn
from caucus_rehearsal.server.state import (
    Complete,
    PrecinctData,
    Rejection,
    Roster,
    check_complete,
    check_first,
)
from caucus_rehearsal.server.store import AuditRow, Store, StoreError

ADMIN_ACTOR = "admin"
"""The audit actor of provisioning and resets (their rows begin a roster's feed)."""


def _json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def token_hash(token: str) -> str:
    """How a bearer token is stored and looked up (never in clear)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler sends: status, JSON body text and extra headers."""

    status: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Meta:
    """Per-request facts from the middleware and the headers; ``source`` is the client's
    address (what sign-in lockouts are counted per)."""

    received_at: float
    request_id: str | None
    idem_key: str | None
    source: str = ""


class Service:
    """Everything behind the routes of contract v1."""

    def __init__(self, store: Store, faults: FaultState,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.faults = faults
        self.clock = clock
        self.lockouts = Lockouts()
        self.feed = Feed(faults)
        store.on_commit = self._publish_committed
        store.on_failure = self._load
        self._load()

    # --- state ---------------------------------------------------------------------------

    def _load(self) -> None:
        body = self.store.load_roster()
        self.roster: Roster | None = (Roster.from_body(RosterIn.model_validate(body))
                                      if body is not None else None)
        self.data: dict[str, PrecinctData] = {}
        self.records: dict[str, Complete] = {}
        self.tokens: dict[str, tuple[str, str]] = {h: (r, s) for h, r, s in self.store.tokens()}
        self.idem: dict[tuple[str, str], tuple[str, int, str]] = {}
        self.publisher: Publisher | None = None
        self._unpublished: list[tuple[str, Complete]] = []
        floor, changed_at = 0, 0.0
        shown: dict[str, int] = {}
        for row in self.store.audit():
            if row.actor == ADMIN_ACTOR:
                floor, changed_at = row.seq, row.stored_at
            elif row.outcome == "accepted" and row.precinct_id is not None and row.payload:
                rec = self._apply(row, json.loads(row.payload))
                if rec is not None:
                    if republishes(self.records.get(row.precinct_id), rec):
                        shown[row.precinct_id] = rec.seq
                        changed_at = row.stored_at
                    self.records[row.precinct_id] = rec
        if self.roster is not None:
            self.publisher = Publisher(self.roster, self.records, self.store.db_id, floor,
                                       changed_at, shown)

    def _remember(self, row: AuditRow, fingerprint: str) -> None:
        if row.idem_key is not None and row.outcome == "accepted" and row.response:
            self.idem[(row.actor, row.idem_key)] = (fingerprint, row.status, row.response)

    def _publish_committed(self) -> None:
        """The store committed: publish the complete records staged with it, in order."""
        pending, self._unpublished = self._unpublished, []
        for pid, rec in pending:
            old = self.records.get(pid)
            self.records[pid] = rec
            if self.publisher is not None:
                self.publisher.changed(pid, old, self.store.stored_at)

    def _apply(self, row: AuditRow, payload: dict[str, Any]) -> Complete | None:
        """Bring the in-memory view up to date with an accepted (staged or committed)
        row; the precinct's new complete record, which the caller publishes once it is
        committed."""
        if row.kind in ("chair_login", "operator_login"):
            return None
        pid = row.precinct_id
        assert pid is not None and self.roster is not None
        if row.idem_key is not None:
            self._remember(row, str(payload.get("_fp", "")))
        if row.kind == "worksheet":
            self.data.setdefault(pid, PrecinctData()).worksheets.append(row.seq)
            return None
        d = self.data.setdefault(pid, PrecinctData())
        d.versions += 1
        if row.kind == "attendance":
            d.attendance = int(payload["attendance"])
            return None
        r = self.roster
        if row.kind == "first":
            d.first = r.counts(payload["first"], "first")
            return None
        if row.kind == "hotline_report":
            d.attendance = int(payload["attendance"])
            d.first = r.counts(payload["first"], "first")
        assert d.attendance is not None and d.first is not None
        d.complete = Complete(
            d.attendance, d.first, r.counts(payload["final"], "final"),
            r.counts(payload["delegates"], "delegates"), int(payload["_d"]),
            "hotline" if row.kind == "hotline_report" else "app", d.versions, row.seq,
            row.withheld)
        return d.complete

    # --- admin ---------------------------------------------------------------------------

    def provision(self, body: RosterIn, reset: bool, meta: Meta) -> dict[str, Any]:
        """Provision ``body`` (docs/contract.md, Admin): the same roster again changes
        nothing; another roster replaces it only while nothing but provisioning was
        recorded, else ``409 results_exist``; ``reset`` replaces it and clears all."""
        roster = Roster.from_body(body)
        out: dict[str, Any] = {"precincts": len(roster.precincts),
                               "operators": len(roster.operators),
                               "candidates": len(roster.candidates)}
        if not reset:
            if self.roster is not None and self.roster.body == roster.body:
                return {**out, "unchanged": True, "kept_results": len(self.records)}
            rows = self.store.data_rows()
            if rows:
                held = self.roster.election if self.roster is not None else ""
                raise Rejection(409, "results_exist", (
                    f"the database holds {rows} recorded requests and {len(self.records)} "
                    f"precincts with results of another roster (election {held!r}); "
                    "POST /v1/admin/provision?reset=true replaces it and clears them"))
        payload = _json({"election": roster.election, "reset": reset, **out})
        self.store.provision(roster.body, self._row(meta, ADMIN_ACTOR, None, "provision",
                                                    "accepted", 200, None, payload, None))
        self.lockouts = Lockouts()
        self._load()
        return {**out, "unchanged": False, "kept_results": 0}

    def reset(self, meta: Meta) -> None:
        """Clear submissions, tokens, lockouts and the audit trail; keep the roster."""
        self.store.reset(self._row(meta, ADMIN_ACTOR, None, "reset", "accepted", 200, None,
                                   None, None))
        self.lockouts = Lockouts()
        self._load()

    def need_publisher(self) -> Publisher:
        """The publisher of the provisioned roster, or 409 not_provisioned."""
        self.need_roster()
        if self.publisher is None:
            raise Rejection(409, "not_provisioned", "no roster: POST /v1/admin/provision first")
        return self.publisher

    def need_roster(self) -> Roster:
        """The roster, or 409 not_provisioned."""
        if self.roster is None:
            raise Rejection(409, "not_provisioned", "no roster: POST /v1/admin/provision first")
        return self.roster

    # --- sign-in -------------------------------------------------------------------------

    async def login(self, role: str, subject: str, secret: str, meta: Meta,
                    holder: tuple[str, str] | None = None) -> Reply:
        """Chair (role ``chair``, subject = precinct id) or operator sign-in; ``holder`` is
        the (role, subject) of a bearer token the request presented, if any (a session of
        the same subject is never locked out: see :mod:`.lockout`)."""
        roster = self.need_roster()
        kind = f"{role}_login"
        actor = f"{role}:{subject}"
        payload = _json({"subject": subject, "source": meta.source})
        now = self.clock()
        key = (role, subject)
        wait = None if holder == key else self.lockouts.wait_s(meta.source, key, now)
        if wait is not None:
            err = Rejection(429, "locked_out", f"too many bad credentials; retry in {wait} s")
            await self._audit(meta, actor, None, kind, "locked_out", err, payload)
            return Reply(429, _json(err.body()), {"Retry-After": str(wait)})
        known = (roster.precincts[subject].pin if role == "chair" and subject in roster.precincts
                 else roster.operators.get(subject) if role == "operator" else None)
        if known is None or not hmac.compare_digest(known.encode(), secret.encode()):
            if known is not None and holder != key:
                self.lockouts.failed(meta.source, key, now)
            err = Rejection(401, "bad_credentials", "unknown id or wrong PIN/password")
            await self._audit(meta, actor, None, kind, "failed_login", err, payload)
            return Reply(401, _json(err.body()), {})
        if self.faults.chance("login-failures"):
            err = Rejection(401, "login_failed", "sign-in failed (injected login-failures)")
            await self._audit(meta, actor, None, kind, "failed_login", err, payload)
            return Reply(401, _json(err.body()), {})
        self.lockouts.succeeded(meta.source, key)
        token = secrets.token_urlsafe(24)
        h = token_hash(token)
        field = "precinct_id" if role == "chair" else "operator_id"
        self.store.stage(self._row(meta, actor, subject if role == "chair" else None, kind,
                                   "accepted", 200, None, payload, None),
                         token_hash=(h, role, subject))
        self.tokens[h] = (role, subject)
        await self._committed()
        return Reply(200, _json({"token": token, field: subject}), {})

    def principal(self, token: str) -> tuple[str, str] | None:
        """(role, subject) of a bearer token, or None when it was never issued."""
        return self.tokens.get(token_hash(token))

    # --- data writes ---------------------------------------------------------------------

    async def write(self, kind: str, actor: str, pid: str, payload: dict[str, Any], meta: Meta,
              blob: bytes | None = None) -> Reply:
        """Validate, commit and apply one data write (idempotently per ``actor``)."""
        roster = self.need_roster()
        if pid not in roster.precincts:
            raise Rejection(404, "unknown_precinct", f"precinct {pid!r} is not provisioned")
        fp = hashlib.sha256(f"{kind}|{pid}|{_json(payload)}".encode()).hexdigest()
        if meta.idem_key is not None:
            seen = self.idem.get((actor, meta.idem_key))
            if seen is not None:
                if seen[0] != fp:
                    err = Rejection(409, "idempotency_key_reused",
                                    "this Idempotency-Key was used with a different request")
                    await self._audit(meta, actor, pid, kind, "conflict", err, _json(payload))
                    raise err
                self.store.stage(self._row(meta, actor, pid, kind, "replayed", seen[1], None,
                                           _json(payload), None))
                await self._committed()
                return Reply(seen[1], seen[2], {"Idempotent-Replayed": "true"})
        d = self.data.get(pid)
        if kind in ("attendance", "first") and d is not None and d.complete is not None:
            return await self._repost(kind, actor, pid, payload, meta, d)
        try:
            extra = self._validate(kind, roster, pid, payload)
        except Rejection as err:
            await self._audit(meta, actor, pid, kind, "rejected", err, _json(payload))
            raise
        stored = dict(payload, **extra, _fp=fp)
        version = (d.versions if d else 0) + (0 if kind == "worksheet" else 1)
        published = kind in ("final", "hotline_report") or (d is not None
                                                             and d.complete is not None)
        response = _json({"precinct_id": pid, "seq": self.store.next_seq, "version": version,
                          "published": published, "received_at": meta.received_at})
        withheld = self.faults.publication_mode() if kind != "worksheet" else None
        row = self.store.stage(
            self._row(meta, actor, pid, kind, "accepted", 201, None, _json(stored), response,
                      withheld),
            worksheet=(payload["sha256"], blob) if blob is not None else None)
        rec = self._apply(row, stored)
        if rec is not None:
            self._unpublished.append((pid, rec))
        await self._committed()
        return Reply(201, response, {})

    async def _repost(self, kind: str, actor: str, pid: str, payload: dict[str, Any],
                      meta: Meta, d: PrecinctData) -> Reply:
        """An attendance or first alignment posted after the precinct's final: one that
        agrees with the accepted complete record succeeds and changes nothing (200,
        ``"unchanged": true``, audit outcome ``unchanged``); one that disagrees is
        ``409 conflicts_with_final`` and changes nothing either, so the accepted final
        stays published and a later final is validated against it, never against the
        refused numbers."""
        rec = d.complete
        assert rec is not None and self.roster is not None
        try:
            if kind == "attendance":
                if payload["attendance"] != rec.attendance:
                    raise Rejection(409, "conflicts_with_final",
                                    f"attendance {payload['attendance']} disagrees with the "
                                    f"accepted final (attendance {rec.attendance})")
            elif self.roster.counts(payload["first"], "first") != rec.first:
                raise Rejection(409, "conflicts_with_final", "this first alignment disagrees "
                                "with the one of the accepted final")
        except Rejection as err:
            await self._audit(meta, actor, pid, kind, "rejected", err, _json(payload))
            raise
        response = _json({"precinct_id": pid, "seq": self.store.next_seq,
                          "version": d.versions, "published": True,
                          "received_at": meta.received_at, "unchanged": True})
        self.store.stage(self._row(meta, actor, pid, kind, "unchanged", 200, None,
                                   _json(payload), response))
        await self._committed()
        return Reply(200, response, {})

    def _validate(self, kind: str, roster: Roster, pid: str,
                  payload: dict[str, Any]) -> dict[str, Any]:
        """Raise a Rejection for an impossible write; return facts to store with it."""
        d = self.data.get(pid) or PrecinctData()
        p = roster.precincts[pid]
        if kind == "first":
            check_first(d.attendance, roster.counts(payload["first"], "first"))
        elif kind == "final":
            if d.attendance is None or d.first is None:
                raise Rejection(409, "out_of_order",
                                "post the attendance and the first alignment before the final")
            final = roster.counts(payload["final"], "final")
            dels = roster.counts(payload["delegates"], "delegates")
            return {"_d": check_complete(p, d.attendance, d.first, final, dels)}
        elif kind == "hotline_report":
            t = int(payload["attendance"])
            first = roster.counts(payload["first"], "first")
            check_first(t, first)
            final = roster.counts(payload["final"], "final")
            dels = roster.counts(payload["delegates"], "delegates")
            return {"_d": check_complete(p, t, first, final, dels)}
        return {}

    # --- audit ---------------------------------------------------------------------------

    def _row(self, meta: Meta, actor: str, pid: str | None, kind: str, outcome: str,
             status: int, code: str | None, payload: str | None, response: str | None,
             withheld: str | None = None) -> AuditRow:
        specs = self.faults.specs
        return AuditRow(meta.received_at, meta.request_id, actor, pid, kind, meta.idem_key,
                        outcome, status, code, payload, response,
                        _json(specs) if specs else None, withheld)

    async def _audit(self, meta: Meta, actor: str, pid: str | None, kind: str,
                     outcome: str, err: Rejection, payload: str) -> None:
        self.store.stage(self._row(meta, actor, pid, kind, outcome, err.status, err.code,
                                   payload, None))
        await self._committed()

    async def _committed(self) -> None:
        """Wait for the group commit of what was staged; 503 when it failed."""
        try:
            await self.store.committed()
        except StoreError as exc:
            raise Rejection(503, "storage_error", str(exc)[:300]) from None
