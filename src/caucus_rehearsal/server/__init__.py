"""The reference reporting server: contract v1 (docs/contract.md) on FastAPI and SQLite.

The system under test that ships with the tool. It stands alone, as a vendor's would:
it imports nothing from the project but :mod:`caucus_rehearsal.rules`.

- :func:`caucus_rehearsal.server.app.create_app` builds the ASGI app;
- :func:`caucus_rehearsal.server.runner.serve` runs it with uvicorn;
- :func:`caucus_rehearsal.server.process.start_server` runs it in a subprocess on a free
  loopback port (for the rehearsal orchestrator and tests).
"""
