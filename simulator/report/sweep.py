"""Build a sweep's comparison report: plots/*.png, report.md and a self-contained report.html.

``build_sweep_report(sweep_dir)`` reads only what the sweep wrote (sweep.json,
sweep.resolved.yaml, runs.parquet, cells.parquet, differences.parquet), assembles one
``Document`` from the section builders in ``SECTIONS`` and renders it twice, so the Markdown
and the HTML never drift.  To add a comparison, write a function ``(SweepContext) ->
list[Block]`` (drawing plots with ``ctx.plot``) and insert it into ``SECTIONS``.  Every file is
written atomically; a missing table, a failing plot or a failing section becomes a note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulator.io import read_json, write_text
from simulator.report import formatting as fmt
from simulator.report import sweep_plots, sweep_sections
from simulator.report.document import (
    Block,
    Code,
    Document,
    Heading,
    Image,
    Note,
    Paragraph,
    Table,
    to_html,
    to_markdown,
)
from simulator.report.sweep_sections import Metric, describe, key_metrics, short_names, value_text

PLOTS_DIR = "plots"
TABLES = ("runs", "cells", "differences")
MAX_SEEDS, MAX_ERROR_CHARS = 10, 300


@dataclass
class SweepData:
    """What a sweep folder holds: sweep.json, the resolved spec and the three tables."""

    folder: Path
    meta: dict[str, Any]
    spec: dict[str, Any]
    spec_text: str
    runs: pd.DataFrame | None
    cells: pd.DataFrame | None
    differences: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)  # problems met while reading

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.folder.name)

    @property
    def axes(self) -> list[str]:
        return [str(a) for a in self.meta.get("axes") or []]

    @property
    def goal(self) -> dict[str, Any] | None:
        return self.meta["goal"] if isinstance(self.meta.get("goal"), dict) else None

    @property
    def best(self) -> dict[str, Any] | None:
        return self.meta["best"] if isinstance(self.meta.get("best"), dict) else None

    @property
    def best_cell(self) -> int | None:
        cell = (self.best or {}).get("cell")
        return int(cell) if cell is not None else None

    @property
    def baseline_cell(self) -> int | None:
        cell = self.meta.get("baseline_cell")
        return int(cell) if cell is not None else None

    def metric_stats(self, metric: str) -> pd.DataFrame:
        """The rows of cells.parquet for one metric (empty if it has none)."""
        if self.cells is None or "metric" not in self.cells:
            return pd.DataFrame()
        return self.cells[self.cells["metric"] == metric]


def _read_table(folder: Path, name: str, notes: list[str]) -> pd.DataFrame | None:
    path = folder / f"{name}.parquet"
    if not path.is_file():
        notes.append(f"No {name}.parquet in this sweep folder.")
        return None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # a broken table must not cost the reader the rest
        notes.append(f"{name}.parquet could not be read ({type(exc).__name__}: {exc}).")
        return None


def load_sweep_data(sweep_dir: Path) -> SweepData:
    """Read a sweep folder; raises FileNotFoundError if it has no sweep.json."""
    folder = Path(sweep_dir)
    if not (folder / "sweep.json").is_file():
        raise FileNotFoundError(f"{folder} is not a sweep folder (it has no sweep.json)")
    meta = read_json(folder / "sweep.json")
    notes: list[str] = []
    spec_path = folder / "sweep.resolved.yaml"
    spec_text = (spec_path.read_text(encoding="utf-8", errors="replace")
                 if spec_path.is_file() else "")
    try:
        spec = yaml.safe_load(spec_text) if spec_text else {}
    except yaml.YAMLError as exc:
        spec = {}
        notes.append(f"sweep.resolved.yaml could not be parsed ({exc}).")
    frames = {name: _read_table(folder, name, notes) for name in TABLES}
    return SweepData(folder, meta if isinstance(meta, dict) else {},
                     spec if isinstance(spec, dict) else {}, spec_text, notes=notes, **frames)


class SweepContext:
    """What a section builder gets: the sweep's data, its key metrics and a plot drawer."""

    def __init__(self, data: SweepData) -> None:
        self.data = data
        self.metrics: list[Metric] = key_metrics(data)
        self.written: list[Path] = []

    def metric(self, name: str) -> Metric | None:
        """The key metric with this dotted name, if the sweep reports it."""
        return next((m for m in self.metrics if m.name == name), None)

    def plot(self, filename: str, alt: str, draw: Callable[[Path], Path]) -> Block:
        """Draw one PNG into plots/ and return its Image block (a warning if drawing fails)."""
        path = self.data.folder / PLOTS_DIR / filename
        try:
            self.written.append(draw(path))
        except Exception as exc:  # one bad plot must not cost the reader the whole report
            path.unlink(missing_ok=True)
            return Note(f"Plot {filename} failed: {type(exc).__name__}: {exc}", warning=True)
        return Image(f"{PLOTS_DIR}/{filename}", alt)


