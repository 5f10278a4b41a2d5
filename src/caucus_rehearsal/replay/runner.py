"""``rehearse replay RUN_DIR``: read a run's feed, then serve it with uvicorn until stopped.

The feed is read and every body serialised before the socket is served, so the night
starts (position 1, the zero state) when the server is ready. SIGINT and SIGTERM stop
it cleanly, exit 0, like ``rehearse serve``: a server is stopped on purpose. A stop
while the run is still being read is a ``KeyboardInterrupt`` (from the stop-signal
handler of :mod:`caucus_rehearsal.interrupts`): the command ends with exit 0 all the same.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import uvicorn

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.replay.app import ReplayClock, create_app
from caucus_rehearsal.replay.feed import Feed
from caucus_rehearsal.replay.timeline import read_timeline
from caucus_rehearsal.rundir.reader import read_run_head
from caucus_rehearsal.server.runner import ServeError, bind, tune_gc
from caucus_rehearsal.simulator.units import format_clock, format_duration


def speed_arg(text: str) -> float:
    """``--speed``: a positive finite factor."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive finite number")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``rehearse replay``."""
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                   help="a run directory written by 'rehearse run' (runs/<stamp>-<scenario>)")
    p.add_argument("--speed", type=speed_arg, default=None,
                   help="simulated seconds per real second (default: the run's own speed)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8090, help="TCP port (8090; 0 = any free)")
    p.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)


def replay(args: argparse.Namespace) -> int:
    """Serve the replay until SIGINT/SIGTERM (then 0); :class:`UsageError` for a directory
    that is not a run directory or has no snapshots, or an unusable address;
    ``KeyboardInterrupt`` when stopped before serving."""
    head = read_run_head(args.run_dir)
    timeline = read_timeline(head)
    feed = Feed(timeline)
    recorded = head.run.get("speed")
    speed = args.speed or (float(recorded) if isinstance(recorded, int | float)
                           and 0 < recorded < math.inf else 1.0)
    try:
        sock = socket.socket(fileno=args.fd) if args.fd is not None \
            else bind(args.host, args.port)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    host, port = sock.getsockname()[:2]
    clock = ReplayClock(timeline.start_min, speed)
    app = create_app(feed, clock, head.path.name,
                     narrate=lambda line: print(line, file=sys.stderr, flush=True))
    span = timeline.end_min - timeline.start_min
    print(f"replaying {head.path} on http://{host}:{port}: {timeline.total} states from "
          f"{format_clock(timeline.start_min)} to {format_clock(timeline.end_min)} at speed "
          f"{speed:g} ({format_duration(span / speed)} real); GET /status, /v1/results "
          f"(?at=23:00, ?position=N); Ctrl-C stops", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=5))

    def stop(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True  # what uvicorn's own handler does, also before it is set

    signal.signal(signal.SIGTERM, stop)
    tune_gc()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the signal it handled
        server.run(sockets=[sock])
    print("replay stopped", file=sys.stderr, flush=True)
    return 0
