"""Declarative field specs and the generic loader that turns TOML tables into frozen objects.

A scenario section is a frozen dataclass whose fields carry a :class:`Spec` in their
metadata (made with :func:`spec`). :func:`build` walks a TOML table against it: unknown
keys are refused, every value is checked and converted (durations to minutes, clock
times to simulation minutes, distributions to :class:`~.dists.Dist`), and every error
names file, dotted key, value and what was expected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from caucus_rehearsal.errors import ScenarioError
from caucus_rehearsal.simulator.dists import PARAMS, Dist, check_params
from caucus_rehearsal.simulator.units import parse_clock, parse_duration

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Spec:
    """How one field is read: its kind and bounds.

    kinds: ``int``, ``float``, ``prob`` (0..1), ``bool``, ``str``, ``duration``, ``clock``,
    ``dist`` (a duration distribution), ``count_dist`` (a distribution of plain numbers),
    ``str_list``, ``float_list``, ``clock_list``, ``weights`` (table of name -> weight >= 0),
    ``section`` (nested dataclass ``of``), ``table_list`` (array of tables of ``of``),
    ``custom`` (``parse`` turns the raw value into the field value or raises ValueError).
    """

    kind: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    of: Any = None
    parse: Callable[[Any], Any] | None = None
    expected: str = ""


def spec(kind: str, default: Any = dataclasses.MISSING, **kw: Any) -> Any:
    """A dataclass field read as ``kind``; ``default`` may be a value or a zero-arg factory."""
    meta = {"spec": Spec(kind, **kw)}
    if callable(default) and not isinstance(default, (Dist, str, int, float, bool, tuple)):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def build(cls: type[T], table: Mapping[str, Any], file: str, prefix: str = "") -> T:
    """A ``cls`` built from ``table``; raises :class:`ScenarioError` on the first bad value."""
    if not isinstance(table, Mapping):
        raise ScenarioError(file, prefix.rstrip("."), table, "a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in table:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ScenarioError(file, prefix + key, table[key], f"one of the known keys ({known})")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        s: Spec = f.metadata["spec"]
        key = prefix + name
        if name in table:
            values[name] = convert(s, table[name], file, key)
        elif s.kind == "section":
            values[name] = build(s.of, {}, file, key + ".")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ScenarioError(file, key, _missing(), f"a value ({_describe(s)})")
    return cls(**values)


def _missing() -> object:
    from caucus_rehearsal.errors import MISSING

    return MISSING


def _describe(s: Spec) -> str:
    if s.expected:
        return s.expected
    bounds = ""
    if s.min is not None and s.max is not None:
        bounds = f" from {_num(s.min)} to {_num(s.max)}"
    elif s.min is not None:
        bounds = f" >= {_num(s.min)}"
    elif s.max is not None:
        bounds = f" <= {_num(s.max)}"
    return {
        "int": "a whole number" + bounds,
        "float": "a number" + bounds,
        "prob": "a probability from 0 to 1",
        "bool": "true or false",
        "str": ("one of " + ", ".join(repr(c) for c in s.choices)) if s.choices else "a string",
        "duration": "a duration with a unit, like '90s', '45min' or '2h'",
        "clock": "a clock time like '22:30' or '16:00+1d'",
        "dist": "a distribution like {dist = \"lognormal\", median = \"6min\", p90 = \"15min\"}",
        "count_dist": "a distribution like {dist = \"lognormal\", median = 61, p90 = 245}",
        "str_list": "a list of strings",
        "float_list": "a list of numbers" + bounds,
        "clock_list": "a list of clock times like ['16:00+1d', '22:00+1d']",
        "weights": "a table of names to weights >= 0",
        "section": "a table",
        "table_list": "an array of tables",
    }.get(s.kind, s.kind)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def convert(s: Spec, raw: Any, file: str, key: str) -> Any:
    """The field value of ``raw`` under spec ``s``, or a :class:`ScenarioError`."""

    def bad(expected: str | None = None) -> ScenarioError:
        return ScenarioError(file, key, raw, expected or _describe(s))

    if raw is None or (s.optional and isinstance(raw, str) and raw.lower() == "none"):
        if s.optional:
            return None
        raise bad()
    k = s.kind
    if k == "custom":
        try:
            assert s.parse is not None
            return s.parse(raw)
        except (ValueError, TypeError) as exc:
            raise bad(str(exc) or s.expected) from None
    if k == "section":
        return build(s.of, raw, file, key + ".")
    if k == "table_list":
        if not isinstance(raw, list):
            raise bad()
        return tuple(build(s.of, item, file, f"{key}[{i}].") for i, item in enumerate(raw))
    if k == "bool":
        if not isinstance(raw, bool):
            raise bad()
        return raw
    if k in ("int", "float", "prob"):
        return _number(s, raw, bad)
    if k == "str":
        if not isinstance(raw, str) or (s.choices and raw not in s.choices):
            raise bad()
        return raw
    if k == "duration":
        return _duration(raw, bad, s)
    if k == "clock":
        if not isinstance(raw, str):
            raise bad()
        try:
            return parse_clock(raw)
        except ValueError:
            raise bad() from None
    if k in ("dist", "count_dist"):
        return _dist(raw, k == "dist", file, key)
    if k in ("str_list", "float_list", "clock_list"):
        if not isinstance(raw, list):
            raise bad()
        item = Spec({"str_list": "str", "float_list": "float", "clock_list": "clock"}[k],
                    min=s.min, max=s.max)
        return tuple(convert(item, v, file, f"{key}[{i}]") for i, v in enumerate(raw))
    if k == "weights":
        if not isinstance(raw, Mapping):
            raise bad()
        w = Spec("float", min=0.0)
        out = {str(n): convert(w, v, file, f"{key}.{n}") for n, v in raw.items()}
        if s.choices:
            for n in out:
                if n not in s.choices:
                    raise ScenarioError(file, f"{key}.{n}", raw[n],
                                        "one of the names " + ", ".join(s.choices))
        return tuple(sorted(out.items()))
    raise AssertionError(f"unknown spec kind {k!r}")  # pragma: no cover


def _number(s: Spec, raw: Any, bad: Callable[..., ScenarioError]) -> float | int:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise bad()
    if s.kind == "int" and not isinstance(raw, int):
        raise bad()
    lo = 0.0 if s.kind == "prob" else s.min
    hi = 1.0 if s.kind == "prob" else s.max
    if (lo is not None and raw < lo) or (hi is not None and raw > hi) or raw != raw:
        raise bad()
    return raw if s.kind == "int" else float(raw)


def _duration(raw: Any, bad: Callable[..., ScenarioError], s: Spec) -> float:
    if not isinstance(raw, str):
        raise bad()
    try:
        minutes = parse_duration(raw)
    except ValueError:
        raise bad() from None
    if s.min is not None and minutes < s.min:
        raise bad(f"a duration of at least {_num(s.min)} min")
    return minutes


def _dist(raw: Any, is_duration: bool, file: str, key: str) -> Dist:
    shape = _describe(Spec("dist" if is_duration else "count_dist"))
    if isinstance(raw, (int, float, str)) and not isinstance(raw, bool):
        raw = {"dist": "fixed", "value": raw}  # a bare value means a fixed distribution
    if not isinstance(raw, Mapping) or "dist" not in raw:
        raise ScenarioError(file, key, raw, shape)
    name = raw["dist"]
    if name not in PARAMS:
        raise ScenarioError(file, key + ".dist", name,
                            "one of " + ", ".join(repr(n) for n in PARAMS))
    wanted = PARAMS[name]
    for p in raw:
        if p != "dist" and p not in wanted:
            raise ScenarioError(file, f"{key}.{p}", raw[p],
                                f"only {', '.join(wanted)} for a {name} distribution")
    params: list[float] = []
    for p in wanted:
        if p not in raw:
            raise ScenarioError(file, f"{key}.{p}", _missing(),
                                f"a value: a {name} distribution needs {', '.join(wanted)}")
        v = raw[p]
        if is_duration:
            if not isinstance(v, str):
                raise ScenarioError(file, f"{key}.{p}", v,
                                    "a duration with a unit, like '90s', '45min' or '2h'")
            try:
                params.append(parse_duration(v))
            except ValueError:
                raise ScenarioError(file, f"{key}.{p}", v,
                                    "a duration with a unit, like '90s', '45min' or '2h'") from None
        else:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ScenarioError(file, f"{key}.{p}", v, "a number")
            params.append(float(v))
    problem = check_params(name, tuple(params))
    if problem:
        raise ScenarioError(file, key, dict(raw), f"a {name} distribution with {problem}")
    return Dist(name, tuple(params))
