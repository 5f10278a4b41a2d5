"""The adversaries' attacks on the reporting system (``[adversaries]`` of a scenario).

Each attack is one HTTP request an adapter builds with its ordinary builders and then
the attacker alters. Its name is the ``step`` the run directory records it under
(``events.jsonl``, actor ``adversary``) and the ``intent`` an adapter's ``interpret()``
sees on the :class:`~caucus_rehearsal.rehearsal.adapters.base.HttpCall` (whose ``step``
stays the request it is: ``login``, ``final``, ``attendance``); honest traffic has the
intent :data:`HONEST`. The report reads their outcomes in ``reports/security.py``.
"""

from __future__ import annotations

HONEST = "honest"
"""The intent of every request that is not an attack."""

ATTACKS: dict[str, str] = {
    "bad_pin": "a chair sign-in with a wrong PIN (step login): at random precincts, or a "
               "brute-force attacker cycling PINs at one precinct",
    "replay": "a precinct's acknowledged final alignment sent again with its own session "
              "and Idempotency-Key (step final)",
    "cross_precinct": "an attendance write to one precinct with another precinct's "
                      "session (step attendance)",
    "malformed": "a chair sign-in whose JSON body is cut off (step login)",
}
"""Every attack: its name (step and intent) and what it sends."""
