"""Lifecycle throughput: instances/s launched, run and terminated by scheduled actions.

One fleet with no service attached (m5.large, boot time 30 s, the default gp3 root volume)
whose scheduled actions set the desired capacity to 10,000 and back to 0 every 10 minutes:
10 scale-outs and 10 scale-ins, 100,000 instances over one run of 200 simulated minutes.

Figure: what a user waits for, ``World.build`` + ``world.run()`` + ``world.tables()`` (the
recorder's instance_intervals, volume_intervals and scaling_activities turned into DataFrames),
in instances/s.  Baseline (the issue's): a bare SimPy loop doing the same lifecycle the way a
SimPy model is usually written, with no recording (per instance a process created at its
launch time, pending for the boot time, then running until a terminate interrupts it at its
scale-in time; the same action times and the same number of instances per action): four
events an instance.  Target: dcsim ≥ 0.5× the bare loop.  dcsim drives an instance as a state
machine (one boot timer; an end is a direct call at the fleet's event): one event an instance.
So that this design is not what the ratio credits, a second bare loop in the same design (a
state and a boot timer per instance, direct ends, no recording) is printed beside it: dcsim's
distance to it is the cost of its bookkeeping and records.

Both are timed the same way: best of 7 runs, each run alone in a fresh interpreter (wall
time, an untimed ``gc.collect()`` first), the two sides interleaved, under the same garbage
collector policy (World.run freezes the heap and raises the young-generation threshold; the
bare loop gets the same, or its figure would flatter the ratio; the bare loop under Python's
default collector is printed beside it for information).  Fresh processes matter
here: SimPy's cost depends on how many objects the garbage collector has to traverse, so a
bare loop run in the benchmark process, after dcsim's imports and runs, measures 1.5-2× slower
than the same loop in a process of its own, which would flatter the ratio.  The bare sides'
interpreters import simpy only (checked).  Each interpreter first does a tiny warm-up run
(10 instances), so that imports (pandas, numba, the sections' build steps) and one-time caches
are not timed: they are paid once per process, not per instance.  Peak memory: the peak RSS
(VmHWM, reset just before the run) minus the RSS before the run, of the same timed runs.
Run: ``python -m benchmarks lifecycle`` or ``python -m benchmarks.bench_lifecycle``;
``python -m benchmarks.bench_lifecycle --profile`` prints a cProfile of one dcsim run.
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

# simulator is imported inside the functions that run dcsim, so that the bare side's
# interpreter holds nothing but simpy.

ROOT = Path(__file__).resolve().parents[1]
PER_ACTION = 10_000  # instances launched by each scale-out, terminated by each scale-in
CYCLES = 10  # scale-out / scale-in pairs
PERIOD = 600.0  # s between scheduled actions
BOOT = 30.0  # s pending before running
REPEATS = 7
SEED = 1
TARGET = 0.5


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


def scenario(per_action: int = PER_ACTION, cycles: int = CYCLES):
    from simulator.scenario.loader import validate_scenario

    return validate_scenario(scenario_dict(per_action, cycles), "bench")


# ------------------------------------------------------------------------------ figure


def dcsim_once(sc, seed: int = SEED) -> tuple[dict, tuple[float, float, float], int]:
    """One dcsim run as a user waits for it: build, run to the horizon, tables.

    Returns the tables, the (build, run, tables) seconds and the events processed.
    """
    from simulator.engine.streams import Streams
    from simulator.engine.world import World

    t0 = time.perf_counter()
    world = World.build(sc, Streams(seed))
    t1 = time.perf_counter()
    world.run()
    t2 = time.perf_counter()
    tables = world.tables()
    t3 = time.perf_counter()
    return tables, (t1 - t0, t2 - t1, t3 - t2), world.events


# ------------------------------------------------------------------------------ baseline


class _CountingEnvironment(simpy.Environment):
    """Counts processed events (used only in an untimed check run of the baseline)."""

    events = 0

    def step(self) -> None:
        self.events += 1
        super().step()


class _TimedInstance:
    """An instance of the timer design: a state and the boot timer it waits for."""

    __slots__ = ("state", "timer")

    def __init__(self, env: simpy.Environment):
        self.state = "pending"
        self.timer = env.timeout(BOOT)
        self.timer.callbacks.append(self.booted)

    def booted(self, timer: simpy.Timeout) -> None:
        if timer is self.timer:
            self.timer, self.state = None, "running"

    def terminate(self) -> None:
        self.timer, self.state = None, "terminated"


def bare_timers(per_action: int = PER_ACTION, cycles: int = CYCLES,
                env_type: type = simpy.Environment) -> tuple[int, int, int]:
    """The same lifecycle in plain SimPy in dcsim's design, with no recording.

    Each instance is a state and a boot timer (one Timeout whose callback enters running); a
    terminate is a direct call at the action's time.  What dcsim adds to this is its
    bookkeeping and recording (ids, AZ placement, intervals, volumes, scaling activities).
    """
    env = env_type()
    return _drive(env, per_action, cycles, lambda: _TimedInstance(env), _TimedInstance.terminate)


def bare_lifecycle(per_action: int = PER_ACTION, cycles: int = CYCLES,
                   env_type: type = simpy.Environment) -> tuple[int, int, int]:
    """The same lifecycle in plain SimPy with no recording: (launched, terminated, events).

    Each instance is a process created at its launch time that waits its boot time (pending),
    enters running and waits until a terminate interrupts it; a driver process fires at the
    scheduled action times and launches or terminates (newest first) the difference between
    the desired and the active count.  `events` is counted only with _CountingEnvironment.
    """
    env = env_type()

    def instance():
        try:
            yield env.timeout(BOOT)  # pending
            yield env.event()  # running, until terminated
        except simpy.Interrupt:
            pass

    return _drive(env, per_action, cycles, lambda: env.process(instance()),
                  lambda process: process.interrupt("scaled_in"))


def _drive(env: simpy.Environment, per_action: int, cycles: int, launch, end
           ) -> tuple[int, int, int]:
    """Run both bare loops' driver: at every action time launch (launch()) or end (end(x),
    newest first) the difference between the desired and the active count; (launched,
    terminated, events), events counted only with _CountingEnvironment."""
    active: list = []
    done = [0, 0]

    def driver():
        for t, desired in actions(per_action, cycles):
            if t > env.now:
                yield env.timeout(t - env.now)
            gap = desired - len(active)
            if gap > 0:
                for _ in range(gap):
                    active.append(launch())
                done[0] += gap
            elif gap < 0:
                for _ in range(-gap):
                    end(active.pop())
                done[1] -= gap

    env.process(driver())
    env.run(until=horizon(cycles))
    events = env.events - 1 if isinstance(env, _CountingEnvironment) else 0  # not the stop event
    return done[0], done[1], events


# ------------------------------------------------------------------------------ fresh runs


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> tuple[int | None, str]:
    """Reset the peak-RSS watermark where Linux allows it; (RSS KiB before, how measured)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kib("VmRSS"), "peak RSS (VmHWM, reset before the run) minus RSS before"
    except OSError:
        return _status_kib("VmHWM"), "peak RSS (VmHWM) after minus before the run"


