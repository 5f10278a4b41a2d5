"""The target's errors a run recorded: where the target broke the contract.

Two records (``docs/run-directory.md``):

- ``run.json`` ``target_error``: the orchestration call that ended the run or could not be
  made (``call``: ``adapter``, ``health``, ``provision``, ``speed probe``, ``snapshot``,
  ``faults``, ``audit``), with ``kind`` (``protocol``: an answer the adapter cannot read
  or a read that never ends; ``refused``: an error status where the contract has a
  success; ``unreachable``: no answer), the ``endpoint``, its ``status``, an
  ``excerpt`` of the answer and the ``error``;
- ``events.jsonl`` attempts with outcome ``protocol_error``: answers to the load the
  adapter could not read (``detail``: endpoint, status, excerpt and why).

Either makes the verdict ``error`` (exit 3): the rehearsal could not use the target as
the contract says, and that is the target's failure, named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.records import Json

PROTOCOL_ERROR = "protocol_error"
"""The events outcome of an answer the adapter could not read."""

EXAMPLES = 5
"""Protocol-error details ``summary.json`` quotes."""


@dataclass(frozen=True, slots=True)
class TargetErrors:
    """``fatal``: ``run.json``'s ``target_error`` (None: none); ``answers``: the events
    whose outcome is ``protocol_error``, in file order."""

    fatal: Json | None
    answers: tuple[Json, ...]

    @property
    def any(self) -> bool:
        return self.fatal is not None or bool(self.answers)

    def reason(self) -> str:
        """Why the verdict is ``error``, in one sentence (without the full stop)."""
        parts = []
        f = self.fatal
        if f is not None:
            what = _call(str(f.get("call", "")))
            if f.get("kind") == "unreachable" and not f.get("endpoint"):
                parts.append(f"the target could not be reached ({what}): {f.get('error')}")
            else:
                answer = (f"{f.get('endpoint')} answered {f.get('status')} "
                          f"{f.get('excerpt', '')!r} ({f.get('error')})"
                          if f.get("endpoint") else str(f.get("error")))
                verb = "refused" if f.get("kind") == "refused" else "broke the contract"
                parts.append(f"the target {verb} ({what}): {answer}")
        if self.answers:
            n = len(self.answers)
            parts.append(f"{n} of the target's answers to the load could not be read "
                         f"(protocol errors; e.g. {self.answers[0].get('detail', '')})")
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        """The ``target_errors`` block of ``summary.json``."""
        return {"fatal": self.fatal, "protocol_errors": len(self.answers),
                "examples": [{k: e.get(k) for k in ("unit_id", "actor", "step", "status",
                                                      "detail")}
                             for e in self.answers[:EXAMPLES]]}


def _call(call: str) -> str:
    return {"adapter": "loading the adapter", "health": "health check",
            "provision": "provisioning", "speed probe": "probing its speed",
            "snapshot": "reading the published results", "faults": "switching faults",
            "audit": "reading the audit trail"}.get(call, call or "a call")


def target_errors(run: RunDir) -> TargetErrors:
    """What the run recorded of the target's errors."""
    fatal = run.run.get("target_error")
    return TargetErrors(fatal if isinstance(fatal, dict) else None,
                        tuple(e for e in run.events if e.get("outcome") == PROTOCOL_ERROR))
