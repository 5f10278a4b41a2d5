"""Security: what the adversaries' attacks got from the target (``[adversaries]``).

Read from the adversary attempts of ``events.jsonl`` (``actor`` ``adversary``, ``step``
one of :data:`caucus_rehearsal.attacks.ATTACKS`; ``unit_id`` the precinct attacked):

- **unauthorized writes**: ``cross_precinct`` writes the target accepted (``ok``): a
  precinct's data written with another precinct's session (``session_of``). Each precinct
  written so is *overwritten by an attacker*: reconciliation classifies it so when what
  it published differs (:mod:`.reconcile`), not as data loss;
- **wrong PINs accepted**: ``bad_pin`` sign-ins the target accepted;
- **replays stored again**: ``replay`` attempts the target accepted as a new write
  (``replayed`` false: its answer said it stored them; true: answered as the stored
  write; absent: the answer did not say, counted as unclear);
- **malformed bodies accepted**: ``malformed`` attempts the target accepted;
- **PIN guessing without lockout**: per precinct, the longest run of wrong PINs answered
  as a plain refusal, never ``locked_out`` (a 429) nor accepted, in send order;
- **chairs locked out by attackers**: precincts whose chair, signing in with the right
  PIN (its plan is not ``cannot_login``), was answered ``locked_out`` after an
  attacker's wrong PIN at that precinct.

A refusal (``rejected``, ``locked_out``) is the target doing its job; ``error``,
``timeout``, ``conn_error`` and ``protocol_error`` count as failed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from caucus_rehearsal.attacks import ATTACKS
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.records import Json

REFUSED = frozenset({"rejected", "locked_out"})
"""Outcomes by which the target refused an attack (``unauthorized`` is logged as rejected)."""

METRICS = ("unauthorized_writes", "wrong_pins_accepted", "replays_stored_again",
           "malformed_accepted", "pin_guesses_without_lockout",
           "chairs_locked_out_by_attackers")
"""The gate metrics measured here (their meaning: ``simulator.gates.GATE_METRICS``)."""

EXAMPLES = 5
"""Accepted attacks ``summary.json`` lists per kind."""


def _order(e: Json) -> float:
    return float(e.get("sent_wall") or e.get("intended_wall") or 0.0)


def attacks_of(events: list[Json]) -> list[Json]:
    """The adversaries' HTTP attempts (hotline nuisance calls are not attacks on data)."""
    return sorted((e for e in events if e.get("actor") == "adversary"
                   and e.get("step") in ATTACKS), key=_order)


def overwritten_units(events: list[Json]) -> dict[str, Json]:
    """Per precinct written by an accepted ``cross_precinct`` attack, the first such write."""
    out: dict[str, Json] = {}
    for e in attacks_of(events):
        if e.get("step") == "cross_precinct" and e.get("outcome") == "ok":
            out.setdefault(str(e.get("unit_id", "")), e)
    return out


@dataclass(frozen=True, slots=True)
class Security:
    """What the attacks got (see the module docstring); ``tried`` per kind:
    ``sent``/``refused``/``accepted``/``failed`` counts."""

    tried: dict[str, dict[str, int]]
    unauthorized: tuple[Json, ...]
    wrong_pins: tuple[Json, ...]
    replays_stored: tuple[Json, ...]
    replays_unclear: int
    malformed: tuple[Json, ...]
    guessing: tuple[str, int]
    """(precinct, wrong PINs in a row without a lockout), the longest; ("", 0): none."""
    chairs_locked_out: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.tried)


def security(run: RunDir) -> Security:
    """Read the run's attacks."""
    attacks = attacks_of(run.events)
    tried: dict[str, dict[str, int]] = {}
    for e in attacks:
        t = tried.setdefault(str(e["step"]), dict.fromkeys(("sent", "refused", "accepted",
                                                            "failed"), 0))
        t["sent"] += 1
        outcome = e.get("outcome")
        t["refused" if outcome in REFUSED else "accepted" if outcome == "ok" else "failed"] += 1

    def accepted(kind: str) -> tuple[Json, ...]:
        return tuple(e for e in attacks if e["step"] == kind and e.get("outcome") == "ok")

    replays = accepted("replay")
    runs: dict[str, int] = defaultdict(int)
    longest: tuple[str, int] = ("", 0)
    first_bad: dict[str, float] = {}
    for e in attacks:
        if e["step"] != "bad_pin":
            continue
        uid = str(e.get("unit_id", ""))
        first_bad.setdefault(uid, _order(e))
        runs[uid] = runs[uid] + 1 if e.get("outcome") == "rejected" else 0
        if runs[uid] > longest[1]:
            longest = (uid, runs[uid])
    right_pin = {uid for uid, p in run.plan.items() if p.raw.get("app_status") != "cannot_login"}
    locked = sorted({str(e.get("unit_id")) for e in run.events
                     if e.get("actor") == "chair" and e.get("step") == "login"
                     and e.get("outcome") == "locked_out" and e.get("unit_id") in right_pin
                     and str(e.get("unit_id")) in first_bad
                     and _order(e) > first_bad[str(e.get("unit_id"))]})
    return Security(
        tried=dict(sorted(tried.items())), unauthorized=accepted("cross_precinct"),
        wrong_pins=accepted("bad_pin"),
        replays_stored=tuple(e for e in replays if e.get("replayed") is False),
        replays_unclear=sum(1 for e in replays if e.get("replayed") is None),
        malformed=accepted("malformed"), guessing=longest, chairs_locked_out=tuple(locked))


