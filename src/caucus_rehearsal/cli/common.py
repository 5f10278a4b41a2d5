"""Arguments and helpers shared by subcommands."""

from __future__ import annotations

import argparse

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.simulator.loader import load_scenario
from caucus_rehearsal.simulator.scenario import Scenario


def add_scenario_args(parser: argparse.ArgumentParser) -> None:
    """``SCENARIO`` (a bundled key or a path) and repeatable ``--set KEY=VALUE``."""
    parser.add_argument("scenario", metavar="SCENARIO",
                        help="a bundled scenario key (see 'rehearse scenarios') or a .toml path")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a scenario value, e.g. --set hotline.operators=80")


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The validated scenario named by ``args`` with its overrides applied."""
    return load_scenario(args.scenario, args.overrides)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (``--runs``, ``--jobs``...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def check_port(port: int) -> None:
    """UsageError unless ``--port`` is a TCP port, or 0 for any free one (the servers)."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: expected a TCP port from 0 (any free one) to 65535")
