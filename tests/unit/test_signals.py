"""simulator.signals.held: SIGINT and SIGTERM noted during the block, taken after it."""

from __future__ import annotations

import signal

import pytest

from simulator.signals import held


def test_a_signal_in_the_block_is_taken_after_it():
    seen: list[tuple[int, str]] = []
    where = ["before"]

    def handler(sig, frame):
        seen.append((sig, where[0]))

    before = signal.signal(signal.SIGTERM, handler)
    try:
        with held():
            where[0] = "inside"
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
            assert seen == []  # noted, not handled
            where[0] = "after"
        assert seen == [(signal.SIGTERM, "after")]  # once, with the handler of before
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, before)


def test_an_exception_from_the_taken_signal_leaves_the_block_normally():
    def handler(sig, frame):
        raise RuntimeError("terminated")

    before = signal.signal(signal.SIGTERM, handler)
    try:
        with pytest.raises(RuntimeError, match="terminated"), held():
            signal.raise_signal(signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, before)
