"""The public's and the media's demand for the published results over the night.

``[demand]`` in a scenario (:class:`Demand`) says how many people read the results and
when: a **baseline** of page views per real second, **surges** when the public is told
to look (doors close, each release of results, alerts and race calls), and the
**media feeds** polling at their own interval. Rates are per **real** second at each
modelled moment: a rehearsal compressed by ``--speed`` plays the night's moments faster,
but each moment's read rate is the real one (docs/time.md).

A surge multiplies the page-view rate: at its moment ``t0`` the rate jumps to ``peak``
times the baseline and its excess decays exponentially with the time constant
``surge_decay`` (modelled minutes)::

    views_per_s(t) = public_views_per_s * (1 + sum over surges at t0 <= t of
                                           (peak - 1) * exp(-(t - t0) / surge_decay))

Every page view makes ``requests_per_view`` requests for the public results summary;
each media poller asks for the precinct-level feed every ``media_poll_interval``
(conditionally, with the ETag of its previous answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from caucus_rehearsal.simulator.schema import spec

if TYPE_CHECKING:
    from caucus_rehearsal.simulator.scenario import Scenario

RETIRED_KEYS: dict[str, str] = {
    "live.readers": "the public is [demand] now (public_views_per_s, media_pollers)",
    "live.poll_interval": "the public is [demand] now (media_poll_interval)",
    "adversaries.refresh_storm_readers": "surges are [demand] now (doors_close_peak, "
                                         "release_peak, [[demand.alerts]])",
}
"""Keys of earlier scenario versions and where their meaning went (loading one is an
error that says so)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """``[[demand.alerts]]``: a moment the public is told to look (an alert, a race call,
    a statement), with its surge."""

    at: float = spec("clock")
    peak: float = spec("float", min=1.0, max=1000.0)
    """The page-view rate at ``at``, as a multiple of the baseline (2016 media sites: 9;
    California's results site at poll close, 2008: 16; nytimes.com at a 2 am race call,
    2016: about 85)."""
    what: str = spec("str", "")
    """What happened (shown in the report)."""


@dataclass(frozen=True, slots=True)
class Demand:
    """``[demand]``: who reads the published results, and how much (real-time rates)."""

    public_views_per_s: float = spec("float", 0.0, min=0.0, max=100000.0)
    """Baseline page views of the public results site per real second, outside surges
    (Iowa GOP 2024: about 1.3 million views in a few hours, 120 a second on average
    with its surges)."""
    requests_per_view: int = spec("int", 1, min=1, max=100)
    """Requests one page view makes to the results system (the summary of
    ``GET /v1/results`` in contract v1; assets served elsewhere do not count)."""
    doors_close_peak: float = spec("float", 1.0, min=1.0, max=1000.0)
    """Surge at ``meeting.doors_close``, as a multiple of the baseline (1: none)."""
    release_peak: float = spec("float", 1.0, min=1.0, max=1000.0)
    """Surge at each of ``central.release_times`` (release policy ``batches``)."""
    surge_decay: float = spec("duration", 15.0, min=0.1)
    """Time constant of a surge's decay, modelled minutes: its excess over the baseline
    falls by a factor e in this time (Ottawa County, 2024: 129,000 refreshes in the hour
    after an alert)."""
    alerts: tuple[Alert, ...] = spec("table_list", (), of=Alert)
    media_pollers: int = spec("int", 0, min=0, max=10000)
    """Media feed consumers polling the precinct-level feed (AP, networks, papers)."""
    media_poll_interval: float = spec("duration", 5 / 60, min=1 / 600)
    """Real time between one poller's polls (AP's guidance: about 5 s)."""
    max_in_flight: int = spec("int", 2000, min=1, max=100000)
    """Reads one load-generator process keeps in flight at most: a read due while this
    many are unanswered is not sent and counts as dropped (the generator's limit, not
    the target's)."""

    @property
    def active(self) -> bool:
        """Whether anyone reads at all."""
        return self.public_views_per_s > 0 or self.media_pollers > 0

    @property
    def media_poll_s(self) -> float:
        """Real seconds between one media poller's polls."""
        return self.media_poll_interval * 60.0


@dataclass(frozen=True, slots=True)
class Surge:
    """One surge of page views: from minute ``at`` (simulation clock), ``peak`` times the
    baseline, decaying; ``what`` names it (``doors close``, ``release 1``, an alert)."""

    at: float
    peak: float
    what: str


def surges(demand: Demand, doors_close: float, release_times: tuple[float, ...],
           batches: bool) -> tuple[Surge, ...]:
    """The night's surges in clock order: doors close, each release (only with the
    ``batches`` release policy), each alert; those with a peak of 1 are left out."""
    out = [Surge(doors_close, demand.doors_close_peak, "doors close")]
    if batches:
        out += [Surge(t, demand.release_peak, f"release {i + 1}")
                for i, t in enumerate(sorted(release_times))]
    out += [Surge(a.at, a.peak, a.what or "alert") for a in demand.alerts]
    return tuple(sorted((s for s in out if s.peak > 1.0), key=lambda s: s.at))


def scenario_surges(scenario: Scenario) -> tuple[Surge, ...]:
    """:func:`surges` of ``scenario``'s night."""
    c = scenario.central
    return surges(scenario.demand, scenario.meeting.doors_close, c.release_times,
                  c.release_policy == "batches")


def views_per_s(demand: Demand, night_surges: tuple[Surge, ...], minute: float) -> float:
    """Page views per real second at simulation minute ``minute``."""
    factor = 1.0
    for s in night_surges:
        if s.at <= minute:
            factor += (s.peak - 1.0) * math.exp(-(minute - s.at) / demand.surge_decay)
    return demand.public_views_per_s * factor


def public_requests_per_s(demand: Demand, night_surges: tuple[Surge, ...],
                          minute: float) -> float:
    """Requests per real second for the public results summary at ``minute``."""
    return views_per_s(demand, night_surges, minute) * demand.requests_per_view


def media_requests_per_s(demand: Demand) -> float:
    """Requests per real second for the precinct-level feed (all media pollers)."""
    return demand.media_pollers / demand.media_poll_s if demand.media_pollers else 0.0


def in_surge(demand: Demand, night_surges: tuple[Surge, ...], minute: float,
             threshold: float = 2.0) -> bool:
    """Whether ``minute`` is inside a surge: the page-view rate is at least ``threshold``
    times the baseline."""
    if demand.public_views_per_s <= 0:
        return False
    return views_per_s(demand, night_surges, minute) >= threshold * demand.public_views_per_s
