"""Dependency rules of DESIGN.md, enforced by parsing imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "simulator"

PURE = [
    "units.py", "errors.py", "records.py", "summary.py", "sections.py", "scenario", "billing",
    "distributions", "compute/scaling.py", "compute/section.py", "compute/report.py",
    "compute/dataplane.py",
    "report", "compute/kernel.py", "compute/sketch.py", "compute/queueing.py",
    "compute/workload.py", "compute/catalog.py", "experiments/stats.py",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(rel: str) -> list[Path]:
    p = PKG / rel
    return sorted(p.rglob("*.py")) if p.is_dir() else [p]


@pytest.mark.parametrize("rel", PURE)
def test_pure_modules_do_not_import_simpy(rel):
    for f in _files(rel):
        bad = {m for m in _imports(f) if m == "simpy" or m.startswith("simpy.")}
        assert not bad, f"{f} imports {bad}"


def test_only_the_world_knows_every_component():
    for f in PKG.rglob("*.py"):
        if f.name == "world.py" or f.name == "runner.py":
            continue
        assert "simulator.engine.world" not in _imports(f), f


def test_report_reads_tables_only():
    for f in _files("report"):
        for m in _imports(f):
            assert not m.startswith(("simulator.engine", "simulator.compute", "simulator.storage", "simpy")), (f, m)


def test_no_stdlib_random_anywhere():
    for f in PKG.rglob("*.py"):
        assert "random" not in _imports(f), f"{f} imports the stdlib random module"
