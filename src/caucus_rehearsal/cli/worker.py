"""``rehearse worker --master HOST[:PORT]``: lend this machine to a rehearsal.

Starts a Locust worker that joins the master at ``HOST:PORT`` (5557 unless given). The
worker needs nothing but this package and the master's address: the master ships the
scenario, the target's address and the options with each start, and the worker sends
its records back over Locust's messages; it writes no file. It plays its shard of the
units and its share of the public's reads, and exits when the master ends the night.
Exit codes: Locust's (0 when the night went through), 2 on a bad address.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from caucus_rehearsal.errors import UsageError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "worker", help="join a rehearsal's Locust master from this machine")
    p.add_argument("--master", required=True, metavar="HOST[:PORT]",
                   help="the master's address, as 'rehearse run --listen' gave it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from caucus_rehearsal.rehearsal.orchestrator import parse_bind, worker_command

    try:
        host, port = parse_bind(args.master)
    except ValueError as exc:
        raise UsageError(f"--master {exc}") from None
    cmd = worker_command((host, port))
    sys.stdout.flush()
    os.execv(cmd[0], cmd)  # this process becomes the worker (signals reach Locust itself)
