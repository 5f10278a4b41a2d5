"""Pass/fail gates: ``"published_fraction >= 0.95 by 22:30"``, ``"data_loss == 0"``.

A gate names a metric, a comparison and a threshold, and optionally the clock time at
which the metric is read (``by 22:30``), a duration the metric is read against
(``within 2min``, for ``hotline_service_level``) and the confidence required of a
simulated night (``with 95%``: at least 95% of simulated nights must pass)::

    published_fraction >= 0.95 by 22:30 with 95%
    hotline_service_level >= 0.8 within 1min

``rehearse simulate`` and ``rehearse plan`` read every gate they can measure on every
simulated night and report the share of nights that pass it with a confidence interval
(:mod:`.passrate`); a gate with ``with P%`` is judged on that share, one without it on
the median run. ``rehearse run``/``report`` judge the one night rehearsed (the
confidence does not apply to a single night); a gate whose metric a command cannot
measure is shown as not measured and does not fail.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from caucus_rehearsal.simulator.units import format_clock, parse_clock, parse_duration

UNIT_CLASSES: dict[str, str] = {
    "published_correctly": "published exactly as the truth",
    "acknowledged_not_published": "acknowledged by the server but never published (data loss)",
    "acknowledged_unread": "acknowledged after the run's last read of the published results "
                           "(the run stopped before it could check them)",
    "published_altered": "published altered or truncated from what the server acknowledged",
    "published_wrong_precinct": "published with another precinct's results",
    "overwritten_by_attacker": "overwritten by an attacker's accepted write",
    "worksheet_error_published": "published with the chair's worksheet error",
    "keyed_differently": "published as an operator keyed them, which differs from the "
                         "worksheet",
    "published_different": "published with another difference from the truth",
    "worksheet_error_caught": "refused by the target's validation for a worksheet error",
    "never_acknowledged": "never acknowledged",
    "not_played": "not played to the end: the load generator playing them was lost",
}
"""Every reconciliation class of a unit (``reports/reconcile.py``), in the order reports
list them, with the words a report uses for it ("3 precincts were ..."). Each is also a
gate metric of the same name: the units in that class, in the same words."""

GATE_METRICS: dict[str, str] = {
    "published_fraction": "fraction of units published (read at 'by', else at the end)",
    "received_fraction": "fraction of units whose report the target acknowledged",
    "data_loss": "units acknowledged by the server but not published as acknowledged "
                 "(acknowledged_not_published, published_altered, and the acknowledged "
                 "ones published_wrong_precinct)",
    "mismatches": "units published differently from what the server acknowledged "
                  "(published_altered, and the acknowledged ones published_wrong_precinct)",
    **{name: "units " + words for name, words in UNIT_CLASSES.items()},
    "statewide_total_errors": "published statewide totals (per field and candidate) that "
                              "differ from the sum of the published precincts",
    "county_total_errors": "published county totals (per county, field and candidate) "
                           "that differ from the sum of the county's published precincts",
    "phantom_precincts": "published precincts that are not in the roster",
    "duplicate_precincts": "precincts the target published more than once",
    "sde_errors": "published precincts whose SDE do not follow from their published "
                  "delegates under the rules",
    "zero_state_errors": "problems in the published results before the first report: "
                         "roster units not listed, units showing counts, delegates, SDE or "
                         "reporting (leftovers), units outside the roster, non-zero totals "
                         "or a winner, a format other than the live feed's",
    "reporting_decreases": "snapshots at which the published precincts reporting fell",
    "disappeared_precincts": "published precincts that later vanished from the published "
                             "results (each counted once)",
    "silent_changes": "published results that changed without a new version marker "
                      "(a precinct's revision, else the feed's version), per precinct or "
                      "feed and snapshot",
    "snapshot_total_errors": "snapshots whose statewide totals differ from the sum of "
                             "their published precincts (every snapshot, not only the last)",
    "over_attendance": "published precincts whose first or final alignment sums to more "
                       "than their published attendance, at any snapshot",
    "p95_latency_ms": "95th percentile request latency, milliseconds",
    "error_rate": "fraction of requests that failed",
    "hotline_wait_max_min": "longest hotline wait of a chair answered: first dial to an "
                            "operator answering, busy signals and redials included, minutes",
    "hotline_wait_median_min": "median hotline wait of the chairs answered (first dial to "
                               "answer), minutes",
    "hotline_hold_max_min": "longest single hotline hold (one call on hold), minutes",
    "hotline_service_level": "fraction of the chairs' hotline calls that got a line and were "
                             "answered within the gate's 'within' time on hold (a call "
                             "centre's service level; abandoned calls count as not answered)",
    "abandoned_calls": "hotline calls abandoned on hold",
    "app_share": "fraction of units reported through the app",
    "minutes_to_95pct_received": "minutes after 19:00 until 95% of units are received",
    "minutes_to_95pct_published": "minutes after 19:00 until 95% of units are published",
    "send_lag_p99_ms": "99th percentile schedule lag of the load generator, milliseconds",
    "unauthorized_writes": "writes the target accepted from another precinct's session "
                           "(cross_precinct attacks)",
    "wrong_pins_accepted": "sign-ins the target accepted with a wrong PIN (bad_pin attacks)",
    "replays_stored_again": "replayed writes (same Idempotency-Key and body) the target "
                            "stored again as a new version",
    "malformed_accepted": "malformed request bodies the target accepted",
    "pin_guesses_without_lockout": "the most wrong PINs one precinct answered in a row "
                                   "without locking the guesser out",
    "chairs_locked_out_by_attackers": "precincts whose chair, with the right PIN, was "
                                      "locked out after an attacker's wrong PINs",
    "read_error_rate": "fraction of the public's reads that got no good answer (5xx, other "
                       "4xx, timeouts, no connection, or not sent because demand.max_in_flight "
                       "reads were already waiting for the target)",
    "read_p99_ms": "99th percentile latency of the public's reads from their due moment, "
                   "milliseconds (a read without an answer counts as never)",
    "read_staleness_p99_s": "99th percentile staleness of the public's answers: seconds "
                            "since a newer version of the results had been seen (fresh: 0)",
    "dropped_reads": "reads of the public the load generator could not send when due "
                     "(too late, or max_in_flight already waiting for the target)",
}
"""Every metric a gate may name, with its meaning and unit."""

METRIC_KINDS: dict[str, str] = {
    "published_fraction": "published",
    "received_fraction": "modelled",
    "data_loss": "integrity",
    "mismatches": "integrity",
    **dict.fromkeys(UNIT_CLASSES, "integrity"),
    "published_correctly": "load",
    "keyed_differently": "modelled",
    "never_acknowledged": "load",
    "not_played": "generator",
    "acknowledged_unread": "generator",
    "statewide_total_errors": "integrity",
    "county_total_errors": "integrity",
    "phantom_precincts": "integrity",
    "duplicate_precincts": "integrity",
    "sde_errors": "integrity",
    "zero_state_errors": "integrity",
    "reporting_decreases": "integrity",
    "disappeared_precincts": "integrity",
    "silent_changes": "integrity",
    "snapshot_total_errors": "integrity",
    "over_attendance": "integrity",
    "p95_latency_ms": "latency",
    "error_rate": "load",
    "hotline_wait_max_min": "hotline",
    "hotline_wait_median_min": "hotline",
    "hotline_hold_max_min": "hotline",
    "hotline_service_level": "hotline",
    "abandoned_calls": "hotline",
    "app_share": "modelled",
    "minutes_to_95pct_received": "modelled",
    "minutes_to_95pct_published": "published",
    "send_lag_p99_ms": "generator",
    **dict.fromkeys(("unauthorized_writes", "wrong_pins_accepted", "replays_stored_again",
                     "malformed_accepted", "pin_guesses_without_lockout"), "integrity"),
    "chairs_locked_out_by_attackers": "load",
    "read_error_rate": "load",
    "read_p99_ms": "load",
    "read_staleness_p99_s": "load",
    "dropped_reads": "generator",
}
"""How a live run's lateness can touch each metric (docs/time.md, reports/fidelity.py):
``integrity`` the target kept or published wrong data (lateness cannot cause it);
``published`` read off the published feed at a moment (lateness shifts it);
``modelled`` / ``hotline`` decided on the modelled clock from the target's answers
(the hotline's needs the pool to have taken its calls in order); ``latency`` real
response times, which the generator's own delays can only lengthen; ``load`` the
target's behaviour under the load it got; ``generator`` the load generator's own."""

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq,
    ">": operator.gt, "<": operator.lt, "!=": operator.ne,
}

WITHIN_METRICS = ("hotline_service_level",)
"""Metrics read against a duration: their gates need ``within DURATION``."""

_GATE = re.compile(r"^\s*([a-z0-9_]+)\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+)"
                   r"(?:\s+by\s+(\S+))?(?:\s+within\s+(\S+))?"
                   r"(?:\s+with\s+([0-9.]+)\s*%)?\s*$")


@dataclass(frozen=True, slots=True)
class Gate:
    """One condition: ``metric op threshold``, read at simulation minute ``by`` if given,
    against ``within`` minutes for :data:`WITHIN_METRICS`; ``confidence`` (0..1) is the
    share of simulated nights that must pass (None: judged on the median run)."""

    metric: str
    op: str
    threshold: float
    by: float | None = None
    within: float | None = None
    confidence: float | None = None

    def passes(self, value: float) -> bool:
        """Whether a measured ``value`` meets this gate."""
        return OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        text = f"{self.metric} {self.op} {self.threshold:g}"
        if self.by is not None:
            text += f" by {format_clock(self.by)}"
        if self.within is not None:
            text += f" within {self.within:g}min"
        if self.confidence is not None:
            text += f" with {self.confidence * 100:g}%"
        return text


def parse_gate(text: object) -> Gate:
    """A :class:`Gate` from its text; ``ValueError`` says what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"gate {text!r} must be a string like 'data_loss == 0'")
    m = _GATE.match(text)
    if not m:
        raise ValueError(f"gate {text!r} must look like 'published_fraction >= 0.95 by 22:30'"
                         " (optionally followed by 'with 95%')")
    metric, op, value, by, within, confidence = m.groups()
    if metric not in GATE_METRICS:
        raise ValueError(f"gate {text!r}: unknown metric {metric!r}; known: "
                         + ", ".join(GATE_METRICS))
    try:
        threshold = float(value)
    except ValueError:
        raise ValueError(f"gate {text!r}: {value!r} is not a number") from None
    if (within is not None) != (metric in WITHIN_METRICS):
        raise ValueError(f"gate {text!r}: 'within DURATION' goes with "
                         + " and ".join(WITHIN_METRICS) + ", and they need it")
    conf = None
    if confidence is not None:
        try:
            conf = float(confidence) / 100
        except ValueError:
            raise ValueError(f"gate {text!r}: {confidence!r}% is not a number") from None
        if not 0 < conf < 1:
            raise ValueError(f"gate {text!r}: 'with {confidence}%' must be above 0% "
                             "and below 100%")
    return Gate(metric, op, threshold, parse_clock(by) if by else None,
                parse_duration(within) if within else None, conf)
