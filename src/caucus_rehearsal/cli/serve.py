"""``rehearse serve``: the reference reporting server alone (contract v1, docs/contract.md)."""

from __future__ import annotations

import argparse
from typing import Any

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.server.runner import ServeError, add_arguments, serve


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "serve", help="run the reference reporting server (Ctrl-C stops it)",
        description="Run the reference reporting server: FastAPI + SQLite, contract v1, "
                    "with switchable faults.")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return serve(args)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
