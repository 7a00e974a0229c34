"""Preflight: how much work a scenario is, before it runs, and whether this machine can do it.

``estimate(scenario)`` counts what a run will do from the validated scenario alone (requests
from each service's mean arrival rate, instance launches and terminations by replaying the
fleets' run windows and scheduled actions with the pure ``compute.scaling`` decisions,
health checks, observation ticks, rows per table) and turns the counts into a peak memory
and a wall time with per-unit costs measured on this machine kind.  ``check`` refuses a run
that would not fit in memory or finish in an hour; ``estimate_many`` and ``check(...,
limit_s=SWEEP_LIMIT_S)`` do the same for a sweep grid.  Pure: no SimPy, nothing runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from simulator.compute.scaling import Capacity, apply_action, schedule
from simulator.compute.workload import BLOCK_REQUESTS, GRID_S, expected_arrivals, peak_rate
from simulator.distributions import build as build_distribution
from simulator.errors import Problem
from simulator.scenario.schema import Scenario

# Per-unit costs, measured 2026-06 on a 2-core x86_64 Python 3.11 sandbox (numpy, numba,
# simpy as pinned by the project) by ``python -m benchmarks.bench_preflight --calibrate``:
# every figure is the difference between two runs, each alone in a fresh interpreter after a
# warm-up, that differ in one thing only (see benchmarks/bench_preflight.py).
FIXED_S = 0.054
"""Wall time of a run with next to nothing in it (build, tables, billing, summary)."""
BASE_BYTES = 261_000_000
"""Resident memory of a process that has imported dcsim and run once (numba, pandas, ...)."""
S_PER_REQUEST = 1.1e-7
"""Drawing, routing, serving and accounting one request (sketch and exact cost the same).
Since the next block is drawn on a second thread while one is routed, --calibrate gives
7.0e-8 on a quiet 2-core machine (2026-12); with no core to spare (a sweep with a job per
core) drawing and routing take turns again (1.0-1.5e-7), and a busy machine of this kind
has given up to 2.6e-7: this is their middle, so each stays within 2x."""
S_PER_REQUEST_LOR_COLUMN = 6e-9
"""least_outstanding scans every target up to SCAN_MAX of them: extra per request and per 16
targets in service."""
SCAN_MAX = 32
"""simulator.compute.kernel.SCAN_MAX, repeated so that estimating a run does not import numba
(tests/unit/test_preflight.py checks that the two agree)."""
S_PER_REQUEST_INDEX = 5e-8
"""least_outstanding above SCAN_MAX targets, and power_of_two_choices, route through an index:
extra per request, about constant in the pool's size (bench_kernel, 2026-12: 14 and 11 M
requests/s at 1,000 and 10,000 targets against 28 M/s for the scan at 8)."""
S_PER_KEPT_REQUEST = 3.2e-7
"""Extra per request when every request is recorded (output.requests)."""
BYTES_PER_KEPT_REQUEST = 192.0
"""Peak bytes per recorded request row (batches, the concatenated and sorted table)."""
BYTES_PER_WINDOW_REQUEST = 113.0
"""Peak bytes per request of one data-plane window (its drawn blocks, routed arrays)."""
BYTES_PER_EXACT_LATENCY = 12.0
"""Exact latencies: 8 bytes each in a buffer that doubles (1.5x its capacity while growing)."""
S_PER_INSTANCE = 2.0e-5
"""Launching, booting, running and ending one instance, its interval rows included (with a
service attached; 2026-12, after instances became state machines with a boot timer)."""
BYTES_PER_INSTANCE = 3_700.0
"""Peak bytes per instance launched (the Instance, its interval rows, their tables)."""
S_PER_TICK = 3e-5
"""Closing one observation interval of one fleet's target group (rows, p99, transfer):
1.75e-5 by --calibrate (2026-12), 2-3e-5 in bench_engine's interval figure."""
S_PER_BACKLOG_COPY = 7.1e-8
"""An overloaded fleet's queued requests are copied at every data-plane window: per request
and window."""
BYTES_PER_BACKLOG_REQUEST = 132.0
"""Peak bytes per request still queued (in flight) at the end of an overloaded run."""

