"""``rehearse scenarios``: list the bundled scenarios, one line each."""

from __future__ import annotations

import argparse
from typing import Any

from caucus_rehearsal.simulator.loader import bundled_scenarios, load_scenario


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "scenarios", help="list the bundled scenarios with one line each")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = []
    for key, path in bundled_scenarios():
        scn = load_scenario(str(path))
        rows.append((key, scn.scenario.description or scn.name))
    width = max((len(k) for k, _ in rows), default=0)
    for key, desc in rows:
        print(f"{key:<{width}}  {desc}")
    return 0
