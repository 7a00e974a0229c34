"""Sweep files: a base scenario, dotted-path axes and replications, expanded into runs.

A sweep is a list of scenarios: the base scenario plus overrides, for every point of the
Cartesian product of the `axes` (each a dotted path with a list of values) and of each group of
`zip` axes (equal-length lists that vary together), times `replications`.  Replication r uses
the same seed in every cell (common random numbers), so differences between cells are paired.
Every cell is validated before any run starts: an unknown path or a wrong type fails at once,
naming the axis.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulator.engine.streams import stream_seed
from simulator.errors import InputError, Problem
from simulator.scenario.loader import (
    apply_overrides,
    parse_overrides,
    read_yaml,
    validate_scenario,
    validation_problems,
)
from simulator.scenario.schema import Scenario
from simulator.sections import metric_names

Metric = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.]+$")]


class Constraint(BaseModel):
    """A bound on a metric: the cell's mean must satisfy `metric op value`."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
    metric: Metric
    """Summary metric as a dotted path, e.g. latency.slo_violation_fraction."""
    op: Literal["<=", ">="] = "<="
    """Direction of the bound."""
    value: float
    """The bound, in the metric's base unit."""


class Goal(BaseModel):
    """What the sweep is looking for: the cell minimizing a metric subject to constraints."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
    minimize: Metric = "cost.total_usd"
    """The metric to minimize, e.g. cost.total_usd."""
    subject_to: list[Constraint] = []
    """Constraints every acceptable cell meets (on its mean over replications)."""


class SweepSpec(BaseModel):
    """A sweep file: base scenario, axes, replications, seed and the comparison it serves."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    """Short name; the results folder."""
    description: str = ""
    """What the sweep answers."""
    base: str
    """Path of the base scenario (relative to the sweep file)."""
    set: dict[str, Any] = {}
    """Overrides (dotted path: value) applied to the base in every cell."""
    axes: dict[str, Annotated[list[Any], Field(min_length=1)]] = {}
    """Cartesian axes: dotted path -> list of values."""
    zip: list[dict[str, Annotated[list[Any], Field(min_length=1)]]] = []
    """Groups of axes that vary together (equal-length lists); each group is one product axis."""
    replications: Annotated[int, Field(ge=1)] = 1
    """Runs per cell, each with its own seed (the same seeds in every cell)."""
    seed: Annotated[int, Field(ge=0)] = 1
    """Master seed from which replication seeds are derived."""
    baseline: dict[str, Any] | None = None
    """Axis values of the reference cell for paired differences (default: the first cell)."""
    goal: Goal | None = None
    """Optional question: the cheapest (or best) cell meeting constraints."""
    test: dict[str, Any] = {}
    """Top-level fields replaced when the test suite runs the sweep (e.g. fewer replications)."""

    @field_validator("zip")
    @classmethod
    def _equal_lengths(cls, groups: list[dict[str, list[Any]]]) -> list[dict[str, list[Any]]]:
        for i, group in enumerate(groups):
            lengths = {k: len(v) for k, v in group.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"zip group {i}: lists must have equal lengths, got {lengths}")
        return groups


@dataclass(frozen=True)
class Cell:
    """One point of the grid: its index, axis values and resolved scenario."""

    index: int
    params: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a cell, a replication and its seed."""

    run_id: str
    cell: int
    replication: int
    seed: int
    params: dict[str, Any]
    scenario: dict[str, Any]  # the resolved scenario in base units (JSON-ready)

    @property
    def digest(self) -> str:
        """Fingerprint of what the run computes (scenario and seed) for safe resumes."""
        text = json.dumps({"scenario": self.scenario, "seed": self.seed}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def replication_seed(seed: int, replication: int) -> int:
    """The seed of replication r: derived from (sweep seed, r), the same in every cell."""
    return int(stream_seed(seed, "replication", replication).generate_state(1)[0])


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its spec, base scenario data and the expanded cells."""

    spec: SweepSpec
    source: str
    cells: tuple[Cell, ...]

    @property
    def axis_names(self) -> list[str]:
        names = list(self.spec.axes)
        for group in self.spec.zip:
            names += list(group)
        return names

    def runs(self) -> list[RunSpec]:
        """Every run: cells × replications, replication r with the same seed in every cell."""
        out = []
        for cell in self.cells:
            data = cell.scenario.model_dump(mode="json")
            for r in range(self.spec.replications):
                out.append(
                    RunSpec(
                        f"c{cell.index:04d}-r{r:03d}", cell.index, r,
                        replication_seed(self.spec.seed, r), cell.params, data,
                    )
                )
        return out

    def grid_text(self) -> str:
        """The grid as text (for --dry-run): one line per cell with its axis values."""
        lines = [
            f"sweep {self.spec.name}: {len(self.cells)} cells × {self.spec.replications} "
            f"replications = {len(self.cells) * self.spec.replications} runs"
        ]
        for cell in self.cells:
            values = ", ".join(f"{k}={v}" for k, v in cell.params.items()) or "(base)"
            lines.append(f"  cell {cell.index:4d}: {values}")
        return "\n".join(lines)


def _points(spec: SweepSpec) -> list[dict[str, Any]]:
    factors: list[list[dict[str, Any]]] = [[{k: v} for v in values] for k, values in spec.axes.items()]
    for group in spec.zip:
        keys = list(group)
        factors.append([dict(zip(keys, vals, strict=True)) for vals in zip(*group.values(), strict=True)])
    points = []
    for combo in itertools.product(*factors):
        merged: dict[str, Any] = {}
        for part in combo:
            merged.update(part)
        points.append(merged)
    return points


def expand(spec: SweepSpec, base_data: dict[str, Any], base_dir: Path, source: str,
           base_test: bool = False) -> Sweep:
    """Validate every cell of the sweep; all problems are raised before any run."""
    if base_test and isinstance(base_data.get("test"), dict):
        base_data = apply_overrides(base_data, base_data["test"], f"{spec.base} (test block)")
    common = apply_overrides(base_data, parse_overrides(spec.set), f"{source}: set")
    cells, problems = [], []
    for i, point in enumerate(_points(spec)):
        data = apply_overrides(common, point, source)
        try:
            scenario = validate_scenario(data, source, base_dir)
        except InputError as exc:
            for p in exc.problems:
                axis = next((k for k in point if p.path == k or p.path.startswith(k + ".")), None)
                where = f"axes.{axis}" if axis else (f"set.{p.path}" if p.path in spec.set else p.path)
                problems.append(Problem(where, f"cell {i} ({_fmt(point)}): {p.message}",
                                        point.get(axis, getattr(p, "value", None))))
            continue
        cells.append(Cell(i, point, scenario))
    if problems:
        raise InputError(source, _unique(problems))
    names = sorted({n for c in cells for n in metric_names(c.scenario)})
    problems = goal_problems(spec.goal, names) + baseline_problems(spec, cells)
    if problems:
        raise InputError(source, problems)
    return Sweep(spec, source, tuple(cells))


def baseline_problems(spec: SweepSpec, cells: list[Cell]) -> list[Problem]:
    """Problems with the baseline: it must name axes, with values some cell has."""
    if not spec.baseline:
        return []
    axes = [*spec.axes, *(k for group in spec.zip for k in group)]
    unknown = [k for k in spec.baseline if k not in axes]
    if unknown:
        return [Problem(f"baseline.{k}", f"not an axis of the sweep; axes are {axes}", spec.baseline[k])
                for k in unknown]
    if not any(all(c.params.get(k) == v for k, v in spec.baseline.items()) for c in cells):
        return [Problem("baseline", "no cell has these axis values", spec.baseline)]
    return []


def goal_problems(goal: Goal | None, known: list[str]) -> list[Problem]:
    """Problems with metric names in a sweep goal (checked before any run)."""
    if goal is None:
        return []
    named = [("goal.minimize", goal.minimize)] + [
        (f"goal.subject_to.{i}.metric", c.metric) for i, c in enumerate(goal.subject_to)
    ]
    out = []
    for path, metric in named:
        if metric not in known:
            close = difflib.get_close_matches(metric, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            out.append(Problem(path, f"unknown metric; {hint}metrics are the dotted keys of "
                                     f"summary.json, e.g. cost.total_usd, latency.p99_s", metric))
    return out


def _fmt(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "base"


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.path, p.message.split(": ", 1)[-1])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def load_sweep(path: str | Path, *, test: bool = False) -> Sweep:
    """Load and expand a sweep file; with test=True apply its and its base's `test:` blocks."""
    path = Path(path)
    data = read_yaml(path, what="sweep")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(str(path), validation_problems(exc, data, SweepSpec)) from None
    if test and spec.test:
        try:
            spec = SweepSpec.model_validate(spec.model_dump() | spec.test | {"test": {}})
        except ValidationError as exc:
            raise InputError(f"{path} (test block)", validation_problems(exc, data, SweepSpec)) from None
    base_path = (path.parent / spec.base).resolve()
    base_data = read_yaml(base_path)
    return expand(spec, base_data, base_path.parent, str(path), base_test=test)