TIME_LIMIT_S = 3600.0
"""A single run estimated to take longer than this is refused unless forced."""
SWEEP_LIMIT_S = 86_400.0
"""A sweep grid estimated to take longer than this is refused unless forced."""
MEMORY_FRACTION = 0.8
"""A run estimated to need more than this fraction of the machine's RAM is refused."""


@dataclass(frozen=True)
class Estimate:
    """The estimated work of a run (or of a whole sweep grid, summed)."""

    requests: float
    launches: int
    terminations: int
    control_events: int
    rows: dict[str, float] = field(default_factory=dict)
    peak_bytes: float = BASE_BYTES
    seconds: float = FIXED_S
    runs: int = 1

    def describe(self) -> str:
        """A few lines for `dcsim validate`: requests, control events, rows, memory, time."""
        big = {k: v for k, v in sorted(self.rows.items()) if v}
        rows = ", ".join(f"{k} {_count(v)}" for k, v in big.items()) or "none"
        head = f"estimate ({self.runs} runs)" if self.runs > 1 else "estimate"
        return "\n".join([
            f"{head}: {_count(self.requests)} requests, {_count(self.control_events)} control "
            f"events ({_count(self.launches)} launches, {_count(self.terminations)} "
            "terminations or stops)",
            f"  rows: {rows}",
            f"  peak memory ~{_bytes(self.peak_bytes)}"
            + (" (per run)" if self.runs > 1 else "") + f", wall time ~{_seconds(self.seconds)}",
        ])


def _count(x: float) -> str:
    return f"{x:,.0f}" if x < 1e7 else f"{x:.3g}"


def _bytes(b: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b / 1024:.0f} KiB"


def _seconds(s: float) -> str:
    if s >= 86_400:
        return f"{s / 86_400:.1f} d"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"


# ------------------------------------------------------------------------------ fleets


@dataclass
class _FleetWork:
    launches: int = 0
    ends: int = 0  # terminations and stops before the horizon
    starts: int = 0  # every start (launch or restart)
    activities: int = 0
    instance_rows: int = 0
    registrations: int = 0  # times an instance entered running
    deregistrations: int = 0
    peak: int = 0  # most instances at once
    instance_s: float = 0.0  # instance-seconds running


def _mean(spec) -> float:
    return float(spec) if isinstance(spec, int | float) else float(build_distribution(spec).mean)


def _actions_work(spec, start, horizon: float, boot: float) -> _FleetWork:
    """Replay initial capacity and scheduled actions: launches and scale-ins, newest first."""
    w = _FleetWork(activities=1, launches=spec.count, starts=spec.count)
    alive = [0.0] * spec.count  # launch times, oldest first
    cap = Capacity(spec.count, spec.min_size, spec.max_size)
    w.peak = spec.count

    def end(t0: float, t1: float) -> None:
        running = t1 - t0 - boot
        w.instance_rows += 2 if running > 0 else 1
        if running > 0:
            w.registrations += 1
            w.instance_s += running

    try:
        firings = schedule(spec.scheduled_actions, start, horizon)
    except ValueError:
        firings = []  # the run refuses them too
    for t, i in firings:
        w.activities += 1
        try:
            cap = apply_action(cap, spec.scheduled_actions[i])
        except ValueError:
            continue
        gap = cap.desired - len(alive)
        if gap > 0:
            alive += [t] * gap
            w.launches += gap
            w.starts += gap
        for _ in range(-gap):
            t0 = alive.pop()
            end(t0, t)
            w.ends += 1
            w.deregistrations += t - t0 > boot
        w.peak = max(w.peak, len(alive))
    for t0 in alive:
        end(t0, horizon)
    return w


