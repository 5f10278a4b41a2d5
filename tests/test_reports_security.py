"""Security findings on hand-built run directories: what each attack got from the target,
the gate metrics that count it, and a chair locked out by an attacker."""

from __future__ import annotations

import json
from pathlib import Path

from caucus_rehearsal.reports import build_report
from caucus_rehearsal.reports.security import measure, security
from caucus_rehearsal.rundir.reader import read_run_dir
from support.rundirs import RunBuilder, tally

T1 = tally(100, (60, 40), (58, 42), (2, 2))
T2 = tally(50, (10, 40), (0, 48), (0, 3))
GATES = ("data_loss == 0", "unauthorized_writes == 0", "wrong_pins_accepted == 0",
         "replays_stored_again == 0", "malformed_accepted == 0",
         "pin_guesses_without_lockout <= 10", "chairs_locked_out_by_attackers == 0")


def attacked(path: Path) -> RunBuilder:
    b = RunBuilder(path)
    b.unit("U1", T1)
    b.unit("U2", T2)
    b.ack("U1", T1)
    b.ack("U2", T2)
    b.snapshot(100.0, {"U1": T1, "U2": T2})
    return b


def attack(b: RunBuilder, kind: str, uid: str, outcome: str, minute: float,
           **extra: object) -> None:
    b.event(uid, "app", kind, outcome, minute, actor="adversary", **extra)


def test_a_target_that_refuses_every_attack_passes(tmp_path: Path) -> None:
    b = attacked(tmp_path / "run")
    for i in range(12):  # a lockout after four wrong PINs, then four more
        attack(b, "bad_pin", "U1", "locked_out" if i in (4, 9) else "rejected", 10.0 + i)
    attack(b, "replay", "U1", "ok", 70.0, replayed=True)
    attack(b, "cross_precinct", "U2", "rejected", 71.0, session_of="U1")
    attack(b, "malformed", "U2", "rejected", 72.0)
    path = b.write(gates=GATES)
    s = security(read_run_dir(path))
    assert s.tried["bad_pin"] == {"sent": 12, "refused": 12, "accepted": 0, "failed": 0}
    assert s.guessing == ("U1", 4) and not s.chairs_locked_out
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("pass", 0), out.findings
    doc = json.loads((path / "summary.json").read_text())["security"]
    assert doc["unauthorized_writes"] == 0 and doc["replays_stored_again"] == 0


def test_what_each_attack_got_is_counted_and_fails_its_gate(tmp_path: Path) -> None:
    b = attacked(tmp_path / "run")
    for i in range(15):
        attack(b, "bad_pin", "U2", "rejected", 10.0 + i)  # no lockout at all
    attack(b, "bad_pin", "U1", "ok", 30.0)
    attack(b, "replay", "U1", "ok", 70.0, replayed=False)
    attack(b, "replay", "U2", "ok", 70.5)  # the answer did not say
    attack(b, "malformed", "U2", "ok", 72.0)
    attack(b, "cross_precinct", "U2", "ok", 73.0, session_of="U1", payload={"attendance": 100})
    path = b.write(gates=GATES)
    run = read_run_dir(path)
    s = security(run)
    got = {m: measure(s, m)[0] for m in ("unauthorized_writes", "wrong_pins_accepted",
                                         "replays_stored_again", "malformed_accepted",
                                         "pin_guesses_without_lockout")}
    assert got == {"unauthorized_writes": 1.0, "wrong_pins_accepted": 1.0,
                   "replays_stored_again": 1.0, "malformed_accepted": 1.0,
                   "pin_guesses_without_lockout": 15.0}
    assert measure(s, "replays_stored_again")[1] == ("of 2 replay attempts; 1 accepted "
                                                     "without saying")
    out = build_report(path)
    assert (out.verdict, out.exit_code) == ("fail", 1)
    assert out.findings[:2] == (
        "The target accepted 1 write made with another precinct's credentials, at 1 precinct "
        "(e.g. U1's session wrote U2); each such precinct counts as overwritten by an "
        "attacker, not as data loss.",
        "The target accepted 1 sign-in with a wrong PIN (e.g. at U1).")
    assert "U2 answered 15 wrong PINs in a row without locking the guesser out." in out.findings
    failed = {g.gate.metric for g in out.gates if g.status == "fail"}
    assert failed == set(m.split()[0] for m in GATES[1:6])  # the unit published as acked


def test_a_chair_locked_out_after_an_attacker_s_wrong_pins(tmp_path: Path) -> None:
    b = attacked(tmp_path / "run")
    for i in range(5):
        attack(b, "bad_pin", "U1", "rejected" if i < 4 else "locked_out", 40.0 + i)
    b.event("U1", "app", "login", "locked_out", 46.0)  # the real chair, right PIN
    b.event("U2", "app", "login", "locked_out", 47.0)  # no attack there: its own doing
    path = b.write(gates=GATES)
    assert security(read_run_dir(path)).chairs_locked_out == ("U1",)
    out = build_report(path)
    assert "An attacker's wrong PINs locked out the real chair of 1 precinct: U1." \
        in out.findings
    assert {g.gate.metric: g.status for g in out.gates}[
        "chairs_locked_out_by_attackers"] == "fail"
