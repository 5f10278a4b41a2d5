"""Experiments on the night model: nights of one scenario under changing values, with
common random numbers, on worker processes kept across calls.

The API ``rehearse plan`` and ``rehearse calibrate`` share::

    from caucus_rehearsal.simulator.experiments import Experiment

    with Experiment("well-prepared", ["people.app_installed=0.9"], jobs=2,
                    label="--vary") as exp:
        scn = exp.scenario({"hotline.operators": 60})          # validated Scenario
        outs = exp.nights({"hotline.operators": 60}, range(0, 40))
        more = exp.nights({"hotline.operators": 60}, range(40, 80), progress=show)
        raw = exp.raw({"hotline.operators": 60})               # the TOML table, to write

- ``values`` maps dotted scenario keys to values (what ``--set KEY=VALUE`` would set,
  as Python values); they are applied to the file's table after the base overrides and
  validated like the file. A bad value raises :class:`~caucus_rehearsal.errors.ScenarioError`
  naming ``label`` (e.g. ``--vary``), the key, the value and what was expected.
- ``nights(values, replications, gates=None, progress=None)`` returns one
  :class:`~.montecarlo.RunOutcome` per replication, in the order given, identical for
  any ``jobs``. Common random numbers: replication ``r`` draws the same random numbers
  for every ``values`` (streams keyed by seed and ``r``), so candidates compared on the
  same replications differ only by the values. ``gates`` replaces the scenario's gates
  for the reading of each night (``RunOutcome.gates[i]`` is gate ``i``'s value).
- Per-night metrics: ``RunOutcome.metrics`` (:func:`~.series.night_metrics`), the
  sorted ``received`` / ``published`` unit times (:func:`~.montecarlo.fraction_at`
  reads the fraction at a clock minute), ``waits``, ``gates``.
- Ctrl-C while nights run raises ``KeyboardInterrupt`` in the caller after the worker
  processes are stopped; the outcomes of earlier calls are the caller's to keep.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from caucus_rehearsal.errors import ScenarioError
from caucus_rehearsal.simulator.gates import Gate
from caucus_rehearsal.simulator.loader import apply_override, from_mapping, load_raw, load_scenario
from caucus_rehearsal.simulator.montecarlo import NightRunner, Progress, RunOutcome
from caucus_rehearsal.simulator.scenario import Scenario

Values = Mapping[str, Any]
"""Dotted scenario keys and the values to set (``{"hotline.operators": 60}``)."""


class Experiment:
    """Scenario ``name`` with ``overrides`` (``--set`` texts), run under changing values."""

    def __init__(self, name: str, overrides: Iterable[str] = (), jobs: int = 1,
                 label: str = "--set") -> None:
        overrides = list(overrides)
        self.base = load_scenario(name, overrides)  # errors name --set or the file
        self.path: Path
        self.path, self._raw = load_raw(name, overrides)
        self.label = label
        self._runner = NightRunner(jobs)
        self._scenarios: dict[tuple[tuple[str, Any], ...], Scenario] = {}

    def __enter__(self) -> Experiment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes."""
        self._runner.close()

    def base_value(self, key: str) -> Any:
        """The value of dotted ``key`` in the base scenario (its loaded, typed form)."""
        node: Any = self.base
        for part in key.split("."):
            node = getattr(node, part)
        return node

    def raw(self, values: Values) -> dict[str, Any]:
        """The scenario's raw TOML table with the overrides and ``values`` applied."""
        raw = copy.deepcopy(self._raw)
        for key, value in values.items():
            apply_override(raw, key, value)
        return raw

    def scenario(self, values: Values) -> Scenario:
        """The validated scenario with ``values`` applied (cached)."""
        cache_key = tuple(sorted((k, repr(v)) for k, v in values.items()))
        if cache_key not in self._scenarios:
            try:
                scn = from_mapping(self.raw(values), str(self.path))
            except ScenarioError as exc:
                if any(exc.key == k or exc.key.startswith(k + ".") or k.startswith(exc.key + ".")
                       for k in values):
                    raise ScenarioError(self.label, exc.key, exc.value, exc.expected) from None
                raise
            self._scenarios[cache_key] = scn
        return self._scenarios[cache_key]

    def nights(self, values: Values, replications: Sequence[int],
               gates: Sequence[Gate] | None = None,
               progress: Progress | None = None) -> list[RunOutcome]:
        """Replications ``replications`` of the scenario with ``values``, in that order."""
        scn = self.scenario(values)
        if gates is not None:
            scn = dataclasses.replace(scn, gates=tuple(gates))
        return self._runner.run(scn, replications, progress)
