"""Named random streams: every draw in a run comes from a generator named by its decision point.

A stream's seed is derived from (run seed, stream name[, chunk index]) with a stable hash, never
from the order in which components were built, so adding a component never shifts another's
draws and two scenarios that differ only in a policy see the same arrivals and failures
(common random numbers).  Chunked streams give a fresh generator per fixed time block, so data
for any time window can be drawn without drawing everything before it.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
from numpy.random.bit_generator import ISeedSequence


@functools.lru_cache(maxsize=4096)  # a run draws per block from a few names, many times each
def _name_words(name: str) -> tuple[int, ...]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


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
        self._prefixes: dict[str, tuple] = {}  # (pool, hash) of a name, () once seen
        self._batches: dict[str, tuple[int, np.ndarray]] = {}  # name -> (first index, seeds)

    def get(self, name: str) -> np.random.Generator:
        """The one long-lived generator of stream `name` (same object on every call)."""
        gen = self._cache.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(stream_seed(self.seed, name)))
            self._cache[name] = gen
        return gen

    def chunk(self, name: str, *index: int) -> np.random.Generator:
        """A fresh generator for block `index` of stream `name` (independent of other blocks);
        `index` is one or more non-negative integers (a block, a sub-block of it).

        The same generator as ``PCG64(stream_seed(seed, name, *index))``; for one index, built
        in a fraction of the time (a run builds four per block of every service): the seed
        words of (seed, name) are mixed once per name, and the indices of a name drawn again
        are mixed in batches of _BATCH, vectorised (see _seed_words)."""
        if len(index) != 1 or not 0 <= index[0] <= _M32 or self.seed >> 64:
            return np.random.Generator(np.random.PCG64(stream_seed(self.seed, name, *index)))
        k = int(index[0])
        batch = self._batches.get(name)
        if batch is not None and 0 <= k - batch[0] < _BATCH:
            words = batch[1][k - batch[0]]
        else:
            prefix = self._prefixes.get(name)
            if prefix is None:  # a name's first chunk (often its only one): numpy's own way
                self._prefixes[name] = ()
                return np.random.Generator(np.random.PCG64(stream_seed(self.seed, name, k)))
            if not prefix:  # drawn again: block after block, so mix the next _BATCH at once
                prefix = self._prefixes[name] = _mix_prefix(
                    (self.seed & _M32, self.seed >> 32, *_name_words(name)))
            batch = self._batches[name] = (k, _seed_words(
                prefix, np.arange(k, min(k + _BATCH, _M32 + 1), dtype=np.uint64)))
            words = batch[1][0]
        return np.random.Generator(np.random.PCG64(_Seeded(words)))


# numpy's SeedSequence (pool of 4 words, O'Neill's seed_seq_fe), redone for the last word only;
# tests/unit/test_streams.py checks it against numpy's SeedSequence on random inputs.
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _mix_in(pool: list[int], h: int, word: int) -> int:
    """Mix one entropy word into every pool word (in place); return the hash constant."""
    for d in range(4):
        v = word ^ h
        h = (h * _MULT_A) & _M32
        v = (v * h) & _M32
        v ^= v >> 16
        r = (_MIX_L * pool[d] - _MIX_R * v) & _M32
        pool[d] = r ^ (r >> 16)
    return h


def _mix_prefix(words: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """SeedSequence's pool and hash constant after its entropy words `words` (4 or more words
    of 32 bits), before any further word."""
    h, pool = _INIT_A, []
    for w in words[:4]:
        v = w ^ h
        h = (h * _MULT_A) & _M32
        v = (v * h) & _M32
        pool.append(v ^ (v >> 16))
    for s in range(4):
        for d in range(4):
            if s != d:
                v = pool[s] ^ h
                h = (h * _MULT_A) & _M32
                v = (v * h) & _M32
                v ^= v >> 16
                r = (_MIX_L * pool[d] - _MIX_R * v) & _M32
                pool[d] = r ^ (r >> 16)
    for w in words[4:]:
        h = _mix_in(pool, h, w)
    return tuple(pool), h


_BATCH = 64
"""Chunk seeds mixed at once for a stream drawn block after block."""


def _seed_words(prefix: tuple[tuple[int, ...], int], index: np.ndarray) -> np.ndarray:
    """The 4 words of 64 bits that SeedSequence(prefix words + [i]) gives PCG64, for every i
    of `index` (uint64 values below 2**32): SeedSequence's last mixing step and its output,
    vectorised over the indices (every product of two 32-bit words fits in 64 bits)."""
    (pool, h), m32 = prefix, np.uint64(_M32)
    mixed = []
    for d in range(4):
        h1 = (h * _MULT_A) & _M32
        v = ((index ^ np.uint64(h)) * np.uint64(h1)) & m32
        v ^= v >> np.uint64(16)
        r = (np.uint64((_MIX_L * pool[d]) & _M32) - np.uint64(_MIX_R) * v) & m32
        mixed.append(r ^ (r >> np.uint64(16)))
        h = h1
    out = np.empty((index.shape[0], 8), np.uint64)
    hb = _INIT_B
    for i in range(8):
        hb1 = (hb * _MULT_B) & _M32
        v = ((mixed[i & 3] ^ np.uint64(hb)) * np.uint64(hb1)) & m32
        out[:, i] = v ^ (v >> np.uint64(16))
        hb = hb1
    return out[:, 0::2] | (out[:, 1::2] << np.uint64(32))


class _Seeded(ISeedSequence):
    """A seed sequence whose state words were computed already (see _seed_words)."""

    __slots__ = ("_words64",)

    def __init__(self, words64: np.ndarray):
        self._words64 = words64

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        """The first n_words words of the state (PCG64 asks for 4 of 64 bits)."""
        if dtype is np.uint64 and n_words <= 4:
            return self._words64[:n_words]
        if np.dtype(dtype) == np.uint64 and n_words <= 4:
            return self._words64[:n_words].copy()
        if np.dtype(dtype) == np.uint32 and n_words <= 8:
            return self._words64.view("<u4")[:n_words].astype(np.uint32)
        raise ValueError(f"a chunk seed holds 8 words of 32 bits, not {n_words} of {dtype}")