def _windows_work(spec, horizon: float, boot: float) -> _FleetWork:
    """Run windows: every instance starts at each window's start, stops at its stop."""
    w = _FleetWork()
    n = spec.count
    for k, win in enumerate(spec.windows):
        if win.start >= horizon:
            break
        if k == 0:
            w.launches, w.activities, w.peak = n, 1, n
        stop = horizon if win.stop is None else min(win.stop, horizon)
        running = stop - win.start - boot
        w.starts += n
        w.instance_rows += n * (2 if running > 0 else 1)
        if running > 0:
            w.registrations += n
            w.instance_s += n * running
        if win.stop is not None and win.stop < horizon:
            w.ends += n
            w.instance_rows += n  # the stopped stay (ended by a restart or the run's end)
    return w


# ------------------------------------------------------------------------------ estimate


def estimate(scenario: Scenario) -> Estimate:
    """The estimated work, rows, peak memory and wall time of one run of `scenario`."""
    sc, horizon, out = scenario, scenario.horizon, scenario.output
    per_service = {name: expected_arrivals(s.arrivals, horizon) for name, s in sc.services.items()}
    requests = sum(per_service.values())
    ticks = math.ceil(horizon / out.observe_interval) if sc.services else 0
    rows = {k: 0.0 for k in ("instance_intervals", "volume_intervals", "target_intervals",
                             "scaling_activities", "service_intervals", "transfer", "latency",
                             "requests")}
    launches = ends = starts = checks = firings = 0
    peak_bytes, seconds, backlog_s, backlog_b = float(BASE_BYTES), FIXED_S, 0.0, 0.0
    window_requests = 0.0
    for name, spec in sc.fleets.items():
        boot = _mean(spec.boot_time)
        w = (_actions_work(spec, sc.start, horizon, boot) if spec.scheduled_actions
             else _windows_work(spec, horizon, boot))
        launches, ends, starts = launches + w.launches, ends + w.ends, starts + w.starts
        firings += max(0, w.activities - 1)
        rows["instance_intervals"] += w.instance_rows
        rows["volume_intervals"] += w.launches if spec.volume is not None else 0
        rows["scaling_activities"] += w.activities
        services = [s for s in sc.services.values() if s.fleet == name]
        if not services:
            continue
        lb = services[0].load_balancer
        hc = lb.health_check
        checks += w.registrations if hc is not None else 0
        rows["target_intervals"] += (w.registrations * (2 if hc is not None else 1)
                                     + w.deregistrations)
        fleet_requests = sum(per_service[n] for n, s in sc.services.items() if s.fleet == name)
        per_request = S_PER_REQUEST + (S_PER_KEPT_REQUEST if out.requests else 0.0)
        if lb.policy == "power_of_two_choices" or (lb.policy == "least_outstanding"
                                                   and w.peak > SCAN_MAX):
            per_request += S_PER_REQUEST_INDEX
        elif lb.policy == "least_outstanding":
            per_request += S_PER_REQUEST_LOR_COLUMN * math.ceil(max(w.peak, 1) / 16)
        seconds += fleet_requests * per_request + ticks * S_PER_TICK
        # a window is routed block by block beyond BLOCK_REQUESTS (compute.targets.advance)
        window_requests = max(window_requests, min(
            sum(peak_rate(s.arrivals) for s in services) * max(out.observe_interval, GRID_S),
            BLOCK_REQUESTS * len(services)))
        # more work than the fleet's vCPUs can do: the rest queues, and is copied every window
        mean_s = {id(s): _mean(s.service_time) for s in services}
        work = sum(per_service[n] * mean_s[id(s)] for n, s in sc.services.items() if s.fleet == name)
        vcpus = _vcpus(sc, spec.instance_type)
        left = max(0.0, work - w.instance_s * vcpus) / max(min(mean_s.values()), 1e-12)
        backlog_s += S_PER_BACKLOG_COPY * left / 2 * ticks
        backlog_b += BYTES_PER_BACKLOG_REQUEST * left
    if sc.services:
        rows["service_intervals"] = ticks * len(sc.services)
        rows["transfer"] = ticks * sum(_mean(s.response_size) > 0 for s in sc.services.values())
        rows["latency"] = len(sc.services) + 1
    keep_exact = out.latency == "exact" or (out.latency == "auto" and requests <= out.exact_limit)
    if keep_exact:
        peak_bytes += sum(BYTES_PER_EXACT_LATENCY * _capacity(n) for n in per_service.values())
        peak_bytes += 8.0 * requests if len(sc.services) > 1 else 0.0
    if out.requests:
        rows["requests"] = requests
        peak_bytes += BYTES_PER_KEPT_REQUEST * requests
    peak_bytes += BYTES_PER_WINDOW_REQUEST * window_requests + BYTES_PER_INSTANCE * launches
    peak_bytes += backlog_b
    seconds += S_PER_INSTANCE * launches + backlog_s
    control = starts + ends + checks + firings + ticks
    return Estimate(requests, launches, ends, control, rows, peak_bytes, seconds)