def _same_gc(run, threshold: int | None):
    """`run` under the collector policy of dcsim's World.run (simulator.engine.world's
    rare_collections, restated here since the bare side imports nothing of dcsim)."""
    if threshold is None:
        return run

    def wrapped():
        old = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(threshold, *old[1:])
        try:
            return run()
        finally:
            gc.freeze()
            gc.set_threshold(*old)
            gc.unfreeze()

    return wrapped


def _child(which: str, per_action: int, cycles: int, count_events: bool,
           gc_threshold: int | None = None) -> None:
    """In a fresh interpreter: one timed run of `which`, printed as JSON on the last line.

    For the bare loop, `gc_threshold` applies the collector policy World.run applies (None:
    Python's defaults), so both sides run under the same rules.
    """
    n = per_action * cycles
    out: dict = {}
    if which == "dcsim":
        sc = scenario(per_action, cycles)
        dcsim_once(scenario(10, 1))  # warm-up: imports (pandas, numba, sections) and caches
        result: list = []
        before, out["memory_method"] = _reset_peak_rss()
        out["seconds"] = best_of(lambda: result.append(dcsim_once(sc)), 1, setup=gc.collect)
        peak = _status_kib("VmHWM")
        tables, out["phases"], out["events"] = result[0]
        out["rows"] = {k: len(tables[k]) for k in ("instance_intervals", "volume_intervals",
                                                    "scaling_activities")}
        out["tables_bytes"] = sum(int(df.memory_usage(deep=True).sum()) for df in tables.values())
        ends = tables["instance_intervals"]["end_cause"]
        assert out["rows"]["instance_intervals"] == 2 * n, out["rows"]
        assert out["rows"]["volume_intervals"] == n, out["rows"]
        assert (ends == "scaled_in").sum() == n
    else:
        assert not any(m.split(".")[0] == "simulator" for m in sys.modules), "bare side imports"
        loop = bare_timers if which == "timers" else bare_lifecycle
        loop(10, 1)  # warm-up, as on the dcsim side
        result = []
        before, out["memory_method"] = _reset_peak_rss()
        timed = _same_gc(lambda: result.append(loop(per_action, cycles)), gc_threshold)
        out["seconds"] = best_of(timed, 1, setup=gc.collect)
        peak = _status_kib("VmHWM")
        launched, terminated, _ = result[0]
        assert launched == terminated == n, (launched, terminated)
        out["events"] = (loop(per_action, cycles, _CountingEnvironment)[2]
                         if count_events else None)
    out["rss_kib"] = peak - before if peak is not None and before is not None else None
    print(json.dumps(out))