def measure(s: Security, metric: str) -> tuple[float | None, str]:
    """(value, how it was read) of one of :data:`METRICS`."""
    kind = {"unauthorized_writes": "cross_precinct", "wrong_pins_accepted": "bad_pin",
            "replays_stored_again": "replay", "malformed_accepted": "malformed",
            "pin_guesses_without_lockout": "bad_pin",
            "chairs_locked_out_by_attackers": "bad_pin"}[metric]
    sent = s.tried.get(kind, {}).get("sent", 0)
    note = f"of {sent} {kind} attempts" if sent else f"no {kind} attempt was made"
    if metric == "unauthorized_writes":
        return float(len(s.unauthorized)), note
    if metric == "wrong_pins_accepted":
        return float(len(s.wrong_pins)), note
    if metric == "replays_stored_again":
        unclear = f"; {s.replays_unclear} accepted without saying" if s.replays_unclear else ""
        return float(len(s.replays_stored)), note + unclear
    if metric == "malformed_accepted":
        return float(len(s.malformed)), note
    if metric == "pin_guesses_without_lockout":
        where = f" (at {s.guessing[0]})" if s.guessing[1] else ""
        return float(s.guessing[1]), note + where
    return float(len(s.chairs_locked_out)), note


def _example(e: Json) -> dict[str, Any]:
    return {k: e.get(k) for k in ("unit_id", "session_of", "status", "sim_min", "request_id")
            if e.get(k) is not None}


def security_json(s: Security) -> dict[str, Any]:
    """The ``security`` block of ``summary.json``."""
    return {
        "attacks": s.tried,
        "unauthorized_writes": len(s.unauthorized),
        "wrong_pins_accepted": len(s.wrong_pins),
        "replays_stored_again": len(s.replays_stored),
        "replays_unclear": s.replays_unclear,
        "malformed_accepted": len(s.malformed),
        "pin_guesses_without_lockout": {"unit_id": s.guessing[0], "guesses": s.guessing[1]},
        "chairs_locked_out_by_attackers": list(s.chairs_locked_out),
        "examples": {kind: [_example(e) for e in found[:EXAMPLES]]
                     for kind, found in (("cross_precinct", s.unauthorized),
                                         ("bad_pin", s.wrong_pins),
                                         ("replay", s.replays_stored),
                                         ("malformed", s.malformed)) if found},
    }


GUESSES_WORTH_SAYING = 10
"""Wrong PINs in a row without a lockout from which the report says so in a finding."""


def finding_texts(s: Security) -> list[tuple[int, str, str]]:
    """(rank, key, text) of each security finding; the key is the gate metric."""
    out: list[tuple[int, str, str]] = []

    def plural(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    if s.unauthorized:
        e = s.unauthorized[0]
        units = sorted({str(x.get("unit_id")) for x in s.unauthorized})
        out.append((1, "unauthorized_writes",
                    f"The target accepted {plural(len(s.unauthorized), 'write', 'writes')} "
                    f"made with another precinct's credentials, at "
                    f"{plural(len(units), 'precinct', 'precincts')} "
                    f"(e.g. {e.get('session_of') or 'another precinct'}'s session wrote "
                    f"{e.get('unit_id')}); each such precinct counts as overwritten by an "
                    "attacker, not as data loss."))
    if s.wrong_pins:
        out.append((1, "wrong_pins_accepted",
                    f"The target accepted {plural(len(s.wrong_pins), 'sign-in', 'sign-ins')} "
                    f"with a wrong PIN (e.g. at {s.wrong_pins[0].get('unit_id')})."))
    if s.chairs_locked_out:
        shown = ", ".join(s.chairs_locked_out[:EXAMPLES])
        out.append((2, "chairs_locked_out_by_attackers",
                    f"An attacker's wrong PINs locked out the real chair of "
                    f"{plural(len(s.chairs_locked_out), 'precinct', 'precincts')}: {shown}."))
    if s.replays_stored:
        n = plural(len(s.replays_stored), "replayed write", "replayed writes")
        out.append((3, "replays_stored_again",
                    f"The target stored {n} again as a new version (e.g. "
                    f"{s.replays_stored[0].get('unit_id')})."))
    if s.malformed:
        n = plural(len(s.malformed), "malformed body", "malformed bodies")
        out.append((3, "malformed_accepted",
                    f"The target accepted {n} (e.g. at {s.malformed[0].get('unit_id')})."))
    if s.guessing[1] >= GUESSES_WORTH_SAYING:
        out.append((3, "pin_guesses_without_lockout",
                    f"{s.guessing[0]} answered {s.guessing[1]} wrong PINs in a row without "
                    "locking the guesser out."))
    return out
