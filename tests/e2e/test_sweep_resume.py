"""Sweeps resume only what is right: changed inputs and failed runs are run again (and the
sweep says why), failures make the sweep exit non-zero, workers die with their parent, and
`seed` cannot be an axis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import simulator.engine.runner as engine_runner
from simulator import run_sweep
from simulator.cli import app
from simulator.experiments.spec import load_sweep, rerun_reason
from tests.conftest import ROOT, tiny_scenario

BOOK = resources.files("simulator.billing").joinpath("data", "aws-us-east-1.yaml").read_text()


def _write_sweep(tmp_path: Path, base: dict | None = None, **fields) -> Path:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base or tiny_scenario(horizon="20 s")))
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "base": "base.yaml"} | fields, sort_keys=False))
    return path


def _stamps(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}


def test_a_price_book_edit_reruns_exactly_the_runs_that_read_it(tmp_path):
    (tmp_path / "a.yaml").write_text(BOOK)
    (tmp_path / "b.yaml").write_text(BOOK)
    path = _write_sweep(tmp_path, axes={"pricebook": ["a.yaml", "b.yaml"]}, replications=2)
    out = tmp_path / "out"
    first = run_sweep(path, out)
    assert (first.executed, first.rerun) == (4, {})
    before = _stamps(out)
    (tmp_path / "a.yaml").write_text(BOOK.replace("m5.large: 0.096", "m5.large: 0.192"))
    again = run_sweep(path, out)
    assert (again.executed, again.reused) == (2, 2)
    assert again.rerun == {"c0000-r000": "price book contents changed",
                           "c0000-r001": "price book contents changed"}
    assert again.rerun_lines() == ["2 runs rerun: price book contents changed"]
    after = _stamps(out)
    assert sorted(n for n in before if before[n] != after[n]) == ["c0000-r000.json", "c0000-r001.json"]
    cost = again.runs.set_index("run_id")["cost.total_usd"]
    assert cost["c0000-r000"] > 1.9 * cost["c0001-r000"]
    assert run_sweep(path, out).executed == 0


def test_the_reason_names_the_version_and_input_that_changed():
    spec = load_sweep(ROOT / "scenarios" / "sweeps" / "fleet-size.yaml", test=True).runs()[0]
    assert set(spec.inputs) == {"pricebook", "catalog"}  # builtin files are hashed too
    record = {"digest": "old", "error": None,
              "fingerprint": spec.fingerprint | {"version": "0.0.1",
                                                 "inputs": spec.inputs | {"catalog": "x"}}}
    assert rerun_reason(record, spec) == f"dcsim version changed (0.0.1 -> {spec.version}); catalog contents changed"
    assert rerun_reason({"digest": spec.digest, "error": None}, spec) is None
    assert rerun_reason({"digest": spec.digest, "error": "boom"}, spec) == "failed before"


def _fail_cell(monkeypatch, count: int) -> None:
    """Make every run whose fleet has `count` instances raise inside the worker (jobs=1)."""
    real = engine_runner.run

    def run(scenario, seed=None, **kw):
        if scenario.fleets["web"].count == count:
            raise RuntimeError("boom")
        return real(scenario, seed, **kw)

    monkeypatch.setattr(engine_runner, "run", run)


def test_a_failed_run_is_listed_and_retried_on_resume(tmp_path, monkeypatch):
    path = _write_sweep(tmp_path, axes={"fleets.web.count": [1, 2]})
    out = tmp_path / "out"
    _fail_cell(monkeypatch, 2)
    first = run_sweep(path, out)
    assert first.failed == [("c0001-r000", "RuntimeError: boom")]
    listed = json.loads((out / "failed.json").read_text())
    assert [(f["run_id"], f["params"]) for f in listed] == [("c0001-r000", {"fleets.web.count": 2})]
    monkeypatch.undo()
    again = run_sweep(path, out)
    assert (again.executed, again.reused, again.failed) == (1, 1, [])
    assert again.rerun == {"c0001-r000": "failed before"}
    assert json.loads((out / "failed.json").read_text()) == []
    assert again.runs["error"].isna().all()


def test_a_sweep_with_a_failed_run_exits_1_and_lists_it(tmp_path, monkeypatch):
    path = _write_sweep(tmp_path, axes={"fleets.web.count": [1, 2, 3]})
    _fail_cell(monkeypatch, 3)
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "1 of 3 runs failed" in result.stderr
    assert "c0002-r000: RuntimeError: boom" in result.stderr
    assert "Traceback" not in result.output
    monkeypatch.undo()
    retry = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert retry.exit_code == 0, retry.output
    assert "1 run rerun: failed before" in retry.stdout


def test_a_seed_axis_is_refused_naming_it(tmp_path):
    path = _write_sweep(tmp_path, axes={"seed": [1, 2], "fleets.web.count": [1]})
    done = subprocess.run([sys.executable, "-m", "simulator", "sweep", str(path), "--dry-run"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "axes.seed" in done.stderr and "replications" in done.stderr
    assert "Traceback" not in done.stderr
    zipped = _write_sweep(tmp_path, zip=[{"seed": [1, 2], "fleets.web.count": [1, 2]}])
    result = CliRunner().invoke(app, ["sweep", str(zipped), "--dry-run"])
    assert result.exit_code == 2 and "zip.0.seed" in result.stderr


def _workers(pid: int) -> list[int]:
    """Pool workers of `pid`: its children running dcsim (not multiprocessing's helpers)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        ours = b"simulator" in cmdline or b"spawn_main" in cmdline  # a pool's or Dask's worker
        if ppid == pid and ours and b"resource_tracker" not in cmdline:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(("executor", "sig"), [("local", signal.SIGKILL), ("dask", signal.SIGKILL),
                                             ("local", signal.SIGTERM), ("dask", signal.SIGTERM)])
def test_killing_the_parent_ends_its_workers(tmp_path, executor, sig):
    # runs of several seconds each, so the workers are busy when the parent dies
    # SIGTERM: runs of ten seconds and more, so that waiting for one would show
    horizon = "2000 s" if sig == signal.SIGKILL else "20000 s"
    path = _write_sweep(tmp_path, set={"horizon": horizon, "services.api.arrivals.rate": "4000/s",
                                       "fleets.web.count": 40},
                        axes={"services.api.load_balancer.policy": ["random", "round_robin"]}, replications=2)
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "sweep", str(path), "--jobs", "2",
                             "--executor", executor, "--out", str(tmp_path / "out")], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.time() + 30
        while len(workers := _workers(proc.pid)) < 2:
            assert proc.poll() is None and time.time() < deadline, "no worker processes started"
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(proc.pid, sig)
        killed = time.time()
        code = proc.wait(timeout=60)
        if sig == signal.SIGTERM:  # no run is waited for; the lock goes with the parent
            assert time.time() - killed < 5
            assert code == 128 + signal.SIGTERM
            assert not any(p.name.endswith(".lock") for p in tmp_path.iterdir())
        deadline = time.time() + 5
        while (alive := [w for w in workers if _alive(w)]) and time.time() < deadline:
            time.sleep(0.1)
        assert not alive, f"workers {alive} outlived their parent"
    finally:
        for w in [*workers, proc.pid]:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
