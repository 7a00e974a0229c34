"""The instance state machine: one boot timer, ends at once, every interval recorded.

Hand-checked tiny cases: an instance booted at t=5 and ended at t=12 has exactly the
intervals pending [0, 5) and running [5, 12); one ended while pending never runs, and the
boot timer it no longer waits for changes nothing when it fires; a stopped instance restarts.
"""

from __future__ import annotations

import pytest
import simpy

from simulator.compute.catalog import load_catalog
from simulator.compute.instances import Instance, LaunchTemplate
from simulator.engine.recorder import Recorder
from simulator.engine.world import CountingEnvironment
from simulator.records import EndCause, InstanceInterval, VolumeInterval
from simulator.scenario.compute import Volume


def make(env: simpy.Environment, volume: Volume | None = Volume()):
    recorder = Recorder()
    recorder.declare(InstanceInterval)
    recorder.declare(VolumeInterval)
    template = LaunchTemplate.for_fleet(recorder, "web", load_catalog().get("m5.large"),
                                        "on_demand", "linux", volume)
    return Instance(env, template, 0, 0, "us-east-1a"), recorder


def intervals(recorder: Recorder) -> list[tuple[str, float, float, str]]:
    frame = recorder.tables()["instance_intervals"]
    return list(zip(frame["state"], frame["start_s"], frame["end_s"], frame["end_cause"],
                    strict=True))


def at(env: simpy.Environment, t: float, action) -> None:
    def proc():
        yield env.timeout(t - env.now)
        action()
    env.process(proc())


def test_boot_then_terminate_by_hand():
    env = simpy.Environment()
    inst, rec = make(env)
    inst.start(5.0)
    at(env, 12.0, lambda: inst.stop(EndCause.SCALED_IN, terminate=True))
    env.run(until=20.0)
    assert intervals(rec) == [("pending", 0.0, 5.0, "booted"),
                              ("running", 5.0, 12.0, "scaled_in")]
    assert inst.state == "terminated"
    volumes = rec.tables()["volume_intervals"]
    assert (volumes["start_s"].tolist(), volumes["end_s"].tolist()) == ([0.0], [12.0])


def test_ended_while_pending_never_runs_and_its_boot_timer_is_ignored():
    env = simpy.Environment()
    inst, rec = make(env)
    seen = []
    inst.listeners = (lambda i, old, new: seen.append((env.now, old, new)),)
    inst.start(30.0)
    at(env, 10.0, lambda: inst.stop(EndCause.SCALED_IN, terminate=True))
    env.run(until=100.0)  # the timer fires at 30 s and must change nothing
    assert intervals(rec) == [("pending", 0.0, 10.0, "scaled_in")]
    assert seen == [(0.0, "none", "pending"), (10.0, "pending", "terminated")]


def test_a_stopped_instance_restarts_and_the_old_timer_does_not_boot_it_early():
    env = simpy.Environment()
    inst, rec = make(env, volume=None)
    inst.start(10.0)
    at(env, 4.0, lambda: inst.stop(EndCause.SCHEDULED_STOP))
    at(env, 6.0, lambda: inst.start(10.0))  # the first timer (due at 10) is stale
    env.run(until=30.0)
    inst.close()
    assert intervals(rec) == [("pending", 0.0, 4.0, "scheduled_stop"),
                              ("stopped", 4.0, 6.0, "started"),
                              ("pending", 6.0, 16.0, "booted"),
                              ("running", 16.0, 30.0, "end_of_run")]


def test_zero_boot_time_runs_at_once_with_no_event():
    env = CountingEnvironment()
    inst, rec = make(env)
    inst.start(0.0)
    assert inst.state == "running"
    env.run(until=5.0)
    assert env.events == 0


def test_a_lifecycle_costs_one_event():
    env = CountingEnvironment()
    insts = [make(env)[0] for _ in range(10)]
    for inst in insts:
        inst.start(3.0)
    env.run(until=10.0)
    assert env.events == 10
    for inst in insts:
        inst.stop(EndCause.SCALED_IN, terminate=True)
    assert {i.state for i in insts} == {"terminated"}


def test_ending_twice_or_before_start_changes_nothing():
    env = simpy.Environment()
    inst, rec = make(env)
    inst.stop(EndCause.SCALED_IN, terminate=True)  # not started: nothing to end
    assert inst.state == "none"
    inst.start(1.0)
    env.run(until=2.0)
    inst.stop(EndCause.SCALED_IN, terminate=True)
    inst.stop(EndCause.SCALED_IN, terminate=True)
    assert len(intervals(rec)) == 2


def test_an_end_needs_a_typed_cause():
    env = simpy.Environment()
    inst, _ = make(env)
    inst.start(1.0)
    with pytest.raises(TypeError, match="EndCause"):
        inst.stop("scaled_in")  # type: ignore[arg-type]


def test_starting_a_live_instance_is_a_bug():
    env = simpy.Environment()
    inst, _ = make(env)
    inst.start(1.0)
    with pytest.raises(RuntimeError, match="cannot start"):
        inst.start(1.0)
