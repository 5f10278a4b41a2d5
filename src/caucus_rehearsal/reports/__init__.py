"""Reports: reconcile a run's four layers, judge the gates, write the report.

``build_report(run_dir)`` is the entry point (used by ``rehearse run`` at its end and by
``rehearse report``). Modules: ``rundir`` reads the run directory, ``compare`` and
``reconcile`` classify every unit, ``consistency`` checks the published results against
themselves and the roster, ``target_errors`` reads where the target broke the contract,
``metrics`` measures the gate metrics, ``verdict`` decides, ``findings`` words them,
``charts``/``figures`` draw, ``page`` writes the HTML, ``build`` ties it up.
This package reads what ``simulator/`` defines and never imports locust, ``server/`` or
``rehearsal/``.
"""

from caucus_rehearsal.reports.build import ReportOutcome, build_report

__all__ = ["ReportOutcome", "build_report"]
