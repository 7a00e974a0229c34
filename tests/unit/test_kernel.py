"""Request data plane kernel: hand-computed cases, a reference model, splitting invariance."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.compute.kernel import (
    LEAST_OUTSTANDING,
    POLICIES,
    RANDOM,
    ROUND_ROBIN,
    QueueState,
    fcfs_multiserver_bare,
    serve,
)

ALL = [RANDOM, ROUND_ROBIN, LEAST_OUTSTANDING]


def arr(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float64)


class Reference:
    """Plain-Python pool of the documented semantics (outstanding counted from history)."""

    def __init__(self, cpus, ready_at=0.0):
        self.free = [[ready_at] * c for c in cpus]
        self.history: list[list[float]] = [[] for _ in cpus]
        self.rr = 0

    def add(self, cpus, ready_at=0.0):
        self.free.append([ready_at] * cpus)
        self.history.append([])

    def remove(self, index):
        """The last instance takes the removed one's place; the pointer keeps its instance."""
        last = len(self.free) - 1
        self.free[index], self.history[index] = self.free[last], self.history[last]
        del self.free[last], self.history[last]
        self.rr = index if self.rr == last else self.rr
        self.rr = 0 if self.rr >= last else self.rr

    def in_system(self, t):
        return [sum(d > t for d in h) for h in self.history]

    def serve(self, arrivals, service, route_u, policy):
        free, history, n_inst = self.free, self.history, len(self.free)
        out = []
        for k, t in enumerate(arrivals):
            if policy == RANDOM:
                i = min(int(route_u[k] * n_inst), n_inst - 1)
            elif policy == ROUND_ROBIN:
                i = self.rr
            else:
                outstanding = self.in_system(t)
                order = [(self.rr + s) % n_inst for s in range(n_inst)]
                i = min(order, key=lambda j: (outstanding[j], order.index(j)))
            srv = min(range(len(free[i])), key=lambda s: (free[i][s], s))
            start = max(t, free[i][srv])
            done = start + service[k]
            free[i][srv] = done
            history[i].append(done)
            if policy != RANDOM:
                self.rr = (i + 1) % n_inst
            out.append((i, start, done))
        return out


def reference(cpus, arrivals, service, route_u, policy):
    return Reference(cpus).serve(arrivals, service, route_u, policy)


def assert_matches(result, ref):
    np.testing.assert_array_equal(result.instance, [x[0] for x in ref])
    np.testing.assert_array_equal(result.start, [x[1] for x in ref])
    np.testing.assert_array_equal(result.done, [x[2] for x in ref])


def test_policy_names_map_to_constants():
    assert POLICIES == {"random": 0, "round_robin": 1, "least_outstanding": 2,
                        "power_of_two_choices": 3, "weighted_random": 4}


