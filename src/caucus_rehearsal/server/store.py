"""Durable storage: one SQLite database in WAL mode, written only through :class:`Store`.

Tables: ``meta`` (the roster as provisioned), ``audit`` (the append-only trail of every
write request that reached a handler; accepted data is never updated, a resubmission is
a new row), ``tokens`` (sha256 of each issued bearer token) and ``worksheets`` (photos).
Each write is one transaction (a lone audit insert in autocommit mode, or BEGIN
IMMEDIATE ... COMMIT with a token or photo), committed before the caller acknowledges it. With
``synchronous=NORMAL`` a commit survives the process being killed (``kill -9``); with
``durability="full"`` it also survives power loss, at the cost of an fsync per commit.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
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
        last = self.conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
        self.next_seq: int = int(last or 0) + 1
        """The ``seq`` the next appended row gets (this store is the only writer)."""

    def close(self) -> None:
        """Checkpoint and close the database."""
        self.conn.close()

    def load_roster(self) -> dict[str, Any] | None:
        """The provisioned roster body, or None before provisioning."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'roster'").fetchone()
        return json.loads(row[0]) if row else None

    def provision(self, roster: dict[str, Any]) -> None:
        """Replace the roster and clear every submission, token and photo."""
        with self._tx():
            self._clear()
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('roster', ?)",
                              (json.dumps(roster, separators=(",", ":")),))

    def reset(self) -> None:
        """Clear every submission, token and photo; keep the roster."""
        with self._tx():
            self._clear()

    def _clear(self) -> None:
        for table in ("audit", "tokens", "worksheets"):
            self.conn.execute(f"DELETE FROM {table}")
        self.next_seq = 1

    def append(self, row: AuditRow, token_hash: tuple[str, str, str] | None = None,
               worksheet: tuple[str, bytes] | None = None) -> AuditRow:
        """Commit ``row`` (with a new token or photo in the same transaction) and return
        it with its ``seq`` and ``stored_at``."""
        stored_at = time.time()
        seq = self.next_seq
        values = (seq, row.received_at, stored_at, row.request_id, row.actor, row.precinct_id,
                  row.kind, row.idem_key, row.outcome, row.status, row.code, row.payload,
                  row.response, row.faults, row.withheld)
        if token_hash is None and worksheet is None:
            # One statement outside BEGIN is its own transaction (autocommit): committed
            # when execute returns, with the two round trips of BEGIN/COMMIT saved.
            self.conn.execute(_INSERT_AUDIT, values)
        else:
            with self._tx():
                self.conn.execute(_INSERT_AUDIT, values)
                if token_hash is not None:
                    self.conn.execute("INSERT INTO tokens VALUES (?,?,?)", token_hash)
                if worksheet is not None:
                    self.conn.execute("INSERT INTO worksheets VALUES (?,?,?,?)",
                                      (seq, row.precinct_id, worksheet[0], worksheet[1]))
        self.next_seq = seq + 1
        return AuditRow(row.received_at, row.request_id, row.actor, row.precinct_id, row.kind,
                        row.idem_key, row.outcome, row.status, row.code, row.payload,
                        row.response, row.faults, row.withheld, seq, stored_at)

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
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
