"""A network namespace joined to this one by a veth pair, for tests that want a process
on "another machine" (its own network stack) that reaches this one over a link the test
made. Needs root and ``ip``; :func:`veth_namespace` yields None where the machine does
not allow it, and the test then uses loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Namespace:
    """``name`` of the namespace; ``host_ip`` this side's address on the link,
    ``inner_ip`` the namespace's."""

    name: str
    host_ip: str
    inner_ip: str

    def command(self, cmd: list[str]) -> list[str]:
        """``cmd`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *cmd]


def _ip(*args: str) -> bool:
    return subprocess.run(["ip", *args], capture_output=True, check=False).returncode == 0


@contextmanager
def veth_namespace() -> Iterator[Namespace | None]:
    """A fresh namespace and link (10.213.X.0/30 with X from this process id), removed on
    exit; None when it cannot be made here."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        yield None
        return
    tag = os.getpid() % 250 + 1
    ns = Namespace(f"crtest{os.getpid()}", f"10.213.{tag}.1", f"10.213.{tag}.2")
    outer, inner = f"crm{os.getpid() % 100000}", f"crw{os.getpid() % 100000}"
    made = _ip("netns", "add", ns.name)
    try:
        ok = made and all((
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner),
            _ip("link", "set", inner, "netns", ns.name),
            _ip("addr", "add", f"{ns.host_ip}/30", "dev", outer),
            _ip("link", "set", outer, "up"),
            _ip("netns", "exec", ns.name, "ip", "addr", "add", f"{ns.inner_ip}/30", "dev", inner),
            _ip("netns", "exec", ns.name, "ip", "link", "set", inner, "up"),
            _ip("netns", "exec", ns.name, "ip", "link", "set", "lo", "up")))
        yield ns if ok else None
    finally:
        _ip("link", "del", outer)
        if made:
            _ip("netns", "del", ns.name)
