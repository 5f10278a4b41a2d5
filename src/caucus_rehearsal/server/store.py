"""Durable storage: one SQLite database in WAL mode, written only through :class:`Store`.

Tables: ``meta`` (the roster as provisioned, and ``db_id``: a random id made with the
database), ``audit`` (the append-only trail of every write request that reached a
handler, provisioning and resets included; accepted data is never updated, a
resubmission is a new row), ``tokens`` (sha256 of each issued bearer token) and
``worksheets`` (photos). ``seq`` never restarts: a reset deletes the rows before it and
records itself as the next one, so a sequence number names one row of the database's
whole life (the published version is built on that).
Writes are group-committed: a handler *stages* its row (:meth:`Store.stage`, which fixes
its ``seq``) and awaits :meth:`Store.committed`; every row staged on the event loop until
the flush runs (scheduled with ``call_soon``, so it waits for no timer, only for the
handlers already ready to run) goes into one transaction, in ``seq`` order, and only then
are the waiting handlers resumed, so nothing is acknowledged before it is committed. With
``synchronous=NORMAL`` a commit survives the process being killed (``kill -9``); with
``durability="full"`` it also survives power loss, at the cost of an fsync per commit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    stored_at REAL NOT NULL,
    request_id TEXT,
    actor TEXT NOT NULL,
    precinct_id TEXT,
    kind TEXT NOT NULL,
    idem_key TEXT,
    outcome TEXT NOT NULL,
    status INTEGER NOT NULL,
    code TEXT,
    payload TEXT,
    response TEXT,
    faults TEXT,
    withheld TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, role TEXT NOT NULL, subject TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS worksheets (
    seq INTEGER PRIMARY KEY, precinct_id TEXT NOT NULL, sha256 TEXT NOT NULL,
    data BLOB NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One write request as recorded. ``received_at``/``stored_at`` are epoch seconds;
    ``payload`` is the data as submitted (JSON text), ``response`` the stored response
    body (JSON text) replayed for a repeated Idempotency-Key; ``withheld`` is the
    incomplete-output mode active when the row arrived (None when off)."""

    received_at: float
    request_id: str | None
    actor: str
    precinct_id: str | None
    kind: str
    idem_key: str | None
    outcome: str
    status: int
    code: str | None
    payload: str | None
    response: str | None
    faults: str | None
    withheld: str | None
    seq: int = 0
    stored_at: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The public audit item (docs/contract.md)."""
        return {
            "seq": self.seq, "received_at": self.received_at, "stored_at": self.stored_at,
            "request_id": self.request_id, "actor": self.actor,
            "precinct_id": self.precinct_id, "kind": self.kind,
            "idempotency_key": self.idem_key, "outcome": self.outcome,
            "status": self.status, "code": self.code,
            "payload": _public(self.payload),
            "faults": json.loads(self.faults) if self.faults else [],
            "withheld": self.withheld,
        }


def _public(payload: str | None) -> dict[str, Any] | None:
    """A stored payload without the server's private keys (``_``-prefixed)."""
    if not payload:
        return None
    return {k: v for k, v in json.loads(payload).items() if not k.startswith("_")}


_COLUMNS = ("received_at, request_id, actor, precinct_id, kind, idem_key, outcome, status, "
            "code, payload, response, faults, withheld, seq, stored_at")

class StoreError(Exception):
    """A group commit failed: nothing staged with it was stored."""


_Staged = tuple[int, AuditRow, tuple[str, str, str] | None, tuple[str, bytes] | None]
"""A staged write: seq, row, new token (hash, role, subject), photo (sha256, bytes)."""

