"""Independent random streams derived from (scenario seed, purpose, unit, replication).

Every random draw in the project comes from a generator made here, never from the global
``random`` or ``numpy.random`` state. Streams are keyed, so one unit's draws do not shift
when another unit's do, and a worker process can rebuild exactly its own units' streams::

    rng = stream(seed, "toss", unit_index)               # one unit's coin tosses
    rng = stream(seed, "night", replication, "env", i)  # one unit in one Monte Carlo run

A keyed stream costs about 25 us to make (the ``SeedSequence`` hashing). Where every unit
needs its own draws, :func:`substream` and :func:`substream_uniforms` give the same
independence for a few microseconds: one Philox generator per (seed, purpose), and unit
``i`` (and round ``r``) reads only its own disjoint block of Philox's counter space.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt


def _key(part: int | str) -> int:
    if isinstance(part, int):
        if part < 0:
            raise ValueError(f"stream key part(={part}) must be >= 0")
        return part
    return zlib.crc32(part.encode("utf-8"))


def seed_sequence(seed: int, *keys: int | str) -> np.random.SeedSequence:
    """The SeedSequence for ``seed`` and a path of keys (strings name purposes)."""
    return np.random.SeedSequence(entropy=seed, spawn_key=tuple(_key(k) for k in keys))


def stream(seed: int, *keys: int | str) -> np.random.Generator:
    """A fresh generator for ``seed`` and ``keys``; the same arguments give the same draws."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *keys)))


def int_seed(seed: int, *keys: int | str) -> int:
    """A 32-bit integer seed for libraries that take one (Faker's ``seed_instance``)."""
    return int(seed_sequence(seed, *keys).generate_state(1, dtype=np.uint32)[0])


def _philox_key(seed: int, purpose: str) -> npt.NDArray[np.uint64]:
    return np.asarray(seed_sequence(seed, purpose).generate_state(2, dtype=np.uint64),
                      dtype=np.uint64)


def _counters(index: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """Philox's 256-bit counters for substreams ``index``: rows of 1 or 2 ints >= 0.

    A row ``(i, r)`` is the counter ``[0, 2, r, i]`` and ``(i,)`` is ``[0, 1, 0, i]``;
    draws advance the low word only, so two substreams never meet (2**66 numbers each).
    """
    rows = np.asarray(index, dtype=np.int64)
    if rows.ndim == 1:
        rows = rows[:, None]
    if rows.ndim != 2 or rows.shape[1] not in (1, 2) or (rows < 0).any():
        raise ValueError(f"substream index(={rows.tolist()}) must be rows of 1 or 2 ints >= 0")
    out = np.zeros((rows.shape[0], 4), dtype=np.uint64)
    out[:, 1] = rows.shape[1]
    out[:, 3] = rows[:, 0]
    if rows.shape[1] == 2:
        out[:, 2] = rows[:, 1]
    return out


def _positioned(seed: int, purpose: str,
                counters: npt.NDArray[np.uint64]) -> Iterator[np.random.Generator]:
    bits = np.random.Philox(key=_philox_key(seed, purpose))
    gen = np.random.Generator(bits)
    state = bits.state
    for counter in counters:
        state["state"]["counter"] = counter
        state["buffer_pos"] = 4  # the buffer is empty: the next draw starts the block
        bits.state = state
        yield gen


def substream(seed: int, purpose: str, *index: int) -> np.random.Generator:
    """The generator of substream ``index`` (a unit, optionally a round) of ``purpose``.

    Its draws depend only on (seed, purpose, index): one unit's substream never shifts
    when another unit draws more or less.
    """
    (counter,) = _counters([index])
    bits = np.random.Philox(counter=counter, key=_philox_key(seed, purpose))
    return np.random.Generator(bits)


def each_substream(seed: int, purpose: str, index: npt.ArrayLike) -> Iterator[np.random.Generator]:
    """For each row of ``index`` in turn, the generator of that substream of ``purpose``
    (as :func:`substream` makes it), without making a generator per row: one Philox
    generator is moved to each row's block (~3 us) and yielded again, so draw from it
    before asking for the next one."""
    return _positioned(seed, purpose, _counters(index))


def substream_uniforms(seed: int, purpose: str, index: npt.ArrayLike,
                       sizes: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Uniforms in [0, 1): the first ``sizes[j]`` of substream ``index[j]`` of ``purpose``,
    for every row ``j``, concatenated in row order.

    Row ``j``'s numbers are exactly ``substream(seed, purpose, *index[j]).random(sizes[j])``
    (a longer request extends a shorter one).
    """
    counters = _counters(index)
    counts = np.asarray(sizes, dtype=np.int64)
    if counts.shape != (counters.shape[0],) or (counts < 0).any():
        raise ValueError("substream_uniforms needs one size >= 0 per index row")
    keep = counts > 0
    out = np.empty(int(counts.sum()), dtype=np.float64)
    at = 0
    for gen, size in zip(_positioned(seed, purpose, counters[keep]), counts[keep].tolist(),
                         strict=True):
        out[at:at + size] = gen.random(size)
        at += size
    return out
