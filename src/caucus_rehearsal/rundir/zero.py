"""The zero read's record: what the target published before the night (the run
directory's ``zero_state.json``, docs/run-directory.md).

``rehearse run`` reads the target's published results once after provisioning it and
before the first report, through the same adapter call shape as the live snapshots
(:meth:`TargetAdapter.zero_state`, ``rehearsal/zero_check.py``), and writes it with
:func:`~caucus_rehearsal.rundir.writer.write_zero_state`; ``rehearse report`` reads it
with :func:`~caucus_rehearsal.rundir.reader.read_zero_state` and judges it
(``reports/zero_state.py``). One JSON object::

    {"skipped": false, "fetched_wall": 1790000000.0, "sim_min": -30.4, "status": 200,
     "detail": "", "results": {... the normalised published results, with "unreported" ...}}

``status`` is 200 when the read worked, 0 when it failed (``detail`` says why);
``results`` is the normalised published results (:mod:`caucus_rehearsal.published`)
plus ``unreported``, the rows the target lists as not reporting (its zero rows), when
its adapter returns them. With ``rehearse run --skip-zero-check`` the file is
``{"skipped": true, "detail": "--skip-zero-check"}`` and nothing was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SKIP_FLAG = "--skip-zero-check"
"""The ``rehearse run`` option that skips the zero read (for targets that cannot show a
zero state)."""


@dataclass(frozen=True, slots=True)
class ZeroRead:
    """One zero read: when (``fetched_wall`` Unix seconds, ``sim_min`` the run's clock),
    the fetch's ``status`` (200, or 0: failed, ``detail`` why) and the normalised
    ``results``; ``skipped`` when the run was told not to read (then nothing else is set)."""

    fetched_wall: float | None
    sim_min: float | None
    status: int
    results: dict[str, Any] | None
    detail: str = ""
    skipped: bool = False

    def as_json(self) -> dict[str, Any]:
        """The content of ``zero_state.json``."""
        if self.skipped:
            return {"skipped": True, "detail": self.detail}
        return {"skipped": False, "fetched_wall": self.fetched_wall, "sim_min": self.sim_min,
                "status": self.status, "detail": self.detail, "results": self.results}

    @classmethod
    def from_json(cls, doc: object) -> ZeroRead:
        """The record of ``zero_state.json``'s object; ``ValueError`` says what is wrong."""
        if not isinstance(doc, dict):
            raise ValueError("expected a JSON object")
        detail = str(doc.get("detail") or "")
        if doc.get("skipped") is True:
            return cls(None, None, 0, None, detail, skipped=True)
        status, results = doc.get("status"), doc.get("results")
        if not isinstance(status, int) or isinstance(status, bool):
            raise ValueError(f"status(={status!r}) must be an HTTP status or 0")
        if results is not None and not isinstance(results, dict):
            raise ValueError("results must be an object or null")
        wall, minute = doc.get("fetched_wall"), doc.get("sim_min")
        return cls(float(wall) if isinstance(wall, int | float) else None,
                   float(minute) if isinstance(minute, int | float) else None,
                   status, results if status == 200 else None, detail)
