"""Fixtures shared by the test files (a test file never imports another)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

MACHINE = "the target did not get the modelled load"
"""How a gate reads when the run's own lateness kept it from being judged
(reports/fidelity.py): the machine's doing, not the target's."""


def _target_passed(summary: dict[str, Any], exit_code: int | None = None) -> None:
    """The target passed every gate: the verdict is PASS, or, on a machine too busy to
    keep the rehearsal's schedule, inconclusive for that reason alone with no gate
    failed (the rehearsal then refuses to vouch for the target, rightly)."""
    verdict = summary["verdict"]
    if verdict == "inconclusive":
        gates = summary["gates"]
        assert summary["schedule_fidelity"]["faithful"] is False, summary["inconclusive_reasons"]
        assert all(g["result"] != "fail" for g in gates), gates
        assert all(g["why"].startswith(MACHINE) for g in gates
                   if g["result"] == "inconclusive"), gates
        assert exit_code in (None, 4)
        return
    assert verdict == "pass", summary.get("findings")
    assert exit_code in (None, 0)


@pytest.fixture
def target_passed() -> Callable[..., None]:
    """``target_passed(summary, exit_code=None)``: see :func:`_target_passed`."""
    return _target_passed
