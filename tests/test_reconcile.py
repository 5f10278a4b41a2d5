"""Reconciliation on hand-built run directories: one small case per class, exact results."""

from __future__ import annotations

import copy
from pathlib import Path

from caucus_rehearsal.reports.reconcile import CLASSES, reconcile
from caucus_rehearsal.rundir.reader import read_run_dir
from caucus_rehearsal.simulator.gates import GATE_METRICS, parse_gate
from support.rundirs import RunBuilder, reported, tally

T1 = tally(100, (60, 40), (58, 42), (2, 2))
T2 = tally(50, (10, 40), (0, 48), (0, 3))
T3 = tally(30, (20, 10), (20, 10), (1, 1))


def test_published_correctly_with_app_steps_merged(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", T1, channel="app", sim_min=90.0)
    b.snapshot(95.0, {"U1": T1})
    rec = reconcile(read_run_dir(b.write()))
    u = rec.units[0]
    assert (u.klass, u.channel, u.ack_min, u.published_min) == (
        "published_correctly", "app", 90.0, 95.0)
    assert not u.data_lost and not u.mismatched
    assert rec.counts["published_correctly"] == 1 and sum(rec.counts.values()) == 1


def test_sde_sent_by_the_chair_is_not_compared_with_the_target_s(tmp_path: Path) -> None:
    sent = copy.deepcopy(T1)
    sent["sde"] = {"Alpha": 9.0, "Beta": 0.0}  # the app sends the whole worksheet
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.event("U1", "app", "final", "ok", 90.0, sent)
    b.snapshot(95.0, {"U1": T1})
    u = reconcile(read_run_dir(b.write())).units[0]
    assert (u.klass, u.data_lost) == ("published_correctly", False)


def test_acknowledged_but_not_published_is_data_loss(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.unit("U2", T2)
    b.ack("U1", T1)
    b.ack("U2", T2)
    b.snapshot(100.0, {"U1": T1})
    rec = reconcile(read_run_dir(b.write()))
    u2 = rec.units[1]
    assert u2.klass == "acknowledged_not_published"
    assert u2.reason == "acknowledged via hotline but absent from the published results"
    assert u2.data_lost and not u2.mismatched
    assert rec.counts["acknowledged_not_published"] == 1


def test_acknowledged_after_the_last_read_of_a_stopped_run_is_not_data_loss(
        tmp_path: Path) -> None:
    # A run stopped early (a full disk, a second signal) read the feed last at 100; U2's
    # acknowledgement came later, so nothing shows whether the target published it.
    # A complete run still counts it as lost.
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.unit("U2", T2)
    b.unit("U3", T3)
    b.ack("U1", T1, sim_min=90.0)
    b.ack("U2", T2, sim_min=110.0)
    b.ack("U3", T3, sim_min=95.0)
    b.snapshot(100.0, {"U1": T1})
    rec = reconcile(read_run_dir(b.write(status="aborted")))
    assert [u.klass for u in rec.units] == [
        "published_correctly", "acknowledged_unread", "acknowledged_not_published"]
    u2 = rec.units[1]
    assert u2.reason == ("acknowledged via hotline at 20:50, after the last read of the "
                         "published results (20:40): the run stopped before it could check it")
    assert not u2.data_lost and not u2.mismatched
    complete = reconcile(read_run_dir(b.write(status="complete")))
    assert complete.units[1].klass == "acknowledged_not_published"


def test_published_then_withdrawn_counts_as_lost(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", T1)
    b.snapshot(70.0, {"U1": T1})
    b.snapshot(80.0, {})
    rec = reconcile(read_run_dir(b.write()))
    assert rec.units[0].klass == "acknowledged_not_published"


def test_altered_by_the_target_names_field_and_values(tmp_path: Path) -> None:
    pub = copy.deepcopy(T1)
    pub["final"]["Beta"] = 4
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", T1)
    b.snapshot(100.0, {"U1": pub})
    u = reconcile(read_run_dir(b.write())).units[0]
    assert u.klass == "published_altered"
    assert u.reason == ("the target altered what it acknowledged: "
                        "final/Beta: acknowledged 42, published 4")
    assert [d.text() for d in u.vs_truth] == ["final/Beta: truth 42, published 4"]
    assert u.data_lost and u.mismatched


def test_truncated_by_the_target(tmp_path: Path) -> None:
    pub = copy.deepcopy(T1)
    del pub["delegates"]
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", T1)
    b.snapshot(100.0, {"U1": pub})
    u = reconcile(read_run_dir(b.write())).units[0]
    assert u.klass == "published_altered"
    assert u.reason.startswith("the target truncated what it acknowledged: delegates: ")
    assert u.data_lost


def test_hotline_typo_is_a_difference_but_not_data_loss(tmp_path: Path) -> None:
    keyed = copy.deepcopy(T1)
    keyed["first"]["Alpha"] = 6
    pub = copy.deepcopy(keyed)
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", keyed)
    b.snapshot(100.0, {"U1": pub})
    u = reconcile(read_run_dir(b.write())).units[0]
    assert u.klass == "keyed_differently"
    assert u.reason == ("the number keyed differs from the worksheet: "
                        "first/Alpha: truth 60, published 6")
    assert not u.data_lost and not u.mismatched


def test_never_acknowledged_reasons(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.unit("U2", T2)
    b.unit("U3", T3)
    b.event("U1", "hotline", "call", "busy", 50.0, actor="caller", queue_len=3)
    b.event("U1", "hotline", "report", "gave_up", 80.0)
    b.event("U2", "hotline", "call", "answered", 90.0, actor="caller", wait_min=12.0,
            queue_len=1)
    b.snapshot(100.0, {})
    got = {u.unit_id: (u.klass, u.reason) for u in reconcile(read_run_dir(b.write())).units}
    assert got == {
        "U1": ("never_acknowledged",
               "the chair gave up on the hotline; the paper worksheet is pending"),
        "U2": ("never_acknowledged",
               "the chair was still trying the hotline when the run ended"),
        "U3": ("never_acknowledged", "no report attempt recorded"),
    }


def test_published_under_the_wrong_precinct(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.unit("U2", T2)
    b.ack("U1", T1)
    b.ack("U2", T2)
    b.snapshot(100.0, {"U1": T1, "U2": T1})
    rec = reconcile(read_run_dir(b.write()))
    u1, u2 = rec.units
    assert u1.klass == "published_correctly"
    assert u2.klass == "published_wrong_precinct"
    assert u2.published_as == "U1"
    assert u2.reason == "its published results are those reported by U1"
    assert u2.data_lost and u2.mismatched


def test_worksheet_error_caught_by_validation(tmp_path: Path) -> None:
    ws = copy.deepcopy(T1)
    ws["delegates"] = {"Alpha": 4, "Beta": 0}
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1, worksheet=ws, error="delegate_misallocation")
    b.event("U1", "app", "final", "rejected", 60.0, reported(ws), detail="delegates")
    b.snapshot(100.0, {})
    u = reconcile(read_run_dir(b.write())).units[0]
    assert (u.klass, u.worksheet_error) == ("worksheet_error_caught", "delegate_misallocation")
    assert u.reason == "the target's validation rejected the worksheet (delegate_misallocation)"


def test_worksheet_error_passed_through_to_the_public(tmp_path: Path) -> None:
    ws = copy.deepcopy(T3)
    ws["attendance"] = 3
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T3, worksheet=ws, error="transposed_digits")
    b.ack("U1", ws)
    b.snapshot(100.0, {"U1": ws})
    rec = reconcile(read_run_dir(b.write()))
    u = rec.units[0]
    assert u.klass == "worksheet_error_published"
    assert u.reason == ("the chair's worksheet error (transposed_digits) was published: "
                        "attendance: truth 30, published 3")
    assert not u.data_lost


def test_unknown_ids_and_a_different_winner_are_reported(tmp_path: Path) -> None:
    swapped = copy.deepcopy(T1)
    swapped["sde"] = {"Alpha": 0.0, "Beta": 1.0}
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", T1)
    b.snapshot(100.0, {"U1": T1, "ZZ-9": T1},
               statewide={"first": {}, "final": {}, "sde": {"Alpha": 0.0, "Beta": 9.0}})
    rec = reconcile(read_run_dir(b.write()))
    assert rec.consistency.phantoms == ("ZZ-9",)
    assert rec.consistency.phantom_copies == {"ZZ-9": "U1"}  # it repeats U1's results
    assert rec.statewide.truth_winner == ("Alpha", "Beta")  # 0.5 each: a tie
    assert rec.statewide.published_winner == ("Beta",)
    assert rec.statewide.winner_differs


def test_an_sde_of_the_target_s_own_is_another_difference(tmp_path: Path) -> None:
    pub = copy.deepcopy(T1)
    pub["sde"]["Alpha"] = 0.75  # counts as acknowledged; the target's SDE off the truth
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.ack("U1", T1)
    b.snapshot(100.0, {"U1": pub})
    u = reconcile(read_run_dir(b.write())).units[0]
    assert (u.klass, u.data_lost, u.mismatched) == ("published_different", False, False)
    assert u.reason == "published differs from the truth: sde/Alpha: truth 0.5000, published 0.7500"


def test_a_precinct_an_attacker_overwrote_is_not_data_loss(tmp_path: Path) -> None:
    pub = copy.deepcopy(T1)
    pub["attendance"] = 50  # U2's attendance, written with U2's session
    b = RunBuilder(tmp_path / "run")
    b.unit("U1", T1)
    b.unit("U2", T2)
    b.ack("U1", T1)
    b.ack("U2", T2)
    b.event("U1", "app", "cross_precinct", "ok", 80.0, {"attendance": 50}, actor="adversary",
            session_of="U2")
    b.snapshot(100.0, {"U1": pub, "U2": T2})
    u = reconcile(read_run_dir(b.write())).units[0]
    assert (u.klass, u.data_lost, u.mismatched) == ("overwritten_by_attacker", False, False)
    assert u.reason == ("the target accepted a write to it with U2's session: "
                        "attendance: truth 100, published 50")


def test_a_unit_a_lost_worker_did_not_finish_is_not_played(tmp_path: Path) -> None:
    b = RunBuilder(tmp_path / "run")
    for uid, t in (("U1", T1), ("U2", T2), ("U3", T3)):
        b.unit(uid, t)
    b.ack("U1", T1, sim_min=60.0)
    b.ack("U3", T3, sim_min=62.0)  # acknowledged before its worker was lost: judged
    b.event("U2", "app", "login", "ok", 61.0)
    b.snapshot(90.0, {"U1": T1, "U3": T3})
    lost = {"worker": 1, "lost_wall": 0.0, "lost_sim_min": 63.0,
            "units_not_played": ["U2", "U3"]}
    rec = reconcile(read_run_dir(b.write(lost_workers=(lost,))))
    got = {u.unit_id: u.klass for u in rec.units}
    assert got == {"U1": "published_correctly", "U2": "not_played",
                   "U3": "published_correctly"}
    assert "worker 1" in rec.units[1].reason


def test_every_class_has_a_case_here() -> None:
    # The tests above cover each class; this keeps the list honest when one is added.
    assert set(CLASSES) == {
        "published_correctly", "acknowledged_not_published", "published_altered",
        "published_wrong_precinct", "overwritten_by_attacker", "worksheet_error_published",
        "keyed_differently", "published_different", "worksheet_error_caught",
        "acknowledged_unread", "never_acknowledged", "not_played"}


def test_each_class_is_a_gate_metric_in_the_same_words() -> None:
    for klass, words in CLASSES.items():
        assert GATE_METRICS[klass] == "units " + words
        assert parse_gate(f"{klass} == 0").metric == klass
