"""Sign-in lockout that slows a PIN guesser without locking the real chair out.

A lockout keyed on the precinct alone hands the precinct to whoever guesses: five wrong
PINs a minute from anyone keep the real chair out all night. Here failures are counted
per *(source address, subject)*, where the subject is a precinct (chair) or an operator
id, so a guesser locks out only itself:

- **per source**: the ``LOCKOUT_AFTER``-th consecutive wrong secret from one source for one
  subject locks that source out of that subject for ``LOCKOUT_S``, doubled for every
  further lockout of the same pair up to ``LOCKOUT_MAX_S`` (backoff). A success from the
  source clears its count (not its backoff level).
- **per subject, all sources** (a guesser with many addresses): once the subject has had
  ``SUBJECT_FAILURES_PER_HOUR`` failures from any sources within the last hour, it is
  *guarded*: only sources that have signed in to it successfully before may try, until
  the hour's count falls below the limit again.
- **the chair's own session**: a sign-in that presents a bearer token already issued for
  the same subject is never locked out (the session it holds is a second factor).

While a source is locked out a correct secret is refused too (otherwise the refusal would
tell a guesser which answer was right). Everything is in memory: a restart clears it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

LOCKOUT_AFTER = 5
"""Consecutive wrong secrets from one source that lock that source out of the subject."""
LOCKOUT_S = 60.0
"""The first lockout of a (source, subject), seconds; each further one doubles it."""
LOCKOUT_MAX_S = 3600.0
"""The longest lockout, seconds."""
SUBJECT_FAILURES_PER_HOUR = 50
"""Failures from all sources within an hour that guard a subject (known sources only)."""
_HOUR_S = 3600.0
_PRUNE_AT = 100_000
"""Tracked (source, subject) pairs beyond which unlocked ones are forgotten."""

Subject = tuple[str, str]
"""(role, id): ``("chair", "IA-0001")`` or ``("operator", "op-01")``."""


@dataclass(slots=True)
class _Pair:
    failures: int = 0
    until: float = 0.0
    lockouts: int = 0


@dataclass(slots=True)
class _SubjectState:
    recent: deque[float] = field(default_factory=deque)
    known: set[str] = field(default_factory=set)


class Lockouts:
    """The lockout state of one server (see the module docstring)."""

    def __init__(self) -> None:
        self._pairs: dict[tuple[str, Subject], _Pair] = {}
        self._subjects: dict[Subject, _SubjectState] = {}

    def wait_s(self, source: str, subject: Subject, now: float) -> int | None:
        """Whole seconds ``source`` must wait before trying ``subject`` again, or None
        when it may try now."""
        pair = self._pairs.get((source, subject))
        if pair is not None and pair.until > now:
            return max(1, math.ceil(pair.until - now))
        st = self._subjects.get(subject)
        if st is None or source in st.known:
            return None
        self._expire(st, now)
        if len(st.recent) >= SUBJECT_FAILURES_PER_HOUR:
            oldest_to_expire = st.recent[len(st.recent) - SUBJECT_FAILURES_PER_HOUR]
            return max(1, math.ceil(oldest_to_expire + _HOUR_S - now))
        return None

    def failed(self, source: str, subject: Subject, now: float) -> None:
        """A wrong secret from ``source`` for ``subject`` (an existing one)."""
        if len(self._pairs) > _PRUNE_AT:
            self._pairs = {k: p for k, p in self._pairs.items() if p.until > now}
        pair = self._pairs.setdefault((source, subject), _Pair())
        pair.failures += 1
        if pair.failures >= LOCKOUT_AFTER:
            pair.until = now + min(LOCKOUT_MAX_S, LOCKOUT_S * 2.0 ** pair.lockouts)
            pair.lockouts += 1
            pair.failures = 0
        st = self._subjects.setdefault(subject, _SubjectState())
        st.recent.append(now)
        self._expire(st, now)

    def succeeded(self, source: str, subject: Subject) -> None:
        """A correct secret from ``source``: it is known to ``subject`` from now on."""
        pair = self._pairs.get((source, subject))
        if pair is not None:
            pair.failures = 0
        self._subjects.setdefault(subject, _SubjectState()).known.add(source)

    @staticmethod
    def _expire(st: _SubjectState, now: float) -> None:
        while st.recent and st.recent[0] <= now - _HOUR_S:
            st.recent.popleft()
