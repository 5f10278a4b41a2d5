"""Adapters that fail in their own code, for the boundary tests (``--adapter
tests.support.broken_adapters:RaisingHealth``)."""

from __future__ import annotations

import httpx

from caucus_rehearsal.rehearsal.adapters.v1 import ContractV1Adapter


class RaisingHealth(ContractV1Adapter):
    """Contract v1, but its health check raises (a bug of the adapter, or a surprise)."""

    def health(self, client: httpx.Client) -> None:
        client.get("/healthz")
        raise RuntimeError("health check exploded")
