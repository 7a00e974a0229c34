"""Named streams: seeds come from (run seed, name), never from construction order."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.streams import Streams, stream_seed


def test_same_name_same_draws_regardless_of_order():
    a = Streams(7)
    b = Streams(7)
    b.get("other.component").random(1000)  # another component drawing first changes nothing
    assert np.array_equal(a.get("service.api.arrivals").random(10), b.get("service.api.arrivals").random(10))


def test_get_returns_one_long_lived_generator():
    s = Streams(1)
    assert s.get("x") is s.get("x")


def test_different_names_and_seeds_differ():
    s = Streams(1)
    assert not np.array_equal(s.get("a").random(10), s.get("b").random(10))
    assert not np.array_equal(Streams(1).get("a").random(10), Streams(2).get("a").random(10))


def test_chunks_are_fresh_and_independent():
    s = Streams(3)
    first = s.chunk("arrivals", 5).random(4)
    assert np.array_equal(first, s.chunk("arrivals", 5).random(4))
    assert not np.array_equal(first, s.chunk("arrivals", 6).random(4))
    assert not np.array_equal(first, s.get("arrivals").random(4))


def test_streams_are_statistically_independent():
    # correlation of 100k uniforms from two streams: sd 1/sqrt(n) ~ 0.0032; 0.0105 is 3.3 sd
    s = Streams(11)
    x, y = s.get("a").random(100_000), s.get("b").random(100_000)
    assert abs(np.corrcoef(x, y)[0, 1]) < 3.3 / np.sqrt(100_000)


def test_large_seeds_work():
    assert Streams(2**40).get("a").random() != Streams(2**40 + 1).get("a").random()


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**64 + 5), name=st.text(max_size=30),
       index=st.integers(0, 2**33))
def test_chunk_is_the_generator_of_its_seed_sequence(seed, name, index):
    """The fast chunk path (SeedSequence mixing redone for the last word) draws exactly what
    PCG64(SeedSequence(seed words, name words, index)) draws, large seeds and indices included."""
    expected = np.random.Generator(np.random.PCG64(stream_seed(seed, name, index)))
    got = Streams(seed).chunk(name, index)
    assert np.array_equal(got.integers(0, 2**63, 8), expected.integers(0, 2**63, 8))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), name=st.text(max_size=12),
       steps=st.lists(st.integers(-70, 140), min_size=1, max_size=12),
       start=st.sampled_from([0, 1000, 2**32 - 80]))
def test_chunks_drawn_in_any_order_are_their_seed_sequences(seed, name, steps, start):
    """One Streams drawing a name's chunks again and again (the batched seeds: forwards,
    back, across and past a batch, up to the last 32-bit index) still gives every chunk
    exactly numpy's PCG64(SeedSequence(...)) generator."""
    streams, k = Streams(seed), start
    for step in [0, 0, 1, *steps]:
        k = min(max(0, k + step), 2**32 + 3)
        expected = np.random.Generator(np.random.PCG64(stream_seed(seed, name, k)))
        assert np.array_equal(streams.chunk(name, k).integers(0, 2**63, 4),
                              expected.integers(0, 2**63, 4)), k


def test_chunk_state_matches_numpy_seed_sequence_words():
    from simulator.engine.streams import _mix_prefix, _seed_words, _Seeded

    rng = np.random.default_rng(5)
    for _ in range(500):
        words = tuple(int(w) for w in rng.integers(0, 2**32, 6))
        last = int(rng.integers(0, 2**32))
        ss = np.random.SeedSequence([*words, last])
        mixed = _Seeded(_seed_words(_mix_prefix(words), np.array([last], np.uint64))[0])
        assert mixed.generate_state(8).tolist() == ss.generate_state(8).tolist()
        assert mixed.generate_state(4, np.uint64).tolist() == ss.generate_state(4, np.uint64).tolist()
