"""The ``rehearse`` command: one subcommand per module of this package.

Each subcommand module defines ``register(subparsers)``, which adds its parser and sets
``func`` to a callable taking the parsed arguments and returning the exit code. Errors
derived from :class:`~caucus_rehearsal.errors.RehearsalError` are printed as one line
and mapped to their exit code. Ctrl-C, SIGTERM and SIGHUP alike
(:mod:`caucus_rehearsal.interrupts`, handled from the start of :func:`main`, while the
subcommands load too) exit 3 after the subcommand has stopped its children and said what
it kept; so does a full disk. The servers (:data:`SERVERS`) end with 0 on a stop signal,
even one that comes before they serve.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from caucus_rehearsal import __version__
from caucus_rehearsal.errors import (
    EXIT_OK,
    EXIT_TARGET,
    EXIT_USAGE,
    RehearsalError,
    is_disk_full,
)
from caucus_rehearsal.interrupts import INTERRUPTS

SUBCOMMANDS = ("scenarios", "audit", "simulate", "plan", "calibrate", "run", "worker",
               "serve", "report", "replay")
"""Subcommand modules in the order ``rehearse --help`` lists them."""
SERVERS = ("serve", "replay")
"""The subcommands that serve until stopped: a stop signal is how they end (exit 0)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Bad usage: one line and exit 2, like every other input error."""
        self.exit(EXIT_USAGE, f"rehearse: error: {message} (see 'rehearse --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand that is installed."""
    parser = _Parser(
        prog="rehearse",
        description="Dress rehearsal for caucus-night results reporting: model the night, "
        "replay it against a real reporting system, and check what it published.",
        epilog="exit codes: 0 all gates pass, 1 a gate failed, 2 bad usage or input, "
        "3 target unreachable or run aborted",
    )
    parser.add_argument("--version", action="version", version=f"caucus-rehearsal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"caucus_rehearsal.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"caucus_rehearsal.cli.{name}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rehearse`` console script; returns the exit code."""
    started = False
    with INTERRUPTS.installed():  # first: a signal during the imports below is handled too
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            if not getattr(args, "func", None):
                parser.print_help()
                return EXIT_USAGE
            started = True
            code: int = args.func(args)
        except RehearsalError as exc:
            print(f"rehearse: error: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:  # commands that write say themselves what they kept
            if (command := _command(argv)) in SERVERS:  # (once serving, they return 0)
                print(f"rehearse: {command} stopped by {INTERRUPTS.signal_name} before it "
                      "served", file=sys.stderr)
                return EXIT_OK
            kept = "" if started else "; nothing was written"
            print(f"rehearse: error: interrupted by {INTERRUPTS.signal_name}{kept}",
                  file=sys.stderr)
            return EXIT_TARGET
        except BrokenPipeError:
            return 0
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            print(f"rehearse: error: the disk is full ({exc.strerror}: {exc.filename})",
                  file=sys.stderr)
            return EXIT_TARGET
    return code


def _command(argv: Sequence[str] | None) -> str | None:
    """The subcommand named in ``argv`` (the command line's), also before it is parsed:
    its first word that is not an option (``rehearse`` itself has no option with a value)."""
    words = sys.argv[1:] if argv is None else argv
    return next((w for w in words if not w.startswith("-")), None)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
