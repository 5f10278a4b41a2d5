"""The certified 2020 results (``scenarios/data/iowa-2020-results.csv``) as arrays.

Loaded once per process (cached): the truth of the ``iowa-2020`` scenario takes the real
first alignment from here, or resamples around it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from caucus_rehearsal.errors import InputFileError, ScenarioError
from caucus_rehearsal.simulator.loader import data_dir
from caucus_rehearsal.simulator.roster import IOWA_RESULTS, read_csv

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Certified:
    """Certified counts, one row per unit in ``unit_ids`` order, one column per candidate."""

    unit_ids: tuple[str, ...]
    candidates: tuple[str, ...]
    first: IntArray
    final: IntArray
    delegates: IntArray

    def columns(self, candidates: tuple[str, ...], source: str) -> list[int]:
        """Column of each of ``candidates``; a ``ScenarioError`` names an unknown one."""
        out = []
        for c in candidates:
            if c not in self.candidates:
                known = ", ".join(self.candidates)
                raise ScenarioError(source, "election.candidates", c,
                                    f"a candidate of the 2020 results: {known}")
            out.append(self.candidates.index(c))
        return out


@functools.lru_cache(maxsize=4)
def load_certified(path: Path | None = None) -> Certified:
    """The certified results at ``path`` (default: the bundled file)."""
    path = path or data_dir() / IOWA_RESULTS
    rows = read_csv(path)
    if not rows:
        raise InputFileError(f"{path}: no result rows")
    cands = tuple(k.removeprefix("final_") for k in rows[0] if k.startswith("final_"))

    def matrix(part: str) -> IntArray:
        try:
            return np.array([[int(r[f"{part}_{c}"]) for c in cands] for r in rows], dtype=np.int64)
        except (KeyError, ValueError) as exc:
            raise InputFileError(f"{path}: bad or missing {part} column ({exc})") from None

    return Certified(tuple(r["unit_id"] for r in rows), cands, matrix("first"), matrix("final"),
                     matrix("delegates"))
