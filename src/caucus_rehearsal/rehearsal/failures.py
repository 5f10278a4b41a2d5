"""A Locust process's own failures (not the target's): one line, the master told, an exit code.

A process of the rehearsal that cannot go on stops itself instead of retrying forever:
its scenario, adapter or run directory does not load (on a worker, often because the
path exists only on the master's machine), or it cannot write its records (the disk is
full). It prints one line on stderr (``locust: error: ...``); a worker also tells the
master (message ``rehearsal_failure``), which prints that line with the worker's index
and quits with the same exit code, so ``locust --master ... --headless`` in CI ends with
it. Exit codes: :data:`LOCUST_EXIT_USAGE` and :data:`LOCUST_EXIT_DISK_FULL`.

Importing this module does not import Locust (the orchestrator reads the exit codes).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from caucus_rehearsal.errors import EXIT_TARGET, EXIT_USAGE, RehearsalError, is_disk_full

LOCUST_EXIT_USAGE = EXIT_USAGE
"""A Locust process could not set up its part of the night (scenario, adapter, run dir)."""
LOCUST_EXIT_DISK_FULL = EXIT_TARGET
"""A Locust process stopped because the disk is full; what it had written is kept."""
FAILURE_MESSAGE = "rehearsal_failure"
"""The custom message a worker sends the master when it stops itself."""


def exit_code_of(exc: BaseException) -> int:
    """The exit code a Locust process ends with for ``exc``."""
    if isinstance(exc, RehearsalError):
        return exc.exit_code
    return LOCUST_EXIT_DISK_FULL if is_disk_full(exc) else LOCUST_EXIT_USAGE


def describe(exc: BaseException) -> str:
    """One line for ``exc``: the message, with the file for an ``OSError``."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"cannot write the run's records ({exc.strerror}{where})" \
            if is_disk_full(exc) else f"{exc.strerror}{where}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def fail(environment: Any, exc: BaseException) -> None:
    """Stop this Locust process for ``exc`` (once): one line, the master told, quit."""
    if environment.process_exit_code is not None:
        return  # already stopping
    code, message = exit_code_of(exc), describe(exc)
    environment.process_exit_code = code
    _say(f"locust: error: {message}")
    from locust.runners import WorkerRunner

    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message(FAILURE_MESSAGE, {"worker": runner.worker_index,
                                              "message": message, "exit_code": code})
    _quit_soon(environment)


def on_worker_failure(environment: Any, msg: Any) -> None:
    """The master's handler of :data:`FAILURE_MESSAGE`: name the worker, quit with its code."""
    data = msg.data
    if environment.process_exit_code is None:
        environment.process_exit_code = int(data["exit_code"])
    _say(f"locust: error: worker {data['worker']} ({msg.node_id}): {data['message']}")
    _quit_soon(environment)


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr may be a file on the full disk
        print(line, file=sys.stderr, flush=True)


def _quit_soon(environment: Any) -> None:
    import gevent

    def quit_all() -> None:
        environment.runner.quit()
        if environment.web_ui is not None:
            environment.web_ui.stop()

    gevent.spawn(quit_all)