_INSERT_AUDIT = ("INSERT INTO audit (seq, received_at, stored_at, request_id, actor, "
                 "precinct_id, kind, idem_key, outcome, status, code, payload, response, "
                 "faults, withheld) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


class Store:
    """The database behind one server; not thread-safe (one event loop owns it)."""

    def __init__(self, path: str | Path, durability: str = "normal") -> None:
        if durability not in ("normal", "full"):
            raise ValueError(f"durability(={durability!r}) must be 'normal' or 'full'")
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={durability.upper()}")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.executescript(_SCHEMA)
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('db_id', ?)",
                          (secrets.token_hex(4),))
        self.db_id: str = str(self.conn.execute(
            "SELECT value FROM meta WHERE key = 'db_id'").fetchone()[0])
        """A random id made with the database (ETags of two databases never match)."""
        last = self.conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
        self.next_seq: int = int(last or 0) + 1
        """The ``seq`` the next staged row gets (this store is the only writer)."""
        self.on_commit: Callable[[], None] | None = None
        """Called after each successful group commit (before any waiter resumes)."""
        self.on_failure: Callable[[], None] | None = None
        """Called after a failed group commit (before any waiter resumes)."""
        self.stored_at = 0.0
        """The ``stored_at`` of the last group commit (epoch seconds)."""
        self._staged: list[_Staged] = []
        self._waiters: list[asyncio.Future[None]] = []

    def close(self) -> None:
        """Checkpoint and close the database."""
        self.conn.close()

    def load_roster(self) -> dict[str, Any] | None:
        """The provisioned roster body, or None before provisioning."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'roster'").fetchone()
        return json.loads(row[0]) if row else None

    def data_rows(self) -> int:
        """Rows of the audit trail other than provisioning and resets (actor ``admin``)."""
        return int(self.conn.execute(
            "SELECT count(*) FROM audit WHERE actor != 'admin'").fetchone()[0])

    def provision(self, roster: dict[str, Any], row: AuditRow) -> AuditRow:
        """Replace the roster, clear every submission, token and photo, and record
        ``row`` (the provisioning itself) as the first row of the new trail."""
        self.flush()
        with self._tx():
            self._clear()
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('roster', ?)",
                              (json.dumps(roster, separators=(",", ":")),))
            return self._insert_now(row)

    def reset(self, row: AuditRow) -> AuditRow:
        """Clear every submission, token and photo; keep the roster; record ``row``."""
        self.flush()
        with self._tx():
            self._clear()
            return self._insert_now(row)

    def _clear(self) -> None:
        for table in ("audit", "tokens", "worksheets"):
            self.conn.execute(f"DELETE FROM {table}")

    def _insert_now(self, row: AuditRow) -> AuditRow:
        seq, stored_at = self.next_seq, time.time()
        self.next_seq += 1
        self.conn.execute(_INSERT_AUDIT, (
            seq, row.received_at, stored_at, row.request_id, row.actor, row.precinct_id,
            row.kind, row.idem_key, row.outcome, row.status, row.code, row.payload,
            row.response, row.faults, row.withheld))
        return dataclasses.replace(row, seq=seq, stored_at=stored_at)

    def stage(self, row: AuditRow, token_hash: tuple[str, str, str] | None = None,
              worksheet: tuple[str, bytes] | None = None) -> AuditRow:
        """Queue ``row`` (with a new token or photo, stored in the same transaction) for
        the next group commit; ``row`` with its ``seq``. Await :meth:`committed` before
        acknowledging anything."""
        seq = self.next_seq
        self.next_seq = seq + 1
        self._staged.append((seq, row, token_hash, worksheet))
        return AuditRow(row.received_at, row.request_id, row.actor, row.precinct_id, row.kind,
                        row.idem_key, row.outcome, row.status, row.code, row.payload,
                        row.response, row.faults, row.withheld, seq)

    async def committed(self) -> None:
        """Return once every row staged so far is committed; ``StoreError`` when the
        transaction holding them failed."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        if len(self._waiters) == 1:
            fut.get_loop().call_soon(self.flush)
        await fut

    def flush(self) -> None:
        """Commit every staged row in one transaction, then wake the waiters."""
        staged, waiters = self._staged, self._waiters
        self._staged, self._waiters = [], []
        error: Exception | None = None
        if staged:
            try:
                self._write(staged)
            except Exception as exc:  # disk full, I/O error, a constraint: nothing stored
                error = exc
                self.next_seq = staged[0][0]
        hook = self.on_commit if error is None else self.on_failure
        try:
            if hook is not None and staged:
                hook()
        finally:  # every waiter is woken, whatever the hook did
            for w in waiters:
                if not w.done():
                    if error is None:
                        w.set_result(None)
                    else:
                        w.set_exception(StoreError(f"the write was not stored: {error}"))

    def _write(self, staged: list[_Staged]) -> None:
        stored_at = self.stored_at = time.time()
        rows = [(seq, r.received_at, stored_at, r.request_id, r.actor, r.precinct_id, r.kind,
                 r.idem_key, r.outcome, r.status, r.code, r.payload, r.response, r.faults,
                 r.withheld) for seq, r, _, _ in staged]
        tokens = [t for _, _, t, _ in staged if t is not None]
        photos = [(seq, r.precinct_id, w[0], w[1]) for seq, r, _, w in staged if w is not None]
        if len(rows) == 1 and not tokens and not photos:
            # One statement outside BEGIN is its own transaction (autocommit): committed
            # when execute returns.
            self.conn.execute(_INSERT_AUDIT, rows[0])
            return
        with self._tx():
            self.conn.executemany(_INSERT_AUDIT, rows)
            if tokens:
                self.conn.executemany("INSERT INTO tokens VALUES (?,?,?)", tokens)
            if photos:
                self.conn.executemany("INSERT INTO worksheets VALUES (?,?,?,?)", photos)

    def audit(self, after: int = 0, limit: int | None = None) -> Iterator[AuditRow]:
        """Audit rows with ``seq > after`` in order, at most ``limit`` of them."""
        sql = f"SELECT {_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq"
        params: tuple[int, ...] = (after,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (after, limit)
        for r in self.conn.execute(sql, params):
            yield AuditRow(*r)

    def tokens(self) -> Iterator[tuple[str, str, str]]:
        """Every issued token as (sha256 hex, role, subject)."""
        for r in self.conn.execute("SELECT token_hash, role, subject FROM tokens"):
            yield (str(r[0]), str(r[1]), str(r[2]))

    def worksheet(self, seq: int) -> bytes | None:
        """The photo stored with audit row ``seq``."""
        row = self.conn.execute("SELECT data FROM worksheets WHERE seq = ?", (seq,)).fetchone()
        return bytes(row[0]) if row else None

    def _tx(self) -> _Transaction:
        return _Transaction(self.conn)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.Error:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
