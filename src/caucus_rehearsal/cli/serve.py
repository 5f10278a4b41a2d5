"""``rehearse serve``: the reference reporting server alone (contract v1, docs/contract.md).

Ctrl-C, SIGTERM and SIGHUP stop it gracefully (requests in flight finish, the database
is closed): a clean stop, exit 0, like any service manager expects. Bad options or a
busy port: one line, exit 2.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import Any

from caucus_rehearsal.cli.common import check_port
from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.interrupts import hangup_as_sigterm
from caucus_rehearsal.server.runner import ServeError, add_arguments, serve


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "serve", help="run the reference reporting server (Ctrl-C stops it)",
        description="Run the reference reporting server: FastAPI + SQLite, contract v1, "
                    "with switchable faults.")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_port(args.port)
    db = Path(args.db)
    if db.is_dir():
        raise UsageError(f"--db {db}: is a folder, expected a database file "
                         "(created if missing)")
    if not db.parent.is_dir():
        raise UsageError(f"--db {db}: the folder {db.parent} does not exist")
    hangup_as_sigterm()
    try:
        return serve(args)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    except sqlite3.Error as exc:
        raise UsageError(f"--db {db}: cannot use it as the database ({exc})") from None
