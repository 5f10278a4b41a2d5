"""Fixtures shared by the test files (a test file never imports another): the verdict
of a target that passed, hostile targets on loopback with ``rehearse run`` against
them, the ``rehearse`` command as a subprocess, the processes and ports of a run, and a
real small filesystem that fills up."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from caucus_rehearsal.rehearsal.night import build_night, write_night
from caucus_rehearsal.rundir.writer import write_json
from caucus_rehearsal.simulator.loader import load_scenario, resolve

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


NIGHT_SPEED = 600.0


@dataclass(frozen=True, slots=True)
class RecordedNight:
    """A finished smoke-scenario run directory whose ``snapshots.jsonl`` tells a whole
    night: the zero state, gradual reports, a failed fetch, a halt (only 304s and an
    unchanged refetch), batch releases, and corrections of worksheets published with
    errors (``wrong``: their unit ids; they are published wrong until ``fixed_min``)."""

    path: Path
    wrong: tuple[str, ...]
    fixed_min: float


def _statewide(precincts: dict[str, dict[str, Any]], cands: list[str]) -> dict[str, Any]:
    return {k: {c: round(sum(p[k][c] for p in precincts.values()), 4) for c in cands}
            for k in ("first", "final", "sde")}


@pytest.fixture(scope="session")
def recorded_night(tmp_path_factory: pytest.TempPathFactory) -> RecordedNight:
    """Written once per session with the run-directory writer of ``rehearse run``; read
    only."""
    scenario = load_scenario("smoke", [])
    night = build_night(scenario)
    path = tmp_path_factory.mktemp("night") / "20200203-190000-smoke"
    path.mkdir()
    run = {"scenario": scenario.name, "scenario_file": "scenario.toml", "overrides": [],
           "seed": scenario.seed, "speed": NIGHT_SPEED, "sim_start_min": scenario.live.start,
           "sim_end_min": scenario.live.end, "t0_wall": 1_790_000_000.0,
           "target": "http://127.0.0.1:1", "reference_server": False, "server_faults": [],
           "status": "preparing"}
    write_night(path, night, resolve("smoke"), run)
    write_json(path / "run.json", {**run, "status": "complete"})
    cands = list(night.candidates)
    truth = {json.loads(x)["unit_id"]: json.loads(x)["tally"]
             for x in (path / "truth.jsonl").read_text().splitlines()}
    sheets = {p.unit_id: night.worksheet_json(i) for i, p in enumerate(night.plans)}
    wrong = tuple(p.unit_id for p in night.plans if p.worksheet.error)
    order = list(wrong) + [u for u in truth if u not in wrong]

    def shown(n: int, fixed: bool) -> dict[str, dict[str, Any]]:
        out = {}
        for uid in order[:n]:
            src = truth[uid] if fixed or uid not in wrong else sheets[uid]
            out[uid] = {k: src[k] for k in ("attendance", "first", "final", "delegates")}
            out[uid]["sde"] = truth[uid]["sde"]
        return out

    lines: list[dict[str, Any]] = []

    def snap(minute: float, status: int, precincts: dict[str, Any] | None = None) -> None:
        line: dict[str, Any] = {"fetched_wall": 1_790_000_000.0 + minute * 60 / NIGHT_SPEED,
                                "sim_min": minute, "status": status, "results": None}
        if status == 200 and precincts is not None:
            line["results"] = {"precincts_total": len(truth),
                               "precincts_reporting": len(precincts),
                               "statewide": _statewide(precincts, cands),
                               "precincts": precincts}
        elif status == 0:
            line["detail"] = "ReadTimeout: timed out"
        lines.append(line)

    snap(-35, 200, {})
    snap(-30, 304)
    snap(20, 200, shown(8, False))
    snap(30, 200, shown(12, False))
    snap(40, 0)
    snap(50, 304)
    snap(60, 200, shown(12, False))  # a forced refetch: same content, no new version
    snap(70, 200, shown(20, False))
    for minute in range(80, 210, 10):  # the halt
        snap(minute, 200 if minute == 150 else 304, shown(20, False) if minute == 150 else None)
    snap(210, 200, shown(35, False))  # a batch release
    snap(250, 200, shown(40, True))  # the last units, and the corrections
    snap(260, 200, shown(40, True))
    with (path / "snapshots.jsonl").open("w") as fh:
        fh.writelines(json.dumps(x, separators=(",", ":")) + "\n" for x in lines)
    return RecordedNight(path, wrong, 250.0)


DISK_DRIVER = TESTS / "support" / "disk_driver.py"


def _rehearse_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", CLI, *args]


@pytest.fixture
def rehearse_argv() -> Callable[..., list[str]]:
    """``rehearse_argv(*args)``: the command line of ``rehearse ARGS...`` as a subprocess."""
    return _rehearse_argv


def _processes_mentioning(marker: str) -> list[psutil.Process]:
    """Live processes (zombies aside) whose command line contains ``marker`` (a run's
    temporary folder: the server's ``--db``, Locust's ``--run-dir`` and ``--csv``)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and \
                    marker in " ".join(proc.info["cmdline"] or ()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture
def processes_mentioning() -> Callable[[str], list[psutil.Process]]:
    """``processes_mentioning(marker)``: the live processes whose command line holds it."""
    return _processes_mentioning


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` again: nobody listens there (closed
    connections may linger in TIME_WAIT; servers bind with SO_REUSEADDR, as here)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            s.listen()
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    """``free_port()``: a loopback TCP port nobody listens on (for a server to take)."""
    return _free_port


@pytest.fixture
def port_is_free() -> Callable[..., bool]:
    """``port_is_free(port, host="127.0.0.1")``: see :func:`_port_is_free`."""
    return _port_is_free


def _mount_prefix() -> list[str] | None:
    """``unshare`` options giving a private mount namespace where a tmpfs can be mounted
    (root, or an unprivileged user namespace), or None when this machine allows neither."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "--mount"] if os.geteuid() == 0 else \
        ["unshare", "--user", "--map-root-user", "--mount"]
    probe = subprocess.run([*prefix, "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$1"',
                            "sh", tempfile.gettempdir()],
                           capture_output=True, timeout=30, check=False)
    return prefix if probe.returncode == 0 else None


@pytest.fixture(scope="session")
def small_disk(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """Run a command on a real, small tmpfs that the test fills up (ENOSPC for real).

    ``small_disk(argv, size_mb=..., fill=...)`` mounts a tmpfs in a private mount
    namespace (it vanishes with the namespace), runs ``argv`` inside it as the current
    folder and returns what ``tests/disk_driver.py`` observed (see its docstring for
    ``fill`` and the result's keys). Skips where no tmpfs can be mounted.
    """
    prefix = _mount_prefix()
    if prefix is None:
        pytest.skip("cannot mount a small tmpfs here (needs root or user namespaces)")

    def run(argv: list[str], size_mb: int = 16, timeout_s: float = 180,
            **spec: Any) -> dict[str, Any]:
        mount = tmp_path_factory.mktemp("disk")  # only the namespace sees the tmpfs on it
        job = {"disk": str(mount), "argv": argv, "timeout_s": timeout_s, **spec}
        script = 'mount -t tmpfs -o size="$1"m tmpfs "$2" && shift 2 && exec "$@"'
        proc = subprocess.run([*prefix, "sh", "-c", script, "sh", str(size_mb), str(mount),
                               sys.executable, str(DISK_DRIVER), json.dumps(job)],
                              capture_output=True, text=True, timeout=timeout_s + 120,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result

    return run
