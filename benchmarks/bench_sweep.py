"""Sweep throughput against worker count: 1 and 2 local processes, a Dask LocalCluster of 2.

Runs of about a second each (the quick-start scenario over 4 h, 12 runs: 3 fleet sizes ×
4 replications).  Prints runs/s, the parallel efficiency at 2 workers (T1 / (2 × T2); target
≥ 80%) and Dask's overhead per run against the local pool, all measured in the same process.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import yaml

from simulator.experiments.executors import make_executor
from simulator.experiments.runner import run_sweep
from simulator.experiments.spec import load_sweep

ROOT = Path(__file__).resolve().parents[1]


def _sweep_file(folder: Path) -> Path:
    path = folder / "bench-sweep.yaml"
    path.write_text(yaml.safe_dump({
        "name": "bench-sweep",
        "base": str(ROOT / "scenarios" / "quickstart.yaml"),
        "set": {"horizon": "4 h"},
        "axes": {"fleets.web.count": [8, 9, 10]},
        "replications": 4,
    }))
    return path


def _timed(sweep, kind: str, jobs: int, folder: Path) -> float:
    executor = make_executor(kind, jobs)  # started before timing: cluster start-up is not per run
    out = folder / f"{kind}-{jobs}"
    try:
        t = time.perf_counter()
        run_sweep(sweep, out, executor=executor, resume=False, reports=False)
        return time.perf_counter() - t
    finally:
        executor.close()
        shutil.rmtree(out, ignore_errors=True)


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sweep = load_sweep(_sweep_file(folder))
        n = len(sweep.runs())
        t1 = _timed(sweep, "local", 1, folder)
        t2 = _timed(sweep, "local", 2, folder)
        td = _timed(sweep, "dask", 2, folder)
    per_run = t1 / n
    print(f"{n} runs of about {per_run:.2f} s each (quick-start scenario, 4 h simulated)")
    print(f"  local, 1 process   : {t1:6.2f} s  {n / t1:5.2f} runs/s")
    print(f"  local, 2 processes : {t2:6.2f} s  {n / t2:5.2f} runs/s  parallel efficiency "
          f"{t1 / (2 * t2):5.1%} (target ≥ 80%)")
    print(f"  Dask LocalCluster 2: {td:6.2f} s  {n / td:5.2f} runs/s  parallel efficiency "
          f"{t1 / (2 * td):5.1%}; overhead per run vs local pool {(td - t2) * 2 / n * 1e3:+.0f} ms")
    return {"runs": n, "one": t1, "two": t2, "dask": td}


def rows(quick: bool = False) -> list:
    from benchmarks.table import Row, quiet

    r = quiet(main)
    return [Row("sweep", f"{r['runs']} quick-start runs, 2 local processes", r["two"], "s",
                "1 process", r["one"], min_ratio=1.6, note="parallel efficiency ≥ 80%"),
            Row("sweep", f"{r['runs']} quick-start runs, Dask LocalCluster of 2", r["dask"], "s",
                "1 process", r["one"])]


if __name__ == "__main__":
    main()
