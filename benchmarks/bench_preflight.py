"""Preflight estimate vs measurement: wall time and peak memory of the bundled scenarios.

For every scenarios/*.yaml (with its `test:` block applied, and at full size when that is
estimated to take under FULL_LIMIT_S) the estimate of ``simulator.preflight`` is set beside a
measured run: ``simulator.run`` alone in a fresh interpreter after a tiny warm-up run (so that
imports and numba's cache loads are not timed), wall time of the run, and the process's peak
RSS (VmHWM, reset just before the run).  Goal: every ratio within a factor of 2.

Run: ``python -m benchmarks preflight`` or ``python -m benchmarks.bench_preflight``;
``python -m benchmarks.bench_preflight --calibrate`` measures the per-unit costs that
``simulator.preflight`` stores (prints them as Python constants to paste there).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FULL_LIMIT_S = 120.0
"""Run a bundled scenario at full size too when its estimate is below this."""


def _status_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _child(spec: str) -> None:
    """In a fresh interpreter: warm up, then one timed run of `spec` (JSON) printed as JSON.

    spec is {"path": ..., "test": bool} or {"scenario": a scenario mapping}.
    """
    import time

    from simulator.engine.runner import run
    from simulator.scenario.loader import load_scenario, validate_scenario

    job = json.loads(spec)
    warm = validate_scenario({"name": "warm", "horizon": 120, "fleets": {"w": {
        "instance_type": "c5.xlarge", "count": 2, "boot_time": 1,
        "scheduled_actions": [{"at": 60, "desired": 1}]}},
        "services": {"a": {"fleet": "w", "arrivals": {"process": "poisson", "rate": 20},
                           "service_time": {"dist": "lognormal", "mean": 0.01, "cv": 1},
                           "load_balancer": {"policy": "least_outstanding"}}},
        "output": {"requests": True}}, "warm")
    run(warm)
    run(warm.model_copy(update={"output": warm.output.model_copy(update={"latency": "sketch"})}))
    sc = (load_scenario(job["path"], test=job["test"]) if "path" in job
          else validate_scenario(job["scenario"], "calibration"))
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = _status_bytes("VmRSS")
    started = time.perf_counter()
    result = run(sc)
    seconds = time.perf_counter() - started
    peak = _status_bytes("VmHWM")
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "before_bytes": before,
                      "events": result.events,
                      "rows": {k: len(v) for k, v in result.tables.items()}}))


def measure(job: dict) -> dict:
    """Run `job` (see _child) alone in a fresh interpreter; its time, memory and rows."""
    code = f"from benchmarks.bench_preflight import _child; _child({json.dumps(job)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the measured run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ calibration


def _service(rate: float, policy: str = "round_robin", **extra) -> dict:
    return {"fleet": "web", "arrivals": {"process": "poisson", "rate": rate},
            "service_time": {"dist": "lognormal", "mean": 0.04, "cv": 1.0},
            "response_size": {"dist": "lognormal", "mean": 16384, "cv": 1.0},
            "load_balancer": {"policy": policy, **extra}}


def _requests_case(rate=5000.0, horizon=1200.0, count=80, policy="round_robin",
                   latency="sketch", keep=False, observe=60.0, **lb) -> dict:
    return {"name": "cal", "horizon": horizon,
            "fleets": {"web": {"instance_type": "c5.xlarge", "count": count}},
            "services": {"api": _service(rate, policy, **lb)},
            "output": {"latency": latency, "requests": keep, "observe_interval": observe}}


def _lifecycle_case(per_action=5000, cycles=4) -> dict:
    return {"name": "cal", "horizon": 2 * cycles * 600.0,
            "fleets": {"web": {"instance_type": "m5.large", "count": 0, "boot_time": 30,
                               "scheduled_actions": [
                                   {"at": k * 600.0, "desired": per_action if k % 2 == 0 else 0}
                                   for k in range(2 * cycles)]}}}


def calibrate() -> dict:
    """Measure the per-unit costs of simulator.preflight on this machine; print and return them.

    Each figure is a difference between two runs that differ in one thing only, so the fixed
    cost of a run cancels; every run is alone in a fresh interpreter.
    """
    out: dict[str, float] = {}
    tiny = measure({"scenario": _requests_case(rate=1.0, horizon=60.0, count=2)})
    out["FIXED_S"] = tiny["seconds"]
    out["BASE_BYTES"] = tiny["before_bytes"]
    n_small, n_big = 5000 * 300, 5000 * 1500
    small = measure({"scenario": _requests_case(horizon=300.0)})
    big = measure({"scenario": _requests_case(horizon=1500.0)})
    per_req = (big["seconds"] - small["seconds"]) / (n_big - n_small)
    out["S_PER_REQUEST"] = per_req
    exact = measure({"scenario": _requests_case(horizon=1500.0, latency="exact")})
    out["S_PER_EXACT_REQUEST"] = max(0.0, (exact["seconds"] - big["seconds"]) / n_big)
    lor = measure({"scenario": _requests_case(horizon=1500.0, policy="least_outstanding",
                                               count=160)})
    out["S_PER_REQUEST_LOR_COLUMN"] = max(0.0, (lor["seconds"] - big["seconds"]) / n_big
                                          / (160 / 16))
    keep = measure({"scenario": _requests_case(horizon=1500.0, keep=True)})
    out["S_PER_KEPT_REQUEST"] = max(0.0, (keep["seconds"] - big["seconds"]) / n_big)
    out["BYTES_PER_KEPT_REQUEST"] = max(0.0, (keep["peak_bytes"] - big["peak_bytes"]) / n_big)
    wide = measure({"scenario": _requests_case(horizon=1500.0, observe=600.0)})
    window_small, window_big = 5000 * 60.0, 5000 * 600.0
    out["BYTES_PER_WINDOW_REQUEST"] = max(0.0, (wide["peak_bytes"] - big["peak_bytes"])
                                          / (window_big - window_small))
    life_small = measure({"scenario": _lifecycle_case(1000)})
    life_big = measure({"scenario": _lifecycle_case(5000)})
    launches = 4 * (5000 - 1000)
    out["S_PER_INSTANCE"] = (life_big["seconds"] - life_small["seconds"]) / launches
    out["BYTES_PER_INSTANCE"] = (life_big["peak_bytes"] - life_small["peak_bytes"]) / launches
    ticks_small = measure({"scenario": _requests_case(rate=1.0, horizon=20000.0, count=2,
                                                       observe=100.0)})
    ticks_big = measure({"scenario": _requests_case(rate=1.0, horizon=20000.0, count=2,
                                                     observe=1.0)})
    out["S_PER_TICK"] = (ticks_big["seconds"] - ticks_small["seconds"]) / (20000 - 200)
    lb_small = measure({"scenario": _requests_case(rate=1.0, horizon=600.0, count=500,
                                                    health_check={"interval": 10})})
    lb_big = measure({"scenario": _requests_case(rate=1.0, horizon=600.0, count=2500,
                                                  health_check={"interval": 10})})
    # joining the target group copies the queue state: a cost per target and per pair
    out["S_PER_TARGET_PAIR"] = max(0.0, (lb_big["seconds"] - lb_small["seconds"]
                                         - 2000 * out["S_PER_INSTANCE"])
                                   / ((2500**2 - 500**2) / 2))
    over = measure({"scenario": _requests_case(rate=1000.0, horizon=1800.0, count=4)})
    under = measure({"scenario": _requests_case(rate=1000.0, horizon=1800.0, count=40)})
    backlog = 1000.0 * 1800 * (1 - 16 / 40.0)  # requests still queued at the end
    windows = 1800 / 60.0
    out["S_PER_BACKLOG_COPY"] = max(0.0, (over["seconds"] - under["seconds"])
                                    / (backlog / 2 * windows))
    out["BYTES_PER_BACKLOG_REQUEST"] = max(0.0, (over["peak_bytes"] - under["peak_bytes"])
                                           / backlog)
    for k, v in out.items():
        print(f"{k} = {v:.4g}")
    return out


# ------------------------------------------------------------------------------ main


def main() -> list[dict]:
    """Print and return estimated vs measured time and memory of every bundled scenario."""
    from simulator.preflight import estimate
    from simulator.scenario.loader import load_scenario

    rows = []
    print(f"{'scenario':32} {'est s':>8} {'meas s':>8} {'ratio':>6}  {'est MiB':>8} "
          f"{'meas MiB':>8} {'ratio':>6}  requests")
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        for test in (True, False):
            est = estimate(load_scenario(path, test=test))
            if not test and est.seconds > FULL_LIMIT_S:
                print(f"{path.stem + ' (full)':32} {est.seconds:8.1f}   (not run: over "
                      f"{FULL_LIMIT_S:g} s)")
                continue
            got = measure({"path": str(path), "test": test})
            t_ratio = est.seconds / got["seconds"]
            m_ratio = est.peak_bytes / got["peak_bytes"]
            label = f"{path.stem} ({'test' if test else 'full'})"
            print(f"{label:32} {est.seconds:8.2f} {got['seconds']:8.2f} {t_ratio:6.2f}  "
                  f"{est.peak_bytes / 2**20:8.0f} {got['peak_bytes'] / 2**20:8.0f} "
                  f"{m_ratio:6.2f}  {est.requests:,.0f}"
                  f"{'' if 0.5 <= t_ratio <= 2 and 0.5 <= m_ratio <= 2 else '  OUTSIDE 2x'}")
            rows.append({"scenario": label, "time_ratio": t_ratio, "memory_ratio": m_ratio})
    return rows


def rows(quick: bool = False) -> list:
    """Estimated / measured time and memory of every bundled scenario, within 2× (goal)."""
    from benchmarks.table import Row, quiet

    out = []
    for r in quiet(main):
        out.append(Row("preflight", f"estimated / measured time, {r['scenario']}",
                       r["time_ratio"], "×", min_value=0.5, max_value=2.0))
        out.append(Row("preflight", f"estimated / measured memory, {r['scenario']}",
                       r["memory_ratio"], "×", min_value=0.5, max_value=2.0))
    return out


if __name__ == "__main__":
    calibrate() if "--calibrate" in sys.argv[1:] else main()
