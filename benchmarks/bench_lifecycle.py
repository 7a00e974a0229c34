"""Lifecycle throughput: instances/s launched, run and terminated by scheduled actions.

One fleet with no service attached (m5.large, boot time 30 s, the default gp3 root volume)
whose scheduled actions set the desired capacity to 10,000 and back to 0 every 10 minutes:
10 scale-outs and 10 scale-ins, 100,000 instances over one run of 200 simulated minutes.

Figure: what a user waits for, ``World.build`` + ``world.run()`` + ``world.tables()`` (the
recorder's instance_intervals, volume_intervals and scaling_activities turned into DataFrames),
in instances/s.  Baseline, measured in the same run and timed the same way (best of 3, an
untimed ``gc.collect()`` before every repeat of either): a bare SimPy loop doing the same
lifecycle with no recording (per instance a process created at its launch time, pending for
the boot time, then running until a terminate interrupts it at its scale-in time; the same
action times and the same number of instances per action).  Target: dcsim ≥ 0.5× the bare
loop.  Then the peak memory of one dcsim run, measured in a fresh subprocess so that the
repeats above do not pollute it: the process's peak RSS (VmHWM, reset just before the run)
minus its RSS before the run.
Run: ``python -m benchmarks lifecycle`` or ``python -m benchmarks.bench_lifecycle``.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import simpy

from benchmarks.timing import best_of
from simulator.engine.streams import Streams
from simulator.engine.world import CountingEnvironment, World
from simulator.scenario.loader import validate_scenario

ROOT = Path(__file__).resolve().parents[1]
PER_ACTION = 10_000  # instances launched by each scale-out, terminated by each scale-in
CYCLES = 10  # scale-out / scale-in pairs
PERIOD = 600.0  # s between scheduled actions
BOOT = 30.0  # s pending before running
REPEATS = 3
SEED = 1


def actions(per_action: int = PER_ACTION, cycles: int = CYCLES) -> list[tuple[float, int]]:
    """(time s, desired capacity) of every scheduled action: per_action, 0, per_action, ..."""
    return [(k * PERIOD, per_action if k % 2 == 0 else 0) for k in range(2 * cycles)]


def horizon(cycles: int = CYCLES) -> float:
    return 2 * cycles * PERIOD


def scenario_dict(per_action: int = PER_ACTION, cycles: int = CYCLES) -> dict:
    """The benchmark scenario: one fleet, no services, desired alternating per action."""
    return {
        "name": "bench-lifecycle",
        "horizon": horizon(cycles),
        "fleets": {
            "web": {
                "instance_type": "m5.large",
                "count": 0,
                "boot_time": BOOT,
                "scheduled_actions": [
                    {"name": f"a{k}", "at": t, "desired": d}
                    for k, (t, d) in enumerate(actions(per_action, cycles))
                ],
            }
        },
    }


# ------------------------------------------------------------------------------ figure


def dcsim_once(scenario, seed: int = SEED) -> tuple[dict, tuple[float, float, float], int]:
    """One dcsim run as a user waits for it: build, run to the horizon, tables."""
    t0 = time.perf_counter()
    world = World.build(scenario, Streams(seed))
    t1 = time.perf_counter()
    world.run()
    t2 = time.perf_counter()
    tables = world.tables()
    t3 = time.perf_counter()
    return tables, (t1 - t0, t2 - t1, t3 - t2), world.events


# ------------------------------------------------------------------------------ baseline


def bare_lifecycle(per_action: int = PER_ACTION, cycles: int = CYCLES,
                   env_type: type = simpy.Environment) -> tuple[int, int, int]:
    """The same lifecycle in plain SimPy with no recording: (launched, terminated, events).

    Each instance is a process created at its launch time that waits its boot time (pending),
    enters running and waits until a terminate interrupts it; a driver process fires at the
    scheduled action times and launches or terminates (newest first) the difference between
    the desired and the active count.  `events` is counted only with a CountingEnvironment.
    """
    env = env_type()
    active: list[simpy.Process] = []
    done = [0, 0]

    def instance():
        try:
            yield env.timeout(BOOT)  # pending
            yield env.event()  # running, until terminated
        except simpy.Interrupt:
            pass

    def driver():
        for t, desired in actions(per_action, cycles):
            if t > env.now:
                yield env.timeout(t - env.now)
            gap = desired - len(active)
            if gap > 0:
                for _ in range(gap):
                    active.append(env.process(instance()))
                done[0] += gap
            elif gap < 0:
                for _ in range(-gap):
                    active.pop().interrupt("scaled_in")
                done[1] -= gap

    env.process(driver())
    env.run(until=horizon(cycles))
    return done[0], done[1], getattr(env, "events", 0)


# ------------------------------------------------------------------------------ memory


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _memory_child(which: str) -> None:
    """In a fresh interpreter: peak RSS growth of one run of `which`, printed as JSON."""
    scenario = validate_scenario(scenario_dict(), "bench")
    gc.collect()
    try:  # reset the peak-RSS watermark (VmHWM) to the current RSS
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before, method = _status_kib("VmRSS"), "VmHWM reset before the run, minus RSS before"
    except OSError:
        before, method = _status_kib("VmHWM"), "VmHWM after minus VmHWM before the run"
    if which == "dcsim":
        tables, _, _ = dcsim_once(scenario)
        held = sum(int(df.memory_usage(deep=True).sum()) for df in tables.values())
    else:
        bare_lifecycle()
        held = 0
    peak = _status_kib("VmHWM")
    print(json.dumps({"delta_kib": peak - before, "tables_bytes": held, "method": method}))


def peak_memory(which: str) -> dict | None:
    """Run _memory_child(which) in a fresh subprocess (None where /proc is not available)."""
    if not Path("/proc/self/status").exists():
        return None
    code = f"from benchmarks.bench_lifecycle import _memory_child; _memory_child({which!r})"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ main


def main(per_action: int = PER_ACTION, cycles: int = CYCLES, repeats: int = REPEATS) -> dict:
    """Print and return instances/s of dcsim and of the bare SimPy loop, measured now."""
    n = per_action * cycles
    scenario = validate_scenario(scenario_dict(per_action, cycles), "bench")
    memory = peak_memory("dcsim") if (per_action, cycles) == (PER_ACTION, CYCLES) else None
    bare_memory = peak_memory("bare") if memory is not None else None

    # the work each side does, checked once, untimed
    launched, terminated, bare_events = bare_lifecycle(per_action, cycles, CountingEnvironment)
    assert launched == terminated == n, (launched, terminated)
    tables, _, events = dcsim_once(scenario)
    rows = {k: len(tables[k]) for k in ("instance_intervals", "volume_intervals",
                                         "scaling_activities")}
    assert rows["instance_intervals"] == 2 * n and rows["volume_intervals"] == n, rows
    assert (tables["instance_intervals"]["end_cause"] == "scaled_in").sum() == n
    del tables

    bare_s = best_of(lambda: bare_lifecycle(per_action, cycles), repeats, setup=gc.collect)
    phases: list[tuple[float, float, float]] = []
    dcsim_s = best_of(lambda: phases.append(dcsim_once(scenario)[1]), repeats, setup=gc.collect)
    build_s, run_s, tables_s = min(phases, key=sum)

    bare_rate, rate = n / bare_s, n / dcsim_s
    ratio = rate / bare_rate
    print(f"one fleet (m5.large, boot {BOOT:g} s, gp3 root volume, no service); desired "
          f"{per_action:,} / 0 every {PERIOD / 60:g} min ({cycles} scale-outs, {cycles} scale-ins): "
          f"{n:,} instances launched, run and terminated; best of {repeats}")
    print(f"  bare SimPy lifecycle, no recording (baseline): {bare_rate:9,.0f} instances/s "
          f"({bare_s:5.2f} s, {bare_events:,} events)")
    print(f"  dcsim build + run + tables:                    {rate:9,.0f} instances/s "
          f"({dcsim_s:5.2f} s, {events:,} events) = {ratio:4.2f}× baseline (target ≥ 0.5)"
          f"{'' if ratio >= 0.5 else '  BELOW TARGET'}")
    print(f"      of which build {build_s:.2f} s, run {run_s:.2f} s, tables {tables_s:.2f} s; "
          f"{rows['instance_intervals']:,} instance intervals, {rows['volume_intervals']:,} "
          f"volume intervals, {rows['scaling_activities']} scaling activities")
    print(f"      per instance: dcsim {dcsim_s / n * 1e6:.1f} µs, bare SimPy {bare_s / n * 1e6:.1f} µs")
    if memory is not None:
        print(f"  peak memory of one dcsim run: {memory['delta_kib'] / 1024:7.1f} MiB max RSS growth "
              f"({memory['delta_kib'] * 1024 / n:,.0f} bytes/instance; fresh subprocess, "
              f"{memory['method']}); the tables hold {memory['tables_bytes'] / 2**20:.1f} MiB")
        print(f"      (bare SimPy loop, same measure: {bare_memory['delta_kib'] / 1024:7.1f} MiB)")
    return {"dcsim": rate, "bare_simpy": bare_rate, "ratio": ratio,
            "peak_rss_mib": memory["delta_kib"] / 1024 if memory else None}


if __name__ == "__main__":
    main()
