"""The live rehearsal: Locust users that replay the night against a real target.

Modules: ``clock`` (the compressed clock), ``night`` (what a process rebuilds from the
arguments: roster, truth, plan, its shard), ``context`` (a process's run state) and
``process_state`` (what Locust's hooks and users share in a process), ``send`` (one
request, its lateness and its event line), ``chair`` (a chair's night on its modelled
timeline), ``hotline`` / ``hotline_link`` (the run's one hotline pool, a modelled-time
simulation reached through Locust's messages), ``adversaries`` (the ``[adversaries]``
attackers and nuisance callers), ``arrivals`` and ``public`` (the public's and the media's
reads: an open workload), ``shipper`` (a process's records on their way to the master) and
``recorder`` (the master: the run directory's only writer, through
``caucus_rehearsal.rundir``), ``users`` (the Locust user classes and hooks), ``options``
(custom Locust arguments), ``adapters`` (the target seam), ``boundary`` (whatever an
adapter raises, or a read that never ends, recorded as the target's protocol error),
``photo`` (worksheet photos), ``provision``, ``zero_check`` (the read of the feed before
the night), ``final_read`` (the read of its final state), ``speed`` (``--speed auto``) and
``orchestrator`` (``rehearse run``: everything around the Locust processes).

Only ``users``, ``adversaries``, ``public``, ``shipper``, ``recorder``, ``send`` and
``hotline_link`` import locust or gevent (and the modules that import them: ``chair``,
``process_state``); the orchestrator never does (importing locust gevent-patches the
process). Time semantics: docs/time.md.
"""
