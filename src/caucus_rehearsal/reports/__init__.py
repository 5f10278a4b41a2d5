"""Reports: reconcile a run's four layers, judge the gates, write the report.

``build_report(run_dir)`` is the entry point (used by ``rehearse run`` at its end and by
``rehearse report``); it reads the run directory with ``caucus_rehearsal.rundir``.
Modules: ``compare`` and ``reconcile`` classify every unit, ``consistency`` checks the
published results against themselves and the roster, ``target_errors`` reads where the
target broke the contract, ``metrics`` measures the gate metrics, ``public`` what the
public saw, ``verdict`` decides, ``findings`` words them, ``charts``/``figures``/
``public_charts`` draw, ``page`` writes the HTML, ``build`` ties it up. This package
reads what ``simulator/`` and ``rundir/`` define and never imports locust, ``server/``
or ``rehearsal/``.
"""

from caucus_rehearsal.reports.build import ReportOutcome, build_report

__all__ = ["ReportOutcome", "build_report"]