@pytest.mark.parametrize("policy", ALL)
def test_one_instance_two_servers_by_hand(policy):
    state = QueueState.empty([2])
    r = serve(state, arr(0, 0, 0.5, 1, 1), arr(1, 2, 1, 1, 1), arr(0.1, 0.5, 0.9, 0.3, 0.7),
              policy)
    # servers free [0,0] -> r0 s0 [0,1]; r1 s1 [0,2]; r2 waits for s0 at 1 -> done 2;
    # r3 at 1: both free at 2, lowest index s0 -> [2,3]; r4: s1 at 2 -> [2,3]
    np.testing.assert_array_equal(r.instance, [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(r.start, arr(0, 0, 1, 2, 2))
    np.testing.assert_array_equal(r.done, arr(1, 2, 2, 3, 3))
    assert r.instance.dtype == np.int32
    np.testing.assert_array_equal(state.in_system(1.0), [4])  # done == t has left
    np.testing.assert_array_equal(state.in_system(2.5), [2])
    np.testing.assert_array_equal(state.in_system(3.0), [0])


def test_round_robin_three_instances_by_hand():
    state = QueueState.empty([1, 1, 1])
    r = serve(state, arr(0, 1, 2, 3, 4, 5, 6), np.full(7, 10.0), None, ROUND_ROBIN)
    np.testing.assert_array_equal(r.instance, [0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(r.start, arr(0, 1, 2, 10, 11, 12, 20))
    np.testing.assert_array_equal(r.done, arr(10, 11, 12, 20, 21, 22, 30))
    assert state.rr[0] == 1
    np.testing.assert_array_equal(state.in_system(6.0), [3, 2, 2])


def test_random_uses_floor_of_u_times_n():
    state = QueueState.empty([1, 1, 1])
    r = serve(state, arr(0, 0, 0, 0), arr(1, 1, 1, 1), arr(0.0, 0.5, 0.999, 0.34), RANDOM)
    np.testing.assert_array_equal(r.instance, [0, 1, 2, 1])
    np.testing.assert_array_equal(r.start, arr(0, 0, 0, 1))
    assert state.rr[0] == 0  # random routing leaves the pointer alone


def test_least_outstanding_ties_go_round_robin():
    state = QueueState.empty([1, 1, 1])
    r = serve(state, arr(0, 0, 0, 1, 1), np.full(5, 10.0), None, LEAST_OUTSTANDING)
    # all empty: tie -> pointer 0, then 1, then 2; then all hold 1 -> pointer wrapped to 0, 1
    np.testing.assert_array_equal(r.instance, [0, 1, 2, 0, 1])
    np.testing.assert_array_equal(r.start, arr(0, 0, 0, 10, 10))
    assert state.rr[0] == 2


def test_least_outstanding_prefers_emptier_instance():
    state = QueueState.empty([1, 1, 1])
    # r0 long on inst 0; r1, r2 short on 1 and 2 (finish at 1); r3 at t=1 (exact completion
    # time: those requests have left) -> counts [1,0,0], pointer at 0 -> scan 0,1 -> inst 1.
    # r4 at 1.5: counts [1,1,0] -> inst 2; r5 at 1.5: [1,1,1], pointer 0 -> inst 0 (queues
    # behind the long job). Round robin would have sent r3 to the busy instance 0.
    a = arr(0, 0, 0, 1, 1.5, 1.5)
    s = arr(100, 1, 1, 5, 5, 1)
    r = serve(state, a, s, None, LEAST_OUTSTANDING)
    np.testing.assert_array_equal(r.instance, [0, 1, 2, 1, 2, 0])
    np.testing.assert_array_equal(r.start, arr(0, 0, 0, 1, 1.5, 100))
    # now inst 1 and 2 busy until 6 and 6.5; inst 0 until 101: at t=6.2 -> counts [2,0,1]
    r2 = serve(state, arr(6.2), arr(1), None, LEAST_OUTSTANDING)
    assert r2.instance[0] == 1


def test_least_outstanding_skips_pointer_when_it_is_fuller():
    state = QueueState.empty([1, 1, 1])
    r = serve(state, arr(0, 0, 0), arr(50, 50, 1), None, LEAST_OUTSTANDING)
    np.testing.assert_array_equal(r.instance, [0, 1, 2])
    assert state.rr[0] == 0
    # at t=2 counts are [1, 1, 0]: the pointer (0) is passed over for the empty instance 2
    r = serve(state, arr(2), arr(1), None, LEAST_OUTSTANDING)
    assert r.instance[0] == 2 and state.rr[0] == 0


@pytest.mark.parametrize("policy", ALL)
def test_matches_plain_python_reference(policy):
    rng = np.random.default_rng(7)
    cpus = [1, 3, 2, 4]
    n = 400
    a = np.sort(rng.uniform(0, 60, n)).round(1)  # rounding creates exact ties
    s = rng.exponential(1.5, n).round(1)
    u = rng.random(n)
    r = serve(QueueState.empty(cpus, heap_capacity=1), a, s, u, policy)
    assert_matches(r, reference(cpus, a, s, u, policy))


@pytest.mark.parametrize("policy", ALL)
def test_splitting_into_chunks_is_bit_identical(policy):
    rng = np.random.default_rng(2024)
    cpus = [1, 2, 4, 4, 3]
    n = 20_000
    a = np.cumsum(rng.exponential(1 / (0.9 * sum(cpus) / 0.5), n))
    s = rng.exponential(0.5, n)
    u = rng.random(n)
    whole_state = QueueState.empty(cpus)
    whole = serve(whole_state, a, s, u, policy)
    cuts = np.sort(rng.integers(0, n + 1, 99))  # 100 chunks, some empty
    bounds = np.concatenate([[0], cuts, [n]])
    state = QueueState.empty(cpus, heap_capacity=2)
    parts = [serve(state, a[lo:hi], s[lo:hi], u[lo:hi], policy)
             for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    for name in ("instance", "start", "done"):
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_array_equal(joined, getattr(whole, name))
    assert state.wait_start.size > 2 * len(cpus)  # growth of the wait buffer exercised
    np.testing.assert_array_equal(state.free, whole_state.free)
    assert state.rr[0] == whole_state.rr[0]
    for t in (a[-1], a[-1] + 1.0, a[-1] + 100.0):  # in_system is exact from now on
        expected = np.bincount(whole.instance[whole.done > t], minlength=len(cpus))
        np.testing.assert_array_equal(state.in_system(t), expected)
        np.testing.assert_array_equal(whole_state.in_system(t), expected)


@pytest.mark.parametrize("c", [1, 3, 4])
def test_single_instance_equals_bare_baseline(c):
    rng = np.random.default_rng(c)
    a = np.cumsum(rng.exponential(1.0, 5000))
    s = rng.exponential(0.9 * c, 5000)
    r = serve(QueueState.empty([c]), a, s, None, ROUND_ROBIN)
    np.testing.assert_array_equal(r.done, fcfs_multiserver_bare(a, s, c))


def test_bare_single_server_matches_lindley():
    rng = np.random.default_rng(3)
    a = np.cumsum(rng.exponential(1.0, 10_000))
    s = rng.exponential(0.8, 10_000)
    done = fcfs_multiserver_bare(a, s, 1)
    # Lindley: W_n = X_n - min_{k<=n} X_k, X running sum of S_{k-1} - (A_k - A_{k-1}), X_0 = 0
    x = np.concatenate([[0.0], np.cumsum(s[:-1] - np.diff(a))])
    wait = x - np.minimum.accumulate(np.minimum(x, 0.0))
    np.testing.assert_allclose(done - a - s, wait, atol=1e-9)


def test_add_and_remove_instances_keep_state():
    state = QueueState.empty([1, 1])
    serve(state, arr(0, 0), arr(10, 20), None, ROUND_ROBIN)
    j = state.add_instance(4, ready_at=5.0)
    assert j == 2 and state.free.shape == (3, 4)
    assert np.isinf(state.free[0, 1:]).all() and (state.free[2] == 5.0).all()
    r = serve(state, arr(6, 6, 6), arr(1, 1, 1), None, ROUND_ROBIN)
    np.testing.assert_array_equal(r.instance, [0, 1, 2])
    np.testing.assert_array_equal(r.start, arr(10, 20, 6))
    np.testing.assert_array_equal(state.in_system(6.5), [2, 2, 1])
    state.remove_instance(0)  # the last row (4 vCPUs) moves to row 0, where the pointer is
    assert state.n_instances == 2 and state.rr[0] == 0
    np.testing.assert_array_equal(state.cpus, [4, 1])
    np.testing.assert_array_equal(state.in_system(6.5), [1, 2])
    r = serve(state, arr(7), arr(1), None, ROUND_ROBIN)
    assert r.instance[0] == 0 and r.start[0] == 7.0
    assert state.add_instance(2) == 2 and state.free.shape == (3, 4)  # the freed row is reused
    state.remove_instance(2)
    state.remove_instance(0)
    state.remove_instance(0)
    with pytest.raises(ValueError, match="no instance"):
        serve(state, arr(8), arr(1), None, ROUND_ROBIN)


def test_remove_keeps_the_pointer_on_its_instance():
    state = QueueState.empty([1, 2, 3])
    state.rr[0] = 2
    state.remove_instance(0)
    assert state.rr[0] == 0 and state.cpus[0] == 3  # still the same instance (moved to row 0)
    state.remove_instance(0)
    assert state.rr[0] == 0 and state.cpus[0] == 2  # the removed one's row: its new occupant
    state.add_instance(1)
    state.rr[0] = 1
    state.remove_instance(1)
    assert state.rr[0] == 0  # removed the pointed-at last row: wrap


def test_input_errors():
    state = QueueState.empty([1])
    with pytest.raises(ValueError, match="sorted"):
        serve(state, arr(1, 0), arr(1, 1), None, ROUND_ROBIN)
    with pytest.raises(ValueError, match="equal length"):
        serve(state, arr(0, 1), arr(1), None, ROUND_ROBIN)
    with pytest.raises(ValueError, match="route_u"):
        serve(state, arr(0), arr(1), None, RANDOM)
    for bad in (-1.0, np.nan):
        with pytest.raises(ValueError, match="non-negative"):
            serve(state, arr(0, 1), arr(1, bad), None, ROUND_ROBIN)
    with pytest.raises(ValueError, match="policy"):
        serve(state, arr(0), arr(1), None, 7)
    with pytest.raises(ValueError, match="vCPU"):
        QueueState.empty([2, 0])
    with pytest.raises(ValueError, match="no instance"):
        serve(QueueState.empty([]), arr(), arr(), None, ROUND_ROBIN)


def test_empty_batch_is_a_no_op():
    state = QueueState.empty([2, 2])
    r = serve(state, arr(), arr(), arr(), RANDOM)
    assert r.instance.size == r.start.size == r.done.size == 0


@pytest.mark.parametrize("policy", ALL)
def test_overload_grows_heaps_without_losing_requests(policy):
    rng = np.random.default_rng(99)
    n = 200_000
    a = np.cumsum(rng.exponential(1.0, n))
    s = rng.exponential(4.5, n)  # 3 vCPUs in the pool, offered load 4.5: rho = 1.5
    state = QueueState.empty([1, 2], heap_capacity=1)
    r = serve(state, a, s, rng.random(n), policy)
    t = a[-1]
    expected = np.bincount(r.instance[r.done > t], minlength=2)
    assert expected.sum() > 10_000  # a long backlog built up
    np.testing.assert_array_equal(state.in_system(t), expected)
    assert state.wait_n[0] >= expected.sum() - 3  # all waiting requests kept (3 vCPUs busy)
    assert state.wait_start.size >= state.wait_n[0]


def test_engine_pattern_empty_pool_then_instances_join():
    state = QueueState.empty([])
    assert state.n_instances == 0 and state.in_system(0.0).size == 0
    assert state.add_instance(2, ready_at=3.0) == 0
    assert state.add_instance(1, ready_at=4.0) == 1
    r = serve(state, arr(4, 4, 4), arr(1, 1, 1), None, LEAST_OUTSTANDING)
    np.testing.assert_array_equal(r.instance, [0, 1, 0])
    np.testing.assert_array_equal(state.in_system(4.5), [2, 1])
    copy = state.copy()
    serve(copy, arr(5), arr(1), None, ROUND_ROBIN)
    np.testing.assert_array_equal(state.in_system(4.5), [2, 1])  # original untouched


@pytest.mark.parametrize("policy", [*ALL, -1])  # -1: a random policy per batch
@pytest.mark.parametrize("seed", range(4))
def test_random_add_remove_and_batches_match_reference(policy, seed):
    """Instances join (some not ready yet, up to 9 vCPUs, past 16 instances) and leave between
    batches; the wait buffer starts at one slot per instance so it grows."""
    rng = np.random.default_rng(seed)
    cpus = rng.integers(1, 10, 3).tolist()
    state, ref, t = QueueState.empty(cpus, heap_capacity=1), Reference(cpus), 0.0
    for _ in range(40):
        op = rng.random()
        if op < 0.25 or state.n_instances == 0:
            c, ready = int(rng.integers(1, 10)), t + float(rng.choice([0.0, rng.uniform(0, 3)]))
            assert state.add_instance(c, ready) == len(ref.free)
            ref.add(c, ready)
        elif op < 0.4:
            index = int(rng.integers(0, state.n_instances))
            state.remove_instance(index)
            ref.remove(index)
            assert state.rr[0] == ref.rr
        else:
            n = int(rng.integers(0, 200))
            lam = rng.uniform(0.5, 1.5) * sum(len(f) for f in ref.free)
            a = t + np.cumsum(rng.exponential(1 / lam, n).round(2))  # rounding makes ties
            s = rng.exponential(1.0, n).round(1)  # and zero service times
            u = rng.random(n)
            p = int(rng.integers(0, 3)) if policy == -1 else policy
            assert_matches(serve(state, a, s, u, p), ref.serve(a, s, u, p))
            t = float(a[-1]) if n else t
            for dt in (0.0, 0.3, 5.0):
                np.testing.assert_array_equal(state.in_system(t + dt), ref.in_system(t + dt))


def test_remove_under_least_outstanding_drops_its_waiting_requests():
    state = QueueState.empty([1, 1, 1], heap_capacity=1)
    serve(state, arr(0, 0, 0), arr(10, 1, 1), None, LEAST_OUTSTANDING)
    r = serve(state, arr(0.5, 0.5), arr(1, 1), None, LEAST_OUTSTANDING)
    np.testing.assert_array_equal(r.instance, [0, 1])  # both wait: until 10 and until 1
    np.testing.assert_array_equal(state.waiting, [1, 1, 0])
    state.remove_instance(0)  # its waiting request (start 10) is forgotten; row 2 moves to 0
    assert state.wait_n[0] == 1 and state.wait_inst[0] == 1 and state.wait_start[0] == 1.0
    np.testing.assert_array_equal(state.waiting, [0, 1])
    np.testing.assert_array_equal(state.in_system(0.6), [1, 2])
    # the pointer (at old row 2) follows it to row 0 -> counts [1, 2]: row 0; [2, 2]: row 1;
    # at 1.5 the first request of row 0 has left -> [1, 2]: row 0
    assert state.rr[0] == 0
    r = serve(state, arr(0.6, 0.6, 1.5), arr(1, 1, 1), None, LEAST_OUTSTANDING)
    np.testing.assert_array_equal(r.instance, [0, 1, 0])
    np.testing.assert_array_equal(r.start, arr(1, 2, 2))
    np.testing.assert_array_equal(state.in_system(1.5), [2, 2])


def test_least_outstanding_counts_only_waiting_requests_before_ready():
    state = QueueState.empty([2])
    state.add_instance(2, ready_at=5.0)  # not ready: its requests wait, none is in service
    r = serve(state, arr(1, 1, 1, 1), arr(10, 10, 10, 10), None, LEAST_OUTSTANDING)
    np.testing.assert_array_equal(r.instance, [0, 1, 0, 1])
    np.testing.assert_array_equal(r.start, arr(1, 5, 1, 5))
    np.testing.assert_array_equal(state.in_system(1.0), [2, 2])
    np.testing.assert_array_equal(state.in_system(6.0), [2, 2])


def test_least_outstanding_many_large_instances_match_reference():
    """Several 4-row blocks (idle servers below row 4) and two 16-column tiles."""
    rng = np.random.default_rng(11)
    cpus = rng.integers(1, 13, 20).tolist()
    n = 1200
    a = np.cumsum(rng.exponential(1 / (0.9 * sum(cpus)), n)).round(3)
    s = rng.exponential(1.0, n).round(2)
    state, ref = QueueState.empty(cpus, heap_capacity=1), Reference(cpus)
    for lo, hi in ((0, 500), (500, 501), (501, n)):
        assert_matches(serve(state, a[lo:hi], s[lo:hi], None, LEAST_OUTSTANDING),
                       ref.serve(a[lo:hi], s[lo:hi], None, LEAST_OUTSTANDING))
    np.testing.assert_array_equal(state.in_system(a[-1]), ref.in_system(a[-1]))


@pytest.mark.parametrize("seed", range(6))
def test_bulk_joins_and_leaves_equal_one_at_a_time(seed):
    """add_instances / remove_instances (what a target group applies for the joins and leaves
    of one instant) leave exactly the state of add_instance / remove_instance in turn: rows,
    pointer and wait buffer, and the same decisions after."""
    rng = np.random.default_rng(seed)
    bulk = QueueState.empty(rng.integers(1, 5, 6).tolist(), heap_capacity=1)
    one = bulk.copy()
    t = 0.0
    for _ in range(30):
        n = int(rng.integers(0, 300))
        a = t + np.cumsum(rng.exponential(0.05, n)).round(2)
        s, u = rng.exponential(1.0, n).round(1), rng.random(n)
        p = int(rng.integers(0, 3))
        got, want = serve(bulk, a, s, u, p), serve(one, a, s, u, p)
        for field in ("instance", "start", "done"):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
        t = float(a[-1]) if n else t
        if rng.random() < 0.5 and bulk.n_instances > 1:
            k = int(rng.integers(1, bulk.n_instances))
            rows = [int(rng.integers(0, bulk.n_instances - j)) for j in range(k)]
            bulk.remove_instances(np.array(rows))
            for row in rows:
                one.remove_instance(row)
        else:
            cpus = rng.integers(1, 9, int(rng.integers(1, 5)))
            ready = t + float(rng.choice([0.0, 2.0]))
            assert bulk.add_instances(cpus, ready) == one.n_instances
            for c in cpus:
                one.add_instance(int(c), ready)
        for name in ("free", "cpus", "ready", "waiting", "rr"):
            np.testing.assert_array_equal(getattr(bulk, name), getattr(one, name), err_msg=name)
        m = int(one.wait_n[0])
        assert bulk.wait_n[0] == m
        np.testing.assert_array_equal(bulk.wait_start[:m], one.wait_start[:m])
        np.testing.assert_array_equal(bulk.wait_inst[:m], one.wait_inst[:m])


def test_bulk_changes_check_their_rows():
    state = QueueState.empty([2, 2])
    with pytest.raises(IndexError, match="out of range for a pool of 1"):
        state.remove_instances(np.array([0, 1]))  # the second row is gone after the first
    with pytest.raises(ValueError, match="at least 1 vCPU"):
        state.add_instances(np.array([2, 0]))
    assert state.add_instances(np.array([], np.int64)) == 2
