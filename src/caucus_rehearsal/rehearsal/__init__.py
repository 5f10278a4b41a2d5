"""The live rehearsal: Locust users that replay the night against a real target.

Modules: ``clock`` (the compressed clock), ``eventlog`` (``events.jsonl``), ``adapters``
(the target seam), ``night`` (what a process rebuilds from the arguments: roster, truth,
plan, its shard), ``hotline`` (the one hotline pool of a run), ``users`` / ``chair`` /
``extras`` (the Locust users), ``options`` (custom Locust arguments), ``orchestrator``
(``rehearse run``: everything around the Locust subprocess), ``fidelity`` (send and
arrival lag).

Only ``users``, ``chair``, ``extras``, ``hotline_link`` and ``options`` import locust;
the orchestrator never does (importing locust gevent-patches the process).
"""