def _capacity(n: float) -> float:
    """Capacity of the exact-latency buffer after n values: 1024 doubled until it holds n."""
    return 1024.0 * 2 ** max(0, math.ceil(math.log2(max(n, 1.0) / 1024)))


def _vcpus(sc: Scenario, instance_type: str) -> int:
    from simulator.compute.catalog import load_catalog

    try:
        return int(load_catalog(sc.catalog).get(instance_type).vcpus)
    except Exception:  # noqa: BLE001 - an unknown type is reported by validation, not here
        return 1


def estimate_many(scenarios: Iterable[Scenario]) -> Estimate:
    """A sweep grid: counts, rows and time summed over its runs; memory of the largest run."""
    parts = [estimate(s) for s in scenarios]
    if not parts:
        return Estimate(0.0, 0, 0, 0, {}, float(BASE_BYTES), 0.0, 0)
    rows: dict[str, float] = {}
    for p in parts:
        for k, v in p.rows.items():
            rows[k] = rows.get(k, 0.0) + v
    return Estimate(sum(p.requests for p in parts), sum(p.launches for p in parts),
                    sum(p.terminations for p in parts), sum(p.control_events for p in parts),
                    rows, max(p.peak_bytes for p in parts), sum(p.seconds for p in parts),
                    sum(p.runs for p in parts))


# ------------------------------------------------------------------------------ check


def machine_ram() -> int | None:
    """This machine's RAM in bytes (MemTotal of /proc/meminfo, else sysconf), None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check(est: Estimate, ram_bytes: int | None = None, limit_s: float = TIME_LIMIT_S,
          force: bool = False) -> list[Problem]:
    """Problems that refuse the run: memory over 80% of RAM, time over `limit_s`; none if forced.

    Each message gives the estimate and what to change; a sweep passes
    ``limit_s=SWEEP_LIMIT_S``.
    """
    if force:
        return []
    ram = machine_ram() if ram_bytes is None else ram_bytes
    what = "the sweep" if est.runs > 1 else "the run"
    fixes = ("a shorter horizon, fewer instances or requests, or latency: sketch and "
             "requests: false in output (percentiles from the sketch instead of keeping every "
             "request)")
    if est.runs > 1:
        fixes += ", or fewer axis values or replications"
    fixes += "; the analytic model will serve long planning runs once it exists"
    problems = []
    if ram is not None and est.peak_bytes > MEMORY_FRACTION * ram:
        problems.append(Problem("", f"{what} would need about {_bytes(est.peak_bytes)} of memory"
                                f" ({_count(est.requests)} requests, {_count(est.launches)} "
                                f"instances), over {MEMORY_FRACTION:.0%} of this machine's "
                                f"{_bytes(ram)}: use {fixes}; or pass --force to run anyway"))
    if est.seconds > limit_s:
        problems.append(Problem("", f"{what} would take about {_seconds(est.seconds)} "
                                f"({_count(est.requests)} requests, {_count(est.control_events)}"
                                f" control events), over the limit of {_seconds(limit_s)}: use "
                                f"{fixes}; or pass --force to run anyway"))
    return problems
