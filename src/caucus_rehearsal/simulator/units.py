"""Durations and clock times as written in scenario files.

The simulator's clock is in **minutes after 19:00 on caucus night** (the time doors
close). ``"19:00"`` is 0, ``"22:30"`` is 210, ``"12:00"`` (a satellite start) is -420 and
``"16:00+1d"`` (the next afternoon) is 1260. Durations are minutes as floats:
``"90s"`` is 1.5, ``"45min"`` is 45, ``"2h"`` is 120, ``"200ms"`` is 0.00333...
"""

from __future__ import annotations

import re

MINUTES_PER_DAY = 24 * 60
ZERO_CLOCK_HHMM = (19, 0)
"""Minute 0 of the simulation clock: 19:00 local, when the doors close."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|sec|min|m|h|d)\s*$")
_FACTOR = {
    "ms": 1 / 60000, "s": 1 / 60, "sec": 1 / 60, "min": 1.0, "m": 1.0, "h": 60.0, "d": 1440.0,
}
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?:\s*\+\s*(\d+)\s*d)?\s*$")


def parse_duration(text: str) -> float:
    """Minutes in a duration such as ``"90s"``, ``"45min"``, ``"2h"``, ``"1.5d"``, ``"200ms"``.

    Raises ``ValueError`` naming the text when it has no unit or an unknown one.
    """
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"duration {text!r} needs a number and a unit (ms, s, min, h, d)")
    return float(m.group(1)) * _FACTOR[m.group(2)]


def parse_clock(text: str) -> float:
    """Simulation minute of a clock time ``"HH:MM"`` or ``"HH:MM+Nd"`` (N days later)."""
    m = _CLOCK.match(text)
    if not m:
        raise ValueError(f"clock time {text!r} must look like '22:30' or '16:00+1d'")
    hh, mm, days = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if hh > 23 or mm > 59:
        raise ValueError(f"clock time {text!r} is not a time of day")
    return (hh - ZERO_CLOCK_HHMM[0]) * 60.0 + (mm - ZERO_CLOCK_HHMM[1]) + days * MINUTES_PER_DAY


def format_clock(minute: float) -> str:
    """The clock time of a simulation minute: ``210 -> "22:30"``, ``1260 -> "16:00+1d"``."""
    total = round(minute) + ZERO_CLOCK_HHMM[0] * 60 + ZERO_CLOCK_HHMM[1]
    days, rem = divmod(total, MINUTES_PER_DAY)
    text = f"{rem // 60:02d}:{rem % 60:02d}"
    if days > 0:
        text += f"+{days}d"
    elif days < 0:
        text += f"{days}d"
    return text


def format_duration(minutes: float) -> str:
    """A readable duration: ``0.5 -> "30s"``, ``75 -> "1h15m"``."""
    if minutes < 1:
        return f"{minutes * 60:.0f}s"
    if minutes < 60:
        return f"{minutes:.0f}min"
    h, m = divmod(round(minutes), 60)
    return f"{h}h{m:02d}m"
