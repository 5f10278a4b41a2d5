"""Durations, clock times, distributions and streams: exact values on small cases."""

from __future__ import annotations

import numpy as np
import pytest

from caucus_rehearsal.simulator.dists import Dist
from caucus_rehearsal.simulator.gates import Gate, parse_gate
from caucus_rehearsal.simulator.streams import (
    each_substream,
    int_seed,
    stream,
    substream,
    substream_uniforms,
)
from caucus_rehearsal.simulator.units import (
    format_clock,
    format_duration,
    parse_clock,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90s", 1.5), ("45min", 45.0), ("2h", 120.0), ("1.5d", 2160.0), ("200ms", 200 / 60000),
     ("15m", 15.0), (".5h", 30.0)],
)
def test_parse_duration(text: str, minutes: float) -> None:
    assert parse_duration(text) == pytest.approx(minutes)


@pytest.mark.parametrize("text", ["15", "min", "15 years", "-5min", ""])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "minute"),
    [("19:00", 0.0), ("22:30", 210.0), ("12:00", -420.0), ("16:00+1d", 1260.0),
     ("00:00+1d", 300.0), ("18:30", -30.0)],
)
def test_clock_round_trip(text: str, minute: float) -> None:
    assert parse_clock(text) == minute
    assert format_clock(minute) == text


@pytest.mark.parametrize("text", ["24:00", "7pm", "12:60", "22:30+d"])
def test_parse_clock_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="clock time"):
        parse_clock(text)


def test_format_duration() -> None:
    assert [format_duration(m) for m in (0.5, 12, 75, 180)] == ["30s", "12min", "1h15m", "3h00m"]


def test_lognormal_median_and_p90_are_what_the_file_says() -> None:
    d = Dist("lognormal", (6.0, 15.0))
    q50, q90 = d.quantiles(stream(1, "test"), [0.5, 0.9], n=200_000)
    assert q50 == pytest.approx(6.0, rel=0.02)
    assert q90 == pytest.approx(15.0, rel=0.02)
    assert d.mean == pytest.approx(float(np.mean(d.sample(stream(2, "t"), 200_000))), rel=0.02)


@pytest.mark.parametrize(
    "d", [Dist("fixed", (3.0,)), Dist("exponential", (2.0,)), Dist("uniform", (1.0, 3.0)),
          Dist("triangular", (1.0, 2.0, 6.0)), Dist("normal", (5.0, 1.0))])
def test_sample_means(d: Dist) -> None:
    xs = d.sample(stream(3, "t"), 100_000)
    assert xs.min() >= 0
    assert float(xs.mean()) == pytest.approx(d.mean, rel=0.02)
    assert isinstance(d.sample(stream(3, "t")), float)


def test_streams_are_keyed_and_reproducible() -> None:
    a = stream(7, "realign", 3).random(4)
    assert np.array_equal(a, stream(7, "realign", 3).random(4))
    assert not np.array_equal(a, stream(7, "realign", 4).random(4))
    assert not np.array_equal(a, stream(8, "realign", 3).random(4))
    assert not np.array_equal(a, stream(7, "worksheet", 3).random(4))
    assert int_seed(7, "chairs") == int_seed(7, "chairs") != int_seed(7, "chairz")
    with pytest.raises(ValueError, match="must be >= 0"):
        stream(7, -1)


def test_substreams_are_keyed_disjoint_and_batched_alike() -> None:
    a = substream(7, "realign", 3).random(6)
    assert np.array_equal(a, substream(7, "realign", 3).random(6))
    assert not np.array_equal(a, substream(7, "realign", 4).random(6))
    assert not np.array_equal(a, substream(7, "realign", 3, 0).random(6))  # (i,) is not (i, 0)
    assert not np.array_equal(a, substream(8, "realign", 3).random(6))
    assert not np.array_equal(a, substream(7, "attendance", 3).random(6))
    batch = substream_uniforms(7, "realign", [[3], [9], [4]], [6, 0, 2])
    assert np.array_equal(batch[:6], a)  # a row's numbers are its substream's, in order
    assert np.array_equal(batch[6:], substream(7, "realign", 4).random(2))
    assert np.array_equal(substream_uniforms(7, "realign", [3], [2]), a[:2])  # a prefix
    firsts = [g.random() for g in each_substream(7, "realign", [[3, 1], [3, 2]])]
    assert firsts == [substream(7, "realign", 3, r).random() for r in (1, 2)]
    with pytest.raises(ValueError, match="substream index"):
        substream(7, "realign", -1)


def test_gates_parse_and_evaluate() -> None:
    g = parse_gate("published_fraction >= 0.95 by 22:30")
    assert g == Gate("published_fraction", ">=", 0.95, 210.0)
    assert g.passes(0.95) and not g.passes(0.94)
    assert str(g) == "published_fraction >= 0.95 by 22:30"
    assert parse_gate("data_loss == 0").passes(0)
    with pytest.raises(ValueError, match="unknown metric"):
        parse_gate("vibes > 1")
