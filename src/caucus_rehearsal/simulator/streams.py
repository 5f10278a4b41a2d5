"""Independent random streams derived from (scenario seed, purpose, unit, replication).

Every random draw in the project comes from a generator made here, never from the global
``random`` or ``numpy.random`` state. Streams are keyed, so one unit's draws do not shift
when another unit's do, and a worker process can rebuild exactly its own units' streams::

    rng = stream(seed, "realign", unit_index)            # the truth
    rng = stream(seed, "night", replication, unit_index) # one unit in one Monte Carlo run
"""

from __future__ import annotations

import zlib

import numpy as np


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
