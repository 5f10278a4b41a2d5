"""Fixtures shared by the test files (a test file never imports another): the verdict
of a target that passed, and hostile targets on loopback with ``rehearse run`` against
them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
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


TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CLI = "from caucus_rehearsal.cli import main; raise SystemExit(main())"
ADMIN = "k3y"
SHORT_SMOKE = ("--speed", "2000", "--band-runs", "0", "--set", "live.end=21:30")
"""A smoke night cut short and fast: about fifteen seconds of wall time in all."""


@dataclass(frozen=True)
class Rehearsal:
    """A finished ``rehearse run``: exit code, output, and its run directory."""

    code: int
    stdout: str
    stderr: str
    run_dir: Path

    @property
    def summary(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "summary.json").read_text()))

    @property
    def run(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "run.json").read_text()))

    def first_finding(self) -> str:
        """The first '  - ' line ``rehearse run`` printed under the verdict."""
        return next(x[4:] for x in self.stdout.splitlines() if x.startswith("  - "))

    def rebuilt_identically(self) -> bool:
        """Whether ``rehearse report`` of the run directory ends with the same exit code
        and writes the same ``summary.json`` bytes."""
        before = (self.run_dir / "summary.json").read_bytes()
        proc = subprocess.run([sys.executable, "-c", CLI, "report", str(self.run_dir)],
                              cwd=REPO, capture_output=True, text=True, timeout=120,
                              check=False)
        return proc.returncode == self.code and \
            (self.run_dir / "summary.json").read_bytes() == before


@pytest.fixture
def hostile_target() -> Iterator[Callable[[str], str]]:
    """Start ``tests/support/hostile_target.py`` in a mode; its URL (stopped after the test)."""
    procs: list[subprocess.Popen[str]] = []

    def start(mode: str) -> str:
        proc = subprocess.Popen(
            [sys.executable, str(TESTS / "support" / "hostile_target.py"), "--port", "0",
             "--admin-token", ADMIN, "--mode", mode], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        assert url.startswith("http://127.0.0.1:"), url
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture
def rehearse(tmp_path: Path) -> Callable[..., Rehearsal]:
    """``rehearse(*args)``: run ``rehearse run *args`` into a fresh directory."""
    count = iter(range(1000))

    def run(*args: str, timeout: float = 180) -> Rehearsal:
        out = tmp_path / f"runs{next(count)}"
        proc = subprocess.run([sys.executable, "-c", CLI, "run", *args, "--out", str(out)],
                              cwd=REPO, capture_output=True, text=True, timeout=timeout,
                              check=False)
        dirs = list(out.iterdir()) if out.exists() else []
        assert len(dirs) == 1, proc.stdout + proc.stderr
        return Rehearsal(proc.returncode, proc.stdout, proc.stderr, dirs[0])

    return run


@pytest.fixture
def against(hostile_target: Callable[[str], str],
            rehearse: Callable[..., Rehearsal]) -> Callable[..., Rehearsal]:
    """``against(mode, *args)``: a short smoke night against a hostile target in ``mode``."""

    def run(mode: str, *args: str) -> Rehearsal:
        return rehearse("smoke", "--target", hostile_target(mode), "--admin-token", ADMIN,
                        *SHORT_SMOKE, *args)

    return run
