"""Sweep files: a base scenario, dotted-path axes and replications, expanded into runs.

A sweep is a list of scenarios: the base scenario plus overrides, for every point of the
Cartesian product of the `axes` (each a dotted path with a list of values) and of each group of
`zip` axes (equal-length lists that vary together), times `replications`.  Replication r uses
the same seed in every cell (common random numbers), so differences between cells are paired.
Every cell is validated before any run starts: an unknown path or a wrong type fails at once,
naming the axis.  `seed` cannot be an axis: replications are the sweep's seeds.

Each run carries a fingerprint of what it computes: the resolved scenario, its seed, a hash of
the contents of every file the scenario reads (see ``input_files``) and the dcsim version.  A
resume reuses a finished run only if its fingerprint is unchanged (``rerun_reason`` says why not).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from simulator import __version__
from simulator.billing.pricebook import builtin_pricebooks
from simulator.compute.catalog import BUILTIN as BUILTIN_CATALOG
from simulator.engine.streams import stream_seed
from simulator.errors import InputError, Problem
from simulator.limits import MAX_CELLS, MAX_REPLICATIONS, MAX_RUNS, MAX_SEED
from simulator.scenario.base import SPEC_CONFIG
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

    model_config = SPEC_CONFIG
    metric: Metric
    """Summary metric as a dotted path, e.g. latency.slo_violation_fraction."""
    op: Literal["<=", ">="] = "<="
    """Direction of the bound."""
    value: float
    """The bound, in the metric's base unit."""


class Goal(BaseModel):
    """What the sweep is looking for: the cell minimizing a metric subject to constraints."""

    model_config = SPEC_CONFIG
    minimize: Metric = "cost.total_usd"
    """The metric to minimize, e.g. cost.total_usd."""
    subject_to: list[Constraint] = []
    """Constraints every acceptable cell meets (on its mean over replications)."""


class SweepSpec(BaseModel):
    """A sweep file: base scenario, axes, replications, seed and the comparison it serves."""

    model_config = SPEC_CONFIG
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
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 1
    """Runs per cell, each with its own seed (the same seeds in every cell)."""
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
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
    inputs: dict[str, str] = field(default_factory=dict)  # dotted path -> content hash
    version: str = __version__

    @property
    def fingerprint(self) -> dict[str, Any]:
        """What the run computes, part by part, so a resume can say which part changed."""
        return {"scenario": _hash_text(json.dumps(self.scenario, sort_keys=True)), "seed": self.seed,
                "inputs": dict(sorted(self.inputs.items())), "version": self.version}

    @property
    def digest(self) -> str:
        """One hash of the fingerprint: a finished run is reused only if this is unchanged."""
        return _hash_text(json.dumps(self.fingerprint, sort_keys=True))[:16]


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_INPUT_NAMES = {"pricebook": "price book", "catalog": "catalog"}


def input_name(path: str) -> str:
    """How a rerun reason names an input file: its kind for known fields, else its field path."""
    return _INPUT_NAMES.get(path, f"file at {path}")


def input_files(scenario: dict[str, Any]) -> dict[str, Any]:
    """Every file a resolved scenario reads, by dotted path: each string value naming an existing
    file (loaders resolve file references to absolute paths, so later inputs such as traces and
    plans are found without a list here), and the builtin price book or catalog it uses."""
    found: dict[str, Any] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}.{i}")
        elif isinstance(node, str) and ("/" in node or os.sep in node) and len(node) < 4096:
            try:
                if Path(node).is_file():
                    found[path] = Path(node)
            except OSError:
                pass

    walk(scenario, "")
    book = scenario.get("pricebook")
    if isinstance(book, str) and "pricebook" not in found and book in builtin_pricebooks():
        found["pricebook"] = resources.files("simulator.billing").joinpath("data", f"{book}.yaml")
    if scenario.get("catalog") is None:
        found["catalog"] = resources.files("simulator.compute").joinpath("data", BUILTIN_CATALOG)
    return found


