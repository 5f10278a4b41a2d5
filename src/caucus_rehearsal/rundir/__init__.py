"""The run directory: the contract between the live rehearsal and the reports
(docs/run-directory.md).

Its records and their vocabulary are defined here once: ``vocab`` (file names, actors,
channels, steps, outcomes, each channel's final step), ``records`` (the typed records:
run info, event, snapshot, lost worker, truth and plan units), ``reads`` (the public's
reads aggregated into mergeable histograms), ``zero`` (the zero read before the night);
``writer`` is the only code that writes a run directory (the Locust master, through
``rehearsal/recorder.py``, and ``rehearse run`` before and after the night) and
``reader`` the only code that reads one (the reports, replay). It uses ``simulator/``
(the model's step names) and the project's shared definitions (``errors``,
``published``, ``attacks``), never ``rehearsal/`` or ``reports/``.
"""
