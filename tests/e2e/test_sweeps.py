"""Sweeps end to end: common random numbers, resume after kills, executors agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simulator import load_sweep, run, run_sweep
from simulator.experiments.runner import load_sweep_result
from simulator.scenario.schema import Scenario
from tests.conftest import ROOT, SCENARIOS, tiny_scenario


def _write_sweep(tmp_path: Path, **fields) -> Path:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny_scenario(horizon="30 s")))
    data = {"name": "t", "base": "base.yaml"} | fields
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_changing_one_axis_keeps_every_arrival_draw(tmp_path):
    sweep = load_sweep(_write_sweep(
        tmp_path, set={"output.requests": True},
        axes={"services.api.load_balancer.policy": ["random", "least_outstanding"], "fleets.web.count": [2, 3]},
        replications=2,
    ))
    by_rep: dict[int, list[pd.DataFrame]] = {}
    for spec in sweep.runs():
        req = run(Scenario.model_validate(spec.scenario), spec.seed).tables["requests"]
        by_rep.setdefault(spec.replication, []).append(req)
    for reqs in by_rep.values():
        for other in reqs[1:]:
            for col in ("arrival_s", "service_s", "response_bytes"):
                assert np.array_equal(reqs[0][col].to_numpy(), other[col].to_numpy())
    assert not np.array_equal(by_rep[0][0]["arrival_s"].to_numpy(), by_rep[1][0]["arrival_s"].to_numpy())


def test_run_sweep_writes_tables_and_resumes(tmp_path):
    path = _write_sweep(tmp_path, axes={"fleets.web.count": [1, 2]}, replications=3)
    out = tmp_path / "out"
    first = run_sweep(path, out)
    assert (first.executed, first.reused) == (6, 0)
    assert len(list((out / "runs").glob("*.json"))) == 6
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    (out / "runs" / "c0001-r002.json").unlink()
    again = run_sweep(path, out)
    assert (again.executed, again.reused) == (1, 5)
    for p in (out / "runs").glob("*.json"):
        if p.name != "c0001-r002.json":
            assert p.stat().st_mtime_ns == stamp[p.name], f"{p.name} was run twice"
    pd.testing.assert_frame_equal(first.runs.drop(columns="runtime_s"), again.runs.drop(columns="runtime_s"))
    loaded = load_sweep_result(out)
    assert len(loaded["runs"]) == 6 and set(loaded["cells"]["cell"]) == {0, 1}


def test_a_changed_scenario_is_not_reused(tmp_path):
    path = _write_sweep(tmp_path, axes={"fleets.web.count": [1]}, replications=1)
    out = tmp_path / "out"
    run_sweep(path, out)
    assert run_sweep(path, out).executed == 0
    path = _write_sweep(tmp_path, axes={"fleets.web.count": [2]}, replications=1)
    assert run_sweep(path, out).executed == 1


def test_dask_and_local_executors_give_identical_tables(tmp_path):
    path = _write_sweep(tmp_path, axes={"fleets.web.count": [1, 2]}, replications=2)
    local = run_sweep(path, tmp_path / "local", jobs=2)
    dask = run_sweep(path, tmp_path / "dask", jobs=2, executor="dask")
    pd.testing.assert_frame_equal(local.runs.drop(columns="runtime_s"), dask.runs.drop(columns="runtime_s"))
    pd.testing.assert_frame_equal(
        local.cells[local.cells.metric != "runtime_s"].reset_index(drop=True),
        dask.cells[dask.cells.metric != "runtime_s"].reset_index(drop=True),
    )


def _workers(pid: int) -> list[int]:
    """Pool worker processes of `pid`: its children running dcsim (not multiprocessing helpers)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if int(fields[1]) == pid and b"simulator" in cmdline and b"resource_tracker" not in cmdline:
            out.append(int(stat.parent.name))
    return out


def _slow_sweep(tmp_path: Path) -> Path:
    # runs of roughly half a second each: long enough to kill something mid-sweep
    return _write_sweep(
        tmp_path, set={"horizon": "400 s", "services.api.arrivals.rate": "4000/s", "fleets.web.count": 40},
        axes={"services.api.load_balancer.policy": ["random", "round_robin"]}, replications=6,
    )


def _sweep_cmd(path: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "simulator", "sweep", str(path), "--jobs", "2", "--out", str(out)]


def _wait_for_runs(out: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while len(list((out / "runs").glob("*.json"))) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "sweep made no progress"
        time.sleep(0.05)


def test_killed_worker_loses_no_finished_run_and_runs_none_twice(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(_sweep_cmd(_slow_sweep(tmp_path), out), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_runs(out, 2, proc)
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    workers = _workers(proc.pid)
    assert workers, "no worker processes found"
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "worker processes died 1 time(s)" in stdout
    files = list((out / "runs").glob("*.json"))
    assert len(files) == 12
    for name, mtime in finished.items():
        assert (out / "runs" / name).stat().st_mtime_ns == mtime, f"{name} was run twice"
    assert len(pd.read_parquet(out / "runs.parquet")) == 12


def test_killed_sweep_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "out"
    path = _slow_sweep(tmp_path)
    proc = subprocess.Popen(_sweep_cmd(path, out), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_runs(out, 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert 3 <= len(finished) < 12
    for p in (out / "runs").glob(".*.tmp"):
        p.unlink()  # a temp file of a write in flight: never mistaken for a finished run
    done = subprocess.run(_sweep_cmd(path, out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{12 - len(finished)} run now, {len(finished)} kept" in done.stdout
    for name, mtime in finished.items():
        assert (out / "runs" / name).stat().st_mtime_ns == mtime
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["runs"] == 12 and meta["errors"] == 0


def test_fleet_size_sweep_answers_its_question(tmp_path):
    result = run_sweep(SCENARIOS / "sweeps" / "fleet-size.yaml", tmp_path / "fs", test=True, jobs=2)
    assert result.best is not None and "message" in result.best
    assert (tmp_path / "fs" / "report.md").exists()


@pytest.mark.parametrize("path", sorted((SCENARIOS / "sweeps").glob("*.yaml")), ids=lambda p: p.name)
def test_every_sweep_file_runs_with_its_test_block(path, tmp_path):
    result = run_sweep(path, tmp_path / path.stem, test=True)
    assert result.runs["error"].isna().all()
