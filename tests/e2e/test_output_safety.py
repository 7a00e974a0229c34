"""Outputs that are safe to keep: checked before the run, umask honoured, folders swapped whole,
one writer at a time, foreign files never touched, and broken folders refused by `dcsim report`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import load_scenario, run, write_run
from simulator import outdir as outdir_mod
from simulator.cli import app
from simulator.errors import InputError
from simulator.locks import lock_path
from simulator.outdir import MARKER
from simulator.results import check_run_folder
from tests.conftest import ROOT, SCENARIOS

runner = CliRunner()
QUICK = str(SCENARIOS / "quickstart.yaml")
FAST = [QUICK, "--test", "--set", "horizon=2 min"]  # runs in well under a second
DCSIM = [sys.executable, "-m", "simulator"]


@pytest.fixture(scope="module")
def results():
    """Two small runs (seeds 1 and 2) to write again and again."""
    sc = load_scenario(QUICK, ["horizon=2 min"], test=True)
    return {seed: run(sc, seed=seed) for seed in (1, 2)}


def _seed(folder: Path) -> int:
    """The seed of the whole run in folder (which must pass the report's checks)."""
    summary = check_run_folder(folder)
    assert (folder / "report.html").is_file() and (folder / "report.md").is_file()
    return summary["seed"]


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


def _exit2(result, *words, started=None):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, f"{word!r} missing from: {result.output}"
    if started is not None:
        assert time.monotonic() - started < 5


# --- permissions ---------------------------------------------------------------------------

def test_files_and_folders_honour_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        result = runner.invoke(app, ["run", *FAST, "--out", str(tmp_path / "r")])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    out = tmp_path / "r"
    files = {p.stat().st_mode & 0o777 for p in out.rglob("*") if p.is_file()}
    folders = {p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")] if p.is_dir()}
    assert (out / MARKER).is_file() and files == {0o640} and folders == {0o750}


# --- output locations checked before the simulation ----------------------------------------

def _bad_places(tmp_path: Path) -> dict[str, tuple[str, list[str]]]:
    (tmp_path / "file.txt").write_text("mine")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "thesis.tex").write_text("years of work")
    return {
        "existing file": (str(tmp_path / "file.txt"), ["is a file", "name a folder"]),
        "under a file": (str(tmp_path / "file.txt" / "run"), ["lies under", "file.txt"]),
        "device": ("/dev/null", ["device", "/dev/null"]),
        "name too long": (str(tmp_path / ("x" * 300)), ["longer than", "shorter name"]),
        "deep name too long": (str(tmp_path / "a" / ("y" * 256) / "b"), ["longer than"]),
        "foreign folder": (str(tmp_path / "theirs"), ["did not write", "thesis.tex"]),
    }


@pytest.mark.parametrize("case", ["existing file", "under a file", "device", "name too long",
                                  "deep name too long", "foreign folder"])
def test_bad_out_is_refused_before_the_run(tmp_path, monkeypatch, case):
    out, words = _bad_places(tmp_path)[case]
    ran = []
    monkeypatch.setattr("simulator.engine.runner.World.build", lambda *a: ran.append(1))
    started = time.monotonic()
    _exit2(runner.invoke(app, ["run", *FAST, "--out", out]), "--out", *words, started=started)
    assert not ran, "the simulation ran before the output folder was checked"
    assert (tmp_path / "file.txt").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "theirs").iterdir()) == ["thesis.tex"]


def test_read_only_file_system_is_refused(tmp_path, monkeypatch):
    real = os.statvfs

    class ReadOnly:
        def __init__(self, st):
            self.f_flag = st.f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda p: ReadOnly(real(p)))
    started = time.monotonic()
    _exit2(runner.invoke(app, ["run", *FAST, "--out", str(tmp_path / "mnt" / "r")]),
           "--out", "read-only", started=started)
    assert not (tmp_path / "mnt").exists()


def test_unwritable_parent_is_refused(tmp_path, monkeypatch):
    real = os.access  # root may write anywhere, so pretend: nothing under tmp_path is writable
    monkeypatch.setattr(os, "access", lambda p, mode: not str(p).startswith(str(tmp_path))
                        and real(p, mode))
    _exit2(runner.invoke(app, ["run", *FAST, "--out", str(tmp_path / "r")]), "--out", "not writable")


