"""Named random streams: every draw in a run comes from a generator named by its decision point.

A stream's seed is derived from (run seed, stream name[, chunk index]) with a stable hash, never
from the order in which components were built, so adding a component never shifts another's
draws and two scenarios that differ only in a policy see the same arrivals and failures
(common random numbers).  Chunked streams give a fresh generator per fixed time block, so data
for any time window can be drawn without drawing everything before it.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_words(name: str) -> list[int]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def stream_seed(seed: int, name: str, *index: int) -> np.random.SeedSequence:
    """The SeedSequence of stream `name` (and optional chunk indices) under run seed `seed`."""
    if seed < 0:
        raise ValueError("seed must be non-negative")
    entropy = [seed & 0xFFFFFFFF, seed >> 32, *_name_words(name), *(int(i) for i in index)]
    return np.random.SeedSequence(entropy)


class Streams:
    """The named random generators of one run (seed fixed at construction)."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The one long-lived generator of stream `name` (same object on every call)."""
        gen = self._cache.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(stream_seed(self.seed, name)))
            self._cache[name] = gen
        return gen

    def chunk(self, name: str, index: int) -> np.random.Generator:
        """A fresh generator for block `index` of stream `name` (independent of other blocks)."""
        return np.random.Generator(np.random.PCG64(stream_seed(self.seed, name, index)))
