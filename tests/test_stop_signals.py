"""SIGTERM and SIGHUP (CI cancel, ``timeout``, ``docker stop``, systemd, a closed terminal)
stop every long command the way Ctrl-C does: exit 3 with one line, every child process
stopped, ports released, what was recorded kept (``rehearse serve``: a clean stop, 0).

The runs of one test play at the same time (each with its own folder, server and port)
to keep CI short; each is signalled at its own moment after its own start.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import httpx
import psutil
import pytest

from caucus_rehearsal import cli
from caucus_rehearsal.interrupts import Interrupts


@dataclass
class Stop:
    """One command and how it is stopped: ``sig`` ``after_s`` seconds after its start,
    or once ``events`` lines are in its run's ``events.jsonl`` under ``out``, or once
    ``ready()``; to the command alone or (``group``) to its whole process group, as
    systemd does."""

    name: str
    argv: list[str]
    sig: signal.Signals
    after_s: float = 0.0
    group: bool = False
    events: int = 0
    out_dir: Path | None = None
    ready: Callable[[], bool] | None = None
    proc: subprocess.Popen[str] | None = None
    tree: list[psutil.Process] = field(default_factory=list)
    out: str = ""
    err: str = ""

    def due(self, elapsed_s: float) -> bool:
        if self.ready is not None:
            return self.ready()
        if not self.events:
            return elapsed_s >= self.after_s
        assert self.out_dir is not None
        logs = list(self.out_dir.glob("*/events.jsonl"))
        return bool(logs) and logs[0].read_bytes().count(b"\n") >= self.events


def play(stops: list[Stop], timeout_s: float = 120) -> None:
    """Start every command, signal each when it is due, wait for all to exit."""
    t0 = time.monotonic()
    for s in stops:  # own session: a group signal reaches the command's tree, not pytest
        s.proc = subprocess.Popen(s.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, start_new_session=True)
    try:
        waiting = list(stops)
        while waiting and time.monotonic() - t0 < timeout_s:
            for s in [s for s in waiting if s.due(time.monotonic() - t0)]:
                assert s.proc is not None and s.proc.poll() is None, f"{s.name} ended early"
                s.tree = psutil.Process(s.proc.pid).children(recursive=True)
                if s.group:
                    os.killpg(s.proc.pid, s.sig)
                else:
                    s.proc.send_signal(s.sig)
                waiting.remove(s)
            time.sleep(0.02)
        assert not waiting, f"never due: {[s.name for s in waiting]}"
        for s in stops:
            assert s.proc is not None
            s.out, s.err = s.proc.communicate(timeout=timeout_s)
    finally:
        for s in stops:
            if s.proc is not None and s.proc.poll() is None:
                os.killpg(s.proc.pid, signal.SIGKILL)
                s.proc.communicate()


def assert_nothing_left(s: Stop, find: Callable[[str], list[psutil.Process]],
                        marker: Path) -> None:
    """No process of ``s``'s tree (when signalled) runs, and ``find`` sees none whose
    command line names ``marker`` (the run's folder)."""
    time.sleep(0.5)  # a child reaped a moment after its parent exited
    alive = [p.pid for p in s.tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"{s.name}: children still running: {alive}"
    assert find(str(marker)) == [], f"{s.name}: a process of the run is left"


@pytest.mark.slow
def test_sigterm_and_sighup_stop_a_run_like_ctrl_c(tmp_path: Path, rehearse_argv: Any,
                                                   processes_mentioning: Any,
                                                   port_is_free: Any) -> None:
    def run(name: str, sig: signal.Signals, after_s: float = 0.0, group: bool = False,
            events: int = 0) -> Stop:
        out = tmp_path / name
        argv = rehearse_argv("run", "smoke", "--out", str(out), "--band-runs", "0")
        return Stop(name, argv, sig, after_s, group, events, out)

    # At 2 s and 8 s the run may be anywhere from loading to playing, by the machine's
    # speed; "night" is signalled once the night is surely playing. Two at a time at most.
    batches = [[run("term-2s", signal.SIGTERM, 2.0), run("hup-2s", signal.SIGHUP, 2.0)],
               [run("term-8s", signal.SIGTERM, 8.0),
                run("term-group-8s", signal.SIGTERM, 8.0, group=True)],
               [run("term-night", signal.SIGTERM, events=20)]]
    for batch in batches:
        play(batch)
    for s in (s for batch in batches for s in batch):
        assert s.proc is not None and s.proc.returncode == 3, (s.name, s.out, s.err)
        assert_nothing_left(s, processes_mentioning, tmp_path / s.name)
        if not any((tmp_path / s.name).glob("*")):  # signalled before the run began
            assert s.err == f"rehearse: error: interrupted by {s.sig.name}; nothing was " \
                            "written\n", s.name
            continue
        (run_dir,) = (tmp_path / s.name).iterdir()
        assert s.err == (f"rehearse: error: interrupted by {s.sig.name}; the partial run is "
                         f"kept in {run_dir} (finish its report with 'rehearse report "
                         f"{run_dir}')\n"), s.name
        run_json = json.loads((run_dir / "run.json").read_text())
        assert run_json["status"] == "interrupted" and run_json["stop_reason"] == s.sig.name
        port = re.search(r"reference server: http://127\.0\.0\.1:(\d+)", s.out)
        assert port is None or port_is_free(int(port[1])), s.name
    night = batches[-1][0]
    assert len(night.tree) >= 2  # the server and Locust were running, and were stopped
    run_dir = next((tmp_path / night.name).iterdir())
    assert (run_dir / "locust_stats.csv").is_file()  # Locust stopped cleanly: CSV written
    report = subprocess.run(rehearse_argv("report", str(run_dir)), capture_output=True,
                            text=True, timeout=120, check=False)
    # An interrupted run cannot pass: a failed gate fails it, else it is inconclusive (4).
    assert report.returncode in (1, 4), report.stderr
    assert json.loads((run_dir / "summary.json").read_text())["partial"] is True


@pytest.mark.slow
def test_sigterm_stops_simulate_and_its_workers(tmp_path: Path, rehearse_argv: Any,
                                                processes_mentioning: Any) -> None:
    def sim(name: str, after_s: float) -> Stop:
        argv = rehearse_argv("simulate", "iowa-2020", "--runs", "400", "--jobs", "2",
                             "--out", str(tmp_path / name))
        return Stop(name, argv, signal.SIGTERM, after_s)

    stops = [sim("term-2s", 2.0), sim("term-8s", 8.0)]
    play(stops)
    for s in stops:
        assert s.proc is not None and s.proc.returncode == 3, (s.name, s.err)
        assert s.err.splitlines()[-1] == \
            "rehearse: error: interrupted by SIGTERM; nothing was written", s.name
        assert not (tmp_path / s.name).exists()
        assert_nothing_left(s, processes_mentioning, tmp_path / s.name)


@pytest.mark.slow
def test_sigterm_and_sighup_stop_serve_cleanly(tmp_path: Path, rehearse_argv: Any,
                                               port_is_free: Any, free_port: Any) -> None:
    def serve(sig: signal.Signals) -> Stop:
        port = free_port()
        argv = rehearse_argv("serve", "--port", str(port), "--db",
                             str(tmp_path / f"{sig.name}.db"), "--admin-token", "t")
        return Stop(sig.name, argv, sig, ready=lambda: _answers(port))

    stops = [serve(signal.SIGTERM), serve(signal.SIGHUP)]
    play(stops)
    for s in stops:
        assert s.proc is not None and s.proc.returncode == 0, (s.name, s.err)
        assert "Traceback" not in s.err and s.err.splitlines()[-1] == \
            "reference reporting server stopped", s.err
        port = re.search(r"on http://127\.0\.0\.1:(\d+)", s.err)
        assert port is not None and port_is_free(int(port[1]))
        assert (tmp_path / f"{s.name}.db").is_file()


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_first_stop_signal_interrupts_and_later_ones_hurry_the_cleanup() -> None:
    stops = Interrupts()
    with stops.installed():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises at once
        os.kill(os.getpid(), signal.SIGHUP)  # during cleanup: recorded, not raised
        time.sleep(0.05)
    assert stops.received == ["SIGTERM", "SIGHUP"] and stops.hurry
    assert stops.signal_name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_a_shielded_step_finishes_before_the_signal_is_raised() -> None:
    stops = Interrupts()
    steps: list[str] = []
    with stops.installed(), pytest.raises(KeyboardInterrupt):
        with stops.shielded():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            steps.append("finished")  # e.g. the child started and its handle kept
        steps.append("never")
    assert steps == ["finished"] and not stops.hurry


def test_a_signal_during_a_shielded_step_that_fails_is_still_the_reason() -> None:
    stops = Interrupts()
    with stops.installed(), pytest.raises(KeyboardInterrupt) as caught, stops.shielded():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        raise RuntimeError("the child being started died of the same signal")
    assert isinstance(caught.value.__cause__, RuntimeError)


@contextmanager
def sigterm_unhandled_is_recorded() -> Iterator[list[int]]:
    """A SIGTERM that reaches no handler of the command is recorded here (instead of
    killing pytest, as it would kill ``rehearse``: exit 143, not a word)."""
    missed: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: missed.append(signum))
    try:
        yield missed
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize(("argv", "code", "line"), [
    (["run", "smoke"], 3, "rehearse: error: interrupted by SIGTERM; nothing was written"),
    (["simulate", "smoke"], 3, "rehearse: error: interrupted by SIGTERM; nothing was written"),
    (["serve", "--port", "0"], 0, "rehearse: serve stopped by SIGTERM before it served"),
    (["replay", "runs/x"], 0, "rehearse: replay stopped by SIGTERM before it served"),
])
def test_a_stop_signal_while_the_command_loads(argv: list[str], code: int, line: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # The first second or three of every command: its modules load (FastAPI, Locust's
    # options, numpy...). SIGTERM there used to end it with 143 and no word.
    def load(name: str) -> ModuleType:
        if name == f"caucus_rehearsal.cli.{argv[0]}":
            os.kill(os.getpid(), signal.SIGTERM)
        return importlib.import_module(name)

    monkeypatch.setattr(cli, "importlib", SimpleNamespace(import_module=load))
    with sigterm_unhandled_is_recorded() as missed:
        assert cli.main(argv) == code
    assert (capsys.readouterr().err, missed) == (line + "\n", [])


def test_a_replay_stopped_while_it_reads_its_run_ends_cleanly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from caucus_rehearsal.replay import runner

    def reading(path: Path) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("the signal did not stop the replay")

    monkeypatch.setattr(runner, "read_run_head", reading)
    with sigterm_unhandled_is_recorded() as missed:
        assert cli.main(["replay", str(tmp_path), "--port", "0"]) == 0
    assert (capsys.readouterr().err, missed) == (
        "rehearse: replay stopped by SIGTERM before it served\n", [])
