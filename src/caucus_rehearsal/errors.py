"""The project's exceptions, and the exit code each one maps to.

::

    RehearsalError                 exit 2 unless a subclass says otherwise
    ├── UsageError                 bad command-line usage or input (exit 2)
    │   ├── ScenarioError          a scenario file or override is wrong: file, key, value, expected
    │   └── InputFileError         a data file (CSV, run directory) is missing or malformed
    ├── TargetError                the target cannot be used (exit 3)
    │   ├── TargetUnreachable      nothing answers at the target URL
    │   └── TargetProtocolError    the target answered something the adapter cannot read
    └── RunAborted                 the run was interrupted or aborted (exit 3)
        └── DiskFull               the disk filled up while writing (ENOSPC, EDQUOT)

The reference server (``server/``) stands alone and does not use these.
"""

from __future__ import annotations

import errno
from typing import Any

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_TARGET = 3
EXIT_INCONCLUSIVE = 4
"""The run could not judge the target: the rehearsal was not faithful (the load
generator fell behind its schedule), or there is no evidence to judge (nothing was
acknowledged, a worker was lost). Neither a pass nor a fail of the target."""


class RehearsalError(Exception):
    """Base of every error the ``rehearse`` command reports in one line."""

    exit_code: int = EXIT_USAGE


class UsageError(RehearsalError):
    """Bad command-line usage or bad input."""


class ScenarioError(UsageError):
    """A scenario value is wrong.

    Attributes: ``file`` (path or ``--set``), ``key`` (dotted key path), ``value`` (the
    bad value as given), ``expected`` (what would have been accepted).
    """

    def __init__(self, file: str, key: str, value: object, expected: str) -> None:
        self.file = file
        self.key = key
        self.value = value
        self.expected = expected
        where = f"{file}: {key}" if key else file
        shown = "" if value is _MISSING else f" = {value!r}"
        super().__init__(f"{where}{shown}: expected {expected}")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: object = _Missing()
MISSING = _MISSING
"""Sentinel for ``ScenarioError.value`` when the problem is not a value (a missing file)."""


class InputFileError(UsageError):
    """A data file is missing or malformed; the message names the file and the problem."""


class TargetError(RehearsalError):
    """The system under test cannot be used.

    ``record``: what the run directory keeps of it (``run.json`` ``target_error``: the
    call, the endpoint, the status and an excerpt of the answer), when it is known.
    """

    exit_code = EXIT_TARGET

    def __init__(self, message: str, record: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.record = record


class TargetUnreachable(TargetError):
    """Nothing answers at the target URL."""


class TargetProtocolError(TargetError):
    """The target answered something the adapter cannot interpret."""


class RunAborted(RehearsalError):
    """The run was interrupted (Ctrl-C) or aborted; what was recorded is kept."""

    exit_code = EXIT_TARGET


class DiskFull(RunAborted):
    """The disk filled up while writing (``ENOSPC``, ``EDQUOT``); what was already written
    is kept and the message says where."""


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``OSError`` saying the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS
