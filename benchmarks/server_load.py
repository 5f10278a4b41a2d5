"""A small HTTP/1.1 keep-alive load generator (asyncio + uvloop) for bench_server.py.

Each of ``connections`` connections sends its next pre-built request as soon as the
previous response is complete; the same generator drives the server and the baselines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence


def request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
            host: str = "127.0.0.1") -> bytes:
    """The bytes of one HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body or method in ("POST", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _one_conn(port: int, reqs: Sequence[bytes], stop: float, counts: list[int],
                    statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < stop and i < len(reqs):
            writer.write(reqs[i])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
            counts[0] += 1
    finally:
        writer.close()


async def _run(port: int, groups: dict[str, Sequence[Sequence[bytes]]], seconds: float,
               statuses: dict[int, int]) -> tuple[dict[str, int], float]:
    counts = {name: [0] for name in groups}
    t0 = time.perf_counter()
    await asyncio.gather(*(_one_conn(port, reqs, t0 + seconds, counts[name], statuses)
                           for name, per_conn in groups.items() for reqs in per_conn))
    return {name: c[0] for name, c in counts.items()}, time.perf_counter() - t0


def run_groups(port: int, groups: dict[str, Sequence[Sequence[bytes]]], seconds: float
               ) -> tuple[dict[str, float], dict[int, int]]:
    """All groups' connections at once: requests per second of each group over
    ``seconds``, and the count of each status."""
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    statuses: dict[int, int] = {}
    counts, elapsed = runner(_run(port, groups, seconds, statuses))
    return {name: n / elapsed for name, n in counts.items()}, statuses


def run(port: int, per_conn: Sequence[Sequence[bytes]], seconds: float
        ) -> tuple[float, dict[int, int]]:
    """Requests per second over ``seconds`` and the count of each status."""
    rates, statuses = run_groups(port, {"all": per_conn}, seconds)
    return rates["all"], statuses
