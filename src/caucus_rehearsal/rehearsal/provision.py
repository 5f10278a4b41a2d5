"""Provisioning a target with a scenario's roster, for plain ``locust --provision`` runs
(``rehearse run`` provisions from the orchestrator instead)."""

from __future__ import annotations

import sys
from typing import Any

from caucus_rehearsal.errors import TargetUnreachable
from caucus_rehearsal.rehearsal.adapters import load_adapter
from caucus_rehearsal.rehearsal.night import build_night, roster_body
from caucus_rehearsal.simulator.loader import load_scenario


def provision_target(opts: Any, host: str, reset: bool = False) -> None:
    """Load the roster of ``opts.scenario`` into the target at ``host`` via the adapter,
    clearing what the target recorded first when ``reset`` (a fresh night on it)."""
    # Inside Locust the process is gevent-patched (select.epoll is gone), and httpcore
    # probes for trio, whose import then fails with AttributeError instead of
    # ImportError. Marking trio absent makes httpcore skip it; nothing here needs trio.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    import httpx

    scenario = load_scenario(opts.scenario, list(opts.scenario_set or []))
    night = build_night(scenario)
    adapter = load_adapter(opts.adapter)(host, night.candidates, opts.admin_token or "")
    with httpx.Client(base_url=host, timeout=30.0) as client:
        try:
            adapter.health(client)
            if reset:
                adapter.reset(client)
            adapter.provision(client, roster_body(night))
        except httpx.HTTPError as exc:  # one line (TargetError), not a traceback
            raise TargetUnreachable(f"provisioning {host}: {exc}") from exc