def test_console_script_refuses_a_file_without_a_traceback(tmp_path):
    (tmp_path / "f").write_text("")
    started = time.monotonic()
    proc = subprocess.run([*DCSIM, "run", *FAST, "--out", str(tmp_path / "f")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert "--out" in proc.stderr and time.monotonic() - started < 5


# --- never touching files dcsim did not write ----------------------------------------------

def test_rerun_replaces_its_own_folder_whole(tmp_path, results):
    out = tmp_path / "r"
    write_run(results[1], out)
    (out / "tables" / "stale.parquet").write_bytes((out / "tables" / "cost.parquet").read_bytes())
    write_run(results[2], out)
    assert _seed(out) == 2
    assert not (out / "tables" / "stale.parquet").exists()  # the old run's files went with it
    assert _siblings(out) == []  # no temporary folder or lock file left


def test_run_folder_with_a_users_file_is_refused(tmp_path, results):
    out = tmp_path / "r"
    write_run(results[1], out)
    (out / "notes.md").write_text("my notes")
    with pytest.raises(InputError, match="notes.md"):
        write_run(results[2], out)
    assert (out / "notes.md").read_text() == "my notes" and _seed(out) == 1


def test_empty_folder_and_legacy_run_folder_are_accepted(tmp_path, results):
    out = tmp_path / "r"
    out.mkdir()
    write_run(results[1], out)
    (out / MARKER).unlink()  # a folder written before the marker existed
    write_run(results[2], out)
    assert _seed(out) == 2


# --- killed reruns -------------------------------------------------------------------------

class Killed(BaseException):
    """Stands in for a kill: not an Exception, so nothing swallows it."""


def _die(*args, **kwargs):
    raise Killed


@pytest.mark.parametrize("point", [
    "simulator.results.write_text",         # first file of the new folder
    "simulator.results.write_parquet",      # among the tables
    "simulator.results.write_json",         # the summary
    "simulator.report.build_reports",       # the reports
    "simulator.outdir._exchange",           # at the swap
])
def test_rerun_killed_midway_leaves_the_old_folder_whole(tmp_path, results, monkeypatch, point):
    out = tmp_path / "r"
    write_run(results[1], out)
    monkeypatch.setattr(point, _die)
    with pytest.raises(Killed):
        write_run(results[2], out)
    assert _seed(out) == 1
    assert _siblings(out) == []


def test_two_step_swap_cut_between_renames_restores_the_old_folder(tmp_path, results, monkeypatch):
    out = tmp_path / "r"
    write_run(results[1], out)
    monkeypatch.setattr(outdir_mod, "_exchange", lambda a, b: False)  # no renameat2 here
    real = os.rename

    def rename(src, dst):
        if ".tmp-" in str(src):
            raise Killed
        real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(Killed):
        write_run(results[2], out)
    monkeypatch.setattr(os, "rename", real)
    assert _seed(out) == 1 and _siblings(out) == []
    write_run(results[2], out)  # and without the cut the fallback swaps the folder in
    assert _seed(out) == 2 and _siblings(out) == []


def test_leftovers_of_a_hard_kill_are_cleaned_by_the_next_run(tmp_path, results):
    out = tmp_path / "r"
    write_run(results[1], out)
    (tmp_path / ".r.tmp-99999-abcd_123").mkdir()  # a half-built folder of a killed run
    (tmp_path / ".r.tmp-99999-abcd_123" / "summary.json").write_text("{")
    os.rename(out, tmp_path / ".r.old-99999-efgh_456")  # killed between two renames
    (tmp_path / ".rx.tmp-99999-abcd_123").mkdir()  # another folder's: left alone
    write_run(results[2], out)
    assert _seed(out) == 2
    assert _siblings(out) == [".rx.tmp-99999-abcd_123"]


def _kill_when(proc: subprocess.Popen, ready, after: float, sig=signal.SIGKILL) -> int:
    """Signal proc `after` seconds once ready() holds (or let it end if it never does); its
    exit code."""
    deadline = time.monotonic() + 60
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(after)
    proc.send_signal(sig)
    return proc.wait()


@pytest.mark.parametrize("when", ["simulating", "writing", "reporting"])
def test_rerun_killed_by_sigkill_leaves_a_whole_folder(tmp_path, results, when):
    out = write_run(results[1], tmp_path / "r")
    cmd = [*DCSIM, "run", *FAST, "--out", str(out)]
    proc = subprocess.Popen([*cmd, "--seed", "2"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if when == "simulating":
        _kill_when(proc, lambda: lock_path(out).exists(), 0.2)
    else:
        _kill_when(proc, lambda: any(".r.tmp-" in n for n in os.listdir(tmp_path)),
                   0.0 if when == "writing" else 0.3)
    assert _seed(out) in (1, 2)  # whole, old or (had it finished) new
    subprocess.run([*cmd, "--seed", "2"], check=True, capture_output=True, cwd=ROOT)
    assert _seed(out) == 2 and _siblings(out) == []  # the next run cleared the leftovers


@pytest.mark.parametrize("when", ["simulating", "writing", "reporting"])
def test_rerun_terminated_by_sigterm_leaves_a_whole_folder_and_nothing_else(tmp_path, results,
                                                                            when):
    out = write_run(results[1], tmp_path / "r")
    proc = subprocess.Popen([*DCSIM, "run", *FAST, "--out", str(out), "--seed", "2"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if when == "simulating":
        code = _kill_when(proc, lambda: lock_path(out).exists(), 0.2, signal.SIGTERM)
    else:
        code = _kill_when(proc, lambda: any(".r.tmp-" in n for n in os.listdir(tmp_path)),
                          0.0 if when == "writing" else 0.3, signal.SIGTERM)
    err = proc.stderr.read()
    assert code in (0, 128 + signal.SIGTERM), err  # 0: it had finished
    assert "Traceback" not in err
    assert code == 0 or "terminated" in err
    assert _seed(out) in (1, 2)
    assert _siblings(out) == []  # no lock file, no half-built folder: cleaned on the way out


# --- one writer at a time ------------------------------------------------------------------

HOLD = """
import sys, time
from simulator.locks import folder_lock
with folder_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def held(tmp_path):
    """A child process holding the lock of tmp_path/r; yields its pid."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "r")], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc.pid
    proc.kill()
    proc.wait()


def test_second_writer_is_refused_naming_the_holder(tmp_path, held, results):
    out = tmp_path / "r"
    started = time.monotonic()
    _exit2(runner.invoke(app, ["run", *FAST, "--out", str(out)]),
           "--out", "another dcsim process", f"pid {held}", started=started)
    assert not out.exists()
    with pytest.raises(InputError, match=f"pid {held}"):
        write_run(results[1], out)


def test_lock_is_released_when_its_holder_dies(tmp_path, held, results):
    os.kill(held, signal.SIGKILL)
    os.waitpid(held, 0)
    write_run(results[1], tmp_path / "r")
    assert _seed(tmp_path / "r") == 1
    assert not lock_path(tmp_path / "r").exists()


def test_two_concurrent_runs_never_mix_a_folder(tmp_path):
    out = tmp_path / "r"
    cmd = [*DCSIM, "run", QUICK, "--test", "--out", str(out)]
    first = subprocess.Popen([*cmd, "--seed", "1", "--set", "horizon=40 min"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (lock_path(out).exists() and lock_path(out).read_text()):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = subprocess.run([*cmd, "--seed", "2"], cwd=ROOT, capture_output=True, text=True)
    assert first.wait() == 0
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert _seed(out) == 1 and _siblings(out) == []


# --- dcsim report on broken folders --------------------------------------------------------

@pytest.fixture(scope="module")
def good_run(tmp_path_factory, results):
    return write_run(results[1], tmp_path_factory.mktemp("good") / "r")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garble(path: Path) -> None:
    path.write_bytes(b"x" * path.stat().st_size)  # same size, so only the format check sees it


BREAKS = {
    "truncated summary": ("summary.json", _truncate, ["summary.json", "not valid JSON"]),
    "summary not an object": ("summary.json", lambda p: p.write_text("[1, 2]"),
                              ["summary.json", "JSON object"]),
    "truncated table": ("tables/cost.parquet", _truncate, ["cost.parquet", "truncated"]),
    "not parquet": ("tables/latency.parquet", _garble, ["latency.parquet", "Parquet"]),
    "missing table": ("tables/transfer.parquet", Path.unlink, ["transfer.parquet", "missing"]),
    "missing tables": ("tables", shutil.rmtree, ["tables", "missing"]),
    "corrupt manifest": (MARKER, _truncate, [MARKER, "JSON"]),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_report_on_a_broken_folder_names_the_file(tmp_path, good_run, case):
    name, damage, words = BREAKS[case]
    run_dir = tmp_path / "r"
    shutil.copytree(good_run, run_dir)
    damage(run_dir / name)
    started = time.monotonic()
    _exit2(runner.invoke(app, ["report", str(run_dir)]), *words, "rerun", started=started)


def test_report_on_a_legacy_folder_with_a_broken_table(tmp_path, good_run):
    run_dir = tmp_path / "r"
    shutil.copytree(good_run, run_dir)
    (run_dir / MARKER).unlink()
    _garble(run_dir / "tables" / "cost.parquet")
    _exit2(runner.invoke(app, ["report", str(run_dir)]), "cost.parquet", "Parquet")


def test_report_on_a_whole_folder_still_works(tmp_path, good_run):
    run_dir = tmp_path / "r"
    shutil.copytree(good_run, run_dir)
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / MARKER).read_text())["seed"] == 1
    assert _siblings(run_dir) == []


# --- profiles --------------------------------------------------------------------------------


def test_run_with_profile_writes_it_into_the_run_folder(tmp_path):
    import pstats

    out = tmp_path / "p"
    result = runner.invoke(app, ["run", *FAST, "--profile", "--out", str(out)])
    assert result.exit_code == 0, result.output
    stats = pstats.Stats(str(out / "profile" / "run.pstats"))
    assert any(name == "run" and "engine/runner.py" in file
               for file, _, name in stats.stats)  # the simulation is in it
    text = (out / "profile" / "run.txt").read_text()
    assert "wall time profiled" in text and "cumulative" in text
    manifest = json.loads((out / MARKER).read_text())
    assert {"profile/run.pstats", "profile/run.txt"} <= set(manifest["files"])
    _seed(out)  # a whole run folder, which a plain rerun replaces
    assert runner.invoke(app, ["run", *FAST, "--out", str(out)]).exit_code == 0
    assert not (out / "profile").exists()


def test_a_foreign_file_in_profile_makes_the_folder_foreign(tmp_path):
    out = tmp_path / "p"
    assert runner.invoke(app, ["run", *FAST, "--profile", "--out", str(out)]).exit_code == 0
    (out / "profile" / "notes.docx").write_text("mine")
    _exit2(runner.invoke(app, ["run", *FAST, "--out", str(out)]), "notes.docx")
