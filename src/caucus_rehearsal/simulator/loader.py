"""Finding, reading, overriding and validating scenario files.

``load_scenario("smoke")`` finds a bundled scenario by key; a path loads that file.
Overrides (``--set hotline.operators=80``) are parsed as TOML values (falling back to
a plain string, so ``--set people.app_patience.median=30min`` works) and validated
exactly like the file.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from caucus_rehearsal.errors import MISSING, ScenarioError
from caucus_rehearsal.simulator.demand import RETIRED_KEYS
from caucus_rehearsal.simulator.scenario import Scenario
from caucus_rehearsal.simulator.schema import build

SCENARIO_SUFFIX = ".toml"


def scenarios_dir() -> Path:
    """The folder of bundled scenarios: the checkout's ``scenarios/``, else the wheel's copy."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent.parent / "scenarios", here / "_bundled_scenarios"):
        if candidate.is_dir():
            return candidate
    return here.parent.parent / "scenarios"


def data_dir() -> Path:
    """The folder of the canonical data files (``scenarios/data``)."""
    return scenarios_dir() / "data"


def bundled_scenarios() -> list[tuple[str, Path]]:
    """(key, path) of every bundled scenario, sorted by key."""
    return sorted((p.stem, p) for p in scenarios_dir().glob("*" + SCENARIO_SUFFIX))


def resolve(name: str) -> Path:
    """The file of a scenario key (``smoke``) or path (``scenarios/smoke.toml``)."""
    path = Path(name)
    if path.is_absolute() is False and path.exists():
        return path
    if path.suffix == SCENARIO_SUFFIX or path.exists() or "/" in name:
        if not path.is_file():
            raise ScenarioError(name, "", MISSING, "an existing scenario file")
        return path
    for key, p in bundled_scenarios():
        if key == name:
            return p
    keys = ", ".join(k for k, _ in bundled_scenarios())
    raise ScenarioError(name, "", MISSING, f"a scenario file or one of the bundled keys ({keys})")


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML of ``path``; a clear error when it is not TOML."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError as exc:  # a binary file, or text in another encoding
        raise ScenarioError(str(path), "", MISSING, "a UTF-8 text TOML file (byte "
                            f"0x{exc.object[exc.start]:02x} at offset {exc.start} is not "
                            "UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", MISSING, f"valid TOML ({exc})") from None
    except OSError as exc:
        raise ScenarioError(str(path), "", MISSING, f"a readable file ({exc.strerror})") from None


def parse_override(text: str) -> tuple[str, Any]:
    """``"hotline.operators=80"`` -> ``("hotline.operators", 80)``."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError("--set", text, MISSING, "KEY=VALUE, like hotline.operators=80")
    if "\n" in value or "\r" in value:  # TOML would read the first line and drop the rest
        raise ScenarioError("--set", key, value, "a value on one line")
    return key, parse_value(value.strip())


def parse_value(text: str) -> Any:
    """A command-line value read as TOML (``80``, ``true``, ``[1,2]``), else as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set dotted ``key`` in the raw scenario table ``raw`` (in place)."""
    parts = key.split(".")
    node = raw
    for i, part in enumerate(parts[:-1]):
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ScenarioError("--set", ".".join(parts[: i + 1]), nxt, "a table to set keys in")
        node = nxt
    node[parts[-1]] = value


def from_mapping(raw: Mapping[str, Any], source: str) -> Scenario:
    """A validated :class:`Scenario` from a raw table; errors name ``source``."""
    if "source" in raw:
        raise ScenarioError(source, "source", raw["source"], "no top-level key 'source'")
    for key, moved in RETIRED_KEYS.items():
        table, _, name = key.partition(".")
        section = raw.get(table)
        if isinstance(section, Mapping) and name in section:
            raise ScenarioError(source, key, section[name], f"no such key any more: {moved}")
    scn = build(Scenario, raw, source)
    scn = dataclasses.replace(scn, source=source)
    validate(scn)
    return scn


def load_raw(name: str, overrides: Iterable[str] = ()) -> tuple[Path, dict[str, Any]]:
    """The file of scenario ``name`` and its raw table with ``overrides`` applied."""
    path = resolve(name)
    raw = read_toml(path)
    for text in overrides:
        key, value = parse_override(text)
        apply_override(raw, key, value)
    return path, raw


def load_scenario(name: str, overrides: Iterable[str] = ()) -> Scenario:
    """Load scenario ``name`` (a bundled key or a path), applying ``--set`` overrides."""
    overrides = list(overrides)
    path, raw = load_raw(name, overrides)
    return _validated(raw, str(path), overrides)


def load_scenario_text(text: str, source: str, overrides: Iterable[str] = ()) -> Scenario:
    """A scenario from the text of its file (``source`` names it in errors), applying
    ``--set`` overrides: how a Locust worker on another machine gets the master's."""
    overrides = list(overrides)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", MISSING, f"valid TOML ({exc})") from None
    for o in overrides:
        key, value = parse_override(o)
        apply_override(raw, key, value)
    return _validated(raw, source, overrides)


def _validated(raw: dict[str, Any], source: str, overrides: list[str]) -> Scenario:
    try:
        return from_mapping(raw, source)
    except ScenarioError as exc:
        touched = {parse_override(o)[0] for o in overrides}
        if any(exc.key == k or exc.key.startswith(k + ".") or k.startswith(exc.key + ".")
               for k in touched):
            raise ScenarioError("--set", exc.key, exc.value, exc.expected) from None
        raise


def validate(s: Scenario) -> None:
    """Checks that span fields; raises :class:`ScenarioError` naming the key."""
    f = s.source
    e = s.election
    if len(e.support) != len(e.candidates):
        raise ScenarioError(f, "election.support", list(e.support),
                            f"one share per candidate ({len(e.candidates)})")
    if len(set(e.candidates)) != len(e.candidates) or not e.candidates:
        raise ScenarioError(f, "election.candidates", list(e.candidates),
                            "a non-empty list of distinct names")
    if sum(e.support) <= 0:
        raise ScenarioError(f, "election.support", list(e.support), "shares that sum above 0")
    for pair, _ in e.second_choices:
        a, sep, b = pair.partition(">")
        if not sep or a not in e.candidates or b not in e.candidates:
            raise ScenarioError(f, f"election.second_choices.{pair}", pair,
                                "'FROM>TO' with two candidate names")
    if s.meeting.doors_open > s.meeting.doors_close:
        raise ScenarioError(f, "meeting.doors_open", s.meeting.doors_open,
                            "a time before meeting.doors_close")
    c = s.central
    if c.release_policy == "batches" and not c.release_times:
        raise ScenarioError(f, "central.release_times", [], "at least one time for 'batches'")
    if c.release_policy == "percent" and not c.release_percents:
        raise ScenarioError(f, "central.release_percents", [], "at least one % for 'percent'")
    if (c.halt_start is None) != (c.halt_end is None):
        raise ScenarioError(f, "central.halt_end", c.halt_end, "halt_start and halt_end together")
    if c.halt_start is not None and c.halt_end is not None and c.halt_end <= c.halt_start:
        raise ScenarioError(f, "central.halt_end", c.halt_end, "a time after central.halt_start")
    if s.live.end <= s.live.start:
        raise ScenarioError(f, "live.end", s.live.end, "a time after live.start")
    if s.adversaries.nuisance_rate_per_min > 0 and s.adversaries.nuisance_start is None:
        raise ScenarioError(f, "adversaries.nuisance_start", None,
                            "a clock time when nuisance_rate_per_min > 0")
