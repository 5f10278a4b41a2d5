"""The run's last read of the published results: the final state the report reconciles.

A feed can glitch and recover (Wayne County 2018; the reference server's ``transient``
fault). A final read that lands in a glitch would have the report reconcile a state the
target showed for a moment instead of the one it settled on: precincts published all
night would read as acknowledged but lost. So while the final read shows the feed gone
back from what it showed during the night (fewer precincts reporting, or a precinct
published before no longer published), it is read again, :data:`RETRY_S` apart, up to
:data:`FINAL_READS` reads. Every read is a line of ``snapshots.jsonl``, so the integrity
checks judge the glitch with its moment; the last line is the final state. A target that
really dropped what it had published still shows it dropped at the last read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

FINAL_READS = 7
"""Reads of the final state at most (six seconds: longer than the reference server's
default ``transient`` window of five)."""

RETRY_S = 1.0
"""Wall seconds between two final reads."""


def _reporting(results: Mapping[str, Any]) -> int:
    declared = results.get("precincts_reporting")
    if isinstance(declared, int | float) and not isinstance(declared, bool):
        return int(declared)
    shown = results.get("precincts")
    return len(shown) if isinstance(shown, Mapping) else 0


class FeedHigh:
    """The most the feed showed during the night: precincts reporting, and every precinct
    it published."""

    def __init__(self) -> None:
        self.reporting = 0
        self.published: set[str] = set()

    def see(self, results: Mapping[str, Any] | None) -> None:
        """Take in one fresh read (None: nothing new)."""
        if results is None:
            return
        self.reporting = max(self.reporting, _reporting(results))
        shown = results.get("precincts")
        if isinstance(shown, Mapping):
            self.published.update(str(k) for k in shown)

    def gone_back(self, results: Mapping[str, Any]) -> bool:
        """Whether ``results`` show less than the feed already showed."""
        shown = results.get("precincts")
        listed = {str(k) for k in shown} if isinstance(shown, Mapping) else set()
        return _reporting(results) < self.reporting or not self.published <= listed


Read = Callable[[], tuple[Mapping[str, Any] | None, bool]]
"""One full read, recorded: (its results, None when it failed; whether the run must end
on it, a protocol error)."""


def read_final(read: Read, high: FeedHigh,
               sleep: Callable[[float], None] = time.sleep) -> int:
    """Read the final state (``read`` records each read) until it has not gone back from
    ``high``, or fails, or :data:`FINAL_READS` reads were made; returns the reads made."""
    reads = 0
    while True:
        results, fatal = read()
        reads += 1
        if fatal or results is None or not high.gone_back(results) or reads == FINAL_READS:
            return reads
        sleep(RETRY_S)
