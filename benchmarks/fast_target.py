"""A minimal HTTP/1.1 keep-alive server (asyncio + uvloop) for the load-generator
benchmarks: every request gets the same small JSON answer with an ETag, so the target
costs far less per request than the Python load generator it is measured with.

    python benchmarks/fast_target.py PORT
"""

from __future__ import annotations

import asyncio
import sys

import uvloop

BODY = b'{"version": 7, "precincts_reporting": 0}'
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b'ETag: "bench-7"\r\nContent-Length: ' + str(len(BODY)).encode() + b"\r\n\r\n"
            + BODY)


class Answer(asyncio.Protocol):
    """Answers each complete request head (bodiless GETs) with :data:`RESPONSE`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        n = self.buf.count(b"\r\n\r\n")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
            self.transport.write(RESPONSE * n)  # type: ignore[attr-defined]


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Answer, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
