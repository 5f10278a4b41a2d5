"""Drive the public's open-workload reader (``rehearsal/public.py``) alone, for a test:
``python reader_driver.py URL RATE MAX_IN_FLIGHT SECONDS`` plays smoke's ``[demand]`` set
to RATE page views a second (no surges, no media) against URL for SECONDS and prints its
total counts and how many readers it started, as JSON. A subprocess: importing Locust
gevent-patches the process, which a test process must not be."""

from __future__ import annotations

import json
import sys
import time
from types import SimpleNamespace

import gevent
from locust.env import Environment

from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.public import PublicDemand
from caucus_rehearsal.rundir.reads import latency_p_ms
from caucus_rehearsal.simulator.loader import load_scenario


def main(url: str, rate: float, in_flight: int, seconds: float) -> None:
    sc = load_scenario("smoke", [f"demand.public_views_per_s={rate}",
                                 "demand.doors_close_peak=1", "demand.media_pollers=0",
                                 f"demand.max_in_flight={in_flight}", "live.speed=60"])
    t0 = time.time() + 0.2
    ctx = SimpleNamespace(scenario=sc, clock=SimClock(t0, 60.0, sc.live.start),
                          end_wall=t0 + seconds, worker=0, workers=1,
                          adapter=ContractV1Adapter(url, ()))
    demand = PublicDemand(Environment(host=url), ctx)  # type: ignore[arg-type]
    demand.start()
    gevent.sleep(seconds + 0.5)
    demand.stop()
    total = demand.stats.total()
    print(json.dumps({"counts": total.counts, "readers_started": demand.started,
                      "p50_ms": latency_p_ms(total, 50)}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
