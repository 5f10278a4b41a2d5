"""caucus-rehearsal: a dress rehearsal for caucus-night results reporting.

Packages: ``simulator`` (scenario, roster, truth, the SimPy night), ``server`` (the
reference reporting server), ``rehearsal`` (Locust users and target adapters),
``reports`` (reconciliation, charts, verdict), ``cli`` (the ``rehearse`` command).
``rules`` is the pure caucus arithmetic shared by the simulator and the server.
"""

__version__ = "0.1.0"