def input_hashes(scenario: dict[str, Any], cache: dict[str, str] | None = None) -> dict[str, str]:
    """Content hash (sha256) of every file the scenario reads, by dotted path (see input_files)."""
    cache = {} if cache is None else cache
    out = {}
    for path, file in input_files(scenario).items():
        key = str(file)
        if key not in cache:
            try:
                cache[key] = hashlib.sha256(file.read_bytes()).hexdigest()
            except OSError as exc:
                cache[key] = f"unreadable: {exc.strerror or exc}"
        out[path] = cache[key]
    return out


def rerun_reason(record: dict[str, Any], spec: RunSpec) -> str | None:
    """Why a finished run's record cannot be reused for `spec` (None: it can)."""
    if record.get("error"):
        return "failed before"
    if record.get("digest") == spec.digest:
        return None
    old, new = record.get("fingerprint"), spec.fingerprint
    if not isinstance(old, dict):
        return "recorded without an input fingerprint (older dcsim)"
    reasons = []
    if old.get("version") != new["version"]:
        reasons.append(f"dcsim version changed ({old.get('version')} -> {new['version']})")
    if old.get("scenario") != new["scenario"]:
        reasons.append("scenario changed")
    if old.get("seed") != new["seed"]:
        reasons.append("seed changed")
    before, now = old.get("inputs") or {}, new["inputs"]
    for path in sorted(set(before) | set(now)):
        if path not in before:
            reasons.append(f"{input_name(path)} added")
        elif path not in now:
            reasons.append(f"{input_name(path)} no longer read")
        elif before[path] != now[path]:
            reasons.append(f"{input_name(path)} contents changed")
    return "; ".join(reasons) or "fingerprint changed"


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
        out, cache = [], {}
        for cell in self.cells:
            data = cell.scenario.model_dump(mode="json")
            inputs = input_hashes(data, cache)
            for r in range(self.spec.replications):
                out.append(
                    RunSpec(
                        f"c{cell.index:04d}-r{r:03d}", cell.index, r,
                        replication_seed(self.spec.seed, r), cell.params, data, inputs,
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
    if problems := seed_problems(spec) + size_problems(spec):
        raise InputError(source, problems)
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


def size_problems(spec: SweepSpec) -> list[Problem]:
    """A grid with more than MAX_CELLS cells or MAX_RUNS runs, refused before it is built."""
    cells = math.prod(len(v) for v in spec.axes.values())
    cells *= math.prod(len(next(iter(g.values()))) for g in spec.zip if g)
    sizes = ", ".join([f"{k}: {len(v)}" for k, v in spec.axes.items()] +
                      [f"zip.{i}: {len(next(iter(g.values())))}" for i, g in enumerate(spec.zip) if g])
    if cells > MAX_CELLS:
        return [Problem("axes", f"the grid has {cells:,} cells ({sizes}), more than the "
                        f"{MAX_CELLS:,} a sweep may have; use fewer values per axis, or `zip` "
                        "axes that vary together")]
    if cells * spec.replications > MAX_RUNS:
        return [Problem("replications", f"{cells:,} cells x {spec.replications:,} replications "
                        f"is {cells * spec.replications:,} runs, more than the {MAX_RUNS:,} a "
                        "sweep may have; use fewer replications or cells", spec.replications)]
    return []


def seed_problems(spec: SweepSpec) -> list[Problem]:
    """A `seed` axis (or a `set: {seed: ...}`) would be silently ignored: runs take their seeds
    from the replications.  Each one is an error that says so."""
    fix = ("the seed cannot vary by cell: use `replications: N` (each replication has its own "
           "seed, the same in every cell) and the sweep's top-level `seed:` for the master seed")
    out = [Problem("axes.seed", fix, spec.axes["seed"])] if "seed" in spec.axes else []
    out += [Problem(f"zip.{i}.seed", fix, group["seed"]) for i, group in enumerate(spec.zip) if "seed" in group]
    if "seed" in spec.set:
        out.append(Problem("set.seed", fix, spec.set["seed"]))
    return out


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