def fresh_run(which: str, per_action: int = PER_ACTION, cycles: int = CYCLES,
              count_events: bool = False, gc_threshold: int | None = None) -> dict:
    """One run of `which` ("dcsim", "bare" or "timers") alone in a fresh interpreter."""
    code = (f"from benchmarks.bench_lifecycle import _child; "
            f"_child({which!r}, {per_action}, {cycles}, {count_events}, {gc_threshold})")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {which} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ main


def main(per_action: int = PER_ACTION, cycles: int = CYCLES, repeats: int = REPEATS) -> dict:
    """Print and return instances/s of dcsim and of the bare SimPy loop, measured now."""
    from simulator.gcpolicy import GC_THRESHOLD

    n = per_action * cycles
    bare_runs, dcsim_runs, default_runs, timer_runs = [], [], [], []
    for k in range(repeats):  # interleaved, so that a noisy spell hits every side
        bare_runs.append(fresh_run("bare", per_action, cycles, count_events=k == 0,
                                   gc_threshold=GC_THRESHOLD))
        dcsim_runs.append(fresh_run("dcsim", per_action, cycles))
        default_runs.append(fresh_run("bare", per_action, cycles))
        timer_runs.append(fresh_run("timers", per_action, cycles, count_events=k == 0,
                                    gc_threshold=GC_THRESHOLD))
    bare = min(bare_runs, key=lambda r: r["seconds"])
    default = min(default_runs, key=lambda r: r["seconds"])
    timers = min(timer_runs, key=lambda r: r["seconds"])
    ours = min(dcsim_runs, key=lambda r: r["seconds"])
    bare_rate, rate = n / bare["seconds"], n / ours["seconds"]
    ratio = rate / bare_rate
    build_s, run_s, tables_s = ours["phases"]
    rows = ours["rows"]
    print(f"one fleet (m5.large, boot {BOOT:g} s, gp3 root volume, no service); desired "
          f"{per_action:,} / 0 every {PERIOD / 60:g} min ({cycles} scale-outs, {cycles} "
          f"scale-ins): {n:,} instances launched, run and terminated")
    print(f"each side: best of {repeats} runs, each alone in a fresh interpreter, interleaved")
    print(f"  bare SimPy lifecycle, no recording (baseline): {bare_rate:9,.0f} instances/s "
          f"({bare['seconds']:5.2f} s, {bare_runs[0]['events']:,} events; the collector "
          f"policy of World.run)")
    print(f"      (the same loop under Python's default collector: "
          f"{n / default['seconds']:,.0f} instances/s)")
    print(f"  dcsim build + run + tables:                    {rate:9,.0f} instances/s "
          f"({ours['seconds']:5.2f} s, {ours['events']:,} events) = {ratio:4.2f}× baseline "
          f"(target ≥ {TARGET}){'' if ratio >= TARGET else '  BELOW TARGET'}")
    print(f"  bare SimPy in dcsim's design (a boot timer, direct ends), no recording: "
          f"{n / timers['seconds']:,.0f} instances/s ({timers['seconds']:.2f} s, "
          f"{timer_runs[0]['events']:,} events): dcsim = {timers['seconds'] / ours['seconds']:.2f}× "
          f"of it (the cost of its bookkeeping and records)")
    print(f"      of which build {build_s:.2f} s, run {run_s:.2f} s, tables {tables_s:.2f} s; "
          f"{rows['instance_intervals']:,} instance intervals, {rows['volume_intervals']:,} "
          f"volume intervals, {rows['scaling_activities']} scaling activities")
    print(f"      per instance: dcsim {ours['seconds'] / n * 1e6:.1f} µs, "
          f"bare SimPy {bare['seconds'] / n * 1e6:.1f} µs")
    peak = max((r["rss_kib"] for r in dcsim_runs if r["rss_kib"] is not None), default=None)
    bare_peak = max((r["rss_kib"] for r in bare_runs if r["rss_kib"] is not None), default=None)
    if peak is not None:
        print(f"  peak memory of a dcsim run: {peak / 1024:7.1f} MiB "
              f"({peak * 1024 / n:,.0f} bytes/instance; {ours['memory_method']}, fresh "
              f"interpreter, largest of {repeats}); the tables hold "
              f"{ours['tables_bytes'] / 2**20:.1f} MiB")
        print(f"      (bare SimPy loop, same measure: {bare_peak / 1024:.1f} MiB)")
    else:
        print("  peak memory: not measured (needs Linux /proc)")
    return {"dcsim": rate, "bare_simpy": bare_rate, "ratio": ratio,
            "bare_timers": n / timers["seconds"],
            "peak_rss_mib": peak / 1024 if peak is not None else None}


def rows(quick: bool = False) -> list:
    """The table's rows (the detail lines above are printed with ``--verbose`` only)."""
    from benchmarks.table import Row, quiet

    r = quiet(main, *((2_000, 4, 3) if quick else ()))
    return [Row("lifecycle", "instances launched, run, terminated (build + run + tables)",
                r["dcsim"], "instances/s", "bare SimPy lifecycle, no recording",
                r["bare_simpy"], min_ratio=TARGET),
            Row("lifecycle", "the same", r["dcsim"], "instances/s",
                "bare SimPy in dcsim's design (boot timer, direct ends)", r["bare_timers"])]


def profile(top: int = 25) -> None:
    """cProfile of one dcsim run (after a warm-up run), top `top` by cumulative and own time."""
    import cProfile
    import pstats

    sc = scenario()
    dcsim_once(sc)
    gc.collect()
    prof = cProfile.Profile()
    prof.enable()
    dcsim_once(sc)
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    profile() if "--profile" in sys.argv[1:] else main()
