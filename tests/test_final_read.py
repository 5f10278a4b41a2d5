"""The final read of the published results: read again while it shows the feed gone back
from what the night showed (a glitch the target recovers from), never more than
FINAL_READS times, every read recorded."""

from __future__ import annotations

from typing import Any

from caucus_rehearsal.rehearsal.final_read import FINAL_READS, RETRY_S, FeedHigh, read_final


def feed(reporting: int, ids: str) -> dict[str, Any]:
    return {"precincts_reporting": reporting, "precincts": {i: {} for i in ids.split()}}


def night(*states: dict[str, Any] | None) -> FeedHigh:
    high = FeedHigh()
    for s in states:
        high.see(s)
    return high


class Target:
    """Answers the final reads in turn (the last one again when they run out)."""

    def __init__(self, *answers: tuple[dict[str, Any] | None, bool]) -> None:
        self.answers = list(answers)
        self.log: list[str] = []

    def read(self) -> tuple[dict[str, Any] | None, bool]:
        got = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        self.log.append("read")
        return got

    def sleep(self, s: float) -> None:
        self.log.append(f"sleep {s}")


def test_a_settled_feed_is_read_once() -> None:
    t = Target((feed(3, "A B C"), False))
    assert read_final(t.read, night(feed(2, "A B"), None, feed(3, "A B C")), t.sleep) == 1
    assert t.log == ["read"]


def test_a_final_read_caught_in_a_stale_glitch_is_read_again_until_it_recovers() -> None:
    high = night(feed(2, "A B"), feed(3, "A B C"))
    t = Target((feed(2, "A B"), False), (feed(2, "A B"), False), (feed(4, "A B C D"), False))
    assert read_final(t.read, high, t.sleep) == 3
    assert t.log == ["read", f"sleep {RETRY_S}", "read", f"sleep {RETRY_S}", "read"]


def test_a_precinct_gone_with_as_many_reporting_is_going_back_too() -> None:
    high = night(feed(3, "A B C"))
    assert high.gone_back(feed(3, "A B D"))
    assert not high.gone_back(feed(4, "A B C D"))


def test_a_feed_that_stays_back_is_read_at_most_final_reads_times() -> None:
    t = Target((feed(1, "A"), False))
    assert read_final(t.read, night(feed(3, "A B C")), t.sleep) == FINAL_READS
    assert t.log.count("read") == FINAL_READS and t.log[-1] == "read"


def test_a_failed_or_broken_final_read_is_not_repeated() -> None:
    high = night(feed(3, "A B C"))
    failed, broken = Target((None, False)), Target((None, True))
    assert read_final(failed.read, high, failed.sleep) == 1
    assert read_final(broken.read, high, broken.sleep) == 1
