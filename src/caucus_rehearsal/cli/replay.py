"""``rehearse replay RUN_DIR``: serve a rehearsed night's published feed as it evolved.

Exit codes: 0 when stopped (Ctrl-C, SIGTERM or SIGHUP, like ``rehearse serve``); 2 for a
directory that is not a run directory, a run with no readable snapshot, a bad option or
an unusable port (one line on stderr).
"""

from __future__ import annotations

import argparse
from typing import Any

from caucus_rehearsal.cli.common import check_port
from caucus_rehearsal.interrupts import hangup_as_sigterm
from caucus_rehearsal.replay.runner import add_arguments, replay


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "replay", help="serve a rehearsed night's published feed as it evolved (Ctrl-C stops)",
        description="Serve the published results of a run again, as they evolved over the "
                    "night: contract v1 public routes with ETag/304, ?at=TIME and "
                    "?position=N, and GET /status (docs/replay.md).")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_port(args.port)
    hangup_as_sigterm()  # a closed terminal stops the replay as SIGTERM does
    return replay(args)
