"""Every notebook runs end to end at test size, in the project's own environment.

Each notebook is copied to a temporary folder and executed there with nbclient (so outputs
never land in the repository), with the notebooks/ folder as its working directory and
DCSIM_NOTEBOOK_TEST=1 (test-size scenario and sweep, one process).  The kernel is a "python3"
kernelspec written for the test that runs this interpreter, found first through JUPYTER_PATH:
no `ipykernel install` by hand, and a kernelspec elsewhere on the machine cannot swap in
another Python.  Run results go to a temporary DCSIM_NOTEBOOK_RESULTS folder.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
TIMEOUT_S = 300  # per cell


@pytest.fixture
def kernel_env(tmp_path, monkeypatch) -> Path:
    """Point the python3 kernel at this interpreter, set test mode; return the results folder."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (dcsim test)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("DCSIM_NOTEBOOK_TEST", "1")
    results = tmp_path / "results"
    monkeypatch.setenv("DCSIM_NOTEBOOK_RESULTS", str(results))
    return results


def _execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    """Run a notebook copy top to bottom; raises CellExecutionError at the first failing cell."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    nbformat.write(nb, path)  # the executed copy, for a look after a failure
    return nb


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for cell in nb.cells if cell.cell_type == "code"
            for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def test_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01-quickstart.ipynb", "02-sweep-analysis.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_clean(path):
    """Committed notebooks carry no outputs and name the python3 kernel."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_kernel_runs_in_the_project_environment(kernel_env, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys, simulator\n"
        "print(sys.prefix)\nprint(simulator.__file__)\nprint(os.getcwd())")])
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    lines = _execute(path, NOTEBOOKS_DIR).cells[0].outputs[0]["text"].splitlines()
    assert Path(lines[0]).resolve() == Path(sys.prefix).resolve()
    assert Path(lines[1]).resolve() == ROOT / "simulator" / "__init__.py"
    assert Path(lines[2]).resolve() == NOTEBOOKS_DIR.resolve()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_env, tmp_path):
    copy = shutil.copy(path, tmp_path / path.name)
    nb = _execute(Path(copy), NOTEBOOKS_DIR)
    assert _errors(nb) == []
    images = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
              if "image/png" in o.get("data", {})]
    assert images, "the notebook drew no figure"
    written = {"01-quickstart": "quickstart", "02-sweep-analysis": "fleet-size"}[path.stem]
    assert (kernel_env / written / "report.html").is_file()
    assert nbformat.read(path, as_version=4).cells[-1].get("outputs", []) == []  # repo untouched