def overview(ctx: SweepContext) -> list[Block]:
    """The grid, replications and seeds (common random numbers), the axes and the baseline."""
    data = ctx.data
    blocks: list[Block] = [Heading("Overview")]
    notes = [Note(n, warning=True) for n in data.notes]
    if data.spec.get("description"):
        blocks.append(Paragraph(" ".join(str(data.spec["description"]).split())))
    failed = int(data.meta.get("errors") or 0)
    text = (f"{fmt.num(data.meta.get('cells'))} cells × {fmt.num(data.meta.get('replications'))} "
            f"replications = {fmt.num(data.meta.get('runs'))} runs, "
            + (f"of which {failed} failed." if failed else "all finished without error."))
    runs = data.runs
    if runs is not None and {"replication", "seed"} <= set(runs.columns):
        seeds = runs.groupby("replication")["seed"].unique()
        if all(len(s) == 1 for s in seeds):
            shown = ", ".join(str(s[0]) for s in seeds.iloc[:MAX_SEEDS])
            more = f" and {len(seeds) - MAX_SEEDS} more" if len(seeds) > MAX_SEEDS else ""
            text += (" Replication r runs with the same seed in every cell (common random "
                     "numbers), so differences between cells are paired by replication; the "
                     f"seeds of replications 0, 1, ... are {shown}{more}.")
        else:
            notes.append(Note("Replications do not share seeds across cells, so the paired "
                              "differences are not common-random-number pairs.", warning=True))
    if runs is not None and "simulated_s" in runs and fmt.finite(runs["simulated_s"].max()):
        text += f" Each run simulates {fmt.hours(runs['simulated_s'].max())} h; cost is per run."
    blocks.append(Paragraph(text))
    listed = data.spec.get("axes") if isinstance(data.spec.get("axes"), dict) else {}
    params = sweep_sections.cell_params(data)
    rows = [[axis, ", ".join(value_text(v) for v in listed.get(axis) or params[axis].unique())]
            for axis in data.axes if listed.get(axis) or axis in params]
    if rows:
        blocks.append(Table(["Axis", "Values"], rows))
    if data.baseline_cell is not None:
        blocks.append(Paragraph(f"Baseline: {describe(data, data.baseline_cell)}."))
    return blocks + notes


def errors(ctx: SweepContext) -> list[Block]:
    """Failed runs with their errors, and any cell left without a successful run."""
    data, runs = ctx.data, ctx.data.runs
    count = int(data.meta.get("errors") or 0)
    if runs is None or "error" not in runs:
        return [Heading("Failed runs"), Note(f"{count} runs failed; runs.parquet is needed to "
                                             "list them.", warning=True)] if count else []
    failed = runs[runs["error"].notna() & (runs["error"].astype(str) != "")]
    if failed.empty:
        return []
    names = short_names(data.axes)

    def clip(text: str) -> str:
        return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + "…"

    rows = [[str(r["run_id"]), str(r["cell"]), str(r["replication"]), str(r["seed"]),
             *(value_text(r[a]) for a in data.axes), clip(str(r["error"]))]
            for r in failed.to_dict("records")]
    blocks: list[Block] = [
        Heading("Failed runs"),
        Note(f"{len(failed)} of {len(runs)} runs failed; cell statistics and differences use "
             "the successful runs only.", warning=True),
        Table(["Run", "Cell", "Replication", "Seed", *(names[a] for a in data.axes), "Error"],
              rows)]
    lost = sorted(set(runs["cell"]) - set(runs.loc[runs.index.difference(failed.index), "cell"]))
    if lost:
        blocks.append(Note("Cells without a successful run, absent from the tables above: "
                           + "; ".join(describe(data, int(c)) for c in lost) + ".", warning=True))
    return blocks


def spec(ctx: SweepContext) -> list[Block]:
    """The sweep as run, verbatim (collapsed in HTML)."""
    if not ctx.data.spec_text:
        return [Heading("Sweep specification"), Note("No sweep.resolved.yaml in this folder.")]
    return [Heading("Sweep specification"),
            Code(ctx.data.spec_text, "Sweep as run (sweep.resolved.yaml)", "yaml")]


SectionBuilder = Callable[[SweepContext], list[Block]]

# The report, in order.  Later comparisons (cost against nines, purchase plans) insert here.
SECTIONS: list[SectionBuilder] = [
    overview,
    sweep_sections.goal,
    sweep_sections.cells_table,
    sweep_sections.differences_table,
    sweep_plots.metric_plots,
    sweep_plots.cost_latency,
    errors,
    spec,
]


def build_sweep_document(sweep_dir: Path, builders: list[SectionBuilder] | None = None
                         ) -> tuple[Document, list[Path]]:
    """Draw the plots and assemble the report (``SECTIONS`` by default); return it and the PNGs."""
    ctx = SweepContext(load_sweep_data(sweep_dir))
    doc = Document(f"dcsim sweep report: {ctx.data.name}")
    for builder in SECTIONS if builders is None else builders:
        try:
            doc.add(*builder(ctx))
        except Exception as exc:  # a broken section becomes a warning; the rest still renders
            name = getattr(builder, "__name__", "section")
            doc.add(Note(f"Section {name} failed: {type(exc).__name__}: {exc}", warning=True))
    return doc, ctx.written


def build_sweep_report(sweep_dir: Path) -> list[Path]:
    """Write plots/*.png, report.md and report.html into sweep_dir; return the paths written.

    The Markdown links the plots by relative path; the HTML page embeds them as data URIs and
    needs nothing else.  Safe to call again: every file is replaced atomically.
    """
    folder = Path(sweep_dir)
    doc, written = build_sweep_document(folder)
    markdown = write_text(folder / "report.md", to_markdown(doc))
    page = write_text(folder / "report.html", to_html(doc, folder))
    return [*written, markdown, page]
