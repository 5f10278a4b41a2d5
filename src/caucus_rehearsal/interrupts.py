"""Stop signals: SIGTERM and SIGHUP end a command the way Ctrl-C does.

CI cancellation, ``timeout``, ``docker stop`` and systemd send SIGTERM; a closed terminal
sends SIGHUP. :meth:`Interrupts.install` makes the first of SIGINT, SIGTERM or SIGHUP
raise :class:`KeyboardInterrupt` in the main thread, so each command has one way to stop:
its Ctrl-C handling, which stops its child processes, keeps what was recorded and exits 3.

A later signal does not interrupt that cleanup (it is bounded: children get a few
seconds, then are killed); it only sets :attr:`Interrupts.hurry`, which tells the cleanup
to kill children at once. Inside :meth:`Interrupts.shielded` the first signal waits for
the block to end, for steps that must not be cut in half (starting a child process and
taking hold of its handle); it is raised then even if the block failed (a signal to
the whole process group also stops the child being started).

The process's one instance is :data:`INTERRUPTS`; :func:`caucus_rehearsal.cli.main`
runs every command inside ``INTERRUPTS.installed()``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that stop a command like Ctrl-C (exit 3, what was recorded kept)."""


class Interrupts:
    """The stop signals this process received, in order, and the shield state."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self._shield_depth = 0
        self._deferred = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Handle every stop signal within the block, then restore the previous handlers
        (outside the main thread, where Python allows no handlers, nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self.received.clear()
        self._deferred = False
        previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @property
    def signal_name(self) -> str:
        """The first stop signal received (``SIGINT`` when none was: a direct Ctrl-C)."""
        return self.received[0] if self.received else "SIGINT"

    @property
    def hurry(self) -> bool:
        """A second stop signal came: cleanup should kill children instead of waiting."""
        return len(self.received) > 1

    def shielded(self) -> _Shield:
        """A block the first signal does not cut: it is raised when the block ends."""
        return _Shield(self)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signal.Signals(signum).name)
        if len(self.received) > 1:
            return  # the cleanup of the first signal is running: let it finish, faster
        if self._shield_depth:
            self._deferred = True
            return
        raise KeyboardInterrupt(self.received[0])


class _Shield:
    def __init__(self, owner: Interrupts) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        self.owner._shield_depth += 1

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        o = self.owner
        o._shield_depth -= 1
        if o._shield_depth == 0 and o._deferred:
            o._deferred = False
            # Raised even when the block failed: a signal sent to the whole process group
            # also stops the child the block was starting, and that is why it failed.
            raise KeyboardInterrupt(o.received[0]) from ev


INTERRUPTS = Interrupts()
"""This process's stop signals."""


def hangup_as_sigterm() -> None:
    """For a server that stops gracefully on SIGTERM (uvicorn handles SIGINT and SIGTERM
    only): make SIGHUP take that same path."""
    signal.signal(signal.SIGHUP, lambda signum, frame: signal.raise_signal(signal.SIGTERM))
