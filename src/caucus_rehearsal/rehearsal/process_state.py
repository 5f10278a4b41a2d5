"""What one Locust process of a run keeps between Locust's hooks and its users.

One :class:`ProcessState` per process, attached to Locust's ``Environment`` (every hook
and every user can reach its environment), so no module keeps mutable state for others
to read: the run context (built on first use), the hotline phone, the event shipper and
the public's reads (every process with users), the hotline pool's keeper, the run
directory's writer and the workers whose chairs are done (the master, or the single
local process), and which night of the run this is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caucus_rehearsal.rehearsal.context import RunContext
from caucus_rehearsal.rehearsal.hotline_link import HotlinePhone, PoolKeeper
from caucus_rehearsal.rehearsal.public import PublicDemand
from caucus_rehearsal.rehearsal.recorder import RunRecorder
from caucus_rehearsal.rehearsal.shipper import EventShipper

_ATTR = "rehearsal_state"


@dataclass(slots=True)
class ProcessState:
    """This process's part of the run (fields are None until the hook that sets them)."""

    ctx: RunContext | None = None
    phone: HotlinePhone | None = None
    keeper: PoolKeeper | None = None
    done_workers: set[int] = field(default_factory=set)
    ctx_night: int = 0
    """The night ``ctx`` was built for (see :mod:`.nights`)."""
    starts: int = 0
    """The master (or local process): the nights started, so the current night's number."""
    fixed: tuple[str, ...] = ()
    """The options that tie the run to one night (``--run-dir``, ``--t0``), if given."""
    recorder: RunRecorder | None = None
    """The run directory's writer (the master, or the single local process)."""
    shipper: EventShipper | None = None
    """Where this process's records go (every process with users)."""
    demand: PublicDemand | None = None
    """This process's share of the public's reads (every process with users)."""

    def hotline_phone(self) -> HotlinePhone:
        """The phone, which the ``init`` hook installs in every process with users."""
        if self.phone is None:
            raise RuntimeError("the hotline phone is not installed (the init hook did not run)")
        return self.phone


def state_of(environment: Any) -> ProcessState:
    """The :class:`ProcessState` of ``environment``'s process, made on first use."""
    st: ProcessState | None = getattr(environment, _ATTR, None)
    if st is None:
        st = ProcessState()
        setattr(environment, _ATTR, st)
    return st
