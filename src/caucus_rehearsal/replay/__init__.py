"""A rehearsed night's published feed, after the fact.

- :mod:`.timeline`: the distinct published states of a run, read from its snapshots.
- :mod:`.feed`: their contract-v1 response bodies, serialised once.
- :mod:`.app` and :mod:`.runner`: ``rehearse replay RUN_DIR``, the feed served again on
  a clock, for a newsroom's results page or a vendor's ingest pipeline to rehearse with.
- :mod:`.export`: the state at one moment as a canonical results file
  (``rehearse report RUN_DIR --at 23:00``), which ``rehearse audit`` reads.
"""
