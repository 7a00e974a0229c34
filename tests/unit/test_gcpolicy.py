"""The collector policy of a run and of loading: what it changes inside, and that it restores."""

from __future__ import annotations

import gc

from simulator.gcpolicy import GC_THRESHOLD, rare_collections


def test_rare_collections_raises_the_threshold_and_restores_it():
    before = gc.get_threshold()
    with rare_collections():
        assert gc.get_threshold()[0] == GC_THRESHOLD and gc.isenabled()
    assert gc.get_threshold() == before and gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_no_collections_while_loading_then_the_collector_is_back():
    with rare_collections(None):
        assert not gc.isenabled()
        with rare_collections():  # a run inside (nested blocks)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_collector_comes_back_after_an_error():
    try:
        with rare_collections(None):
            raise ValueError("bad input")
    except ValueError:
        pass
    assert gc.isenabled()


def test_cyclic_garbage_made_inside_is_collected_afterwards():
    class Node:
        pass

    with rare_collections(None):
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
    assert gc.collect() >= 2
