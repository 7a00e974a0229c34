"""The fleet's AZ decisions against their one-at-a-time definitions (hypothesis).

``launch_azs`` and ``scale_in_picks`` compute a whole scaling action at once in NumPy; the
references here are the definitions, one instance at a time with a heap: a launch goes to the
AZ with the fewest instances (ties: the earlier AZ), a scale-in takes the newest instance of
the AZ with the most (ties: the AZ holding the newest).
"""

from __future__ import annotations

import heapq

from hypothesis import given
from hypothesis import strategies as st

from simulator.compute.scaling import launch_azs, scale_in_picks

AZS = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]


def launch_reference(counts: dict[str, int], n: int) -> list[str]:
    heap = [(c, order, az) for order, (az, c) in enumerate(counts.items())]
    heapq.heapify(heap)
    out = []
    for _ in range(n):
        c, order, az = heap[0]
        out.append(az)
        heapq.heapreplace(heap, (c + 1, order, az))
    return out


def scale_in_reference(stacks: dict[str, list[int]], n: int) -> list[str]:
    stacks = {az: list(st) for az, st in stacks.items()}
    out = []
    for _ in range(n):
        live = [(len(st), st[-1], az) for az, st in stacks.items() if st]
        if not live:
            break
        _, _, az = max(live)
        out.append(az)
        stacks[az].pop()
    return out


@given(st.lists(st.integers(0, 40), min_size=1, max_size=len(AZS)), st.integers(0, 120))
def test_launch_azs_is_fewest_first_one_at_a_time(counts, n):
    counts = dict(zip(AZS, counts, strict=False))
    assert launch_azs(counts, n) == launch_reference(counts, n)


@st.composite
def stacks(draw):
    """Per AZ, launch numbers oldest first; numbers unique across AZs (one fleet's counter)."""
    sizes = draw(st.lists(st.integers(0, 30), min_size=1, max_size=len(AZS)))
    numbers = draw(st.permutations(range(sum(sizes))))
    out, at = {}, 0
    for az, size in zip(AZS, sizes, strict=False):
        out[az] = sorted(numbers[at:at + size])
        at += size
    return out


@given(stacks(), st.integers(0, 150))
def test_scale_in_picks_are_newest_of_the_largest_one_at_a_time(stacks, n):
    assert scale_in_picks(stacks, n) == scale_in_reference(stacks, n)


def test_hand_cases():
    assert launch_azs({"a": 2, "b": 0, "c": 1}, 4) == ["b", "b", "c", "a"]
    assert launch_azs({"a": 0, "b": 0}, 0) == []
    # b has the most (takes 5); a and b tie at 2, a holds the newest (4); b has the most (2);
    # a and b tie at 1, b holds the newest (1); then a's last
    assert scale_in_picks({"a": [0, 4], "b": [1, 2, 5]}, 5) == ["b", "a", "b", "b", "a"]
    assert scale_in_picks({"a": [], "b": []}, 3) == []
