"""The custom Locust arguments of a rehearsal (``locust -f locustfile.py --scenario ...``).

The master (or the single local process) parses them; Locust ships them to workers with
each spawn message, so every process rebuilds the same night from them alone.
"""

from __future__ import annotations

import argparse
from typing import Any

from caucus_rehearsal.rehearsal.adapters import DEFAULT_ADAPTER


def add_arguments(parser: Any) -> None:
    """Register the rehearsal's options on Locust's parser."""
    group = parser  # Locust's include_in_web_ui works on the parser itself, not on groups
    group.add_argument("--scenario", default="smoke", include_in_web_ui=True,
                       help="bundled scenario key or .toml path")
    group.add_argument("--set", dest="scenario_set", action="append", default=[],
                       metavar="KEY=VALUE", include_in_web_ui=False,
                       help="override a scenario value (repeatable)")
    group.add_argument("--speed", type=float, default=0.0, include_in_web_ui=True,
                       help="simulated seconds per wall second, 1 (real time) to 3600 "
                            "(default: live.speed)")
    group.add_argument("--run-dir", default="", include_in_web_ui=False,
                       help="the run directory (events.jsonl); default: a new "
                            "runs/<stamp>-<scenario> at each start; never one holding a run")
    group.add_argument("--t0", type=float, default=0.0, include_in_web_ui=False,
                       help="wall time (epoch s) of live.start; default: test start + 3 s")
    group.add_argument("--night", type=int, default=0, include_in_web_ui=False,
                       help=argparse.SUPPRESS)  # set by the master at each start (nights.py)
    group.add_argument("--adapter", default=DEFAULT_ADAPTER, include_in_web_ui=False,
                       help="target adapter as module:Class")
    group.add_argument("--admin-token", default="", include_in_web_ui=False,
                       help="target admin token: with --provision, provision at test start")
    group.add_argument("--provision", action="store_true", default=False,
                       include_in_web_ui=False,
                       help="provision the target with the scenario's roster at test start "
                            "(and reset it first at a restart: a fresh night)")
