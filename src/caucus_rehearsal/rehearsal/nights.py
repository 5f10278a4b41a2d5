"""Which night a plain-Locust process plays: one per start, each in its own run directory.

Every START (``--headless`` starts once; the web UI may start again after a stop) is a
night of its own: the master (or the single local process) numbers it in ``--night``
(which Locust ships to the workers with each spawn message), gives it a new run
directory unless ``--run-dir`` was given (``runs/<stamp>-<scenario>``, never an old
run's files), and its own start (``--t0``). A restart therefore plays a fresh night:
the target is provisioned again with an explicit reset (``--provision``), the hotline
pool starts empty, and every process rebuilds its part.

A restart is refused (night 0: users end at once, nothing is sent, the runner stops,
and the log says why) when the run is tied to one night: ``--run-dir`` or ``--t0`` was
given (as ``rehearse run`` does: its report reads that one directory), or the target is
not provisioned by the run (without ``--provision`` it still holds the first night's
results). A ``--run-dir`` that already holds a run's events is refused at start-up.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.rehearsal.clock import start_lead_s
from caucus_rehearsal.rehearsal.process_state import state_of
from caucus_rehearsal.rundir.vocab import EVENTS_FILE
from caucus_rehearsal.rundir.writer import new_run_dir

RUNS_ROOT = Path("runs")
"""Where a night's run directory is made when ``--run-dir`` is not given."""

log = logging.getLogger(__name__)


def check_options(environment: Any) -> None:
    """At start-up (master or local): remember which options tie the run to one night;
    UsageError when ``--run-dir`` already holds a run's events (never appended to)."""
    opts = environment.parsed_options
    run_dir = Path(opts.run_dir) if opts.run_dir else None
    if run_dir is not None and (run_dir / EVENTS_FILE).exists():
        raise UsageError(f"--run-dir {run_dir}: already holds a run ({EVENTS_FILE}); a new "
                         "run never appends to an old one: name a new folder, or leave "
                         "--run-dir out for a new one under runs/ at each start")
    st = state_of(environment)
    st.fixed = tuple(name for name, given in (("--run-dir", bool(opts.run_dir)),
                                              ("--t0", bool(opts.t0))) if given)


def begin(environment: Any, scenario_name: str, units: int = 0) -> bool:
    """At each start (master or local): set up the next night in ``--night``, ``--run-dir``
    and ``--t0`` (:func:`~.clock.start_lead_s` of its ``units`` from now); False (night 0,
    the runner stopping) when a restart is refused."""
    opts = environment.parsed_options
    st = state_of(environment)
    if st.starts:  # a restart
        why = refusal(st.fixed, bool(opts.provision))
        if why is not None:
            opts.night = 0
            log.error("restart refused: %s. This process played its night; start locust "
                      "again for a new one.", why)
            import gevent

            gevent.spawn(environment.runner.stop)
            return False
    st.starts += 1
    opts.night = st.starts
    if "--run-dir" not in st.fixed:
        opts.run_dir = str(new_run_dir(RUNS_ROOT, scenario_name))
    if "--t0" not in st.fixed:
        opts.t0 = time.time() + start_lead_s(units)
    if st.starts > 1:
        log.warning("night %d: a fresh night in %s", st.starts, opts.run_dir)
    return True


def refusal(fixed: tuple[str, ...], provisioned: bool) -> str | None:
    """Why a restart cannot play a fresh night, or None when it can."""
    if fixed:
        verb = "ties" if len(fixed) == 1 else "tie"
        return (f"{' and '.join(fixed)} {verb} this run to one night (a second one would "
                "mix with the first)")
    if not provisioned:
        return ("without --provision the target still holds the first night's results "
                "(a second night would collide with them)")
    return None
