"""The report builder made ready during a run (simulator.reporter): a process forked at the
start builds the reports when handed the folder; when it cannot, the reports are built here
with the same outcome and errors."""

from __future__ import annotations

import os
import threading

import pytest

from simulator import reporter
from tests.unit.test_report import make_run

FORKS = hasattr(os, "fork") and threading.active_count() == 1


@pytest.mark.skipif(not FORKS, reason="needs fork in a single-threaded process")
def test_the_ready_process_builds_the_reports(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    with reporter.ready_reports() as build:
        def here(folder):
            raise AssertionError("built in this process, not in the ready one")
        monkeypatch.setattr(reporter, "build_here", here)  # the child has the real one
        paths = build(run)
    assert {p.name for p in paths} >= {"report.md", "report.html", "latency_cdf.png"}
    assert all(p.is_file() for p in paths)
    assert "data:image/png" in (run / "report.html").read_text()


@pytest.mark.skipif(not FORKS, reason="needs fork in a single-threaded process")
def test_a_failing_ready_process_leaves_the_build_to_this_one(tmp_path, monkeypatch):
    """The forked process fails (here: no such folder); the build runs here, for its error."""
    calls = []
    with reporter.ready_reports() as build:
        monkeypatch.setattr(reporter, "build_here", lambda folder: calls.append(folder) or [])
        assert build(tmp_path / "gone") == []
    assert calls == [tmp_path / "gone"]


@pytest.mark.skipif(not FORKS, reason="needs fork in a single-threaded process")
def test_an_unused_or_interrupted_ready_process_ends_with_the_block(tmp_path):
    with pytest.raises(KeyboardInterrupt), reporter.ready_reports() as build:
        assert build is not reporter.build_here
        raise KeyboardInterrupt
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child is left behind


def test_threads_mean_no_fork(tmp_path):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with reporter.ready_reports() as build:
            assert build is reporter.build_here
    finally:
        stop.set()
        other.join()
